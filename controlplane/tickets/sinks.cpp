#include "controlplane/tickets/sinks.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <algorithm>
#include <cstring>
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

std::string secretOf(const SinkConfig& s, const std::string& field) {
  auto it = s.secrets.find(field);
  return it == s.secrets.end() ? "" : it->second;
}

}  // namespace

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
  } else if (s.type == "jira") {
    RETURN_IF_ERROR(needUrl("base_url"));
    RETURN_IF_ERROR(need("email"));
    RETURN_IF_ERROR(need("project_key"));
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
    r.headers.emplace_back(
        "Authorization",
        "Basic " + base64(str(s.settings, "username") + ":" + secretOf(s, "password")));
    // ServiceNow has no "resolve by correlation id" on a create; a resolution is sent as a new
    // low-urgency record carrying the same correlation_id, which the instance can correlate.
    const bool resolved = n.event == "resolved";
    bj::object body{{"short_description", title(n)},
                    {"description", description(n)},
                    {"urgency", std::to_string(resolved ? 3 : num(s.settings, "urgency", 2))},
                    {"impact", std::to_string(resolved ? 3 : num(s.settings, "impact", 2))},
                    {"correlation_id", "tenure:" + n.tenant_id + ":" + n.ticket_id},
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
    r.headers.emplace_back(
        "Authorization",
        "Basic " + base64(str(s.settings, "email") + ":" + secretOf(s, "api_token")));
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
  // CRLF line endings; a line with a single "." is escaped by libcurl's SMTP client.
  for (char c : body) {
    if (c == '\n') msg += "\r\n";
    else msg += c;
  }
  return msg;
}

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t discardBody(char*, size_t size, size_t n, void*) { return size * n; }

struct UploadSource {
  const std::string* data;
  size_t offset = 0;
};

size_t readUpload(char* buf, size_t size, size_t n, void* user) {
  auto* src = static_cast<UploadSource*>(user);
  size_t left = src->data->size() - src->offset;
  size_t take = std::min(left, size * n);
  std::memcpy(buf, src->data->data() + src->offset, take);
  src->offset += take;
  return take;
}

Status curlFailure(CURLcode rc, const std::string& what) {
  return transientError(what + ": " + curl_easy_strerror(rc), static_cast<int>(rc));
}

}  // namespace

Status sendSmtpMessage(const SinkConfig& s, const std::vector<std::string>& recipients,
                       const std::string& message, std::chrono::milliseconds timeout) {
  if (s.type != "smtp") return configError("sink " + s.id + " is not an smtp sink");
  if (recipients.empty()) return configError("no recipients");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return internalError("curl_easy_init failed");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  const std::string host = str(s.settings, "host");
  const int64_t port = num(s.settings, "port", 25);
  const std::string url = "smtp://" + host + ":" + std::to_string(port);
  curl_slist* list = nullptr;
  for (const auto& a : recipients) list = curl_slist_append(list, ("<" + a + ">").c_str());
  std::unique_ptr<curl_slist, SlistDeleter> rcpt(list);
  const std::string from = "<" + str(s.settings, "from") + ">";
  UploadSource src{&message};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &readUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &src);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  auto starttls = json::optionalBool(s.settings, "starttls", false);
  if (starttls.isOk() && *starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
  const std::string user = str(s.settings, "username");
  const std::string password = secretOf(s, "password");
  if (!user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_LOGIN_DENIED) return permissionError("smtp login refused");
  if (rc != CURLE_OK) return curlFailure(rc, "smtp " + host);
  return Status::ok();
}

Status deliverToSink(const SinkConfig& s, const TicketNotice& n, int64_t now_unix,
                     std::chrono::milliseconds timeout) {
  if (s.type == "smtp") {
    auto to = json::optionalStringArray(s.settings, "to");
    if (!to.isOk()) return configError("sink " + s.id + ": " + to.status().message());
    return sendSmtpMessage(s, *to, buildSinkEmail(s, n, now_unix), timeout);
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return internalError("curl_easy_init failed");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  ASSIGN_OR_RETURN(SinkHttpRequest req, buildSinkRequest(s, n, now_unix));
  curl_slist* list = nullptr;
  for (const auto& [k, v] : req.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &discardBody);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return curlFailure(rc, "POST " + req.url);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return Status::ok();
  const std::string what = "POST " + req.url + " answered HTTP " + std::to_string(code);
  if (code == 401 || code == 403) return permissionError(what, static_cast<int>(code));
  if (code == 429 || code >= 500) return transientError(what, static_cast<int>(code));
  return configError(what, static_cast<int>(code));
}

}  // namespace tenure::cp
