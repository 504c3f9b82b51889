#pragma once
// Ticket sinks: where a tenant's ticket notifications go. A sink's configuration is kept in the
// tenant store with its credentials sealed (SecretBox); delivery opens them just before use.
// Each notification becomes one request in the vendor's documented shape:
//   smtp        an e-mail through libcurl's SMTP client (optional STARTTLS and AUTH)
//   webhook     POST JSON, X-Tenure-Timestamp + X-Tenure-Signature: sha256=<hex HMAC-SHA256(
//               secret, timestamp + "." + body)>
//   servicenow  POST {instance}/api/now/table/incident (Table API), Basic auth
//   jira        POST {base_url}/rest/api/2/issue (create issue), Basic auth email:api_token

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

struct SinkConfig {
  std::string id;    // chosen by the tenant, unique within its sinks
  std::string type;  // smtp | webhook | servicenow | jira
  // Non-secret settings as given (host, port, from, to, url, instance, project_key, ...).
  boost::json::object settings;
  // Secret fields (password, secret, api_token): sealed text while stored, plaintext only while
  // a notification is being delivered.
  std::map<std::string, std::string> secrets;
};

// The secret field names of a sink type.
std::vector<std::string> sinkSecretFields(const std::string& type);

// Parses and validates one sink as a tenant sends it (secrets in the clear, in `secrets`).
// Data error naming the field when it is not usable.
Result<SinkConfig> parseSinkConfig(const boost::json::value& v);

// What a notification says about a ticket (no other ticket data leaves the control plane).
struct TicketNotice {
  std::string event;  // opened | reopened | resolved
  std::string tenant_id;
  std::string ticket_id;
  std::string detector;
  std::string subject;
  std::string state;
  int64_t count = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  std::string summary;
  std::string hint;
};

// An HTTP request a sink sends (webhook, ServiceNow, Jira); built without I/O so its shape can be
// tested on its own.
struct SinkHttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The request for an HTTP sink with its secrets opened; `now_unix` is the signature timestamp.
Result<SinkHttpRequest> buildSinkRequest(const SinkConfig& sink, const TicketNotice& notice,
                                         int64_t now_unix);
// The RFC 5322 message an SMTP sink sends.
std::string buildSinkEmail(const SinkConfig& sink, const TicketNotice& notice, int64_t now_unix);

// Lowercase hex HMAC-SHA256(key, data).
std::string hmacSha256Hex(const std::string& key, const std::string& data);

// Sends a complete RFC 5322 `message` through an smtp sink (secrets opened): its host, port,
// STARTTLS and credentials, envelope sender its `from`, envelope recipients `recipients` (the
// message's own To header is the caller's). Transient error for network faults and refusals,
// permission error for a refused login. Used by ticket notifications and the report digest.
Status sendSmtpMessage(const SinkConfig& sink, const std::vector<std::string>& recipients,
                       const std::string& message, std::chrono::milliseconds timeout);

// Delivers `notice` through `sink` (secrets opened). Transient error for network faults and
// 5xx/429 answers, config/permission error for 4xx; the caller retries every failure with backoff.
Status deliverToSink(const SinkConfig& sink, const TicketNotice& notice, int64_t now_unix,
                     std::chrono::milliseconds timeout);

}  // namespace tenure::cp
