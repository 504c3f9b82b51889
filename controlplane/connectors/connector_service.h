#pragma once
// ConnectorService: scheduled and on-demand pulls from a tenant's HR system (BambooHR first).
// Tenant API (routed here by ControlPlaneService):
//   PUT    /api/v1/connectors/bamboohr        settings + api_key (sealed through the SecretBox)
//   GET    /api/v1/connectors/bamboohr        settings and the last pull; never the api_key
//   DELETE /api/v1/connectors/bamboohr
//   POST   /api/v1/connectors/bamboohr/pull   pulls now: 202 with the run id, or the error
// A pull reads every page first; if any page fails nothing is submitted and an "hr_feed" ticket
// is raised, cleared by the next successful pull. Records enter through
// the intake (source "bamboohr"), so bad rows are rejected, never applied.
// Settings and pull state live in the tenant store (its ConnectorStore).

#include <boost/json/object.hpp>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "controlplane/connectors/bamboohr.h"
#include "controlplane/connectors/http_json_client.h"
#include "controlplane/http/http_server.h"
#include "controlplane/intake/intake.h"
#include "controlplane/secrets/secret_box.h"
#include "controlplane/tickets/ticket_raiser.h"
#include "controlplane/store/connector_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp::connectors {

struct ConnectorServiceOptions {
  // Base settings of every pull; a tenant's timeout_s replaces `http.timeout`.
  HttpJsonOptions http;
  Sleeper sleeper;  // empty: really sleep between retries
  int submit_priority = 5;
};

// What the last pull of a tenant's connector did (GET shows it): the store's row.
using PullState = ConnectorPullState;

struct PullOutcome {
  Status status;
  int http_status = 202;
  std::string run_id;
  boost::json::object body;  // the answer to POST .../pull
};

class ConnectorService {
 public:
  // Pulls go out through `http` (common/net), which must outlive the service.
  // Pulled records enter through `intake`; hr_feed tickets go to `tickets`; API keys are sealed by
  // `secrets` (null: a connector cannot be configured, config error).
  ConnectorService(Intake& intake, TicketRaiser& tickets, SecretBox* secrets, TenantStores& tenants,
                   const Clock& clock, net::HttpClient& http, ConnectorServiceOptions options = {});
  // Waits for pulls started through the API.
  ~ConnectorService();
  ConnectorService(const ConnectorService&) = delete;
  ConnectorService& operator=(const ConnectorService&) = delete;

  // The tenant API below /api/v1/connectors; `seg` are the path segments after /api/v1/.
  // A pull runs on its own thread and answers when done; everything else answers at once.
  void handle(const HttpServerRequest& req, Responder respond, const std::string& tenant_id,
              const std::vector<std::string>& seg);

  // One pull of the tenant's BambooHR connector, on the calling thread (the scheduler's hr_pull
  // job kind). not_found when the tenant has no connector, conflict when a pull is running.
  Status pullNow(const std::string& tenant_id);
  PullOutcome pull(const std::string& tenant_id);
  // pull() on a worker thread, for the scheduler's hr_pull kind (the scheduler runs on the
  // server's I/O threads, which must not block on a slow HR source). The outcome lands in
  // pullState() and, on failure, in an hr_feed ticket.
  void pullInBackground(const std::string& tenant_id);

  Result<PullState> pullState(const std::string& tenant_id);

 private:
  void handlePut(const HttpServerRequest& req, Responder& respond, const std::string& tenant_id);
  void handleGet(Responder& respond, const std::string& tenant_id);
  void handleDelete(Responder& respond, const std::string& tenant_id);
  void startPull(Responder respond, const std::string& tenant_id);

  struct Stored {
    BambooHrConfig config;
    std::string sealed_api_key;
  };
  Result<std::optional<Stored>> load(const std::string& tenant_id);
  Status saveState(const std::string& tenant_id, const PullState& state);
  void failed(const std::string& tenant_id, PullState& state, const Status& st);

  Intake& intake_;
  TicketRaiser& tickets_;
  SecretBox* secrets_;
  TenantStores& tenants_;
  const Clock& clock_;
  net::HttpClient& http_;
  ConnectorServiceOptions options_;

  std::mutex mu_;
  std::set<std::string> pulling_;  // tenants with a pull in flight
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers_;
  bool stopping_ = false;
};

}  // namespace tenure::cp::connectors
