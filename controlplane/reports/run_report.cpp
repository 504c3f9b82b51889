#include "controlplane/reports/run_report.h"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include "common/base/clock.h"
#include "common/protocol/messages.h"
#include "controlplane/reports/error_hints.h"

namespace tenure::cp {

namespace bj = boost::json;

bj::object outcomeToJson(const protocol::IdentityOutcome& out) {
  bj::array ops;
  for (const auto& op : out.operations) {
    ops.push_back(bj::object{{"kind", op.kind},
                             {"dn", op.dn},
                             {"target", op.target},
                             {"reason", op.reason},
                             {"changes", bj::value_from(op.changes)}});
  }
  bj::object p{{"employee_id", out.employee_id},
               {"action", out.action},
               {"state", out.state},
               {"dn", out.dn},
               {"sam_account_name", out.sam_account_name},
               {"changes", bj::value_from(out.changes)},
               {"operations", std::move(ops)}};
  if (out.failed()) {
    p["error"] = bj::object{{"class", out.error_class},
                            {"message", out.error_message},
                            {"directory_code", out.directory_code}};
  } else {
    p["error"] = nullptr;
  }
  return p;
}


namespace {

std::string isoOrEmpty(int64_t ms) { return ms ? formatIso8601Utc(ms / 1000) : ""; }

bj::value isoOrNull(int64_t ms) {
  return ms ? bj::value(formatIso8601Utc(ms / 1000)) : bj::value(nullptr);
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// The DN the failing part of an outcome acted on: its first operation's, else the account's.
std::string failingDn(const protocol::IdentityOutcome& o) {
  if (!o.dn.empty()) return o.dn;
  return o.operations.empty() ? "" : o.operations.front().dn;
}

std::string hintFor(const protocol::IdentityOutcome& o) {
  return errorHint(ErrorContext{o.error_class, o.directory_code, o.error_message, failingDn(o),
                                o.changes});
}

// Failures worth a hint: failed people, plus people whose manager link could not be set.
bool needsHint(const protocol::IdentityOutcome& o) {
  if (o.failed()) return true;
  return std::find(o.changes.begin(), o.changes.end(), "manager_unresolved") != o.changes.end();
}

// A held or rejected run applied nothing: what it lists is the plan, not what happened.
bool planOnly(const RunRecord& r) {
  return r.dry_run || r.status == RunStatus::kHeld || r.status == RunStatus::kRejected;
}

std::string runHint(const RunRecord& r) {
  return errorHint(ErrorContext{r.error_class, 0, r.error_message, "", {}});
}

bj::object runMetadata(const RunRecord& r) {
  bj::object o{{"run_id", r.run_id},
               {"status", std::string(runStatusName(r.status))},
               {"source", r.source},
               {"kind", r.kind},
               {"dry_run", r.dry_run},
               {"policy_version", r.policy_version},
               {"agent_id", r.agent_id},
               {"domain_controller", r.domain_controller},
               {"created_at", isoOrNull(r.created_at_ms)},
               {"started_at", isoOrNull(r.started_at_ms)},
               {"finished_at", isoOrNull(r.finished_at_ms)},
               {"accepted", r.accepted},
               {"rejected_count", static_cast<int64_t>(r.rejected.size())}};
  if (r.started_at_ms && r.created_at_ms) o["queued_ms"] = r.started_at_ms - r.created_at_ms;
  if (r.finished_at_ms && r.started_at_ms) o["duration_ms"] = r.finished_at_ms - r.started_at_ms;
  if (!r.error_class.empty()) {
    o["error"] =
        bj::object{{"class", r.error_class}, {"message", r.error_message}, {"hint", runHint(r)}};
  }
  if (!r.hold_reason.empty()) {
    bj::object counts;
    for (const auto& [k, n] : r.hold_counts) counts[k] = n;
    bj::object hold{{"reason", r.hold_reason},
                    {"counts", std::move(counts)},
                    {"population", r.hold_population}};
    if (!r.approved_by.empty()) {
      hold["approved_by"] = r.approved_by;
      hold["approved_at"] = isoOrNull(r.approved_at_ms);
    }
    if (!r.rejected_by.empty()) {
      hold["rejected_by"] = r.rejected_by;
      hold["rejected_at"] = isoOrNull(r.rejected_at_ms);
    }
    o["hold"] = std::move(hold);
  }
  return o;
}

constexpr const char* kCss = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.3em 0}th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f7}table.meta th{width:14em}.muted{color:#57606a}.num{text-align:right}
.st{display:inline-block;padding:0 .5em;border-radius:1em;background:#eaeef2}.st-succeeded{background:#dafbe1}.st-failed,.st-rejected{background:#ffebe9}.st-partial,.st-held{background:#fff8c5}
.failed td{background:#fff5f5}.hint{background:#f6f8fa;border-left:3px solid #0969da;padding:.2em .5em;margin:.2em 0}
ul.ops{margin:0;padding-left:1.1em}code{font:12px ui-monospace,Consolas,monospace;word-break:break-all}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}tr{break-inside:avoid}th{background:#eee!important;-webkit-print-color-adjust:exact;print-color-adjust:exact}}
)css";

}  // namespace

std::string htmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string csvField(std::string_view s) {
  std::string v;
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                     s[0] == '\r')) {
    v = "'";  // OWASP CSV injection: shown as text, never run as a formula
  }
  v += s;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

bj::object runReportLinks(const std::string& run_id) {
  const std::string base = "/api/v1/runs/" + run_id + "/report.";
  return bj::object{{"json", base + "json"}, {"csv", base + "csv"}, {"html", base + "html"}};
}

bj::object runReportJson(const RunReport& rep) {
  bj::object counts;
  for (const auto& [action, n] : rep.counts_by_action) counts[action] = n;
  bj::array people;
  bj::array errors;
  for (const auto& o : rep.outcomes) {
    bj::object p = outcomeToJson(o);
    if (needsHint(o)) {
      const std::string hint = hintFor(o);
      if (o.failed()) {
        p["error"].as_object()["hint"] = hint;
      }
      errors.push_back(bj::object{{"employee_id", o.employee_id},
                                  {"class", o.failed() ? o.error_class : "data"},
                                  {"directory_code", o.directory_code},
                                  {"message", o.failed() ? o.error_message
                                                         : "manager could not be resolved"},
                                  {"dn", failingDn(o)},
                                  {"hint", hint}});
    }
    people.push_back(std::move(p));
  }
  bj::array rejected;
  for (const auto& r : rep.run.rejected) {
    rejected.push_back(bj::object{
        {"row", r.row}, {"employee_id", r.employee_id}, {"field", r.field}, {"reason", r.reason}});
  }
  return bj::object{{"run", runMetadata(rep.run)},
                    {"planned_only", planOnly(rep.run)},
                    {"counts", std::move(counts)},
                    {"people", std::move(people)},
                    {"rejected", std::move(rejected)},
                    {"errors", std::move(errors)},
                    {"links", runReportLinks(rep.run.run_id)}};
}

std::string runReportCsv(const RunReport& rep) {
  // One row per operation (a person without operations: one row with the person's action); the
  // rejected HR rows and a run-level error follow as rows of their own `record` type.
  static const std::vector<std::string> kHeader = {
      "record",      "run_id",       "employee_id", "action",         "state",
      "dn",          "sam_account_name", "operation", "operation_dn", "target",
      "reason",      "changes",      "error_class", "directory_code", "error_message",
      "hint",        "hr_row",       "hr_field"};
  std::string out;
  auto row = [&out](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      out += csvField(cells[i]);
    }
    out += "\r\n";
  };
  row(kHeader);
  const std::string& run_id = rep.run.run_id;
  for (const auto& o : rep.outcomes) {
    const std::string hint = needsHint(o) ? hintFor(o) : "";
    const std::string code = o.directory_code ? std::to_string(o.directory_code) : "";
    if (o.operations.empty()) {
      row({"person", run_id, o.employee_id, o.action, o.state, o.dn, o.sam_account_name, "", "",
           "", "", join(o.changes, " "), o.error_class, code, o.error_message, hint, "", ""});
      continue;
    }
    for (const auto& op : o.operations) {
      row({"operation", run_id, o.employee_id, o.action, o.state, o.dn, o.sam_account_name,
           op.kind, op.dn, op.target, op.reason, join(op.changes, " "), o.error_class, code,
           o.error_message, hint, "", ""});
    }
  }
  for (const auto& r : rep.run.rejected) {
    row({"rejected", run_id, r.employee_id, "rejected", "", "", "", "", "", "", r.reason, "",
         "data", "", "", "Correct the row in HR and upload it again.", std::to_string(r.row),
         r.field});
  }
  if (!rep.run.error_class.empty()) {
    row({"run_error", run_id, "", "failed", "", "", "", "", "", "", "", "", rep.run.error_class,
         "", rep.run.error_message, runHint(rep.run), "", ""});
  }
  return out;
}

