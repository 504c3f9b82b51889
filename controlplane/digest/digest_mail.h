#pragma once
// The report digest's content and its e-mail, without I/O: settings validation, what a period
// holds (runs, errors with fix hints, open tickets), and the rendering — subject, plain text,
// self-contained HTML (inline styles, no scripts, no external resources) and the RFC 5322
// multipart/alternative message. Everything a tenant or HR sent is escaped for where it goes:
// HTML-escaped in the HTML part, RFC 2047-encoded (and stripped of line breaks) in headers.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/time_zone.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp {

inline constexpr const char* kDefaultDigestSchedule = "0 7 * * *";

struct DigestSettings {
  bool enabled = false;
  std::vector<std::string> to;
  std::string schedule = kDefaultDigestSchedule;  // 5-field cron, tenant's time zone
  bool send_when_empty = false;
  std::string smtp_sink;  // the tenant's smtp ticket sink to send through; "" = the first one
};

struct DigestFieldError {
  std::string path;
  std::string reason;
};

// Applies the fields of a PUT body to `settings` (fields left out keep their value). Every
// problem is reported (unknown fields included); `settings` is only meaningful when none is.
std::vector<DigestFieldError> applyDigestSettings(const boost::json::value& body,
                                                  DigestSettings& settings);
boost::json::object digestSettingsToJson(const DigestSettings& s);
// Parses the stored document (written by digestSettingsToJson).
Result<DigestSettings> digestSettingsFromJson(std::string_view text);

// A plain addr-spec as SMTP takes it (local@domain): no display names, spaces, quotes, angle
// brackets, commas or line breaks, at most 254 characters.
bool isMailAddress(std::string_view address);

struct DigestRun {
  RunRecord run;
  std::map<std::string, int> counts;  // by action (for a held run: the plan's)
  int failed_people = 0;
};

// One kind of error in the period: the same class, directory code and fix hint.
struct DigestError {
  std::string error_class;
  int directory_code = 0;
  std::string hint;
  std::string example_message;
  std::string example_employee;  // "" for a run-level error
  std::string example_run;
  int count = 0;
};

struct DigestTicket {
  std::string id;
  std::string detector;
  std::string state;
  std::string summary;
  int64_t count = 0;
  int64_t last_seen_ms = 0;
};

struct DigestContent {
  std::string tenant_id;
  std::string tenant_name;
  TimeZone zone = TimeZone::utc();
  int64_t period_start_ms = 0;
  int64_t period_end_ms = 0;
  std::vector<DigestRun> runs;  // created in [start, end), oldest first
  int64_t runs_not_listed = 0;  // runs beyond the digest's row limit (counted, not shown)
  std::vector<DigestError> top_errors;
  std::vector<DigestTicket> open_tickets;
  std::string public_url;  // the control plane's public base URL; "" when unknown (no links)
};

struct DigestTotals {
  int runs = 0;
  int failed = 0;  // failed or partly failed
  int held = 0;    // waiting for an operator's approval
  // People in applied runs (dry runs, held and rejected runs applied nothing).
  int created = 0, updated = 0, moved = 0, disabled = 0, deleted = 0;
  int errors = 0;  // failed people plus runs that failed as a whole
};

// The run's summary for a digest from its report (a held run without outcomes: its plan's).
DigestRun digestRunOf(const RunReport& report);
// Errors of the reports grouped by (class, directory code, hint), most frequent first.
std::vector<DigestError> topDigestErrors(const std::vector<RunReport>& reports, size_t limit);

DigestTotals digestTotals(const DigestContent& c);
// Nothing to tell: no run in the period and no open ticket.
bool digestIsEmpty(const DigestContent& c);
// Failed and partly failed runs first, then held ones, then the rest; oldest first within each.
std::vector<const DigestRun*> digestRunOrder(const DigestContent& c);

// "2026-12-02 07:00 +01:00" in `zone`.
std::string formatLocalTime(int64_t unix_ms, const TimeZone& zone);

std::string digestSubject(const DigestContent& c);
std::string digestText(const DigestContent& c);
std::string digestHtml(const DigestContent& c);

struct DigestEnvelope {
  std::string from;
  std::vector<std::string> to;
  std::string message_id;  // without angle brackets; the same on every attempt of one digest
  int64_t date_unix = 0;
};
// The whole message: headers (Subject RFC 2047-encoded), multipart/alternative with the text
// and the HTML part, each UTF-8 in base64 (lines of 76), CRLF line ends.
std::string digestEmail(const DigestContent& c, const DigestEnvelope& envelope);

// An RFC 2047 header value: encoded-words (UTF-8, base64) of at most 75 characters, folded;
// line breaks in `text` become spaces first. Short (<= 60) printable ASCII is returned as is.
std::string encodeHeaderText(std::string_view text);

}  // namespace tenure::cp
