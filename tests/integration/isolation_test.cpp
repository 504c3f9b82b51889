// Tenant isolation through a real tenure-cp process over HTTPS: every tenant, agent and admin
// endpoint is called with tenant B's credentials (or a tenant token on the admin API) against
// tenant A's resources, and must refuse without a trace of A's data in its answer. The agent's
// side is played over HTTP (real enroll endpoint), so no directory is needed.
//
// Adding an endpoint: add a row to kProbes (IsolationRoutesTest fails for a route of
// `tenure-cp routes` without one; the path may use the placeholders listed in
// IsolationTest::placeholders()); give `owner` the status A's own credential gets, so the row is
// known to name a real resource (a refusal of a path that does not exist proves nothing).

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/protocol/messages.h"
#include "common/sqlite/database.h"
#include "tests/integration/stack.h"

namespace tenure::testing {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using std::chrono::seconds;

// Who calls. The "owner" credential for the positive check is derived from it.
enum class As {
  kTenantB,         // B's tenant API token        (owner: A's tenant token)
  kAgentB,          // B's agent node key          (owner: A's node key)
  kTenantBOnAdmin,  // B's tenant token, admin API (owner: an admin token)
  kTenantAOnAdmin,  // A's own tenant token on the admin API: still refused (owner: admin token)
  kAdminOnTenant,   // an admin token on the tenant API (owner: A's tenant token)
  kNoCredential,    // nothing                     (owner: A's tenant token)
};

struct Probe {
  const char* method;
  const char* path;  // with placeholders, e.g. /api/v1/runs/{a_run}
  As as;
  std::set<int> refused;  // answers that count as a refusal
  int owner = 0;          // what A's own credential gets; 0: not checked (mutating calls)
  const char* body = "";  // JSON (placeholders allowed); empty: no body
  const char* content_type = "application/json";
};

const std::set<int> k400 = {400};
const std::set<int> k404 = {404};
const std::set<int> k401 = {401};
const std::set<int> k401or403 = {401, 403};
// A list answered with the caller's own data: not a refusal, but it must not contain A's data.
const std::set<int> kOwnList = {200};
// A write to the caller's own resources: accepted, and it must neither reach nor leak A's.
const std::set<int> kOwnWrite = {200, 201, 202};

// clang-format off
const std::vector<Probe> kProbes = {
    // First: B's own audit chain, before B's probes below add B's own requests (which name A's
    // ids in their paths) to it. It must hold nothing of A's.
    {"GET",    "/api/v1/audit",                          As::kTenantB, kOwnList, 200},
    // Tenant API: B's token, A's resources.
    {"GET",    "/api/v1/runs/{a_run}",                   As::kTenantB, k404, 200},
    {"GET",    "/api/v1/runs/{a_leased_run}",            As::kTenantB, k404, 200},
    {"GET",    "/api/v1/runs",                           As::kTenantB, kOwnList, 200},
    {"GET",    "/api/v1/policy/versions/{a_policy}",     As::kTenantB, k404, 200},
    {"GET",    "/api/v1/policy/versions",                As::kTenantB, kOwnList, 200},
    {"GET",    "/api/v1/policy",                         As::kTenantB, kOwnList, 200},
    {"PUT",    "/api/v1/policy",                         As::kTenantB, kOwnWrite, 0, "{}"},
    {"POST",   "/api/v1/policy/validate",                As::kTenantB, kOwnList, 200, "{}"},
    {"GET",    "/api/v1/runs/{a_run}/report.json",       As::kTenantB, k404, 200},
    {"GET",    "/api/v1/runs/{a_run}/report.csv",        As::kTenantB, k404, 200},
    {"GET",    "/api/v1/runs/{a_run}/report.html",       As::kTenantB, k404, 200},
    {"GET",    "/api/v1/runs/{a_run}/report.csv?download=1", As::kTenantB, k404, 200},
    {"GET",    "/api/v1/identities/{a_employee}",        As::kTenantB, k404, 200},
    {"GET",    "/api/v1/identities/{a_employee}?as_of=2030-01-01T00:00:00Z", As::kTenantB, k404, 200},
    {"GET",    "/api/v1/identities/{a_employee}/events", As::kTenantB, k404, 200},
    {"GET",    "/api/v1/tickets/{a_ticket}",             As::kTenantB, k404, 200},
    {"GET",    "/api/v1/tickets",                        As::kTenantB, kOwnList, 200},
    {"GET",    "/api/v1/ticket-sinks",                   As::kTenantB, kOwnList, 200},
    {"PUT",    "/api/v1/ticket-sinks",                   As::kTenantB, kOwnWrite, 0, R"({"sinks":[]})"},
    {"GET",    "/api/v1/schedules/{a_schedule}",         As::kTenantB, k404, 200},
    {"PUT",    "/api/v1/schedules/{a_schedule}",         As::kTenantB, k404, 0, R"({"enabled":false})"},
    {"DELETE", "/api/v1/schedules/{a_schedule}",         As::kTenantB, k404},
    {"GET",    "/api/v1/schedules",                      As::kTenantB, kOwnList, 200},
    {"POST",   "/api/v1/schedules",                      As::kTenantB, kOwnWrite, 0, R"({"kind":"reconcile","cron":"17 4 * * *"})"},
    {"GET",    "/api/v1/agents",                         As::kTenantB, kOwnList, 200},
    // One report digest per tenant: B reaches only its own, never A's settings or history.
    {"GET",    "/api/v1/report-digest",                  As::kTenantB, kOwnList, 200},
    {"GET",    "/api/v1/report-digest/digests",          As::kTenantB, kOwnList, 200},
    {"GET",    "/api/v1/report-digest/preview",          As::kTenantB, kOwnList, 200},
    {"GET",    "/api/v1/report-digest/preview?format=text", As::kTenantB, kOwnList, 200},
    {"PUT",    "/api/v1/report-digest",                  As::kTenantB, kOwnList, 0, R"({"enabled":false,"to":["thief@bumblebee.test"]})"},
    {"POST",   "/api/v1/report-digest/send",             As::kTenantB, {404, 409}},
    {"DELETE", "/api/v1/report-digest",                  As::kTenantB, {200, 404}},
    // One connector per tenant, named by kind: B reaches only its own (none), never A's.
    {"GET",    "/api/v1/connectors/bamboohr",            As::kTenantB, k404, 200},
    {"DELETE", "/api/v1/connectors/bamboohr",            As::kTenantB, k404},
    {"POST",   "/api/v1/connectors/bamboohr/pull",       As::kTenantB, k404},
    // B's own connector (after the rows above, which need B to have none).
    {"PUT",    "/api/v1/connectors/bamboohr",            As::kTenantB, kOwnWrite, 0, R"({"company_domain":"bumblebee","api_key":"bhr-B","timeout_s":5})"},
    // SCIM: B's token, A's User.
    {"GET",    "/scim/v2/Users/{a_scim_user}",           As::kTenantB, k404, 200},
    {"PUT",    "/scim/v2/Users/{a_scim_user}",           As::kTenantB, k404, 0, R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x"})", "application/scim+json"},
    {"PATCH",  "/scim/v2/Users/{a_scim_user}",           As::kTenantB, k404, 0, R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]})", "application/scim+json"},
    {"DELETE", "/scim/v2/Users/{a_scim_user}",           As::kTenantB, k404},
    {"GET",    "/scim/v2/Users?filter=userName%20eq%20%22{a_scim_user_name}%22", As::kTenantB, kOwnList, 200},
    {"GET",    "/scim/v2/Users?filter=externalId%20eq%20%22{a_scim_external}%22", As::kTenantB, kOwnList, 200},
    {"GET",    "/scim/v2/Users",                         As::kTenantB, kOwnList, 200},
    {"POST",   "/scim/v2/Users",                         As::kTenantB, kOwnWrite, 0, R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bea.bumble@bumblebee.test","externalId":"B-77","name":{"givenName":"Bea","familyName":"Bumble"}})", "application/scim+json"},
    // SCIM discovery: the same documents for every tenant, nothing of A's in them.
    {"GET",    "/scim/v2/ServiceProviderConfig",         As::kTenantB, kOwnList, 200},
    {"GET",    "/scim/v2/Schemas",                       As::kTenantB, kOwnList, 200},
    {"GET",    "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", As::kTenantB, kOwnList, 200},
    {"GET",    "/scim/v2/ResourceTypes",                 As::kTenantB, kOwnList, 200},
    {"GET",    "/scim/v2/ResourceTypes/User",            As::kTenantB, kOwnList, 200},
    {"POST",   "/scim/v2/Bulk",                          As::kTenantB, kOwnList, 0, R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"PATCH","path":"/Users/{a_scim_user}","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}},{"method":"DELETE","path":"/Users/{a_scim_user}"}]})", "application/scim+json"},
    // The tenant of a request comes from its credential, never from its path or body.
    {"GET",    "/api/v1/tenants/{a_tenant}/runs/{a_run}", As::kTenantB, k404},
    {"GET",    "/api/v1/runs/{a_run}?tenant_id={a_tenant}", As::kTenantB, k404},
    // An admin token is not a tenant credential; neither is nothing.
    {"GET",    "/api/v1/runs/{a_run}",                   As::kAdminOnTenant, k401, 200},
    {"GET",    "/api/v1/runs",                           As::kAdminOnTenant, k401, 200},
    {"GET",    "/api/v1/tickets/{a_ticket}",             As::kAdminOnTenant, k401, 200},
    {"GET",    "/api/v1/audit",                          As::kAdminOnTenant, k401, 200},
    {"POST",   "/api/v1/hr/records",                     As::kAdminOnTenant, k401, 0, R"([{"employee_id":"X1","given_name":"X","family_name":"Y"}])"},
    {"GET",    "/scim/v2/Users/{a_scim_user}",           As::kAdminOnTenant, k401, 200},
    {"GET",    "/api/v1/runs/{a_run}",                   As::kNoCredential, k401, 200},
    {"GET",    "/scim/v2/Users/{a_scim_user}",           As::kNoCredential, k401, 200},
    {"GET",    "/api/v1/connectors/bamboohr",            As::kNoCredential, k401, 200},
    {"GET",    "/api/v1/report-digest",                  As::kAdminOnTenant, k401, 200},
    {"POST",   "/api/v1/report-digest/send",             As::kNoCredential, k401},
    // Agent API: B's node key, A's jobs.
    {"POST",   "/agent/v1/jobs/{a_leased_job}/progress", As::kAgentB, k404, 200, "{}"},
    {"POST",   "/agent/v1/jobs/{a_leased_job}/plan",     As::kAgentB, k404, 0, R"({"job_id":"{a_leased_job}","population":1,"counts":{"create":1}})"},
    {"POST",   "/agent/v1/jobs/{a_leased_job}/result",   As::kAgentB, k404, 0, R"({"job_id":"{a_leased_job}","status":"failed","error_class":"data","error_message":"x"})"},
    {"POST",   "/agent/v1/jobs/{a_job}/result",          As::kAgentB, k404, 0, R"({"job_id":"{a_job}","status":"succeeded"})"},
    // B's poll: B's jobs only (TenantBsPollNeverLeasesTenantAsJobs checks more polls).
    {"POST",   "/agent/v1/poll",                         As::kAgentB, kOwnList, 0, R"({"wait_s":0})"},
    // Admin API: a tenant token (B's, and A's own) is refused everywhere.
    {"GET",    "/admin/v1/runs",                         As::kTenantBOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/runs?status=succeeded",        As::kTenantAOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/tenants/{a_tenant}/runs/{a_run}", As::kTenantBOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/tenants/{a_tenant}/runs/{a_run}", As::kTenantAOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/tenants/{a_tenant}/runs/{a_run}/report.json", As::kTenantBOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/tenants/{a_tenant}/runs/{a_run}/report.csv",  As::kTenantAOnAdmin, k401or403, 200},
    {"POST",   "/admin/v1/tenants/{a_tenant}/runs/{a_run}/approve", As::kTenantBOnAdmin, k401or403},
    {"POST",   "/admin/v1/tenants/{a_tenant}/runs/{a_run}/reject",  As::kTenantAOnAdmin, k401or403},
    {"DELETE", "/admin/v1/tenants/{a_tenant}",           As::kTenantBOnAdmin, k401or403},
    {"DELETE", "/admin/v1/tenants/{a_tenant}",           As::kTenantAOnAdmin, k401or403},
    {"GET",    "/admin/v1/tickets",                      As::kTenantBOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/tickets?tenant={a_tenant}",    As::kTenantAOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/tenants/{a_tenant}/tickets/{a_ticket}", As::kTenantBOnAdmin, k401or403, 200},
    {"POST",   "/admin/v1/tenants/{a_tenant}/tickets/{a_ticket}/acknowledge", As::kTenantBOnAdmin, k401or403, 200},
    {"POST",   "/admin/v1/tenants/{a_tenant}/tickets/{a_ticket}/resolve",     As::kTenantAOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/agents",                       As::kTenantBOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/agents",                       As::kTenantAOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/audit",                        As::kTenantBOnAdmin, k401or403, 200},
    {"GET",    "/admin/v1/audit?tenant={a_tenant}",      As::kTenantAOnAdmin, k401or403, 200},
    // Credentials. A tenant rotates only its own API token: the tenant never comes from the path,
    // a query parameter or the body (those are refused, not ignored).
    {"POST",   "/api/v1/tenants/{a_tenant}/api-token/rotate", As::kTenantB, k404},
    {"POST",   "/api/v1/api-token/rotate?tenant_id={a_tenant}", As::kTenantB, k400},
    {"POST",   "/api/v1/api-token/rotate",               As::kTenantB, k400, 0, R"({"tenant_id":"{a_tenant}"})"},
    {"POST",   "/api/v1/api-token/rotate",               As::kAdminOnTenant, k401},
    {"POST",   "/api/v1/api-token/rotate",               As::kNoCredential, k401},
    {"POST",   "/admin/v1/tenants/{a_tenant}/api-token/rotate", As::kTenantBOnAdmin, k401or403, 0, R"({"grace_seconds":60})"},
    {"POST",   "/admin/v1/tenants/{a_tenant}/enroll-secret/rotate", As::kTenantBOnAdmin, k401or403},
    {"POST",   "/admin/v1/tenants/{a_tenant}/agents/{a_agent}/revoke", As::kTenantBOnAdmin, k401or403},
    // Last, because the owner's call changes A's credentials: the enroll secret, then A's agent
    // (no probe after this one uses its node key), then the API token with a grace, so A's old
    // token still works for the checks that follow the table.
    {"POST",   "/admin/v1/tenants/{a_tenant}/enroll-secret/rotate", As::kTenantAOnAdmin, k401or403, 200},
    {"POST",   "/admin/v1/tenants/{a_tenant}/agents/{a_agent}/revoke", As::kTenantAOnAdmin, k401or403, 200},
    {"POST",   "/admin/v1/tenants/{a_tenant}/api-token/rotate", As::kTenantAOnAdmin, k401or403, 200, R"({"grace_seconds":60})"},
};
// clang-format on

std::string asName(As a) {
  switch (a) {
    case As::kTenantB:
      return "tenant B token";
    case As::kAgentB:
      return "agent B node key";
    case As::kTenantBOnAdmin:
      return "tenant B token on admin API";
    case As::kTenantAOnAdmin:
      return "tenant A token on admin API";
    case As::kAdminOnTenant:
      return "admin token on tenant API";
    case As::kNoCredential:
      return "no credential";
  }
  return "?";
}

class IsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cp_ = std::make_unique<ControlPlaneProcess>(dir_.path() + "/cp");
    ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
    a_name_ = "Aardvark-" + uniqueSuffix();
    a_ = cp_->createTenant(a_name_);
    b_ = cp_->createTenant("Bumblebee-" + uniqueSuffix());
    ASSERT_FALSE(a_.api_token.empty());
    ASSERT_FALSE(b_.api_token.empty());
    auto [rc, out] =
        runCommand({cpBinary(), "admin-token", "create", "--data-dir", dir_.path() + "/cp", "ops"});
    ASSERT_EQ(rc, 0) << out;
    admin_ = std::string(protocol::parseJsonText(out)->at("token").as_string());
    api_ = std::make_unique<ApiClient>(cp_->url(), cp_->caFile());

    auto [a_key, a_agent] = enroll(a_.enroll_secret);
    auto [b_key, b_agent] = enroll(b_.enroll_secret);
    a_key_ = a_key;
    b_key_ = b_key;
    // A: a finished run with a per-person report, and a run whose job is leased right now.
    a_run_ = upload(a_.api_token,
                    "employee_id,given_name,family_name,department\n"
                    "AE-7001,Zebulon,Quixotehaven,Cryptozoology\n");
    auto job = poll(a_key_);
    ASSERT_TRUE(job.has_value());
    protocol::JobResult result;
    result.status = "succeeded";
    protocol::IdentityOutcome o;
    o.employee_id = "AE-7001";
    o.action = "created";
    o.state = "active";
    o.sam_account_name = "zquixotehaven";
    o.dn = "CN=Zebulon Quixotehaven,OU=Staff,DC=aardvark,DC=test";
    result.outcomes.push_back(o);
    auto res =
        api_->request("POST", "/agent/v1/jobs/" + job->job_id + "/result", "NodeKey " + a_key_,
                      "application/json", protocol::serialize(protocol::toJson(result)));
    ASSERT_EQ(res.status, 200) << res.body;
    // A SCIM User of A's (its job is completed, so A's queue is empty again).
    auto scim = api_->request("POST", "/scim/v2/Users", "Bearer " + a_.api_token,
                              "application/scim+json", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "ottoline.fennimorequist@aardvark.test",
        "externalId": "ext-ottoline-aardvark",
        "name": {"givenName": "Ottoline", "familyName": "Fennimorequist"},
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"employeeNumber": "AE-7004", "department": "Cryptozoology"}})");
    ASSERT_EQ(scim.status, 201) << scim.body;
    a_scim_user_ = std::string(scim.json.at("id").as_string());
    auto scim_job = poll(a_key_);
    ASSERT_TRUE(scim_job.has_value());
    a_scim_run_ = scim_job->run_id;
    protocol::JobResult scim_result;
    scim_result.status = "succeeded";
    ASSERT_EQ(api_->request("POST", "/agent/v1/jobs/" + scim_job->job_id + "/result",
                            "NodeKey " + a_key_, "application/json",
                            protocol::serialize(protocol::toJson(scim_result)))
                  .status,
              200);
    // A ticket of A's: a rejected HR row raises one (nothing is accepted, so no run either).
    auto bad = api_->request("POST", "/api/v1/hr/records", "Bearer " + a_.api_token, "text/csv",
                             "employee_id,given_name,family_name\nAE-7005,,Vexillumby\n");
    ASSERT_EQ(bad.status, 422) << bad.body;
    auto tickets = api_->request("GET", "/api/v1/tickets", "Bearer " + a_.api_token);
    ASSERT_EQ(tickets.status, 200) << tickets.body;
    ASSERT_EQ(tickets.json.at("tickets").as_array().size(), 1u) << tickets.body;
    a_ticket_ = std::string(tickets.json.at("tickets").at(0).at("id").as_string());
    // A ticket sink, a schedule and a connector of A's.
    auto sinks = api_->request(
        "PUT", "/api/v1/ticket-sinks", "Bearer " + a_.api_token, "application/json",
        R"({"sinks":[{"id":"aardvark-hook","type":"webhook","url":"http://127.0.0.1:9/aardvark",)"
        R"("secret":"whsec-Aardvark-0451"},{"id":"aardvark-mail","type":"smtp","host":"127.0.0.1",)"
        R"("port":9,"from":"tenure@aardvark.test","to":["it@aardvark.test"]}]})");
    ASSERT_EQ(sinks.status, 200) << sinks.body;
    // A report digest of A's, with one digest in its history (pending: nothing listens on 9).
    auto digest = api_->request("PUT", "/api/v1/report-digest", "Bearer " + a_.api_token,
                                "application/json",
                                R"({"enabled":true,"to":["cio@aardvark.test"]})");
    ASSERT_EQ(digest.status, 200) << digest.body;
    // A send in the millisecond the digest was enabled is refused as an empty period (409).
    auto digest_sent = api_->request("POST", "/api/v1/report-digest/send", "Bearer " + a_.api_token);
    for (int i = 0; i < 50 && digest_sent.status == 409; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      digest_sent = api_->request("POST", "/api/v1/report-digest/send", "Bearer " + a_.api_token);
    }
    ASSERT_EQ(digest_sent.status, 202) << digest_sent.body;
    auto sched = api_->request("POST", "/api/v1/schedules", "Bearer " + a_.api_token,
                               "application/json", R"({"kind":"reconcile","cron":"17 3 * * *"})");
    ASSERT_EQ(sched.status, 201) << sched.body;
    a_schedule_ = std::string(sched.json.at("id").as_string());
    auto conn = api_->request(
        "PUT", "/api/v1/connectors/bamboohr", "Bearer " + a_.api_token, "application/json",
        R"({"company_domain":"aardvarkhr","api_key":"bhr-Aardvark-7c1e99","timeout_s":5})");
    ASSERT_EQ(conn.status, 200) << conn.body;

    a_leased_run_ = upload(a_.api_token,
                           "employee_id,given_name,family_name\n"
                           "AE-7002,Ysolde,Wraxhall\n");
    auto leased = poll(a_key_);
    ASSERT_TRUE(leased.has_value());
    ASSERT_EQ(leased->run_id, a_leased_run_);
    // A policy version of A's own.
    auto pol = api_->request("PUT", "/api/v1/policy", "Bearer " + a_.api_token, "application/json",
                             R"({"lifecycle":{"prehire_days":11}})");
    ASSERT_EQ(pol.status, 200) << pol.body;
    // B has data of its own, so "B sees only B" is tested against a non-empty answer.
    upload(b_.api_token, "employee_id,given_name,family_name\nBE-1,Bea,Bopp\n");

    values_ = {{"{a_tenant}", a_.tenant_id},
               {"{a_run}", a_run_},
               {"{a_job}", a_run_},
               {"{a_leased_run}", a_leased_run_},
               {"{a_leased_job}", a_leased_run_},
               {"{a_employee}", "AE-7001"},
               {"{a_policy}", "1"},
               {"{a_agent}", a_agent},
               {"{a_ticket}", a_ticket_},
               {"{a_schedule}", a_schedule_},
               {"{a_scim_user}", a_scim_user_},
               {"{a_scim_user_name}", "ottoline.fennimorequist@aardvark.test"},
               {"{a_scim_external}", "ext-ottoline-aardvark"}};
    // What must never appear in an answer to B. (A's SCIM id is not here: B may echo what it sent.)
    secrets_of_a_ = {a_.tenant_id, a_name_,    a_run_,          a_leased_run_,
                     "AE-7001",    "AE-7002",  "Zebulon",       "Quixotehaven",
                     "Ysolde",     "Wraxhall", "Cryptozoology", "zquixotehaven",
                     "aardvark",   a_agent,    a_.api_token,    a_key_,
                     "AE-7004",    "Ottoline", "Fennimorequist", a_scim_run_,
                     "AE-7005",    "Vexillumby", a_ticket_,     a_schedule_,
                     "bhr-Aardvark-7c1e99", "whsec-Aardvark-0451", "17 3 * * *"};
  }

  std::pair<std::string, std::string> enroll(const std::string& secret) {
    auto r = api_->request(
        "POST", "/agent/v1/enroll", "", "application/json",
        R"({"enroll_secret":")" + secret + R"(","host":"iso-agent","version":"test"})");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return {std::string(r.json.at("node_key").as_string()),
            std::string(r.json.at("agent_id").as_string())};
  }
  std::string upload(const std::string& token, const std::string& csv) {
    auto r = api_->request("POST", "/api/v1/hr/records", "Bearer " + token, "text/csv", csv);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json.is_object() ? std::string(r.json.at("run_id").as_string()) : "";
  }
  std::optional<protocol::Job> poll(const std::string& key) {
    auto r = api_->request("POST", "/agent/v1/poll", "NodeKey " + key, "application/json",
                           R"({"wait_s":0})");
    EXPECT_EQ(r.status, 200) << r.body;
    auto resp = protocol::parsePollResponse(r.json);
    if (!resp.isOk() || resp->jobs.empty()) return std::nullopt;
    return resp->jobs[0];
  }

  std::string fill(std::string s) const {
    for (const auto& [k, v] : values_) {
      for (size_t at; (at = s.find(k)) != std::string::npos;) s.replace(at, k.size(), v);
    }
    return s;
  }
  std::string header(As as, bool owner) const {
    switch (as) {
      case As::kTenantB:
        return "Bearer " + (owner ? a_.api_token : b_.api_token);
      case As::kAgentB:
        return "NodeKey " + (owner ? a_key_ : b_key_);
      case As::kTenantBOnAdmin:
        return "Bearer " + (owner ? admin_ : b_.api_token);
      case As::kTenantAOnAdmin:
        return "Bearer " + (owner ? admin_ : a_.api_token);
      case As::kAdminOnTenant:
        return "Bearer " + (owner ? a_.api_token : admin_);
      case As::kNoCredential:
        return owner ? "Bearer " + a_.api_token : "";
    }
    return "";
  }
  ApiResponse call(const Probe& p, bool owner) {
    std::string body = fill(p.body);
    return api_->request(p.method, fill(p.path), header(p.as, owner),
                         body.empty() ? "" : p.content_type, body);
  }

  // Rows of A's in the control DB, per table (read beside the running server: WAL).
  std::map<std::string, int64_t> controlRowsOfA() {
    std::map<std::string, int64_t> out;
    auto db = sqlite::Database::open(dir_.path() + "/cp/control.db");
    EXPECT_TRUE(db.isOk()) << db.status().toString();
    if (!db.isOk()) return out;
    const std::string agent = values_.at("{a_agent}");
    for (const auto& [table, sql, key] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"schedules", "SELECT count(*) FROM schedules WHERE tenant_id = ?", a_.tenant_id},
             {"ticket_index", "SELECT count(*) FROM ticket_index WHERE tenant_id = ?", a_.tenant_id},
             {"jobs", "SELECT count(*) FROM jobs WHERE tenant_id = ?", a_.tenant_id},
             {"agents", "SELECT count(*) FROM agents WHERE tenant_id = ?", a_.tenant_id},
             {"agent_health", "SELECT count(*) FROM agent_health WHERE agent_id = ?", agent}}) {
      auto st = db->prepare(sql);
      EXPECT_TRUE(st.isOk()) << sql << ": " << st.status().toString();
      if (!st.isOk()) continue;
      st->bindText(1, key);
      auto row = st->step();
      out[table] = row.isOk() && *row ? st->columnInt64(0) : -1;
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<ControlPlaneProcess> cp_;
  std::unique_ptr<ApiClient> api_;
  TenantInfo a_, b_;
  std::string a_name_, admin_, a_key_, b_key_, a_run_, a_leased_run_;
  std::string a_scim_user_, a_scim_run_, a_ticket_, a_schedule_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> secrets_of_a_;
};

