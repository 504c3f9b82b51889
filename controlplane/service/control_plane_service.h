#pragma once
// ControlPlaneService: the endpoints of the agent, tenant and admin APIs that the route table
// (controlplane/api/routes.cpp) calls once it has authenticated a request, on top of the intake
// (controlplane/intake) and the job queue (controlplane/queue), which it owns. The tenant of a request always comes from its credential (the
// Tenant or AgentRecord passed in), never from its body or path.

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/zone_database.h"
#include "common/hr/validation.h"
#include "common/policy/policy.h"
#include "controlplane/http/http_server.h"
#include "controlplane/answers/submission_answer.h"
#include "controlplane/intake/intake.h"
#include "controlplane/queue/job_queue.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"
#include "controlplane/secrets/secret_box.h"
#include "controlplane/service/tenant_deletion.h"
#include "controlplane/tickets/ticket_raiser.h"

namespace tenure::cp {

struct ServiceOptions {
  std::chrono::milliseconds lease{120'000};  // a job's lease; agents extend it while working
  int max_attempts = 5;                       // leases before a job is quarantined
  int max_wait_s = 60;                        // cap on a poll's wait_s
  size_t max_identities_per_upload = 100'000;
  std::chrono::milliseconds sweep_interval{1'000};  // how often held polls look for expired leases
  // A job whose lease expired or whose agent reported a transient failure is retried after
  // min(retry_base * 2^attempts, retry_cap).
  std::chrono::milliseconds retry_base{1'000};
  std::chrono::milliseconds retry_cap{300'000};
  size_t max_schedules_per_tenant = 100;
  // Where the zone rules a job carries come from (Job::time_zone). Null: systemZoneDatabase().
  const ZoneDatabase* zones = nullptr;
};

// What the service hands work to besides its stores; each must outlive the service.
struct ServiceCollaborators {
  // Where detected problems go (held runs, failed and quarantined jobs, bad HR data, ...); null:
  // nowhere.
  TicketRaiser* tickets = nullptr;
  // Seals tenant secrets (sink credentials, connector tokens); null: code that stores a secret
  // refuses (config error).
  SecretBox* secrets = nullptr;
};

class ControlPlaneService {
 public:
  ControlPlaneService(boost::asio::io_context& io, ControlStore& control, TenantStores& tenants,
                      const Clock& clock, ServiceOptions options = {},
                      ServiceCollaborators with = {});
  ~ControlPlaneService();

  // The job queue (enqueue, lease, held polls, results, recovery): controlplane/queue.
  JobQueue& queue() { return queue_; }

  TicketRaiser& tickets() { return tickets_; }
  SecretBox* secrets() { return secrets_; }
  // Components with per-tenant rows of their own register how to remove them; run by
  // DELETE /admin/v1/tenants/{t} (see tenant_deletion.h).
  void addTenantDeletionHook(TenantDeletionHook hook) { deletion_hooks_.push_back(std::move(hook)); }

  // HR records in (uploads, SCIM, the pull connector, schedules): Intake::submit, with the
  // answer shaped for the upload endpoint and the connector's pull endpoint.
  SubmitResult submitRecords(const std::string& tenant_id, hr::ParsedBatch batch,
                             const Submission& submission);

  // The tenant's current policy (the default policy when none was saved).
  Result<policy::Policy> tenantPolicy(const std::string& tenant_id) {
    return intake_.currentPolicy(tenant_id);
  }
  // Where HR records enter (controlplane/intake); the scheduler and SCIM submit through it.
  Intake& intake() { return intake_; }
  // The first run of `cron` after `after_ms`, in the tenant's time zone (schedules_api.cpp).
  // Data error for a bad expression, not_found when it never runs.
  Result<int64_t> nextScheduledRun(const std::string& tenant_id, const std::string& cron,
                                   int64_t after_ms);

  // Endpoints, called by the route table (controlplane/api/routes.cpp) after authentication.
  // Agent API.
  void handleEnroll(const HttpServerRequest& req, Responder& respond);
  void handlePoll(const HttpServerRequest& req, Responder respond, const AgentRecord& agent);
  void handleResult(const HttpServerRequest& req, Responder& respond, const AgentRecord& agent,
                    const std::string& job_id);
  void handleProgress(Responder& respond, const AgentRecord& agent, const std::string& job_id);
  void handlePlan(const HttpServerRequest& req, Responder& respond, const AgentRecord& agent,
                  const std::string& job_id);
  // Tenant API.
  void handleUpload(const HttpServerRequest& req, Responder& respond, const Tenant& tenant);
  void handleListRuns(Responder& respond, const Tenant& tenant);
  void handleGetRun(Responder& respond, const Tenant& tenant, const std::string& run_id);
  void handlePolicyApi(const HttpServerRequest& req, Responder& respond, const Tenant& tenant,
                       const std::vector<std::string>& seg);
  // Schedules and agent health (schedules_api.cpp).
  void handleSchedulesApi(const HttpServerRequest& req, Responder& respond, const Tenant& tenant,
                          const std::vector<std::string>& seg);
  void handleAgentsList(Responder& respond, const std::string& tenant_id);
  // Admin API.
  void handleAdminListRuns(const HttpServerRequest& req, Responder& respond);
  // The run with its report, held plan and tenant name.
  void handleAdminGetRun(Responder& respond, const std::string& tenant_id,
                         const std::string& run_id);
  void handleAdminDeleteTenant(Responder& respond, const AdminToken& admin,
                               const std::string& tenant_id);
  void handleAdminDecision(Responder& respond, const AdminToken& admin,
                           const std::string& tenant_id, const std::string& run_id,
                           bool approve);
  // Credential rotation and agent revocation (credentials_api.cpp).
  void handleAdminCredentials(const HttpServerRequest& req, Responder& respond,
                              const AdminToken& admin, const std::vector<std::string>& seg);
  // `token`: the caller's own, which must be the current one (not one in its grace).
  void handleTenantRotateToken(const HttpServerRequest& req, Responder& respond,
                               const Tenant& tenant, const std::string& token);
  void rotateApiTokenFor(const HttpServerRequest& req, Responder& respond,
                         const std::string& tenant_id, const std::string& actor);
 private:
  // The run with its report (and the held plan, for a held run); nullopt when unknown.
  Result<std::optional<boost::json::object>> runDetail(TenantStore& store,
                                                       const std::string& run_id);

  // The job `job_id` of the agent's tenant; otherwise answers (404, or the store failure) and
  // returns nullopt. Another tenant's job is indistinguishable from one that does not exist.
  std::optional<JobRecord> jobOf(const AgentRecord& agent, const std::string& job_id,
                                 Responder& respond);

  ControlStore& control_;
  TenantStores& tenants_;
  const Clock& clock_;
  ServiceOptions options_;

  NullTicketRaiser null_tickets_;
  TicketRaiser& tickets_;
  SecretBox* secrets_;
  std::vector<TenantDeletionHook> deletion_hooks_;
  JobQueue queue_;
  Intake intake_;
};

}  // namespace tenure::cp
