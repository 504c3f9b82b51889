#pragma once
// The BambooHR adapter: a tenant's connector settings and the requests that read every employee
// in one of BambooHR's documented shapes (docs/connectors.md cites the reference pages):
//   directory      GET  {base}/api/gateway.php/{domain}/v1/employees/directory
//                  -> {"fields": [...], "employees": [{...}, ...]}          (active employees only)
//   custom_report  POST {base}/api/gateway.php/{domain}/v1/reports/custom?format=JSON
//                  body {"title": ..., "fields": [...]} -> {"fields": [...], "employees": [...]}
//   dataset        POST {base}{dataset_path}?page=N&page_size=M  body {"fields": [...]}
//                  -> {"data": [{"fields": {...}} | {...}], "links": {"next": url},
//                      "meta": {"page", "pageSize", "totalPages", "totalItems"}}
// Authentication is HTTP Basic with the API key as user name and "x" as password.

#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "common/base/status.h"
#include "controlplane/connectors/field_mapping.h"
#include "controlplane/connectors/http_json_client.h"

namespace tenure::cp::connectors {

enum class BambooHrMode { kDirectory, kCustomReport, kDataset };

struct BambooHrConfig {
  std::string company_domain;
  std::string base_url = "https://api.bamboohr.com";
  BambooHrMode mode = BambooHrMode::kCustomReport;
  std::vector<std::string> fields;  // requested fields; empty: every mapped source field
  // The tenant's mapping overrides as given: field_mapping, status_values,
  // employment_type_values (see applyOverrides).
  boost::json::object overrides;
  int timeout_s = 30;
  std::string dataset = "employee";
  // {domain} and {dataset} are substituted.
  std::string dataset_path = "/api/gateway.php/{domain}/v1/datasets/{dataset}";
  int page_size = 500;

  FieldMapping mapping;  // default mapping with `overrides` applied (derived, not stored)
};

std::string_view modeName(BambooHrMode mode);

// Reads and checks the settings part of a PUT body (api_key is handled by the caller). Unknown
// keys are refused so a misspelt setting is not silently ignored.
Result<BambooHrConfig> parseBambooHrConfig(const boost::json::object& body);
// The stored / shown form (never contains a secret).
boost::json::object toJson(const BambooHrConfig& config);

struct FetchedEmployees {
  std::vector<boost::json::object> employees;
  int pages = 0;
};

// Reads every employee. All pages or nothing: any failed page fails the whole fetch.
Result<FetchedEmployees> fetchBambooHrEmployees(const HttpJsonClient& client,
                                                const BambooHrConfig& config,
                                                const std::string& api_key);

}  // namespace tenure::cp::connectors
