#pragma once
// TicketService: the ticket system behind TicketRaiser. A ticket is one condition, fingerprinted
// by (tenant, detector, subject): raising it again counts one more occurrence; clear() resolves
// it; raising a resolved ticket reopens the same ticket (count + 1, reopened + 1), so a
// condition keeps one history and one id in the tenant's ticketing tools.
//
// Storage: the ticket itself (subject, summary and hint may name people) and its notification
// outbox live in the tenant's store (component "tickets"), written in one transaction; the
// control DB keeps an index without personal data (component "ticket_index": id, tenant,
// detector, state, count, first/last seen) so operators can list across tenants. Conditions of
// the control plane itself (its TLS certificate) belong to the pseudo-tenant kOperatorTenant.
//
// Notifications (opened / reopened / resolved) go to the tenant's sinks through the outbox: one
// row per sink and event, delivered by a worker thread in order per (ticket, sink), retried with
// exponential backoff until the sink accepts it, and kept across restarts. The ServiceNow
// incident / Jira issue a sink created for a ticket is kept per (ticket, sink) (table
// ticket_external, written in the transaction that marks the outbox row delivered) so later
// events update that record instead of creating another.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "controlplane/secrets/secret_box.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"
#include "controlplane/tickets/sinks.h"
#include "controlplane/tickets/ticket_api.h"
#include "controlplane/tickets/ticket_raiser.h"