// The path `probe` (placeholders and query allowed) is one that `pattern` ("/api/v1/runs/{run_id}",
// "report.{format}") matches.
bool probeMatches(const std::string& pattern, const std::string& probe) {
  auto segments = [](std::string p) {
    p = p.substr(0, p.find('?'));
    std::vector<std::string> out;
    std::stringstream in(p);
    for (std::string seg; std::getline(in, seg, '/');) {
      if (!seg.empty()) out.push_back(seg);
    }
    return out;
  };
  const auto want = segments(pattern);
  const auto got = segments(probe);
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    const size_t open = want[i].find('{');
    if (open == std::string::npos ? want[i] != got[i]
                                  : got[i].compare(0, open, want[i], 0, open) != 0) {
      return false;
    }
  }
  return true;
}

// Every authenticated route of the running control plane's table (`tenure-cp routes`) has a row
// above: a new endpoint cannot be added without saying how it keeps tenants apart.
TEST(IsolationRoutesTest, EveryAuthenticatedRouteHasAnIsolationRow) {
  auto [rc, out] = runCommand({cpBinary(), "routes"});
  ASSERT_EQ(rc, 0) << out;
  std::stringstream lines(out);
  int routes = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const bj::value r = bj::parse(line);
    const std::string method(r.at("method").as_string());
    const std::string pattern(r.at("pattern").as_string());
    const std::string auth(r.at("auth").as_string());
    ++routes;
    EXPECT_NE(auth, "unspecified") << method << " " << pattern;
    if (auth == "none") continue;  // /healthz and enrollment (IsolationTest enrolls B and A)
    const bool covered = std::any_of(kProbes.begin(), kProbes.end(), [&](const Probe& p) {
      return p.method == method && probeMatches(pattern, p.path);
    });
    EXPECT_TRUE(covered) << method << " " << pattern << " (" << auth
                         << ") has no row in kProbes (tests/integration/isolation_test.cpp)";
  }
  EXPECT_GT(routes, 50) << out;
}

