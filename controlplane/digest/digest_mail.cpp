#include "controlplane/digest/digest_mail.h"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include "common/base/clock.h"
#include "common/base/cron.h"
#include "common/base/crypto.h"
#include "controlplane/reports/error_hints.h"
#include "controlplane/reports/run_report.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

constexpr size_t kMaxRecipients = 50;

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Base64 body lines of 76 characters (RFC 2045), CRLF-terminated.
std::string base64Lines(std::string_view in) {
  const std::string b = base64(in);
  std::string out;
  for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

std::string withoutLineBreaks(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

// A held or rejected run applied nothing, nor did a dry run: its counts are a plan.
bool appliedNothing(const RunRecord& r) {
  return r.dry_run || r.status == RunStatus::kHeld || r.status == RunStatus::kRejected;
}

bool isFailed(const RunRecord& r) {
  return r.status == RunStatus::kFailed || r.status == RunStatus::kPartial;
}

int countOf(const std::map<std::string, int>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

std::string plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string countsText(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [action, n] : counts) {
    if (!out.empty()) out += ", ";
    out += action + " " + std::to_string(n);
  }
  return out.empty() ? "no outcome yet" : out;
}

std::string reportLink(const DigestContent& c, const std::string& run_id) {
  if (c.public_url.empty()) return "";
  return c.public_url + "/api/v1/runs/" + run_id + "/report.html";
}

std::string periodText(const DigestContent& c) {
  return formatLocalTime(c.period_start_ms, c.zone) + " to " +
         formatLocalTime(c.period_end_ms, c.zone) + " (" + c.zone.name() + ")";
}

std::string errorTitle(const DigestError& e) {
  return e.error_class +
         (e.directory_code ? " (LDAP " + std::to_string(e.directory_code) + ")" : "");
}

}  // namespace

bool isMailAddress(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  const size_t at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size()) return false;
  for (unsigned char c : a) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '(' || c == ')' || c == '\\' || c == '[' || c == ']') {
      return false;
    }
  }
  const std::string_view domain = a.substr(at + 1);
  if (domain.find('@') != std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  return true;
}

std::vector<DigestFieldError> applyDigestSettings(const bj::value& body, DigestSettings& s) {
  std::vector<DigestFieldError> errors;
  if (!body.is_object()) return {{"", "the body must be a JSON object"}};
  const bj::object& o = body.get_object();
  for (const auto& [key, value] : o) {
    const std::string k(key);
    if (k == "enabled" || k == "send_when_empty") {
      if (!value.is_bool()) {
        errors.push_back({k, "must be true or false"});
      } else {
        (k == "enabled" ? s.enabled : s.send_when_empty) = value.get_bool();
      }
    } else if (k == "to") {
      if (!value.is_array()) {
        errors.push_back({"to", "must be a list of e-mail addresses"});
        continue;
      }
      std::vector<std::string> to;
      std::set<std::string> seen;
      bool ok = true;
      for (size_t i = 0; i < value.get_array().size(); ++i) {
        const bj::value& a = value.get_array()[i];
        const std::string path = "to[" + std::to_string(i) + "]";
        if (!a.is_string() || !isMailAddress(a.get_string())) {
          errors.push_back({path, "not an e-mail address (local@domain, no display name)"});
          ok = false;
        } else if (!seen.insert(std::string(a.get_string())).second) {
          errors.push_back({path, "listed twice"});
          ok = false;
        } else {
          to.emplace_back(a.get_string());
        }
      }
      if (to.size() > kMaxRecipients) {
        errors.push_back({"to", "at most " + std::to_string(kMaxRecipients) + " addresses"});
        ok = false;
      }
      if (ok) s.to = std::move(to);
    } else if (k == "schedule") {
      if (!value.is_string()) {
        errors.push_back({"schedule", "must be a 5-field cron expression"});
        continue;
      }
      CronError ce;
      if (!CronExpression::parse(value.get_string(), &ce).isOk()) {
        errors.push_back(
            {"schedule", "position " + std::to_string(ce.position) + ": " + ce.reason});
      } else {
        s.schedule = std::string(value.get_string());
      }
    } else if (k == "smtp_sink") {
      if (!value.is_string() || value.get_string().size() > 64) {
        errors.push_back({"smtp_sink", "must be the id of an smtp ticket sink (or \"\")"});
      } else {
        s.smtp_sink = std::string(value.get_string());
      }
    } else {
      errors.push_back({k, "unknown field"});
    }
  }
  if (errors.empty() && s.enabled && s.to.empty()) {
    errors.push_back({"to", "at least one address is needed while the digest is enabled"});
  }
  return errors;
}

