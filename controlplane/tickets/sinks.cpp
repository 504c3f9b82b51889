#include "controlplane/tickets/sinks.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>

#include "common/base/clock.h"
#include "common/base/crypto.h"
#include "common/base/json_fields.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string str(const bj::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}

int64_t num(const bj::object& o, const char* key, int64_t fallback) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().get_int64() : fallback;
}

std::string withoutTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool isHttpUrl(const std::string& s) {
  return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0;
}

// Header values and mail headers must not carry line breaks (header injection).
bool hasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

std::string title(const TicketNotice& n) {
  const char* verb = n.event == "resolved" ? "Resolved" : n.event == "reopened" ? "Reopened" : "Open";
  return std::string("[Tenure] ") + verb + ": " + n.summary;
}

std::string description(const TicketNotice& n) {
  std::string d = n.summary + "\n\n";
  if (!n.hint.empty()) d += "How to fix: " + n.hint + "\n\n";
  d += "Detector: " + n.detector + "\nSubject: " + n.subject + "\nTenant: " + n.tenant_id +
       "\nTicket: " + n.ticket_id + "\nState: " + n.state + "\nOccurrences: " +
       std::to_string(n.count) + "\nFirst seen: " + formatIso8601Utc(n.first_seen_ms / 1000) +
       "\nLast seen: " + formatIso8601Utc(n.last_seen_ms / 1000) + "\n";
  return d;
}

std::string occurrences(const TicketNotice& n) {
  return "Occurrences: " + std::to_string(n.count) + "\nFirst seen: " +
         formatIso8601Utc(n.first_seen_ms / 1000) + "\nLast seen: " +
         formatIso8601Utc(n.last_seen_ms / 1000) + "\nTenure ticket: " + n.ticket_id + "\n";
}

// ServiceNow close_notes / the Jira comment on a resolution.
std::string resolutionNote(const TicketNotice& n) {
  std::string who = n.actor.empty() || n.actor == "auto"
                        ? "Resolved automatically by Tenure: the condition cleared."
                        : "Resolved in Tenure by " + n.actor + ".";
  return who + "\n" + n.summary + "\n" + occurrences(n);
}

// ServiceNow work_notes / the Jira comment on a reopening.
std::string reopenNote(const TicketNotice& n) {
  std::string d = "Reopened by Tenure: the condition is back.\n" + n.summary + "\n";
  if (!n.hint.empty()) d += "How to fix: " + n.hint + "\n";
  return d + occurrences(n);
}

std::string correlationId(const TicketNotice& n) {
  return "tenure:" + n.tenant_id + ":" + n.ticket_id;
}

std::string percentEncode(const std::string& in) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string secretOf(const SinkConfig& s, const std::string& field) {
  auto it = s.secrets.find(field);
  return it == s.secrets.end() ? "" : it->second;
}

std::string basicAuth(const SinkConfig& s) {
  if (s.type == "servicenow") {
    return "Basic " + base64(str(s.settings, "username") + ":" + secretOf(s, "password"));
  }
  return "Basic " + base64(str(s.settings, "email") + ":" + secretOf(s, "api_token"));
}

SinkHttpRequest vendorRequest(const SinkConfig& s, std::string method, std::string url,
                              std::string body) {
  SinkHttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Accept", "application/json");
  r.headers.emplace_back("Authorization", basicAuth(s));
  return r;
}

// ServiceNow incident from a Table API result object ({"sys_id", "number", ...}).
Result<ExternalRecord> serviceNowRecord(const SinkConfig& s, const bj::value& v) {
  if (!v.is_object()) return dataError("ServiceNow answer has no result object");
  std::string sys_id = str(v.get_object(), "sys_id");
  std::string number = str(v.get_object(), "number");
  if (sys_id.empty()) return dataError("ServiceNow answer has no result.sys_id");
  ExternalRecord r;
  r.target = sinkTarget(s);
  r.record_id = sys_id;
  r.ref = number.empty() ? sys_id : number;
  r.url = r.target + "/nav_to.do?uri=incident.do%3Fsys_id%3D" + percentEncode(sys_id);
  return r;
}