TEST_F(IsolationTest, EveryEndpointRefusesTenantBOnTenantAsResourcesWithoutLeakingThem) {
  for (const Probe& p : kProbes) {
    const std::string what = std::string(p.method) + " " + fill(p.path) + " as " + asName(p.as);
    ApiResponse r = call(p, /*owner=*/false);
    EXPECT_TRUE(p.refused.count(r.status)) << what << " answered " << r.status << ": " << r.body;
    for (const auto& s : secrets_of_a_) {
      EXPECT_EQ(r.body.find(s), std::string::npos)
          << what << " leaked '" << s << "' of tenant A: " << r.body;
    }
  }
}

TEST_F(IsolationTest, TenantBsWritesLeaveEveryOneOfTenantAsResourcesAsItWas) {
  for (const Probe& p : kProbes) {
    if (std::string(p.method) != "GET") call(p, /*owner=*/false);
  }
  // B configures a connector and ticket sinks of its own: they replace nothing of A's.
  auto b_conn = api_->request("PUT", "/api/v1/connectors/bamboohr", "Bearer " + b_.api_token,
                              "application/json",
                              R"({"company_domain":"bumblebee","api_key":"bhr-B","timeout_s":5})");
  EXPECT_EQ(b_conn.status, 200) << b_conn.body;
  auto b_sinks = api_->request("PUT", "/api/v1/ticket-sinks", "Bearer " + b_.api_token,
                               "application/json", R"({"sinks":[]})");
  EXPECT_EQ(b_sinks.status, 200) << b_sinks.body;
  const std::string a = "Bearer " + a_.api_token;

  auto sched = api_->request("GET", "/api/v1/schedules/" + a_schedule_, a);
  ASSERT_EQ(sched.status, 200) << sched.body;
  EXPECT_TRUE(sched.json.at("enabled").as_bool()) << sched.body;
  auto user = api_->request("GET", "/scim/v2/Users/" + a_scim_user_, a);
  ASSERT_EQ(user.status, 200) << user.body;
  EXPECT_TRUE(user.json.at("active").as_bool()) << user.body;
  auto conn = api_->request("GET", "/api/v1/connectors/bamboohr", a);
  ASSERT_EQ(conn.status, 200) << conn.body;
  EXPECT_EQ(conn.json.at("company_domain").as_string(), "aardvarkhr") << conn.body;
  auto b_view = api_->request("GET", "/api/v1/connectors/bamboohr", "Bearer " + b_.api_token);
  ASSERT_EQ(b_view.status, 200) << b_view.body;
  EXPECT_EQ(b_view.json.at("company_domain").as_string(), "bumblebee") << b_view.body;
  auto sinks = api_->request("GET", "/api/v1/ticket-sinks", a);
  ASSERT_EQ(sinks.status, 200) << sinks.body;
  EXPECT_EQ(sinks.json.at("sinks").as_array().size(), 2u) << sinks.body;
  auto digest = api_->request("GET", "/api/v1/report-digest", a);
  ASSERT_EQ(digest.status, 200) << digest.body;
  EXPECT_TRUE(digest.json.at("enabled").as_bool()) << digest.body;
  EXPECT_EQ(digest.json.at("to").as_array().size(), 1u) << digest.body;
  EXPECT_EQ(digest.json.at("to").at(0).as_string(), "cio@aardvark.test") << digest.body;
  auto history = api_->request("GET", "/api/v1/report-digest/digests", a);
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(history.json.at("digests").as_array().size(), 1u) << history.body;
  auto ticket = api_->request("GET", "/api/v1/tickets/" + a_ticket_, a);
  ASSERT_EQ(ticket.status, 200) << ticket.body;
  EXPECT_EQ(ticket.json.at("state").as_string(), "open") << ticket.body;
  auto run = api_->request("GET", "/api/v1/runs/" + a_leased_run_, a);
  ASSERT_EQ(run.status, 200) << run.body;
  EXPECT_EQ(run.json.at("status").as_string(), "running") << run.body;
  auto held = api_->request("GET", "/admin/v1/tickets?tenant=" + a_.tenant_id, "Bearer " + admin_);
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_EQ(held.json.at("tickets").as_array().size(), 1u) << held.body;
  // A's credentials are as they were: B's rotation and revocation attempts changed none of them.
  EXPECT_EQ(api_->request("POST", "/agent/v1/poll", "NodeKey " + a_key_, "application/json",
                          R"({"wait_s":0})")
                .status,
            200);
  EXPECT_EQ(api_->request("GET", "/api/v1/runs", "Bearer " + b_.api_token).status, 200);
  enroll(a_.enroll_secret);  // expects 200
}

