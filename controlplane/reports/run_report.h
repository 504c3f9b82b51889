#pragma once
// Run reports: one run rendered for people — JSON, CSV (RFC 4180, safe to open in a spreadsheet)
// and one self-contained HTML page (inline CSS, no scripts, no external resources, printable).
// Each holds the run's metadata, counts by action, per-person actions with the reason (rule) of
// every operation, the rejected HR rows, and the errors with a hint how to fix them.

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "controlplane/http/http_server.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

// HTML text and attribute escaping (& < > " ').
// One person's outcome as the tenant API shows it (run detail, held plans, report.json):
// action, state, DN, changes, every operation with its reason, and the error if it failed.
boost::json::object outcomeToJson(const protocol::IdentityOutcome& outcome);

std::string htmlEscape(std::string_view s);
// One RFC 4180 field: a value starting with = + - @ TAB or CR is prefixed with ' so that
// spreadsheets never evaluate it as a formula; quoted when it holds a comma, quote, CR or LF.
std::string csvField(std::string_view s);

boost::json::object runReportJson(const RunReport& report);
std::string runReportCsv(const RunReport& report);
std::string runReportHtml(const RunReport& report);

// {"json": "/api/v1/runs/ID/report.json", "csv": ..., "html": ...}
boost::json::object runReportLinks(const std::string& run_id);

// Answers GET /api/v1/runs/{run_id}/report.{json|csv|html}: 404 for an unknown run or format.
// `download` adds Content-Disposition: attachment (CSV always is one).
HttpServerResponse runReportResponse(TenantStore& store, const std::string& run_id,
                                     std::string_view format, bool download);

}  // namespace tenure::cp