bj::object noticeJson(const TicketNotice& n) {
  return bj::object{{"event", n.event},
                    {"tenant_id", n.tenant_id},
                    {"ticket", bj::object{{"id", n.ticket_id},
                                          {"detector", n.detector},
                                          {"subject", n.subject},
                                          {"state", n.state},
                                          {"count", n.count},
                                          {"first_seen", formatIso8601Utc(n.first_seen_ms / 1000)},
                                          {"last_seen", formatIso8601Utc(n.last_seen_ms / 1000)},
                                          {"summary", n.summary},
                                          {"hint", n.hint}}}};
}

}  // namespace

bool sinkKeepsRecords(const std::string& type) { return type == "servicenow" || type == "jira"; }

std::string sinkTarget(const SinkConfig& s) {
  return withoutTrailingSlash(str(s.settings, s.type == "servicenow" ? "instance" : "base_url"));
}

std::vector<std::string> sinkSecretFields(const std::string& type) {
  if (type == "smtp" || type == "servicenow") return {"password"};
  if (type == "webhook") return {"secret"};
  if (type == "jira") return {"api_token"};
  return {};
}

Result<SinkConfig> parseSinkConfig(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "sink"));
  SinkConfig s;
  ASSIGN_OR_RETURN(s.id, json::requireString(*o, "id"));
  ASSIGN_OR_RETURN(s.type, json::requireString(*o, "type"));
  if (s.id.empty() || s.id.size() > 64 || hasLineBreak(s.id)) {
    return dataError("sink id: 1 to 64 characters");
  }
  const auto secret_fields = sinkSecretFields(s.type);
  if (secret_fields.empty()) {
    return dataError("sink " + s.id + ": type must be smtp, webhook, servicenow or jira");
  }
  for (const auto& [key, value] : *o) {
    const std::string k(key);
    if (k == "id" || k == "type") continue;
    if (std::find(secret_fields.begin(), secret_fields.end(), k) != secret_fields.end()) {
      if (!value.is_string()) return dataError("sink " + s.id + ": " + k + " must be a string");
      s.secrets[k] = std::string(value.get_string());
      continue;
    }
    if (k.size() > 7 && k.substr(k.size() - 7) == "_sealed") {
      return dataError("sink " + s.id + ": " + k + " cannot be set");
    }
    s.settings[key] = value;
  }
  auto need = [&](const char* key) -> Status {
    std::string val = str(s.settings, key);
    if (val.empty()) return dataError("sink " + s.id + ": " + key + " is required");
    if (hasLineBreak(val)) return dataError("sink " + s.id + ": " + key + " has a line break");
    return Status::ok();
  };
  auto needUrl = [&](const char* key) -> Status {
    RETURN_IF_ERROR(need(key));
    if (!isHttpUrl(str(s.settings, key))) {
      return dataError("sink " + s.id + ": " + key + " must be an http(s) URL");
    }
    return Status::ok();
  };
  if (s.type == "smtp") {
    RETURN_IF_ERROR(need("host"));
    RETURN_IF_ERROR(need("from"));
    ASSIGN_OR_RETURN(auto to, json::optionalStringArray(s.settings, "to"));
    if (to.empty()) return dataError("sink " + s.id + ": to needs at least one address");
    for (const auto& a : to) {
      if (a.empty() || hasLineBreak(a)) return dataError("sink " + s.id + ": bad address in to");
    }
    ASSIGN_OR_RETURN(int64_t port, json::optionalInt(s.settings, "port", 25));
    if (port <= 0 || port > 65535) return dataError("sink " + s.id + ": port out of range");
    ASSIGN_OR_RETURN(bool starttls, json::optionalBool(s.settings, "starttls", false));
    (void)starttls;
  } else if (s.type == "webhook") {
    RETURN_IF_ERROR(needUrl("url"));
  } else if (s.type == "servicenow") {
    RETURN_IF_ERROR(needUrl("instance"));
    RETURN_IF_ERROR(need("username"));
    for (const char* key : {"urgency", "impact"}) {
      ASSIGN_OR_RETURN(int64_t level, json::optionalInt(s.settings, key, 2));
      if (level < 1 || level > 3) {
        return dataError("sink " + s.id + ": " + key + " must be 1, 2 or 3");
      }
    }
    if (s.settings.contains("close_code")) {
      if (!s.settings.at("close_code").is_string()) {
        return dataError("sink " + s.id + ": close_code must be a string");
      }
      RETURN_IF_ERROR(need("close_code"));
    }
    // 1 New or 2 In Progress: the states a ServiceNow incident can be reopened to.
    ASSIGN_OR_RETURN(int64_t reopen, json::optionalInt(s.settings, "reopen_state", 2));
    if (reopen != 1 && reopen != 2) {
      return dataError("sink " + s.id + ": reopen_state must be 1 (New) or 2 (In Progress)");
    }
  } else if (s.type == "jira") {
    RETURN_IF_ERROR(needUrl("base_url"));
    RETURN_IF_ERROR(need("email"));
    RETURN_IF_ERROR(need("project_key"));
    // Transition ids are numeric strings in Jira; a number is accepted and kept as a string.
    for (const char* key : {"resolve_transition_id", "reopen_transition_id"}) {
      auto it = s.settings.find(key);
      if (it == s.settings.end() || it->value().is_null()) continue;
      std::string id;
      if (it->value().is_int64() && it->value().get_int64() > 0) {
        id = std::to_string(it->value().get_int64());
      } else if (it->value().is_string()) {
        id = std::string(it->value().get_string());
      }
      if (id.empty() || id.size() > 18 ||
          !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return dataError("sink " + s.id + ": " + key + " must be a Jira transition id (digits)");
      }
      it->value() = bj::string(id);
    }
    ASSIGN_OR_RETURN(auto labels, json::optionalStringArray(s.settings, "labels"));
    for (const auto& l : labels) {
      // Jira labels cannot contain spaces.
      if (l.empty() || l.find(' ') != std::string::npos) {
        return dataError("sink " + s.id + ": labels cannot be empty or contain spaces");
      }
    }
  }
  return s;
}