TEST_F(IsolationTest, TenantBsScimBulkNeitherReachesNorLinksTenantAsUsers) {
  const std::string bulk = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
    "Operations":[
      {"method":"PUT","path":"/Users/)" + a_scim_user_ + R"(","data":{
         "schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b@bee.test",
         "name":{"givenName":"B","familyName":"Bee"}}},
      {"method":"PATCH","path":"/Users/)" + a_scim_user_ + R"(","data":{
         "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations":[{"op":"replace","path":"active","value":false}]}},
      {"method":"DELETE","path":"/Users/)" + a_scim_user_ + R"("},
      {"method":"POST","path":"/Users","bulkId":"m","data":{
         "schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
         "userName":"bo@bee.test","name":{"givenName":"Bo","familyName":"Bee"},
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
           {"employeeNumber":"BE-9","manager":{"value":")" + a_scim_user_ + R"("}}}}]})";
  auto r = api_->request("POST", "/scim/v2/Bulk", "Bearer " + b_.api_token,
                         "application/scim+json", bulk);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& ops = r.json.at("Operations").as_array();
  ASSERT_EQ(ops.size(), 4u) << r.body;
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(ops[i].at("status").as_string(), "404") << r.body;
  // A's User is no manager B can name: the reference is refused, not resolved to AE-7004.
  EXPECT_EQ(ops[3].at("status").as_string(), "400") << r.body;
  for (const auto& s : secrets_of_a_) {
    EXPECT_EQ(r.body.find(s), std::string::npos) << "leaked '" << s << "': " << r.body;
  }
  auto user = api_->request("GET", "/scim/v2/Users/" + a_scim_user_, "Bearer " + a_.api_token);
  ASSERT_EQ(user.status, 200) << user.body;
  EXPECT_TRUE(user.json.at("active").as_bool()) << user.body;
  EXPECT_EQ(user.json.at("userName").as_string(), "ottoline.fennimorequist@aardvark.test");
  // B's filter on A's userName finds nothing (an empty list, not an error).
  auto list = api_->request(
      "GET", "/scim/v2/Users?filter=userName%20eq%20%22ottoline.fennimorequist@aardvark.test%22",
      "Bearer " + b_.api_token);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json.at("totalResults").as_int64(), 0) << list.body;
  EXPECT_TRUE(list.json.at("Resources").as_array().empty()) << list.body;
  auto own = api_->request(
      "GET", "/scim/v2/Users?filter=userName%20eq%20%22ottoline.fennimorequist@aardvark.test%22",
      "Bearer " + a_.api_token);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(own.json.at("totalResults").as_int64(), 1) << own.body;
}