namespace tenure::cp {

// Owner of tickets about the control plane itself (tenant ids are "t_<hex>": no collision).
inline constexpr const char* kOperatorTenant = "_operator";

struct TicketOptions {
  std::chrono::seconds agent_silent_after{120};  // an agent not polling this long is silent
  std::chrono::seconds check_interval{30};       // agent and certificate checks
  std::string tls_cert_file;                     // the serving certificate (checked when set)
  int certificate_warn_days = 30;
  std::chrono::milliseconds delivery_interval{2'000};  // outbox drain period
  std::chrono::milliseconds retry_base{30'000};        // first retry delay; doubles per attempt
  std::chrono::milliseconds retry_max{3'600'000};      // cap on the retry delay
  std::chrono::milliseconds delivery_timeout{10'000};  // per request to a sink
};

// A record in a tenant's ITSM tool that stands for a ticket.
struct ExternalLink {
  std::string sink_id;
  std::string sink_type;  // servicenow | jira
  std::string ref;        // INC0010001, OPS-1
  std::string url;        // for people
};

struct Ticket {
  std::string ticket_id;
  std::string tenant_id;
  std::string detector;
  std::string subject;
  std::string state;  // open | acknowledged | resolved
  int64_t count = 0;  // occurrences, over the ticket's whole life (reopenings included)
  int64_t reopened = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  std::string summary;
  std::string hint;
  std::string acknowledged_by;
  int64_t acknowledged_at_ms = 0;
  std::string resolved_by;  // an operator, or "auto" when the condition cleared
  int64_t resolved_at_ms = 0;
  std::vector<ExternalLink> external;  // one per sink that created a record for it
};

// A row of the control DB's index (no subject, summary or hint).
struct TicketIndexEntry {
  std::string ticket_id;
  std::string tenant_id;
  std::string detector;
  std::string state;
  int64_t count = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
};

struct TicketFilter {
  std::string state;  // "" = any
  std::string tenant_id;
  std::string detector;
};

// One outbox row, for inspection.
struct PendingNotification {
  int64_t id = 0;
  std::string ticket_id;
  std::string sink_id;
  std::string event;
  int64_t attempts = 0;
  int64_t next_attempt_at_ms = 0;
  std::string last_error;
  int64_t delivered_at_ms = 0;  // 0 while pending
  // Once done: sent | created | adopted | updated | unchanged (see SinkOutcome), gone (the
  // record was deleted in the ITSM tool: given up), dropped (the sink was removed).
  std::string outcome;
};

class TicketService final : public TicketRaiser, public TicketApi {
 public:
  // `secrets` returns the SecretBox that seals sink credentials (may return null: sinks with
  // credentials are then refused). Notifications go out through `transport`.
  TicketService(boost::asio::io_context& io, ControlStore& control, TenantStores& tenants,
                const Clock& clock, std::function<SecretBox*()> secrets, SinkTransport transport,
                TicketOptions options = {});
  ~TicketService() override;

  // TicketRaiser: failures are logged, never thrown to the detector.
  void raise(const Detection& detection) override;
  void clear(const std::string& tenant_id, const std::string& detector,
             const std::string& subject) override;
  // The same, reporting failures (tests, tools).
  Status raiseOrFail(const Detection& detection);
  Status clearOrFail(const std::string& tenant_id, const std::string& detector,
                     const std::string& subject);

  Result<std::vector<Ticket>> list(const std::string& tenant_id, const std::string& state = "");
  Result<std::optional<Ticket>> get(const std::string& tenant_id, const std::string& ticket_id);
  Result<std::vector<TicketIndexEntry>> listAll(const TicketFilter& filter, int limit = 500);
  // open -> acknowledged (idempotent when already acknowledged); conflict when resolved,
  // not_found when the tenant has no such ticket.
  Status acknowledge(const std::string& tenant_id, const std::string& ticket_id,
                     const std::string& by);
  // open/acknowledged -> resolved by an operator; conflict when already resolved.
  Status resolve(const std::string& tenant_id, const std::string& ticket_id,
                 const std::string& by);

  // Replaces the tenant's sinks. Secrets are sealed; a secret left out keeps the stored one of
  // the sink with the same id and type.
  Status setSinks(const std::string& tenant_id, std::vector<SinkConfig> sinks);
  // The stored sinks, secrets sealed.
  Result<std::vector<SinkConfig>> sinks(const std::string& tenant_id);

  // The tenant's sink `sink_id` with its secrets opened, ready for delivery (the report digest
  // mails through the tenant's smtp sink). not_found when there is no such sink; config error
  // when its secrets cannot be opened.
  Result<SinkConfig> openSink(const std::string& tenant_id, const std::string& sink_id);

  // Work that shares the outbox worker (it makes network calls too, and must not block the
  // io_context): each task runs after every outbox pass. Register before start().
  void addDeliveryTask(std::function<void()> task) { tasks_.push_back(std::move(task)); }
  // What the sinks send through (the report digest mails through the tenant's smtp sink).
  const SinkTransport& transport() const { return transport_; }
  // Runs the outbox pass (and the tasks) now instead of at the next period.
  void wakeDelivery();

  // Sends every due notification once; returns how many sinks accepted theirs.
  Result<int> deliverDue();
  Result<std::vector<PendingNotification>> pendingNotifications(const std::string& tenant_id);
  // Every outbox row of one ticket, delivered or not, oldest first.
  Result<std::vector<PendingNotification>> notifications(const std::string& tenant_id,
                                                         const std::string& ticket_id);
  // Raises agent_silent for agents not seen for agent_silent_after, clears it for the others.
  Status checkAgents();
  // Raises certificate_expiry (subject "cp-tls") when the serving certificate ends within
  // certificate_warn_days, clears it otherwise.
  Status checkCertificate();
  // Rewrites the control DB index from the tenant stores (after a crash between the two).
  Status reindex();

  // Starts the periodic checks on the io_context and the delivery worker.
  void start();
  // Stops both (idempotent); also done by the destructor.
  void stop();

  HttpServerResponse handleTenantRequest(const std::string& tenant_id,
                                         const HttpServerRequest& req,
                                         const std::vector<std::string>& seg) override;
  HttpServerResponse handleAdminRequest(const std::string& admin, const HttpServerRequest& req,
                                        const std::vector<std::string>& seg) override;

 private:
  // Runs `f(sqlite::Database&)` on the tenant's store, its ticket tables migrated.
  template <class F>
  auto withTenantDb(const std::string& tenant_id, F&& f)
      -> decltype(f(std::declval<sqlite::Database&>()));
  Status updateIndex(const Ticket& t);
  Status transition(const std::string& tenant_id, const std::string& ticket_id,
                    const std::string& to, const std::string& by);
  void scheduleChecks();
  void deliveryLoop();

  boost::asio::io_context& io_;
  ControlStore& control_;
  TenantStores& tenants_;
  const Clock& clock_;
  std::function<SecretBox*()> secrets_;
  SinkTransport transport_;
  TicketOptions options_;

  std::mutex mu_;  // one ticket transition at a time: keeps dedup and the index in step
  std::mutex migrated_mu_;
  std::set<std::string> migrated_;
  bool index_migrated_ = false;

  std::shared_ptr<boost::asio::steady_timer> check_timer_;
  std::shared_ptr<std::atomic<bool>> alive_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool wake_pending_ = false;
  std::thread worker_;
  std::vector<std::function<void()>> tasks_;
};

}  // namespace tenure::cp