std::string hmacSha256Hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

Result<SinkHttpRequest> buildSinkRequest(const SinkConfig& s, const TicketNotice& n,
                                         int64_t now_unix) {
  SinkHttpRequest r;
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Accept", "application/json");
  if (s.type == "webhook") {
    r.url = str(s.settings, "url");
    r.body = bj::serialize(noticeJson(n));
    const std::string ts = std::to_string(now_unix);
    r.headers.emplace_back("X-Tenure-Timestamp", ts);
    r.headers.emplace_back("X-Tenure-Signature",
                           "sha256=" + hmacSha256Hex(secretOf(s, "secret"), ts + "." + r.body));
    return r;
  }
  if (s.type == "servicenow") {
    r.url = withoutTrailingSlash(str(s.settings, "instance")) + "/api/now/table/incident";
    r.headers.emplace_back("Authorization", basicAuth(s));
    // Only created for a resolution when no record exists (a store from before records were
    // kept, a record deleted there); deliverToSink then resolves it right away.
    const bool resolved = n.event == "resolved";
    bj::object body{{"short_description", title(n)},
                    {"description", description(n)},
                    {"urgency", std::to_string(resolved ? 3 : num(s.settings, "urgency", 2))},
                    {"impact", std::to_string(resolved ? 3 : num(s.settings, "impact", 2))},
                    {"correlation_id", correlationId(n)},
                    {"category", str(s.settings, "category").empty()
                                     ? std::string("software")
                                     : str(s.settings, "category")}};
    if (!str(s.settings, "assignment_group").empty()) {
      body["assignment_group"] = str(s.settings, "assignment_group");
    }
    r.body = bj::serialize(body);
    return r;
  }
  if (s.type == "jira") {
    r.url = withoutTrailingSlash(str(s.settings, "base_url")) + "/rest/api/2/issue";
    r.headers.emplace_back("Authorization", basicAuth(s));
    bj::array labels{"tenure", bj::string("tenure-" + n.detector), bj::string("tenure-" + n.event)};
    auto extra = json::optionalStringArray(s.settings, "labels");
    if (extra.isOk()) {
      for (const auto& l : *extra) labels.push_back(bj::string(l));
    }
    std::string issue_type = str(s.settings, "issue_type");
    bj::object fields{{"project", bj::object{{"key", str(s.settings, "project_key")}}},
                      {"summary", title(n).substr(0, 250)},  // Jira caps summary at 255
                      {"description", description(n)},
                      {"issuetype", bj::object{{"name", issue_type.empty() ? "Task" : issue_type}}},
                      {"labels", std::move(labels)}};
    r.body = bj::serialize(bj::object{{"fields", std::move(fields)}});
    return r;
  }
  return configError("sink " + s.id + " of type " + s.type + " is not an HTTP sink");
}