TEST_F(IsolationTest, TheSameCallsSucceedWithTenantAsOwnCredential) {
  // Proves the table names real resources: a refusal of a wrong path would prove nothing.
  int checked = 0;
  for (const Probe& p : kProbes) {
    if (p.owner == 0) continue;
    ++checked;
    ApiResponse r = call(p, /*owner=*/true);
    EXPECT_EQ(r.status, p.owner) << p.method << " " << fill(p.path) << " as the owner: " << r.body;
  }
  EXPECT_GE(checked, 10);
  // And A's data really is in those answers (the leak check has something to find).
  auto run = api_->request("GET", "/api/v1/runs/" + a_run_, "Bearer " + a_.api_token);
  EXPECT_NE(run.body.find("AE-7001"), std::string::npos) << run.body;
  EXPECT_NE(run.body.find("zquixotehaven"), std::string::npos) << run.body;
}

TEST_F(IsolationTest, ScimRequestsAreRecordedInTheirTenantsAccessAuditLogOnly) {
  const std::string patch_path = "/scim/v2/Users/" + a_scim_user_;
  auto patched = api_->request(
      "PATCH", patch_path, "Bearer " + a_.api_token, "application/scim+json",
      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          "Operations":[{"op":"replace","path":"title","value":"Curator"}]})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  // Refused for its credential: recorded nowhere (there is no tenant to record it for).
  EXPECT_EQ(api_->request("DELETE", patch_path, "Bearer not-a-token").status, 401);
  // B's refused attempt on A's User goes to B's chain, not A's.
  EXPECT_EQ(api_->request("DELETE", patch_path, "Bearer " + b_.api_token).status, 404);

  auto entriesOf = [&](const std::string& token) {
    auto r = api_->request("GET", "/api/v1/audit?limit=1000", "Bearer " + token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<bj::object> out;
    for (const auto& e : r.json.at("entries").as_array()) {
      if (e.at("path").as_string().starts_with("/scim/v2")) out.push_back(e.as_object());
    }
    return out;
  };
  auto a = entriesOf(a_.api_token);
  // The setup's POST /scim/v2/Users, then the PATCH.
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].at("method").as_string(), "POST");
  EXPECT_EQ(a[0].at("path").as_string(), "/scim/v2/Users");
  EXPECT_EQ(a[0].at("status").as_int64(), 201);
  const bj::object& e = a[1];
  EXPECT_EQ(e.at("method").as_string(), "PATCH");
  EXPECT_EQ(e.at("path").as_string(), patch_path);
  EXPECT_EQ(e.at("resource").as_string(), "Users/" + a_scim_user_);
  EXPECT_EQ(e.at("action").as_string(), "change");
  EXPECT_EQ(e.at("status").as_int64(), 200);
  EXPECT_EQ(e.at("principal_kind").as_string(), "tenant_token");
  EXPECT_EQ(e.at("principal").as_string(), a_name_);
  EXPECT_EQ(e.at("tenant_id").as_string(), a_.tenant_id);

  auto b = entriesOf(b_.api_token);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].at("method").as_string(), "DELETE");
  EXPECT_EQ(b[0].at("status").as_int64(), 404);
  EXPECT_EQ(b[0].at("tenant_id").as_string(), b_.tenant_id);
  // And the operators' view of A's chain holds the same write.
  auto admin = api_->request("GET", "/admin/v1/audit?limit=1000&tenant=" + a_.tenant_id,
                             "Bearer " + admin_);
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_NE(admin.body.find(patch_path), std::string::npos) << admin.body;
}