std::string runReportHtml(const RunReport& rep) {
  const RunRecord& r = rep.run;
  const std::string status(runStatusName(r.status));
  std::string h;
  auto e = [](std::string_view s) { return htmlEscape(s); };
  auto metaRow = [&](std::string_view k, std::string_view v) {
    h += "<tr><th>" + e(k) + "</th><td>" + e(v) + "</td></tr>\n";
  };
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<title>Run report " + e(r.run_id) + "</title>\n<style>" + std::string(kCss) +
       "</style></head><body>\n";
  h += "<h1>Run report <code>" + e(r.run_id) + "</code></h1>\n";
  h += "<p><span class=\"st st-" + e(status) + "\">" + e(status) + "</span>" +
       (r.dry_run ? " <span class=\"st\">dry run: nothing was written</span>" : "") +
       (!r.dry_run && planOnly(r) ? " <span class=\"st\">nothing was applied: the actions below "
                                    "are the plan</span>"
                                  : "") +
       "</p>\n";

  h += "<h2>Run</h2>\n<table class=\"meta\">\n";
  metaRow("Source", r.source);
  metaRow("Kind", r.kind);
  metaRow("Dry run", r.dry_run ? "yes" : "no");
  metaRow("Policy version", r.policy_version ? std::to_string(r.policy_version) : "0 (default)");
  metaRow("Agent", r.agent_id.empty() ? "—" : r.agent_id);
  metaRow("Domain controller", r.domain_controller.empty() ? "—" : r.domain_controller);
  metaRow("Created", isoOrEmpty(r.created_at_ms));
  metaRow("Started", isoOrEmpty(r.started_at_ms));
  metaRow("Finished", isoOrEmpty(r.finished_at_ms));
  if (r.finished_at_ms && r.started_at_ms) {
    metaRow("Duration", std::to_string(r.finished_at_ms - r.started_at_ms) + " ms");
  }
  metaRow("HR rows accepted / rejected",
          std::to_string(r.accepted) + " / " + std::to_string(r.rejected.size()));
  if (!r.hold_reason.empty()) {
    metaRow("Held", r.hold_reason + " (" + std::to_string(r.hold_population) + " people)");
    if (!r.approved_by.empty()) {
      metaRow("Approved", r.approved_by + " at " + isoOrEmpty(r.approved_at_ms));
    }
    if (!r.rejected_by.empty()) {
      metaRow("Rejected", r.rejected_by + " at " + isoOrEmpty(r.rejected_at_ms));
    }
  }
  h += "</table>\n";

  h += "<h2>Counts</h2>\n<table><tr><th>Action</th><th class=\"num\">People</th></tr>\n";
  for (const auto& [action, n] : rep.counts_by_action) {
    h += "<tr><td>" + e(action) + "</td><td class=\"num\">" + std::to_string(n) + "</td></tr>\n";
  }
  if (rep.counts_by_action.empty()) {
    h += "<tr><td colspan=\"2\" class=\"muted\">No outcome reported yet.</td></tr>\n";
  }
  h += "</table>\n";

  bool any_error = !r.error_class.empty();
  for (const auto& o : rep.outcomes) any_error = any_error || needsHint(o);
  if (any_error) {
    h += "<h2>Errors and how to fix them</h2>\n<table><tr><th>Who</th><th>Error</th>"
         "<th>What to do</th></tr>\n";
    if (!r.error_class.empty()) {
      h += "<tr class=\"failed\"><td>whole run</td><td>" + e(r.error_class) + ": " +
           e(r.error_message) + "</td><td><div class=\"hint\">" + e(runHint(r)) +
           "</div></td></tr>\n";
    }
    for (const auto& o : rep.outcomes) {
      if (!needsHint(o)) continue;
      std::string what = o.failed() ? o.error_class + (o.directory_code
                                                           ? " (LDAP " +
                                                                 std::to_string(o.directory_code) +
                                                                 ")"
                                                           : "") +
                                          ": " + o.error_message
                                    : "manager could not be resolved";
      h += "<tr class=\"failed\"><td>" + e(o.employee_id) + "<br><code>" + e(failingDn(o)) +
           "</code></td><td>" + e(what) + "</td><td><div class=\"hint\">" + e(hintFor(o)) +
           "</div></td></tr>\n";
    }
    h += "</table>\n";
  }

  h += "<h2>People</h2>\n<table><tr><th>Employee</th><th>Action</th><th>State</th>"
       "<th>Account</th><th>Operations and why</th></tr>\n";
  for (const auto& o : rep.outcomes) {
    h += std::string(o.failed() ? "<tr class=\"failed\">" : "<tr>") + "<td>" + e(o.employee_id) +
         "</td><td>" + e(o.action) + "</td><td>" + e(o.state) + "</td><td>" +
         e(o.sam_account_name) + "<br><code>" + e(o.dn) + "</code></td><td>";
    if (o.operations.empty()) {
      h += "<span class=\"muted\">" + e(o.changes.empty() ? "nothing to do" : join(o.changes, ", ")) +
           "</span>";
    } else {
      h += "<ul class=\"ops\">";
      for (const auto& op : o.operations) {
        h += "<li><b>" + e(op.kind) + "</b>";
        if (!op.target.empty()) h += " <code>" + e(op.target) + "</code>";
        if (!op.changes.empty()) h += " (" + e(join(op.changes, ", ")) + ")";
        if (!op.reason.empty()) h += " — " + e(op.reason);
        h += "</li>";
      }
      h += "</ul>";
    }
    h += "</td></tr>\n";
  }
  if (rep.outcomes.empty()) {
    h += "<tr><td colspan=\"5\" class=\"muted\">No outcome reported yet.</td></tr>\n";
  }
  h += "</table>\n";

  if (!r.rejected.empty()) {
    h += "<h2>Rejected HR rows (not applied)</h2>\n<table><tr><th class=\"num\">Row</th>"
         "<th>Employee</th><th>Field</th><th>Reason</th></tr>\n";
    for (const auto& row : r.rejected) {
      h += "<tr><td class=\"num\">" + std::to_string(row.row) + "</td><td>" +
           e(row.employee_id) + "</td><td>" + e(row.field) + "</td><td>" + e(row.reason) +
           "</td></tr>\n";
    }
    h += "</table>\n<p class=\"muted\">Correct these rows in HR and upload them again.</p>\n";
  }
  h += "<p class=\"muted\">Generated by Tenure.</p>\n</body></html>\n";
  return h;
}