bj::object digestSettingsToJson(const DigestSettings& s) {
  bj::array to;
  for (const auto& a : s.to) to.push_back(bj::string(a));
  return bj::object{{"enabled", s.enabled},
                    {"to", std::move(to)},
                    {"schedule", s.schedule},
                    {"send_when_empty", s.send_when_empty},
                    {"smtp_sink", s.smtp_sink}};
}

Result<DigestSettings> digestSettingsFromJson(std::string_view text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec) return internalError("stored digest settings do not parse");
  DigestSettings s;
  if (auto errors = applyDigestSettings(v, s); !errors.empty()) {
    return internalError("stored digest settings: " + errors[0].path + ": " + errors[0].reason);
  }
  return s;
}

std::string formatLocalTime(int64_t unix_ms, const TimeZone& zone) {
  const int64_t s = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const int64_t offset = zone.utcOffsetAt(s);
  const int64_t local = s + offset;
  const int64_t days = local >= 0 ? local / 86'400 : (local - 86'399) / 86'400;
  const int64_t secs = local - days * 86'400;
  const CivilDate d = civilFromDays(days);
  const int64_t off_min = (offset < 0 ? -offset : offset) / 60;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld %c%02lld:%02lld",
                static_cast<long long>(d.year), d.month, d.day, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs % 3600 / 60), offset < 0 ? '-' : '+',
                static_cast<long long>(off_min / 60), static_cast<long long>(off_min % 60));
  return buf;
}

DigestRun digestRunOf(const RunReport& report) {
  DigestRun r;
  r.run = report.run;
  r.counts = report.counts_by_action;
  for (const auto& o : report.outcomes) r.failed_people += o.failed() ? 1 : 0;
  return r;
}

