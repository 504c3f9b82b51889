#pragma once
// ReportDigestService: the optional per-tenant e-mail digest of run reports.
//
// Settings and the record of every digest live in the tenant's store (DigestStore); deleting the
// tenant's store deletes them. A digest covers a period
// [start, end): the first starts when the digest was first configured, each next one where the
// last ended, so periods are contiguous and no run is reported twice or missed. A digest row is
// written (pending) before anything is sent and marked sent after the SMTP server accepted it:
//  - a failing SMTP server is retried with capped exponential backoff, forever, like the ticket
//    outbox; the row keeps attempts and the last error;
//  - a restart loses nothing (the row is there) and creates nothing twice (the period's end is
//    unique, and the schedule slot moves in the same transaction as the row is written). A crash
//    after the server accepted the mail and before the row was marked sends it again, with the
//    same Message-ID (at least once).
// The schedule (5-field cron in the tenant's time zone) and the delivery run on the ticket
// outbox worker (TicketService::addDeliveryTask): no thread of its own, and no SMTP call on the
// io_context. Mail goes through the tenant's smtp ticket sink (server, port, STARTTLS,
// credentials sealed with SecretBox); the digest has its own recipients. See
// docs/operations/report-digest.md.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "controlplane/digest/digest_mail.h"
#include "controlplane/http/http_server.h"
#include "controlplane/intake/intake.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/digest_store.h"
#include "controlplane/store/tenant_store.h"
#include "controlplane/tickets/ticket_service.h"

namespace tenure::cp {

struct DigestOptions {
  // The control plane's public base URL (https://cp.example.net); run rows link to their
  // report.html under it. Empty: no links.
  std::string public_url;
  std::chrono::milliseconds retry_base{60'000};    // first retry delay; doubles per attempt
  std::chrono::milliseconds retry_max{3'600'000};  // cap on the retry delay
  std::chrono::milliseconds smtp_timeout{10'000};
  int max_runs_listed = 200;  // run rows per digest; the rest are counted
  size_t top_errors = 10;
};

struct StoredDigestSettings {
  DigestSettings settings;
  int64_t origin_ms = 0;     // where the first period starts
  int64_t next_slot_ms = 0;  // the next scheduled digest (0: not scheduled)
  std::string schedule_error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

class ReportDigestService {
 public:
  // `intake` gives the tenant's current policy (time zone, schedule); `tickets` the SMTP sinks and
  // their transport.
  ReportDigestService(ControlStore& control, TenantStores& tenants, Intake& intake,
                      TicketService& tickets, const Clock& clock, DigestOptions options = {});

  Result<std::optional<StoredDigestSettings>> settings(const std::string& tenant_id);
  // Stores `s` (validated by the caller). Enabling needs an smtp ticket sink (conflict error
  // otherwise); `s.smtp_sink`, when set, must name one (data error). The schedule's next slot
  // is computed from now.
  Result<StoredDigestSettings> putSettings(const std::string& tenant_id, const DigestSettings& s);
  // Removes the settings and every digest record; false when there were none.
  Result<bool> deleteSettings(const std::string& tenant_id);

  // Creates a pending digest for [end of the last one, now) and wakes the delivery. not_found
  // without settings; conflict without an smtp sink or when the period would be empty.
  Result<DigestRecord> requestNow(const std::string& tenant_id);
  // What a digest of [start_ms, end_ms) says.
  Result<DigestContent> content(const std::string& tenant_id, int64_t start_ms, int64_t end_ms);
  // Where the next digest starts: the last one's end, else the settings' origin, else 24 h ago.
  Result<int64_t> nextPeriodStart(const std::string& tenant_id);
  Result<std::vector<DigestRecord>> digests(const std::string& tenant_id, int limit = 50);

  // One pass over every tenant: creates the digests whose slot has come, then sends the due
  // pending ones. Returns how many were sent.
  Result<int> runDue();
  // Tenant deletion hook: nothing is cached about a tenant (its rows go with its store); kept so
  // the hook's wiring does not change.
  Status forgetTenant(const std::string& tenant_id);

  // /api/v1/report-digest[/send|/preview|/digests]; `seg` is the path after /api/v1/.
  HttpServerResponse handle(const std::string& tenant_id, const HttpServerRequest& req,
                            const std::vector<std::string>& seg);

 private:
  Result<std::shared_ptr<TenantStore>> tenantStore(const std::string& tenant_id);
  // The smtp sink the digest sends through (secrets sealed): `wanted`, or the tenant's first.
  Result<SinkConfig> smtpSink(const std::string& tenant_id, const std::string& wanted);
  // Creates the digest of [start, end) unless another was created since `start` was read.
  Result<std::optional<DigestRecord>> createDigest(const std::string& tenant_id, int64_t start_ms,
                                                   int64_t end_ms, const std::string& trigger,
                                                   const std::string& status,
                                                   std::optional<int64_t> expected_slot,
                                                   int64_t next_slot_ms);
  Status createScheduled(const std::string& tenant_id, int64_t now_ms);
  Result<int> deliverDue(const std::string& tenant_id, int64_t now_ms);
  Status deliver(const std::string& tenant_id, const DigestRecord& d, std::string* subject);
  Result<int64_t> nextSlot(const std::string& tenant_id, const std::string& cron, int64_t after_ms);

  ControlStore& control_;
  TenantStores& tenants_;
  Intake& intake_;
  TicketService& tickets_;
  const Clock& clock_;
  DigestOptions options_;
  std::mutex run_mu_;  // one pass at a time (the worker, and tests calling runDue)
};

}  // namespace tenure::cp
