#pragma once
// Ticket sinks: where a tenant's ticket notifications go. A sink's configuration is kept in the
// tenant store with its credentials sealed (SecretBox); delivery opens them just before use.
// Each notification becomes requests in the vendor's documented shape:
//   smtp        an e-mail through the MailTransport (optional STARTTLS and AUTH)
//   webhook     POST JSON, X-Tenure-Timestamp + X-Tenure-Signature: sha256=<hex HMAC-SHA256(
//               secret, timestamp + "." + body)>
//   servicenow  Table API, Basic auth: the first event creates an incident (POST
//               {instance}/api/now/table/incident); resolved / reopened PATCH that incident
//   jira        REST v2, Basic auth email:api_token: the first event creates an issue (POST
//               {base_url}/rest/api/2/issue); resolved / reopened comment on it and, when the
//               sink names a transition, move it
// ServiceNow and Jira sinks therefore keep state: the record they created for a ticket
// (ExternalRecord), which the caller stores per (ticket, sink) and hands back on the next event.
// Requests go out through the seams of common/net (SinkTransport), so a test can swap them.

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/net/http_client.h"
#include "common/net/mail_transport.h"

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
  std::string actor;  // resolved: "auto" (the condition cleared) or the operator; else ""
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

// The record a ServiceNow or Jira sink created for a ticket, so later events update it instead
// of creating another.
struct ExternalRecord {
  std::string ref;        // what people quote: INC0010001, OPS-1
  std::string record_id;  // what the API addresses: the incident's sys_id, the id
  std::string url;        // where a browser opens it
  std::string target;     // the instance / base_url it lives on (see sinkTarget)
};

// Whether a sink type creates records that later events update (servicenow, jira).
bool sinkKeepsRecords(const std::string& type);
// Where a record-keeping sink's records live (instance / base_url, no trailing slash). A stored
// record whose target differs (the tenant pointed the sink elsewhere) is not used.
std::string sinkTarget(const SinkConfig& sink);

// An HTTP request a sink sends (webhook, ServiceNow, Jira); built without I/O so its shape can be
// tested on its own.
struct SinkHttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The request for an HTTP sink with its secrets opened: the webhook POST, or the create of a
// ServiceNow incident / Jira issue; `now_unix` is the signature timestamp.
Result<SinkHttpRequest> buildSinkRequest(const SinkConfig& sink, const TicketNotice& notice,
                                         int64_t now_unix);
// The requests that bring an existing record in line with `notice`, in order: ServiceNow one
// PATCH; Jira a comment, then the transition when configured. None for "opened" (the record
// exists already).
std::vector<SinkHttpRequest> buildSinkUpdates(const SinkConfig& sink, const TicketNotice& notice,
                                              const ExternalRecord& record);
// The record named by a create's 2xx answer (ServiceNow {"result":{"sys_id","number"}}, Jira
// {"id","key","self"}); data error when the answer does not name one.
Result<ExternalRecord> parseCreateResponse(const SinkConfig& sink, const std::string& body);
// The RFC 5322 message an SMTP sink sends.
std::string buildSinkEmail(const SinkConfig& sink, const TicketNotice& notice, int64_t now_unix);

// Lowercase hex HMAC-SHA256(key, data).
std::string hmacSha256Hex(const std::string& key, const std::string& data);

// How sinks reach the outside world: HTTP for webhook / ServiceNow / Jira, SMTP for smtp. Both
// must outlive whoever delivers through them.
struct SinkTransport {
  net::HttpClient& http;
  net::MailTransport& mail;
};

// Sends a complete RFC 5322 `message` through an smtp sink (secrets opened) over `mail`: its
// host, port, STARTTLS and credentials, envelope sender its `from`, envelope recipients
// `recipients` (the message's own To header is the caller's). Transient error for network faults
// and refusals, permission error for a refused login. Used by ticket notifications and the report
// digest.
Status sendSmtpMessage(net::MailTransport& mail, const SinkConfig& sink,
                       const std::vector<std::string>& recipients, const std::string& message,
                       std::chrono::milliseconds timeout);

// What the caller knows about earlier deliveries of this ticket to this sink.
struct SinkDeliveryState {
  std::optional<ExternalRecord> record;  // the stored record (only if its target still matches)
  int64_t steps_done = 0;  // update requests of this notification already accepted (a retry
                           // resumes after them, so a comment is not posted twice)
};

// The result of one delivery attempt. `record` and `steps_done` are what the caller must store,
// whatever `status` says: a create that succeeded before a later step failed still named its
// record, and the retry must not create it again.
struct SinkOutcome {
  Status status;  // ok; or why the attempt failed (retried with backoff unless `permanent`)
  bool permanent = false;  // not worth retrying: the record was deleted in the ITSM tool (404)
  // sent (smtp, webhook) | created | adopted (ServiceNow: found by correlation_id) | updated |
  // unchanged (opened with a record; ServiceNow incident already resolved there) | gone (404 on
  // the update of a resolution)
  std::string kind;
  std::optional<ExternalRecord> record;  // the record to keep; nullopt: forget the stored one
  int64_t steps_done = 0;                // update requests accepted against `record`
  std::string note;  // worth an operator's attention although the attempt succeeded
};

// Delivers `notice` through `sink` (secrets opened). Failures: transient for network faults and
// 5xx/429 answers, permission for 401/403, config for other 4xx; the caller retries them with
// backoff. ServiceNow / Jira: with a record in `state`, the record is updated; a 404 on that
// update means the record was deleted there: a reopening creates a fresh record, a resolution is
// given up (`permanent`, record forgotten). ServiceNow reads the incident's state first: an
// incident resolved or closed there is not resolved again, a closed one is replaced on a
// reopening. A Jira transition not offered from the status is skipped. Without a record
// one is created (ServiceNow looks for one with the ticket's correlation_id first), and a
// resolution then resolves it.
SinkOutcome deliverToSink(const SinkTransport& via, const SinkConfig& sink,
                          const TicketNotice& notice,
                          const SinkDeliveryState& state, int64_t now_unix,
                          std::chrono::milliseconds timeout);

}  // namespace tenure::cp