std::vector<DigestError> topDigestErrors(const std::vector<RunReport>& reports, size_t limit) {
  std::map<std::string, DigestError> by_key;
  std::vector<std::string> order;  // first seen first, for a stable order among equal counts
  auto add = [&](DigestError e) {
    const std::string key =
        e.error_class + "\x1f" + std::to_string(e.directory_code) + "\x1f" + e.hint;
    auto [it, inserted] = by_key.try_emplace(key, std::move(e));
    if (inserted) order.push_back(key);
    it->second.count += 1;
  };
  for (const auto& rep : reports) {
    const RunRecord& r = rep.run;
    if (!r.error_class.empty()) {
      add(DigestError{r.error_class, 0,
                      errorHint(ErrorContext{r.error_class, 0, r.error_message, "", {}}),
                      r.error_message, "", r.run_id, 0});
    }
    for (const auto& o : rep.outcomes) {
      if (!o.failed()) continue;
      const std::string dn = !o.dn.empty()          ? o.dn
                             : o.operations.empty() ? ""
                                                    : o.operations.front().dn;
      add(DigestError{
          o.error_class, o.directory_code,
          errorHint(ErrorContext{o.error_class, o.directory_code, o.error_message, dn, o.changes}),
          o.error_message, o.employee_id, r.run_id, 0});
    }
  }
  std::vector<DigestError> out;
  for (const auto& k : order) out.push_back(by_key.at(k));
  std::stable_sort(out.begin(), out.end(),
                   [](const DigestError& a, const DigestError& b) { return a.count > b.count; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

DigestTotals digestTotals(const DigestContent& c) {
  DigestTotals t;
  t.runs = static_cast<int>(c.runs.size() + c.runs_not_listed);
  for (const auto& dr : c.runs) {
    const RunRecord& r = dr.run;
    t.failed += isFailed(r) ? 1 : 0;
    t.held += r.status == RunStatus::kHeld ? 1 : 0;
    t.errors += r.error_class.empty() ? 0 : 1;
    if (appliedNothing(r)) continue;
    t.created += countOf(dr.counts, "created");
    t.updated += countOf(dr.counts, "updated");
    t.moved += countOf(dr.counts, "moved");
    t.disabled += countOf(dr.counts, "disabled");
    t.deleted += countOf(dr.counts, "deleted");
    t.errors += dr.failed_people;
  }
  return t;
}

bool digestIsEmpty(const DigestContent& c) {
  return c.runs.empty() && c.runs_not_listed == 0 && c.open_tickets.empty();
}

std::vector<const DigestRun*> digestRunOrder(const DigestContent& c) {
  std::vector<const DigestRun*> out;
  for (const auto& r : c.runs) out.push_back(&r);
  auto rank = [](const DigestRun* r) {
    return isFailed(r->run) ? 0 : r->run.status == RunStatus::kHeld ? 1 : 2;
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const DigestRun* a, const DigestRun* b) { return rank(a) < rank(b); });
  return out;
}

std::string digestSubject(const DigestContent& c) {
  const DigestTotals t = digestTotals(c);
  return withoutLineBreaks("Tenure digest for " + c.tenant_name + ": " +
                           plural(t.runs, "run", "runs") + ", " + std::to_string(t.failed) +
                           " failed, " + std::to_string(t.held) + " held (" +
                           formatLocalTime(c.period_start_ms, c.zone) + " to " +
                           formatLocalTime(c.period_end_ms, c.zone) + ")");
}

std::string digestText(const DigestContent& c) {
  const DigestTotals t = digestTotals(c);
  std::string s;
  s += "Tenure digest for " + c.tenant_name + " (" + c.tenant_id + ")\n";
  s += "Period: " + periodText(c) + "\n\n";
  s += "Runs: " + std::to_string(t.runs) + " (" + std::to_string(t.failed) + " failed, " +
       std::to_string(t.held) + " held)\n";
  s += "People: created " + std::to_string(t.created) + ", updated " + std::to_string(t.updated) +
       ", moved " + std::to_string(t.moved) + ", disabled " + std::to_string(t.disabled) +
       ", deleted " + std::to_string(t.deleted) + ", errors " + std::to_string(t.errors) + "\n";

  s += "\nRuns (failed and held first)\n";
  if (c.runs.empty()) s += "  No run in this period.\n";
  for (const DigestRun* dr : digestRunOrder(c)) {
    const RunRecord& r = dr->run;
    const std::string status(runStatusName(r.status));
    s += "  " + std::string(isFailed(r) || r.status == RunStatus::kHeld ? "!! " : "   ") +
         r.run_id + "  " + r.kind + "  " + r.source + "  " + status +
         (r.dry_run ? " (dry run)" : "") + "  created " + formatLocalTime(r.created_at_ms, c.zone) +
         "\n      " + countsText(dr->counts) + "\n";
    if (!r.hold_reason.empty() && r.status == RunStatus::kHeld) {
      s += "      held: " + r.hold_reason + " (waiting for an operator's approval)\n";
    }
    if (!r.error_class.empty())
      s += "      error: " + r.error_class + ": " + r.error_message + "\n";
    if (const std::string link = reportLink(c, r.run_id); !link.empty()) {
      s += "      report: " + link + "\n";
    }
  }
  if (c.runs_not_listed > 0) {
    s += "  ... and " + std::to_string(c.runs_not_listed) + " more runs (GET /api/v1/runs)\n";
  }

  if (!c.top_errors.empty()) {
    s += "\nTop errors and how to fix them\n";
    for (const auto& e : c.top_errors) {
      s += "  " + std::to_string(e.count) + " x " + errorTitle(e) + ": " + e.example_message +
           "\n      e.g. " +
           (e.example_employee.empty() ? "run " : e.example_employee + " in run ") + e.example_run +
           "\n      Fix: " + e.hint + "\n";
    }
  }

  s += "\nOpen tickets: " + std::to_string(c.open_tickets.size()) + "\n";
  for (const auto& tk : c.open_tickets) {
    s += "  " + tk.id + "  " + tk.detector + "  " + tk.state + "  x" + std::to_string(tk.count) +
         "  " + tk.summary + "\n";
  }
  s += "\n-- \nSent by Tenure. Change or stop this digest with PUT or DELETE "
       "/api/v1/report-digest.\n";
  return s;
}

std::string digestHtml(const DigestContent& c) {
  const DigestTotals t = digestTotals(c);
  auto e = [](std::string_view s) { return htmlEscape(s); };
  constexpr const char* kTd =
      "style=\"border:1px solid #d0d7de;padding:4px 8px;vertical-align:top\"";
  constexpr const char* kTh =
      "style=\"border:1px solid #d0d7de;padding:4px 8px;text-align:left;background:#f3f5f7\"";
  constexpr const char* kTable = "style=\"border-collapse:collapse;width:100%;margin:4px 0 16px\"";
  constexpr const char* kH2 = "style=\"font-size:16px;margin:20px 0 6px\"";
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
       e(digestSubject(c)) + "</title></head>\n";
  h += "<body style=\"font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
       "color:#1b1f24;margin:16px;max-width:1000px\">\n";
  h += "<h1 style=\"font-size:20px;margin:0 0 4px\">Tenure digest for " + e(c.tenant_name) +
       "</h1>\n";
  h += "<p style=\"color:#57606a;margin:0 0 12px\">Period: " + e(periodText(c)) + " &middot; " +
       "tenant <code>" + e(c.tenant_id) + "</code></p>\n";

  auto cell = [&](const std::string& label, int64_t n, bool alert) {
    return std::string("<td ") + kTd + "><div style=\"color:#57606a\">" + e(label) +
           "</div><div style=\"font-size:20px;" + (alert && n ? "color:#cf222e;" : "") + "\">" +
           std::to_string(n) + "</div></td>";
  };
  h += std::string("<table ") + kTable + "><tr>" + cell("Runs", t.runs, false) +
       cell("Failed", t.failed, true) + cell("Held", t.held, true) +
       cell("Created", t.created, false) + cell("Updated", t.updated, false) +
       cell("Moved", t.moved, false) + cell("Disabled", t.disabled, false) +
       cell("Deleted", t.deleted, false) + cell("Errors", t.errors, true) + "</tr></table>\n";

  h += std::string("<h2 ") + kH2 + ">Runs</h2>\n<table " + kTable + "><tr><th " + kTh +
       ">Run</th><th " + kTh + ">Kind</th><th " + kTh + ">Source</th><th " + kTh +
       ">Status</th><th " + kTh + ">People</th><th " + kTh + ">Created</th></tr>\n";
  for (const DigestRun* dr : digestRunOrder(c)) {
    const RunRecord& r = dr->run;
    const std::string status(runStatusName(r.status));
    const bool failed = isFailed(r);
    const bool held = r.status == RunStatus::kHeld;
    const char* bg = failed ? " style=\"background:#ffebe9\""
                     : held ? " style=\"background:#fff8c5\""
                            : "";
    const std::string link = reportLink(c, r.run_id);
    std::string id = "<code>" + e(r.run_id) + "</code>";
    if (!link.empty()) id = "<a href=\"" + e(link) + "\">" + id + "</a>";
    std::string people = e(countsText(dr->counts));
    if (held && !r.hold_reason.empty()) {
      people += "<br><b>Held:</b> " + e(r.hold_reason) + " (waiting for approval)";
    }
    if (!r.error_class.empty()) {
      people += "<br><b>Error:</b> " + e(r.error_class) + ": " + e(r.error_message);
    }
    h += std::string("<tr") + bg + "><td " + kTd + ">" + id + "</td><td " + kTd + ">" + e(r.kind) +
         "</td><td " + kTd + ">" + e(r.source) + "</td><td " + kTd + "><b>" + e(status) + "</b>" +
         (r.dry_run ? " (dry run)" : "") + "</td><td " + kTd + ">" + people + "</td><td " + kTd +
         ">" + e(formatLocalTime(r.created_at_ms, c.zone)) + "</td></tr>\n";
  }
  if (c.runs.empty()) {
    h += std::string("<tr><td colspan=\"6\" ") + kTd + ">No run in this period.</td></tr>\n";
  }
  h += "</table>\n";
  if (c.runs_not_listed > 0) {
    h += "<p>&hellip; and " + std::to_string(c.runs_not_listed) +
         " more runs (<code>GET /api/v1/runs</code>).</p>\n";
  }

  if (!c.top_errors.empty()) {
    h += std::string("<h2 ") + kH2 + ">Top errors and how to fix them</h2>\n<table " + kTable +
         "><tr><th " + kTh + ">Count</th><th " + kTh + ">Error</th><th " + kTh +
         ">Example</th><th " + kTh + ">What to do</th></tr>\n";
    for (const auto& err : c.top_errors) {
      h += std::string("<tr><td ") + kTd + ">" + std::to_string(err.count) + "</td><td " + kTd +
           "><b>" + e(errorTitle(err)) + "</b>: " + e(err.example_message) + "</td><td " + kTd +
           ">" + (err.example_employee.empty() ? "" : e(err.example_employee) + " in ") + "<code>" +
           e(err.example_run) + "</code></td><td " + kTd +
           "><div style=\"background:#f6f8fa;border-left:3px solid #0969da;padding:2px 6px\">" +
           e(err.hint) + "</div></td></tr>\n";
    }
    h += "</table>\n";
  }

  h += std::string("<h2 ") + kH2 + ">Open tickets (" + std::to_string(c.open_tickets.size()) +
       ")</h2>\n";
  if (c.open_tickets.empty()) {
    h += "<p style=\"color:#57606a\">No open ticket.</p>\n";
  } else {
    h += std::string("<table ") + kTable + "><tr><th " + kTh + ">Ticket</th><th " + kTh +
         ">Detector</th><th " + kTh + ">State</th><th " + kTh + ">Count</th><th " + kTh +
         ">Summary</th></tr>\n";
    for (const auto& tk : c.open_tickets) {
      h += std::string("<tr><td ") + kTd + "><code>" + e(tk.id) + "</code></td><td " + kTd + ">" +
           e(tk.detector) + "</td><td " + kTd + ">" + e(tk.state) + "</td><td " + kTd + ">" +
           std::to_string(tk.count) + "</td><td " + kTd + ">" + e(tk.summary) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "<p style=\"color:#57606a;font-size:12px\">Sent by Tenure. Change or stop this digest "
       "with <code>PUT</code> or <code>DELETE /api/v1/report-digest</code>.</p>\n</body></html>\n";
  return h;
}

std::string encodeHeaderText(std::string_view text) {
  const std::string clean = withoutLineBreaks(text);
  bool plain = true;
  for (unsigned char ch : clean) plain = plain && ch >= 0x20 && ch < 0x7f;
  // Short plain ASCII stays readable; anything longer is folded as encoded-words so that no
  // header line grows past 78 characters, whatever the tenant's name.
  if (plain && clean.size() <= 60 && clean.find("=?") == std::string::npos) return clean;
  // 42 bytes -> 56 base64 characters -> encoded-words of 68 (limit 75; "Subject: " + word <= 78).
  // Never split a UTF-8 sequence: a continuation byte (10xxxxxx) stays with its lead byte.
  std::string out;
  size_t i = 0;
  while (i < clean.size()) {
    size_t end = std::min(clean.size(), i + 42);
    while (end < clean.size() && end > i + 1 &&
           (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string digestEmail(const DigestContent& c, const DigestEnvelope& env) {
  std::string to;
  for (const auto& a : env.to) to += (to.empty() ? "" : ", ") + withoutLineBreaks(a);
  char date[64];
  {
    time_t tt = static_cast<time_t>(env.date_unix);
    struct tm tm {};
    gmtime_r(&tt, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  }
  // Not in the base64 alphabet, so it cannot occur in a part.
  const std::string boundary = "tenure-digest-" + randomHex(8);
  std::string m;
  m += std::string("Date: ") + date + "\r\n";
  m += "From: " + withoutLineBreaks(env.from) + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + encodeHeaderText(digestSubject(c)) + "\r\n";
  m += "Message-ID: <" + withoutLineBreaks(env.message_id) + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: no auto-replies to a report
  m += "X-Tenure-Tenant: " + withoutLineBreaks(c.tenant_id) + "\r\n";
  m += "X-Tenure-Digest-Period: " + formatIso8601Utc(c.period_start_ms / 1000) + "/" +
       formatIso8601Utc(c.period_end_ms / 1000) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "This is a multi-part message in MIME format.\r\n";
  m += "--" + boundary +
       "\r\nContent-Type: text/plain; charset=utf-8\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n" +
       base64Lines(digestText(c));
  m += "--" + boundary +
       "\r\nContent-Type: text/html; charset=utf-8\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n" +
       base64Lines(digestHtml(c));
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace tenure::cp
