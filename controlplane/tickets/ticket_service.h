#pragma once
// TicketService: the ticket system behind TicketRaiser. A ticket is one condition, fingerprinted
// by (tenant, detector, subject): raising it again counts one more occurrence; clear() resolves
// it; raising a resolved ticket reopens the same ticket (count + 1, reopened + 1), so a
// condition keeps one history and one id in the tenant's ticketing tools.
//
// Storage: the ticket itself (subject, summary and hint may name people) and its notification
// outbox live in the tenant's TicketStore, written in one transaction; the control DB keeps an
// index without personal data (TicketIndexStore: id, tenant, detector, state, count, first/last
// seen) so operators can list across tenants. Conditions of
// the control plane itself (its TLS certificate) belong to the pseudo-tenant kOperatorTenant.
//
// Notifications (opened / reopened / resolved) go to the tenant's sinks through the outbox: one
// row per sink and event, delivered by a worker thread in order per (ticket, sink), retried with
// exponential backoff until the sink accepts it, and kept across restarts. The ServiceNow
// incident / Jira issue a sink created for a ticket is kept per (ticket, sink) (table
// TicketStore::recordDelivery, in the transaction that marks the outbox row delivered) so later
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
#include "controlplane/store/ticket_index_store.h"
#include "controlplane/store/ticket_store.h"
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
  // The tenant's ticket store (its TenantStore, opened on first use, keeps it).
  Result<std::shared_ptr<TenantStore>> tenantStore(const std::string& tenant_id);
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