std::vector<SinkHttpRequest> buildSinkUpdates(const SinkConfig& s, const TicketNotice& n,
                                              const ExternalRecord& rec) {
  std::vector<SinkHttpRequest> out;
  const bool resolved = n.event == "resolved";
  if (!resolved && n.event != "reopened") return out;
  if (s.type == "servicenow") {
    bj::object body;
    if (resolved) {
      const std::string code = str(s.settings, "close_code");
      body = bj::object{{"state", "6"},  // Resolved
                        {"close_code", code.empty() ? std::string("Solved (Permanently)") : code},
                        {"close_notes", resolutionNote(n)}};
    } else {
      body = bj::object{{"state", std::to_string(num(s.settings, "reopen_state", 2))},
                        {"work_notes", reopenNote(n)}};
    }
    out.push_back(vendorRequest(
        s, "PATCH", sinkTarget(s) + "/api/now/table/incident/" + percentEncode(rec.record_id),
        bj::serialize(body)));
  } else if (s.type == "jira") {
    // The issue id rather than the key: the id survives a move to another project.
    const std::string issue = sinkTarget(s) + "/rest/api/2/issue/" + percentEncode(rec.record_id);
    out.push_back(vendorRequest(
        s, "POST", issue + "/comment",
        bj::serialize(bj::object{{"body", resolved ? resolutionNote(n) : reopenNote(n)}})));
    const std::string transition =
        str(s.settings, resolved ? "resolve_transition_id" : "reopen_transition_id");
    if (!transition.empty()) {
      out.push_back(vendorRequest(
          s, "POST", issue + "/transitions",
          bj::serialize(bj::object{{"transition", bj::object{{"id", transition}}}})));
    }
  }
  return out;
}

Result<ExternalRecord> parseCreateResponse(const SinkConfig& s, const std::string& body) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) return dataError("the create answer is not a JSON object");
  const bj::object& o = v.get_object();
  if (s.type == "servicenow") {
    auto it = o.find("result");
    if (it == o.end()) return dataError("ServiceNow answer has no result");
    return serviceNowRecord(s, it->value());
  }
  if (s.type == "jira") {
    ExternalRecord r;
    r.target = sinkTarget(s);
    r.record_id = str(o, "id");
    r.ref = str(o, "key");
    if (r.record_id.empty() || r.ref.empty()) return dataError("Jira answer has no id and key");
    r.url = r.target + "/browse/" + percentEncode(r.ref);
    return r;
  }
  return configError("sink " + s.id + " of type " + s.type + " keeps no records");
}