HttpServerResponse runReportResponse(TenantStore& store, const std::string& run_id,
                                     std::string_view format, bool download) {
  HttpServerResponse resp;
  auto error = [&resp](int status, const char* code, const std::string& message) {
    resp.status = status;
    resp.content_type = "application/json";
    resp.body = bj::serialize(protocol::toJson(protocol::ErrorBody{code, message}));
    return resp;
  };
  if (format != "json" && format != "csv" && format != "html") {
    return error(404, protocol::kErrNotFound, "reports are report.json, report.csv, report.html");
  }
  auto report = store.report(run_id);
  if (!report.isOk()) {
    spdlog::error("run report {}: {}", run_id, report.status().toString());
    return report.status().errorClass() == ErrorClass::kTransient
               ? error(503, protocol::kErrUnavailable, "temporarily unavailable, retry")
               : error(500, protocol::kErrInternal, "internal error");
  }
  if (!report->has_value()) return error(404, protocol::kErrNotFound, "no such run");
  RunReport& rep = **report;
  if ((rep.run.status == RunStatus::kHeld || rep.run.status == RunStatus::kRejected) &&
      rep.outcomes.empty()) {
    // Nothing was applied: the report shows the plan the run was stopped with.
    auto plan = store.heldPlan(run_id);
    if (!plan.isOk()) {
      spdlog::error("run report {}: {}", run_id, plan.status().toString());
      return error(500, protocol::kErrInternal, "internal error");
    }
    if (plan->has_value()) {
      rep.outcomes = (*plan)->outcomes;
      for (const auto& o : rep.outcomes) rep.counts_by_action[o.action] += 1;
    }
  }
  // Run ids are generated ("r_" + hex); the filename is filtered anyway.
  std::string safe;
  for (char c : run_id) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') safe += c;
  }
  const std::string filename = "tenure-run-" + safe + "-report." + std::string(format);
  if (format == "json") {
    resp.content_type = "application/json";
    resp.body = bj::serialize(runReportJson(rep));
  } else if (format == "csv") {
    resp.content_type = "text/csv; charset=utf-8; header=present";
    resp.body = runReportCsv(rep);
    download = true;
  } else {
    resp.content_type = "text/html; charset=utf-8";
    resp.body = runReportHtml(rep);
    // Defence in depth on top of escaping: the page may not load or run anything.
    resp.headers["Content-Security-Policy"] =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
  }
  resp.headers["Content-Disposition"] =
      std::string(download ? "attachment" : "inline") + "; filename=\"" + filename + "\"";
  return resp;
}

}  // namespace tenure::cp
