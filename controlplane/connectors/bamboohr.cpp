#include "controlplane/connectors/bamboohr.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/base/json_fields.h"

namespace tenure::cp::connectors {
namespace {

namespace bj = boost::json;

// A runaway server (a `next` link that never ends) must not keep a pull going forever.
constexpr int kMaxPages = 10'000;

bool validDomain(const std::string& d) {
  return !d.empty() && d.size() <= 63 && std::all_of(d.begin(), d.end(), [](unsigned char ch) {
           return std::isalnum(ch) != 0 || ch == '-';
         });
}

bool validDatasetName(const std::string& d) {
  return !d.empty() && d.size() <= 64 && std::all_of(d.begin(), d.end(), [](unsigned char ch) {
           return std::isalnum(ch) != 0 || ch == '-' || ch == '_';
         });
}

std::string replaceAll(std::string s, std::string_view from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string withoutTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// scheme://host:port of a URL (the port spelled out), "" when unparsable.
std::string originOf(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return "";
  std::string port = u->has_port() ? std::string(u->port())
                                   : (u->scheme() == "https" ? "443" : "80");
  return std::string(u->scheme()) + "://" + std::string(u->host()) + ":" + port;
}

Result<std::vector<bj::object>> employeesArray(const bj::value& root, const std::string& what) {
  if (!root.is_object()) return dataError(what + ": the answer is not a JSON object");
  const bj::object& o = root.get_object();
  auto it = o.find("employees");
  if (it == o.end() || !it->value().is_array()) {
    return dataError(what + ": the answer has no \"employees\" array");
  }
  std::vector<bj::object> out;
  for (const auto& e : it->value().get_array()) {
    if (!e.is_object()) return dataError(what + ": an element of \"employees\" is not an object");
    out.push_back(e.get_object());
  }
  return out;
}

int64_t intOr(const bj::object& o, std::string_view key, int64_t fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().get_uint64());
  if (it->value().is_string()) {
    const std::string s(it->value().get_string());
    if (!s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), ::isdigit)) {
      return std::stoll(s);
    }
  }
  return fallback;
}

std::string pageUrl(const std::string& base, int page, int page_size) {
  return base + "?page=" + std::to_string(page) + "&page_size=" + std::to_string(page_size);
}

Result<FetchedEmployees> fetchDataset(const HttpJsonClient& client, const BambooHrConfig& c,
                                      const JsonRequest& proto, const std::string& base) {
  FetchedEmployees out;
  const std::string origin = originOf(c.base_url);
  std::set<std::string> seen;
  std::string url = pageUrl(base, 1, c.page_size);
  int page = 1;
  while (true) {
    if (out.pages >= kMaxPages) return dataError("dataset: more than 10000 pages");
    if (!seen.insert(url).second) return dataError("dataset: the pagination links loop");
    JsonRequest req = proto;
    req.url = url;
    auto root = client.fetch(req);
    if (!root.isOk()) return root.status().withContext("page " + std::to_string(page));
    ++out.pages;
    if (!root->is_object()) return dataError("dataset page " + std::to_string(page) +
                                             ": the answer is not a JSON object");
    const bj::object& o = root->get_object();
    auto data = o.find("data");
    if (data == o.end() || !data->value().is_array()) {
      return dataError("dataset page " + std::to_string(page) + ": no \"data\" array");
    }
    for (const auto& row : data->value().get_array()) {
      if (!row.is_object()) return dataError("dataset: a row is not an object");
      const bj::object& r = row.get_object();
      auto f = r.find("fields");
      // v2 wraps a row's values in "fields"; v1 rows are flat.
      out.employees.push_back(f != r.end() && f->value().is_object() ? f->value().get_object()
                                                                      : r);
    }

    std::string next;
    if (auto links = o.find("links"); links != o.end() && links->value().is_object()) {
      const bj::object& l = links->value().get_object();
      if (auto n = l.find("next"); n != l.end() && n->value().is_string()) {
        next = std::string(n->value().get_string());
        if (!next.empty() && next.front() == '/') next = c.base_url + next;
      }
    }
    if (!next.empty()) {
      // The API key goes with every page: a link to another host is refused, not followed.
      if (Status st = checkConnectorUrl(next); !st.isOk()) return st.withContext("dataset next");
      if (originOf(next) != origin) {
        return dataError("dataset: the next-page link points to another host: refused");
      }
      url = next;
      ++page;
      continue;
    }
    // No link: page numbers from "meta" (v2) or "pagination" (v1).
    int64_t total_pages = 0;
    int64_t current = page;
    for (const char* key : {"meta", "pagination"}) {
      auto m = o.find(key);
      if (m == o.end() || !m->value().is_object()) continue;
      const bj::object& mo = m->value().get_object();
      current = intOr(mo, "page", intOr(mo, "current_page", page));
      total_pages = intOr(mo, "totalPages", intOr(mo, "total_pages", 0));
      if (int64_t np = intOr(mo, "next_page", 0); np > current) total_pages = std::max(total_pages, np);
    }
    if (current < total_pages && !data->value().get_array().empty()) {
      page = static_cast<int>(current) + 1;
      url = pageUrl(base, page, c.page_size);
      continue;
    }
    return out;
  }
}

}  // namespace

std::string_view modeName(BambooHrMode mode) {
  switch (mode) {
    case BambooHrMode::kDirectory:
      return "directory";
    case BambooHrMode::kCustomReport:
      return "custom_report";
    case BambooHrMode::kDataset:
      return "dataset";
  }
  return "custom_report";
}

