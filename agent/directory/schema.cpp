#include "agent/directory/schema.h"

#include <algorithm>
#include <vector>

namespace tenure::agent {

namespace {

// Attributes of a classSchema entry that contribute to what its instances may hold.
const char* const kAttributeLists[] = {"mayContain", "systemMayContain", "mustContain",
                                       "systemMustContain"};
// Attributes of a classSchema entry that name further classes whose attributes apply.
const char* const kClassLists[] = {"subClassOf", "auxiliaryClass", "systemAuxiliaryClass"};

// lDAPDisplayNames are letters, digits and hyphens; anything else would need filter escaping and
// cannot be a class name, so it is refused rather than sent.
bool isDisplayName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<std::string> schemaNamingContext(DirectoryClient& dir, const std::string& domain_dn) {
  auto root = dir.search("", SearchScope::kBase, "(objectClass=*)", {"schemaNamingContext"});
  if (root.isOk() && !root->empty() && !root->front().first("schemaNamingContext").empty()) {
    return root->front().first("schemaNamingContext");
  }
  if (!root.isOk() && root.status().errorClass() != ErrorClass::kNotFound) {
    return root.status().withContext("reading the rootDSE");
  }
  if (domain_dn.empty()) return configError("the rootDSE names no schemaNamingContext");
  // In the forest root domain the schema lives here; other domains' DCs always publish the rootDSE.
  return "CN=Schema,CN=Configuration," + domain_dn;
}

}  // namespace

Result<AttributeSet> userAttributes(DirectoryClient& dir, const std::string& domain_dn) {
  ASSIGN_OR_RETURN(const std::string schema_dn, schemaNamingContext(dir, domain_dn));
  std::vector<std::string> search_attributes = {"lDAPDisplayName"};
  search_attributes.insert(search_attributes.end(), std::begin(kAttributeLists),
                           std::end(kAttributeLists));
  search_attributes.insert(search_attributes.end(), std::begin(kClassLists), std::end(kClassLists));

  AttributeSet attributes;
  AttributeSet seen = {"user"};
  std::vector<std::string> pending = {"user"};
  // One search per level of the class graph (a handful of round trips), not one per class.
  while (!pending.empty()) {
    std::string filter = "(&(objectClass=classSchema)(|";
    for (const auto& name : pending) filter += "(lDAPDisplayName=" + name + ")";
    filter += "))";
    ASSIGN_OR_RETURN(auto entries,
                     dir.search(schema_dn, SearchScope::kOneLevel, filter, search_attributes));
    AttributeSet found;
    std::vector<std::string> next;
    for (const auto& entry : entries) {
      found.insert(entry.first("lDAPDisplayName"));
      for (const char* list : kAttributeLists) {
        auto it = entry.attributes.find(list);
        if (it != entry.attributes.end()) attributes.insert(it->second.begin(), it->second.end());
      }
      for (const char* list : kClassLists) {
        auto it = entry.attributes.find(list);
        if (it == entry.attributes.end()) continue;
        for (const auto& cls : it->second) {
          if (!isDisplayName(cls))
            return dataError("schema class name '" + cls + "' is not an lDAPDisplayName");
          if (seen.insert(cls).second) next.push_back(cls);
        }
      }
    }
    for (const auto& name : pending) {
      if (!found.count(name)) {
        return notFoundError("class '" + name + "' is not in the schema at " + schema_dn);
      }
    }
    pending = std::move(next);
  }
  return attributes;
}

const AttributeSet& exchangeAttributeNames() {
  static const AttributeSet kNames = {"mailNickname", "targetAddress", "proxyAddresses",
                                      "msExchHideFromAddressLists"};
  return kNames;
}

bool hasExchangeAttributes(const AttributeSet& attributes) {
  const AttributeSet& wanted = exchangeAttributeNames();
  return std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& name) { return attributes.count(name) > 0; });
}

}  // namespace tenure::agent