std::string buildSinkEmail(const SinkConfig& s, const TicketNotice& n, int64_t now_unix) {
  auto to = json::optionalStringArray(s.settings, "to");
  std::string to_line;
  if (to.isOk()) {
    for (const auto& a : *to) to_line += (to_line.empty() ? "" : ", ") + a;
  }
  std::string subject = title(n);
  for (char& c : subject) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  // RFC 2047 encoded-word so names in any script survive; the body is 8-bit UTF-8.
  std::string msg;
  {
    time_t t = static_cast<time_t>(now_unix);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    msg = std::string("Date: ") + date + "\r\n";
  }
  msg += "From: " + str(s.settings, "from") + "\r\n";
  msg += "To: " + to_line + "\r\n";
  msg += "Subject: =?UTF-8?B?" + base64(subject) + "?=\r\n";
  msg += "Message-ID: <" + n.ticket_id + "." + n.event + "." + randomHex(6) + "@tenure>\r\n";
  msg += "X-Tenure-Ticket: " + n.ticket_id + "\r\n";
  msg += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n";
  std::string body = description(n);
  // CRLF line endings; a line with a single "." is escaped by the MailTransport.
  for (char c : body) {
    if (c == '\n') msg += "\r\n";
    else msg += c;
  }
  return msg;
}