Result<BambooHrConfig> parseBambooHrConfig(const bj::object& body) {
  static const std::set<std::string> kKnown = {
      "company_domain", "base_url",   "api_key",      "mode",          "fields",
      "field_mapping",  "timeout_s",  "status_values", "employment_type_values",
      "dataset",        "dataset_path", "page_size"};
  for (const auto& kv : body) {
    if (!kKnown.count(std::string(kv.key()))) {
      return dataError("unknown setting '" + std::string(kv.key()) + "'");
    }
  }
  BambooHrConfig c;
  ASSIGN_OR_RETURN(c.company_domain, json::requireString(body, "company_domain"));
  if (!validDomain(c.company_domain)) {
    return dataError("company_domain must be the BambooHR subdomain (letters, digits, '-')");
  }
  ASSIGN_OR_RETURN(std::string base, json::optionalString(body, "base_url", c.base_url));
  c.base_url = withoutTrailingSlash(base);
  if (Status st = checkConnectorUrl(c.base_url); !st.isOk()) {
    return dataError("base_url: " + st.message());
  }
  if (c.base_url.find('?') != std::string::npos) return dataError("base_url must not have a query");
  ASSIGN_OR_RETURN(std::string mode, json::optionalString(body, "mode", "custom_report"));
  if (mode == "directory") {
    c.mode = BambooHrMode::kDirectory;
  } else if (mode == "custom_report") {
    c.mode = BambooHrMode::kCustomReport;
  } else if (mode == "dataset") {
    c.mode = BambooHrMode::kDataset;
  } else {
    return dataError("mode must be directory, custom_report or dataset");
  }
  ASSIGN_OR_RETURN(c.fields, json::optionalStringArray(body, "fields"));
  if (c.fields.size() > 400) return dataError("fields: at most 400 (BambooHR's limit)");
  ASSIGN_OR_RETURN(int64_t timeout, json::optionalInt(body, "timeout_s", c.timeout_s));
  if (timeout < 1 || timeout > 600) return dataError("timeout_s must be 1..600");
  c.timeout_s = static_cast<int>(timeout);
  ASSIGN_OR_RETURN(c.dataset, json::optionalString(body, "dataset", c.dataset));
  if (!validDatasetName(c.dataset)) return dataError("dataset: letters, digits, '-', '_'");
  ASSIGN_OR_RETURN(c.dataset_path, json::optionalString(body, "dataset_path", c.dataset_path));
  if (c.dataset_path.empty() || c.dataset_path.front() != '/' ||
      c.dataset_path.find_first_of("?#") != std::string::npos) {
    return dataError("dataset_path must be a path starting with '/'");
  }
  ASSIGN_OR_RETURN(int64_t page_size, json::optionalInt(body, "page_size", c.page_size));
  if (page_size < 1 || page_size > 1000) return dataError("page_size must be 1..1000");
  c.page_size = static_cast<int>(page_size);
  for (const char* key : {"field_mapping", "status_values", "employment_type_values"}) {
    if (auto it = body.find(key); it != body.end() && !it->value().is_null()) {
      c.overrides[key] = it->value();
    }
  }
  ASSIGN_OR_RETURN(c.mapping, applyOverrides(defaultBambooHrMapping(), c.overrides));
  return c;
}

bj::object toJson(const BambooHrConfig& c) {
  bj::object o{{"company_domain", c.company_domain},
               {"base_url", c.base_url},
               {"mode", modeName(c.mode)},
               {"fields", json::toJsonArray(c.fields)},
               {"timeout_s", c.timeout_s},
               {"dataset", c.dataset},
               {"dataset_path", c.dataset_path},
               {"page_size", c.page_size}};
  for (const auto& kv : c.overrides) o[kv.key()] = kv.value();
  return o;
}

Result<FetchedEmployees> fetchBambooHrEmployees(const HttpJsonClient& client,
                                                const BambooHrConfig& c,
                                                const std::string& api_key) {
  JsonRequest req;
  req.basic_user = api_key;
  req.basic_password = "x";
  const std::vector<std::string> fields =
      c.fields.empty() ? c.mapping.sourceFields() : c.fields;
  const std::string api = c.base_url + "/api/gateway.php/" + c.company_domain + "/v1";
  FetchedEmployees out;
  switch (c.mode) {
    case BambooHrMode::kDirectory: {
      req.method = "GET";
      req.url = api + "/employees/directory";
      ASSIGN_OR_RETURN(bj::value root, client.fetch(req));
      ASSIGN_OR_RETURN(out.employees, employeesArray(root, "directory"));
      out.pages = 1;
      return out;
    }
    case BambooHrMode::kCustomReport: {
      req.method = "POST";
      req.url = api + "/reports/custom?format=JSON";
      req.body = bj::serialize(bj::object{{"title", "Tenure HR pull"},
                                          {"fields", json::toJsonArray(fields)}});
      ASSIGN_OR_RETURN(bj::value root, client.fetch(req));
      ASSIGN_OR_RETURN(out.employees, employeesArray(root, "custom report"));
      out.pages = 1;
      return out;
    }
    case BambooHrMode::kDataset: {
      req.method = "POST";
      req.body = bj::serialize(bj::object{{"fields", json::toJsonArray(fields)}});
      std::string path = replaceAll(c.dataset_path, "{domain}", c.company_domain);
      path = replaceAll(path, "{dataset}", c.dataset);
      return fetchDataset(client, c, req, c.base_url + path);
    }
  }
  return internalError("unknown mode");
}

}  // namespace tenure::cp::connectors
