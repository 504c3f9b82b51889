#include "common/net/http_client.h"

#include <algorithm>
#include <cctype>

namespace tenure::net {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  std::string value;
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) value = v;
  }
  auto notSpace = [](unsigned char ch) { return !std::isspace(ch); };
  value.erase(value.begin(), std::find_if(value.begin(), value.end(), notSpace));
  value.erase(std::find_if(value.rbegin(), value.rend(), notSpace).base(), value.end());
  return value;
}

std::string describeRequest(const HttpRequest& request) {
  // A query may carry anything a caller chose to put there; errors end up in logs and tickets.
  return request.method + " " + request.url.substr(0, request.url.find('?'));
}

}  // namespace tenure::net