namespace {

// Answers are kept up to 1 MiB: enough for any create answer, bounded against a bad server.
constexpr size_t kMaxAnswerBytes = 1u << 20;

Status sendMail(net::MailTransport& mail, const SinkConfig& s, const TicketNotice& n,
                int64_t now_unix, std::chrono::milliseconds timeout) {
  auto to = json::optionalStringArray(s.settings, "to");
  if (!to.isOk()) return configError("sink " + s.id + ": " + to.status().message());
  return sendSmtpMessage(mail, s, *to, buildSinkEmail(s, n, now_unix), timeout);
}

struct HttpAnswer {
  long code = 0;
  std::string body;
};

// One request; a network fault is a transient error, any HTTP answer is returned as it is.
Result<HttpAnswer> sendHttp(net::HttpClient& http, const SinkHttpRequest& req,
                            std::chrono::milliseconds timeout) {
  net::HttpRequest r;
  r.method = req.method;
  r.url = req.url;
  r.headers = req.headers;
  r.body = req.body;
  r.timeout = timeout;
  r.connect_timeout = timeout;
  r.max_response_bytes = kMaxAnswerBytes;
  r.truncate_response = true;
  auto response = http.send(r);
  if (!response.isOk()) {
    // Whatever went wrong on the way (even TLS), the outbox retries it with backoff.
    const Status& st = response.status();
    if (st.errorClass() == ErrorClass::kTransient) return st;
    return transientError(st.message(), st.nativeCode());
  }
  return HttpAnswer{response->status, std::move(response->body)};
}

bool success(long code) { return code >= 200 && code < 300; }

Status httpFailure(const SinkHttpRequest& req, long code) {
  const std::string what = req.method + " " + req.url + " answered HTTP " + std::to_string(code);
  if (code == 401 || code == 403) return permissionError(what, static_cast<int>(code));
  if (code == 429 || code >= 500) return transientError(what, static_cast<int>(code));
  return configError(what, static_cast<int>(code));
}

// A ServiceNow incident and its state ("1" New ... "6" Resolved, "7" Closed, "8" Canceled; ""
// when the instance did not say).
struct ServiceNowIncident {
  ExternalRecord record;
  std::string state;
};

// The incident an earlier attempt may have created without us learning its sys_id (a timeout,
// or a restart between the instance's answer and our commit), found by correlation_id; the
// oldest one, which is the ticket's own incident also in stores from before records were kept.
// Only a transient failure stops the delivery; without read access the create goes ahead.
Result<std::optional<ServiceNowIncident>> findServiceNowIncident(
    net::HttpClient& http, const SinkConfig& s, const TicketNotice& n,
    std::chrono::milliseconds timeout) {
  SinkHttpRequest req = vendorRequest(
      s, "GET",
      sinkTarget(s) + "/api/now/table/incident?sysparm_query=" +
          percentEncode("correlation_id=" + correlationId(n) + "^ORDERBYsys_created_on") +
          "&sysparm_fields=sys_id%2Cnumber%2Cstate&sysparm_limit=1",
      "");
  ASSIGN_OR_RETURN(HttpAnswer a, sendHttp(http, req, timeout));
  if (!success(a.code)) {
    Status st = httpFailure(req, a.code);
    if (st.errorClass() == ErrorClass::kTransient) return st;
    return std::optional<ServiceNowIncident>();
  }
  boost::system::error_code ec;
  bj::value v = bj::parse(a.body, ec);
  if (ec || !v.is_object() || !v.get_object().contains("result") ||
      !v.get_object().at("result").is_array() || v.get_object().at("result").get_array().empty()) {
    return std::optional<ServiceNowIncident>();
  }
  const bj::value& hit = v.get_object().at("result").get_array().front();
  auto rec = serviceNowRecord(s, hit);
  if (!rec.isOk()) return std::optional<ServiceNowIncident>();
  return std::optional<ServiceNowIncident>(
      ServiceNowIncident{std::move(*rec), str(hit.get_object(), "state")});
}

// The stored incident's current state: it decides whether a PATCH is needed or even allowed
// (ACLs refuse writes to closed incidents). not_found (404) when it was deleted; "" when it
// cannot be read (the PATCH is tried anyway).
Result<std::string> serviceNowState(net::HttpClient& http, const SinkConfig& s,
                                    const ExternalRecord& rec,
                                    std::chrono::milliseconds timeout) {
  SinkHttpRequest req = vendorRequest(
      s, "GET",
      sinkTarget(s) + "/api/now/table/incident/" + percentEncode(rec.record_id) +
          "?sysparm_fields=state",
      "");
  ASSIGN_OR_RETURN(HttpAnswer a, sendHttp(http, req, timeout));
  if (a.code == 404) {
    return notFoundError(
        "GET " + req.url + " answered HTTP 404: " + rec.ref + " no longer exists there", 404);
  }
  if (!success(a.code)) {
    Status st = httpFailure(req, a.code);
    if (st.errorClass() == ErrorClass::kTransient) return st;
    return std::string();
  }
  boost::system::error_code ec;
  bj::value v = bj::parse(a.body, ec);
  if (ec || !v.is_object() || !v.get_object().contains("result") ||
      !v.get_object().at("result").is_object()) {
    return std::string();
  }
  return str(v.get_object().at("result").get_object(), "state");
}

// Whether the Jira transition a step asks for is offered from the issue's current status (GET on
// the same URL lists them); a transition that is not would be refused with 400 forever. true
// when the list cannot be read (the POST is tried anyway).
Result<bool> jiraTransitionAvailable(net::HttpClient& http, const SinkHttpRequest& step,
                                     std::chrono::milliseconds timeout) {
  SinkHttpRequest req = step;
  req.method = "GET";
  req.body.clear();
  ASSIGN_OR_RETURN(HttpAnswer a, sendHttp(http, req, timeout));
  if (a.code == 404) {
    return notFoundError("GET " + req.url + " answered HTTP 404: the issue no longer exists", 404);
  }
  if (!success(a.code)) {
    Status st = httpFailure(req, a.code);
    if (st.errorClass() == ErrorClass::kTransient) return st;
    return true;
  }
  boost::system::error_code ec;
  const bj::value wanted = bj::parse(step.body, ec);
  if (ec) return true;
  const std::string id = str(wanted.at("transition").as_object(), "id");
  bj::value v = bj::parse(a.body, ec);
  if (ec || !v.is_object() || !v.get_object().contains("transitions") ||
      !v.get_object().at("transitions").is_array()) {
    return true;
  }
  for (const auto& t : v.get_object().at("transitions").get_array()) {
    if (t.is_object() && str(t.get_object(), "id") == id) return true;
  }
  return false;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

enum class UpdateResult { kDone, kFailed, kGone };

// Sends the update requests of `n` for out.record from out.steps_done on, counting each one the
// ITSM tool accepts (or that is skipped as not applicable).
UpdateResult applyUpdates(net::HttpClient& http, const SinkConfig& s, const TicketNotice& n,
                          SinkOutcome& out, std::chrono::milliseconds timeout) {
  const auto steps = buildSinkUpdates(s, n, *out.record);
  for (size_t i = static_cast<size_t>(out.steps_done); i < steps.size(); ++i) {
    if (s.type == "jira" && endsWith(steps[i].url, "/transitions")) {
      auto available = jiraTransitionAvailable(http, steps[i], timeout);
      if (!available.isOk()) {
        out.status = available.status();
        return available.status().errorClass() == ErrorClass::kNotFound ? UpdateResult::kGone
                                                                         : UpdateResult::kFailed;
      }
      if (!*available) {
        // Someone moved the issue already (or the workflow has no such step from here).
        out.note = out.record->ref + ": the transition " + steps[i].body +
                   " is not offered from the issue's current status; skipped";
        ++out.steps_done;
        continue;
      }
    }
    auto a = sendHttp(http, steps[i], timeout);
    if (!a.isOk()) {
      out.status = a.status();
      return UpdateResult::kFailed;
    }
    if (a->code == 404) {
      out.status = notFoundError(steps[i].method + " " + steps[i].url + " answered HTTP 404: " +
                                     out.record->ref + " no longer exists there",
                                 404);
      return UpdateResult::kGone;
    }
    if (!success(a->code)) {
      out.status = httpFailure(steps[i], a->code);
      return UpdateResult::kFailed;
    }
    ++out.steps_done;
  }
  return UpdateResult::kDone;
}

bool serviceNowResolved(const std::string& state) {
  return state == "6" || state == "7" || state == "8";
}
bool serviceNowClosed(const std::string& state) { return state == "7" || state == "8"; }

}  // namespace

Status sendSmtpMessage(net::MailTransport& mail, const SinkConfig& s,
                       const std::vector<std::string>& recipients, const std::string& message,
                       std::chrono::milliseconds timeout) {
  if (s.type != "smtp") return configError("sink " + s.id + " is not an smtp sink");
  if (recipients.empty()) return configError("no recipients");
  net::MailServer server;
  server.host = str(s.settings, "host");
  server.port = static_cast<int>(num(s.settings, "port", 25));
  auto starttls = json::optionalBool(s.settings, "starttls", false);
  server.starttls = starttls.isOk() && *starttls;
  server.username = str(s.settings, "username");
  server.password = secretOf(s, "password");
  net::MailMessage m;
  m.from = str(s.settings, "from");
  m.recipients = recipients;
  m.data = message;
  return mail.send(server, m, timeout);
}

SinkOutcome deliverToSink(const SinkTransport& via, const SinkConfig& s, const TicketNotice& n,
                          const SinkDeliveryState& state, int64_t now_unix,
                          std::chrono::milliseconds timeout) {
  SinkOutcome out;
  out.kind = "sent";
  if (s.type == "smtp") {
    out.status = sendMail(via.mail, s, n, now_unix, timeout);
    return out;
  }
  if (!sinkKeepsRecords(s.type)) {
    auto req = buildSinkRequest(s, n, now_unix);
    if (!req.isOk()) {
      out.status = req.status();
      return out;
    }
    auto a = sendHttp(via.http, *req, timeout);
    out.status = !a.isOk()          ? a.status()
                 : success(a->code) ? Status::ok()
                                    : httpFailure(*req, a->code);
    return out;
  }

  const bool resolved = n.event == "resolved";
  const bool reopened = n.event == "reopened";
  out.record = state.record;
  out.steps_done = state.steps_done;
  if (out.record && !resolved && !reopened) {
    out.kind = "unchanged";  // created by an earlier attempt already
    return out;
  }
  // The stored record was deleted in the ITSM tool. A resolution has nothing left to resolve:
  // given up, not retried. A reopening is a live problem again: it gets a fresh record.
  auto forgetGone = [&] {
    spdlog::warn("ticket {}: {} record {} of sink {} is gone: {}", n.ticket_id, s.type,
                 out.record->ref, s.id, out.status.message());
    out.record.reset();
    out.steps_done = 0;
    if (!reopened) {
      out.kind = "gone";
      out.permanent = true;
      return false;
    }
    out.status = Status::ok();
    return true;
  };

  // 1. The record and, for ServiceNow, its current state.
  std::string sn_state;
  bool search = s.type == "servicenow";  // look for the ticket's incident before creating one
  if (out.record && s.type == "servicenow" && out.steps_done == 0) {
    auto st = serviceNowState(via.http, s, *out.record, timeout);
    if (!st.isOk()) {
      out.status = st.status();
      if (st.status().errorClass() != ErrorClass::kNotFound || !forgetGone()) return out;
      search = false;  // the ticket's incident is known to be gone
    } else {
      sn_state = *st;
    }
  }
  out.kind = out.record ? "updated" : "created";
  if (!out.record && search) {
    auto found = findServiceNowIncident(via.http, s, n, timeout);
    if (!found.isOk()) {
      out.status = found.status();
      return out;
    }
    if (*found) {
      out.kind = "adopted";
      out.record = std::move((*found)->record);
      sn_state = (*found)->state;
      if (!resolved && !reopened) return out;
    }
  }
  // 2. ServiceNow: a resolved or closed incident needs no resolution (and a closed one refuses
  // writes); a closed incident cannot be reopened, so the condition gets a new one.
  if (out.record && s.type == "servicenow") {
    if (resolved && serviceNowResolved(sn_state)) {
      if (out.kind == "updated") out.kind = "unchanged";
      out.note = out.record->ref + " is already resolved or closed there (state " + sn_state + ")";
      return out;
    }
    if (reopened && serviceNowClosed(sn_state)) {
      out.note = out.record->ref + " is closed there (state " + sn_state +
                 ") and cannot be reopened: a new incident was created";
      spdlog::info("ticket {}: {}", n.ticket_id, out.note);
      out.record.reset();
      out.steps_done = 0;
    }
  }
  // 3. Update the record, or create one (a resolution then resolves it at once).
  if (out.record) {
    switch (applyUpdates(via.http, s, n, out, timeout)) {
      case UpdateResult::kDone:
      case UpdateResult::kFailed:
        return out;
      case UpdateResult::kGone:
        if (!forgetGone()) return out;
        break;
    }
  }
  out.kind = "created";
  out.steps_done = 0;
  auto req = buildSinkRequest(s, n, now_unix);
  if (!req.isOk()) {
    out.status = req.status();
    return out;
  }
  auto a = sendHttp(via.http, *req, timeout);
  if (!a.isOk()) {
    out.status = a.status();
    return out;
  }
  if (!success(a->code)) {
    out.status = httpFailure(*req, a->code);
    return out;
  }
  auto rec = parseCreateResponse(s, a->body);
  if (!rec.isOk()) {
    // Created, so not retried (that would create it again); later events create anew.
    out.note = "created, but the answer named no record (" + rec.status().message() +
               "): later events cannot update it";
    return out;
  }
  out.record = std::move(*rec);
  if (!resolved) return out;  // a fresh record of an opening or reopening is open already
  if (applyUpdates(via.http, s, n, out, timeout) == UpdateResult::kGone) {
    // Deleted between our create and its update: no loop, give this notification up.
    out.record.reset();
    out.steps_done = 0;
    out.kind = "gone";
    out.permanent = true;
  }
  return out;
}

}  // namespace tenure::cp