TEST_F(IsolationTest, TenantBsPollNeverLeasesTenantAsJobs) {
  // A has a queued job; B polls and must get only its own.
  std::string queued = upload(a_.api_token, "employee_id,given_name,family_name\nAE-7003,Q,R\n");
  for (int i = 0; i < 3; ++i) {
    auto r = api_->request("POST", "/agent/v1/poll", "NodeKey " + b_key_, "application/json",
                           R"({"wait_s":0})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find(queued), std::string::npos) << r.body;
    for (const auto& s : secrets_of_a_) EXPECT_EQ(r.body.find(s), std::string::npos) << r.body;
  }
  auto a_poll = poll(a_key_);
  ASSERT_TRUE(a_poll.has_value());
  EXPECT_EQ(a_poll->job_id, queued);
}

TEST_F(IsolationTest, ADeletedTenantsCredentialsAreRefusedAndItsStoreIsGone) {
  const std::string store = dir_.path() + "/cp/tenants/" + a_.tenant_id + ".db";
  ASSERT_TRUE(fs::exists(store));
  // What operators see of A before: its ticket and its agent.
  auto aTickets = [&] {
    auto r = api_->request("GET", "/admin/v1/tickets", "Bearer " + admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    size_t n = 0;
    for (const auto& t : r.json.at("tickets").as_array()) n += t.at("tenant_id").as_string() == a_.tenant_id;
    return n;
  };
  auto aAgents = [&] {
    auto r = api_->request("GET", "/admin/v1/agents", "Bearer " + admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.find(a_.tenant_id) != std::string::npos;
  };
  ASSERT_EQ(aTickets(), 1u);
  ASSERT_TRUE(aAgents());
  for (const auto& [table, n] : controlRowsOfA()) ASSERT_GT(n, 0) << table;
  auto refused =
      api_->request("DELETE", "/admin/v1/tenants/" + a_.tenant_id, "Bearer " + a_.api_token);
  EXPECT_EQ(refused.status, 401) << refused.body;
  auto del = api_->request("DELETE", "/admin/v1/tenants/" + a_.tenant_id, "Bearer " + admin_);
  ASSERT_EQ(del.status, 200) << del.body;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_FALSE(fs::exists(store + suffix)) << suffix;
  }
  EXPECT_EQ(api_->request("GET", "/api/v1/runs", "Bearer " + a_.api_token).status, 401);
  auto node = api_->request("POST", "/agent/v1/poll", "NodeKey " + a_key_, "application/json",
                            R"({"wait_s":0})");
  EXPECT_EQ(node.status, 401);
  EXPECT_NE(node.body.find("node_invalid"), std::string::npos) << node.body;
  auto enroll =
      api_->request("POST", "/agent/v1/enroll", "", "application/json",
                    R"({"enroll_secret":")" + a_.enroll_secret + R"(","host":"h","version":"v"})");
  EXPECT_EQ(enroll.status, 401) << enroll.body;
  EXPECT_EQ(api_->request("DELETE", "/admin/v1/tenants/" + a_.tenant_id, "Bearer " + admin_).status,
            404);
  EXPECT_EQ(aTickets(), 0u) << "the operators' ticket list still shows the deleted tenant's";
  EXPECT_FALSE(aAgents());
  // B is untouched.
  auto b_runs = api_->request("GET", "/api/v1/runs", "Bearer " + b_.api_token);
  EXPECT_EQ(b_runs.status, 200);
  EXPECT_EQ(b_runs.json.at("runs").as_array().size(), 1u);
  EXPECT_EQ(api_->request("POST", "/agent/v1/poll", "NodeKey " + b_key_, "application/json",
                          R"({"wait_s":0})")
                .status,
            200);
  // And a restart does not bring A back.
  ASSERT_TRUE(cp_->stop().has_value());
  // Nothing of A's is left in the control DB for a component to act on: its schedule can never
  // fire, its agents' health and its tickets are gone.
  for (const auto& [table, n] : controlRowsOfA()) EXPECT_EQ(n, 0) << table;
  ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
  EXPECT_FALSE(fs::exists(store));
  EXPECT_EQ(api_->request("GET", "/api/v1/runs", "Bearer " + a_.api_token).status, 401);
}

TEST_F(IsolationTest, TheCommandLineDeletesATenantWhileTheServerIsStopped) {
  ASSERT_TRUE(cp_->stop().has_value());
  const std::string store = dir_.path() + "/cp/tenants/" + a_.tenant_id + ".db";
  ASSERT_TRUE(fs::exists(store));
  auto [rc, out] =
      runCommand({cpBinary(), "tenant", "delete", "--data-dir", dir_.path() + "/cp", a_.tenant_id});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_FALSE(fs::exists(store));
  for (const auto& [table, n] : controlRowsOfA()) EXPECT_EQ(n, 0) << table;
  auto [rc2, out2] =
      runCommand({cpBinary(), "tenant", "delete", "--data-dir", dir_.path() + "/cp", a_.tenant_id});
  EXPECT_NE(rc2, 0) << "a second delete finds nothing: " << out2;
  ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
  EXPECT_EQ(api_->request("GET", "/api/v1/runs", "Bearer " + a_.api_token).status, 401);
  EXPECT_EQ(api_->request("GET", "/api/v1/runs", "Bearer " + b_.api_token).status, 200);
}

TEST_F(IsolationTest, MasterKeyFileIsCreatedPrivateAndSurvivesRotation) {
  const std::string key = dir_.path() + "/cp/master.key";
  ASSERT_TRUE(fs::exists(key));
  EXPECT_EQ(fs::status(key).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_TRUE(cp_->stop().has_value());
  auto [rc, out] =
      runCommand({cpBinary(), "keys", "rotate-master", "--data-dir", dir_.path() + "/cp"});
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(cp_->start()) << readFile(cp_->logPath());
  fs::remove(key);
  ASSERT_TRUE(cp_->stop().has_value());
  // Without its master key the control plane refuses to start rather than make a new one.
  EXPECT_FALSE(cp_->start());
  EXPECT_NE(readFile(cp_->logPath()).find("master key"), std::string::npos);
}

}  // namespace
}  // namespace tenure::testing
