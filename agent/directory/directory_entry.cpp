#include <strings.h>

#include "agent/directory/directory_client.h"

namespace tenure::agent {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  // Attribute descriptions are ASCII (RFC 4512), so the C locale's case folding is the right one.
  return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string DirectoryEntry::first(const std::string& name) const {
  auto it = attributes.find(name);
  if (it == attributes.end() || it->second.empty()) return "";
  return it->second.front();
}

bool DirectoryEntry::has(const std::string& name) const {
  auto it = attributes.find(name);
  return it != attributes.end() && !it->second.empty();
}

}  // namespace tenure::agent
