// Rotating a tenant's API token and enroll secret and revoking agents, over real HTTPS against
// the real service and SQLite files (LoopbackControlPlane; its ManualClock drives the token
// grace), and through the tenure-cp command line on the same data directory while it serves.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "tests/controlplane/support/loopback_control_plane.h"

namespace tenure::cp {
namespace {

namespace bj = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::LoopbackControlPlane;
using testing::LoopbackResponse;

constexpr const char* kCsv = "employee_id,given_name,family_name\nE1,Ann,Lee\n";

struct Command {
  int exit_code;
  std::string output;
};
Command runCli(const std::string& args) {
  std::string cmd = std::string(TENURE_CP_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class CredentialsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = cp_.createTenant("Aardvark");
    b_ = cp_.createTenant("Bumblebee");
    admin_ = "Bearer " + cp_.createAdminToken("ops-alice");
  }
  // What a tenant API call with `token` gets.
  int tokenStatus(const std::string& token) {
    return cp_.request("GET", "/api/v1/runs", "Bearer " + token).status;
  }
  LoopbackResponse poll(const std::string& node_key, int wait_s = 0) {
    return cp_.request("POST", "/agent/v1/poll", "NodeKey " + node_key,
                       R"({"wait_s":)" + std::to_string(wait_s) + "}");
  }
  // Enrolls an agent of `t`: its node key and agent id.
  std::pair<std::string, std::string> enrollAgent(const TenantCredentials& t) {
    auto r =
        cp_.request("POST", "/agent/v1/enroll", "",
                    R"({"enroll_secret":")" + t.enroll_secret + R"(","host":"h","version":"1"})");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return {std::string(r.json().at("node_key").as_string()),
            std::string(r.json().at("agent_id").as_string())};
  }
  std::string adminPath(const TenantCredentials& t, const std::string& rest) {
    return "/admin/v1/tenants/" + t.tenant.tenant_id + "/" + rest;
  }
  // Polls until the service holds `n` polls open (the threads below have sent theirs).
  bool waitForHeldPolls(size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (cp_.service().queue().heldPolls() == n) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
  static void expectNodeInvalid(const LoopbackResponse& r) {
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_NE(r.body.find("node_invalid"), std::string::npos) << r.body;
  }

  LoopbackControlPlane cp_;
  TenantCredentials a_, b_;
  std::string admin_;
};

TEST_F(CredentialsHttpTest, TenantRotatesItsOwnTokenAndTheOldOneIsRefusedAtOnce) {
  auto r = cp_.request("POST", "/api/v1/api-token/rotate", "Bearer " + a_.api_token);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string fresh(r.json().at("api_token").as_string());
  EXPECT_NE(fresh, a_.api_token);
  EXPECT_TRUE(r.json().at("previous_valid_until").is_null()) << r.body;
  EXPECT_EQ(tokenStatus(fresh), 200);
  EXPECT_EQ(tokenStatus(a_.api_token), 401);
  // B is untouched.
  EXPECT_EQ(tokenStatus(b_.api_token), 200);
}

TEST_F(CredentialsHttpTest, OldTokenIsAcceptedWithinTheGraceAndRefusedAfterIt) {
  auto r =
      cp_.request("POST", adminPath(a_, "api-token/rotate"), admin_, R"({"grace_seconds":300})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string fresh(r.json().at("api_token").as_string());
  EXPECT_EQ(r.json().at("previous_valid_until").as_string(),
            formatIso8601Utc(cp_.clock().nowUnixMillis() / 1000 + 300));
  EXPECT_EQ(tokenStatus(fresh), 200);
  EXPECT_EQ(tokenStatus(a_.api_token), 200);
  cp_.clock().advance(seconds(299));
  EXPECT_EQ(tokenStatus(a_.api_token), 200);
  // SCIM (the HR system's push) takes the same token, with the same grace.
  EXPECT_EQ(cp_.request("GET", "/scim/v2/Users", "Bearer " + a_.api_token).status, 200);
  cp_.clock().advance(seconds(1));
  EXPECT_EQ(tokenStatus(a_.api_token), 401);
  EXPECT_EQ(cp_.request("GET", "/scim/v2/Users", "Bearer " + a_.api_token).status, 401);
  EXPECT_EQ(tokenStatus(fresh), 200);
  EXPECT_EQ(cp_.request("GET", "/scim/v2/Users", "Bearer " + fresh).status, 200);
}

TEST_F(CredentialsHttpTest, RotatingAgainEndsTheEarlierGrace) {
  auto first = cp_.request("POST", "/api/v1/api-token/rotate", "Bearer " + a_.api_token,
                           R"({"grace_seconds":3600})");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string t1(first.json().at("api_token").as_string());
  auto second = cp_.request("POST", "/api/v1/api-token/rotate", "Bearer " + t1, "{}");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(tokenStatus(a_.api_token), 401);
  EXPECT_EQ(tokenStatus(t1), 401);
  EXPECT_EQ(tokenStatus(std::string(second.json().at("api_token").as_string())), 200);
}

TEST_F(CredentialsHttpTest, ATokenInItsGraceCannotRotateTheTenantsToken) {
  auto r = cp_.request("POST", adminPath(a_, "api-token/rotate"), admin_,
                       R"({"grace_seconds":3600})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string fresh(r.json().at("api_token").as_string());
  // Whoever still holds the replaced (maybe leaked) token may use it until the grace ends, but
  // cannot lock the holder of the new one out by rotating again.
  auto refused = cp_.request("POST", "/api/v1/api-token/rotate", "Bearer " + a_.api_token);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(tokenStatus(fresh), 200);
  EXPECT_EQ(tokenStatus(a_.api_token), 200);
  auto own = cp_.request("POST", "/api/v1/api-token/rotate", "Bearer " + fresh);
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST_F(CredentialsHttpTest, UnknownFieldsAndOutOfRangeValuesAre400WithFieldAndReason) {
  struct Bad {
    std::string target;
    std::string body;
    std::string field;
  };
  const std::string self = "/api/v1/api-token/rotate";
  const std::string admin = adminPath(a_, "api-token/rotate");
  const std::string secret = adminPath(a_, "enroll-secret/rotate");
  const std::string revoke = adminPath(a_, "agents/a_0000000000000000/revoke");
  const std::vector<Bad> cases = {
      {self, R"({"grace_seconds":-1})", "grace_seconds"},
      {self, R"({"grace_seconds":604801})", "grace_seconds"},
      {self, R"({"grace_seconds":18446744073709551615})", "grace_seconds"},
      {self, R"({"grace_seconds":"60"})", "grace_seconds"},
      {self, R"({"grace_seconds":1.5})", "grace_seconds"},
      {self, R"({"grace_seconds":null})", "grace_seconds"},
      {self, R"({"grace":60})", "grace"},
      {self, R"({"tenant_id":")" + b_.tenant.tenant_id + R"("})", "tenant_id"},
      {self + "?tenant_id=" + b_.tenant.tenant_id, "", "tenant_id"},
      {self, "[60]", ""},
      {self, "{not json", ""},
      {admin, R"({"grace_seconds":604801})", "grace_seconds"},
      {admin, R"({"api_token":"mine"})", "api_token"},
      {secret, R"({"enroll_secret":"mine"})", "enroll_secret"},
      {revoke, R"({"reason":"x"})", "reason"},
  };
  for (const auto& c : cases) {
    const std::string auth =
        c.target == self || c.target.starts_with(self + "?") ? "Bearer " + a_.api_token : admin_;
    auto r = cp_.request("POST", c.target, auth, c.body);
    ASSERT_EQ(r.status, 400) << c.target << " " << c.body << ": " << r.body;
    EXPECT_EQ(r.json().at("error").as_string(), "bad_request") << r.body;
    EXPECT_EQ(r.json().at("field").as_string(), c.field) << c.body << ": " << r.body;
    EXPECT_FALSE(r.json().at("reason").as_string().empty()) << r.body;
  }
  // Nothing was rotated by any of them.
  EXPECT_EQ(tokenStatus(a_.api_token), 200);
  EXPECT_EQ(tokenStatus(b_.api_token), 200);
  EXPECT_EQ(
      cp_.request("POST", "/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + a_.enroll_secret + R"(","host":"h","version":"1"})")
          .status,
      200);
  // The bounds themselves are accepted.
  auto max = cp_.request("POST", self, "Bearer " + a_.api_token, R"({"grace_seconds":604800})");
  EXPECT_EQ(max.status, 200) << max.body;
}

TEST_F(CredentialsHttpTest, EnrollWithTheOldSecretIsRefusedAndWithTheNewAccepted) {
  const std::string enrolled = cp_.enroll(a_);
  auto r = cp_.request("POST", adminPath(a_, "enroll-secret/rotate"), admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  TenantCredentials rotated = a_;
  rotated.enroll_secret = std::string(r.json().at("enroll_secret").as_string());
  EXPECT_NE(rotated.enroll_secret, a_.enroll_secret);
  auto old =
      cp_.request("POST", "/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + a_.enroll_secret + R"(","host":"h","version":"1"})");
  EXPECT_EQ(old.status, 401) << old.body;
  const std::string fresh = cp_.enroll(rotated);
  EXPECT_EQ(poll(fresh).status, 200);
  // The agent enrolled before keeps its node key, and the API token is another credential.
  EXPECT_EQ(poll(enrolled).status, 200);
  EXPECT_EQ(tokenStatus(a_.api_token), 200);
}

TEST_F(CredentialsHttpTest, RevokedAgentGets401NodeInvalidAndShowsRevokedInHealthListings) {
  const auto [key, agent] = enrollAgent(a_);
  const std::string other = cp_.enroll(a_);
  auto r = cp_.request("POST", adminPath(a_, "agents/" + agent + "/revoke"), admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json().at("revoked").as_bool());
  expectNodeInvalid(poll(key));
  EXPECT_EQ(poll(other).status, 200);
  // Idempotent.
  EXPECT_EQ(cp_.request("POST", adminPath(a_, "agents/" + agent + "/revoke"), admin_).status, 200);
  for (const auto& [target, auth] :
       {std::pair{std::string("/admin/v1/agents"), admin_},
        std::pair{std::string("/api/v1/agents"), "Bearer " + a_.api_token}}) {
    auto list = cp_.request("GET", target, auth);
    ASSERT_EQ(list.status, 200) << list.body;
    int revoked = 0, live = 0;
    const bj::value doc = list.json();
    for (const auto& a : doc.at("agents").as_array()) {
      if (a.at("agent_id").as_string() == agent) {
        EXPECT_TRUE(a.at("revoked").as_bool()) << list.body;
        ++revoked;
      } else {
        EXPECT_FALSE(a.at("revoked").as_bool()) << list.body;
        ++live;
      }
    }
    EXPECT_EQ(revoked, 1) << target;
    EXPECT_EQ(live, 1) << target;
  }
}

TEST_F(CredentialsHttpTest, RevokeIs404ForAnAgentThatIsNotThatTenants) {
  const auto [b_key, b_agent] = enrollAgent(b_);
  EXPECT_EQ(cp_.request("POST", adminPath(a_, "agents/" + b_agent + "/revoke"), admin_).status,
            404);
  EXPECT_EQ(cp_.request("POST", adminPath(a_, "agents/a_0000000000000000/revoke"), admin_).status,
            404);
  EXPECT_EQ(
      cp_.request("POST", "/admin/v1/tenants/t_0000000000000000/agents/" + b_agent + "/revoke",
                  admin_)
          .status,
      404);
  EXPECT_EQ(
      cp_.request("POST", "/admin/v1/tenants/t_0000000000000000/api-token/rotate", admin_).status,
      404);
  EXPECT_EQ(cp_.request("POST", "/admin/v1/tenants/t_0000000000000000/enroll-secret/rotate", admin_)
                .status,
            404);
  EXPECT_EQ(poll(b_key).status, 200) << "B's agent must still work";
  EXPECT_EQ(cp_.request("GET", adminPath(a_, "api-token/rotate"), admin_).status, 405);
}

TEST_F(CredentialsHttpTest, TenantTokensCannotUseTheAdminRoutesNorAdminTokensTheTenantRoute) {
  const std::string agent = enrollAgent(a_).second;
  for (const std::string& token : {a_.api_token, b_.api_token}) {
    for (const std::string& rest :
         {std::string("api-token/rotate"), std::string("enroll-secret/rotate"),
          "agents/" + agent + "/revoke"}) {
      auto r = cp_.request("POST", adminPath(a_, rest), "Bearer " + token);
      EXPECT_EQ(r.status, 401) << rest << ": " << r.body;
    }
  }
  EXPECT_EQ(cp_.request("POST", "/api/v1/api-token/rotate", admin_).status, 401);
  // B rotating "its" token rotates only B's: A's keeps working, whatever B puts in the path.
  auto b = cp_.request("POST", "/api/v1/api-token/rotate", "Bearer " + b_.api_token);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(cp_.request("POST", "/api/v1/tenants/" + a_.tenant.tenant_id + "/api-token/rotate",
                        "Bearer " + std::string(b.json().at("api_token").as_string()))
                .status,
            404);
  EXPECT_EQ(tokenStatus(a_.api_token), 200);
  EXPECT_EQ(tokenStatus(b_.api_token), 401);
  EXPECT_FALSE(cp_.control().listAgents(a_.tenant.tenant_id).value().at(0).revoked);
}

TEST_F(CredentialsHttpTest, RevokedAgentsLeasedJobGoesToAnotherAgentAfterTheLease) {
  const auto [k1, a1] = enrollAgent(a_);
  const auto [k2, a2] = enrollAgent(a_);
  const std::string run = cp_.uploadCsv(a_, kCsv);
  auto leased = poll(k1);
  ASSERT_EQ(leased.status, 200) << leased.body;
  ASSERT_EQ(leased.json().at("jobs").as_array().size(), 1u) << leased.body;
  const std::string job(leased.json().at("jobs").at(0).at("job_id").as_string());
  ASSERT_EQ(cp_.request("POST", adminPath(a_, "agents/" + a1 + "/revoke"), admin_).status, 200);
  expectNodeInvalid(
      cp_.request("POST", "/agent/v1/jobs/" + job + "/progress", "NodeKey " + k1, "{}"));
  expectNodeInvalid(cp_.request("POST", "/agent/v1/jobs/" + job + "/result", "NodeKey " + k1,
                                R"({"status":"succeeded"})"));
  auto early = poll(k2);
  ASSERT_EQ(early.status, 200);
  EXPECT_TRUE(early.json().at("jobs").as_array().empty()) << "the lease still runs: " << early.body;
  // Lease (120 s) plus the retry backoff after one attempt.
  cp_.clock().advance(seconds(125));
  auto taken = poll(k2);
  ASSERT_EQ(taken.status, 200) << taken.body;
  ASSERT_EQ(taken.json().at("jobs").as_array().size(), 1u) << taken.body;
  EXPECT_EQ(taken.json().at("jobs").at(0).at("job_id").as_string(), job);
  EXPECT_EQ(taken.json().at("jobs").at(0).at("attempt").as_int64(), 2);
  auto done = cp_.request("POST", "/agent/v1/jobs/" + job + "/result", "NodeKey " + k2,
                          R"({"status":"succeeded"})");
  EXPECT_EQ(done.status, 200) << done.body;
  auto r = cp_.request("GET", "/api/v1/runs/" + run, "Bearer " + a_.api_token);
  EXPECT_EQ(r.json().at("agent_id").as_string(), a2) << r.body;
}

TEST_F(CredentialsHttpTest, RevokedAgentsHeldPollIsAnsweredAndTheNextJobGoesToAnotherAgent) {
  const auto [k1, a1] = enrollAgent(a_);
  const std::string k2 = cp_.enroll(a_);
  auto held = std::async(std::launch::async, [&, k1 = k1] { return poll(k1, 30); });
  ASSERT_TRUE(waitForHeldPolls(1));
  ASSERT_EQ(cp_.request("POST", adminPath(a_, "agents/" + a1 + "/revoke"), admin_).status, 200);
  ASSERT_EQ(held.wait_for(seconds(10)), std::future_status::ready) << "the held poll was kept";
  expectNodeInvalid(held.get());
  EXPECT_EQ(cp_.service().queue().heldPolls(), 0u);
  cp_.uploadCsv(a_, kCsv);
  auto taken = poll(k2);
  ASSERT_EQ(taken.status, 200) << taken.body;
  EXPECT_EQ(taken.json().at("jobs").as_array().size(), 1u) << taken.body;
}

TEST_F(CredentialsHttpTest, AgentRevokedElsewhereWhileItsPollIsHeldLeasesNothing) {
  // Revoked in the database only (as `tenure-cp agent revoke` does from another process): the
  // service learns it when it tries to hand the revoked agent's held poll a job.
  const auto [k1, a1] = enrollAgent(a_);
  const std::string k2 = cp_.enroll(a_);
  auto first = std::async(std::launch::async, [&, k1 = k1] { return poll(k1, 30); });
  ASSERT_TRUE(waitForHeldPolls(1));
  auto second = std::async(std::launch::async, [&] { return poll(k2, 30); });
  ASSERT_TRUE(waitForHeldPolls(2));
  ASSERT_TRUE(cp_.control().revokeAgent(a_.tenant.tenant_id, a1).isOk());
  cp_.uploadCsv(a_, kCsv);
  ASSERT_EQ(first.wait_for(seconds(10)), std::future_status::ready);
  ASSERT_EQ(second.wait_for(seconds(10)), std::future_status::ready);
  expectNodeInvalid(first.get());
  auto got = second.get();
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json().at("jobs").as_array().size(), 1u) << got.body;
}

TEST_F(CredentialsHttpTest, RotationsAndRevocationsAreAuditedWithTheActorAndNoSecret) {
  const std::string agent = enrollAgent(a_).second;
  std::vector<std::string> secrets;
  auto r1 =
      cp_.request("POST", adminPath(a_, "api-token/rotate"), admin_, R"({"grace_seconds":60})");
  ASSERT_EQ(r1.status, 200);
  secrets.emplace_back(r1.json().at("api_token").as_string());
  auto r2 = cp_.request("POST", adminPath(a_, "enroll-secret/rotate"), admin_);
  ASSERT_EQ(r2.status, 200);
  secrets.emplace_back(r2.json().at("enroll_secret").as_string());
  ASSERT_EQ(cp_.request("POST", adminPath(a_, "agents/" + agent + "/revoke"), admin_).status, 200);
  auto r3 = cp_.request("POST", "/api/v1/api-token/rotate", "Bearer " + secrets[0]);
  ASSERT_EQ(r3.status, 200);
  secrets.emplace_back(r3.json().at("api_token").as_string());

  auto log = cp_.request("GET", "/admin/v1/audit?limit=1000&tenant=" + a_.tenant.tenant_id, admin_);
  ASSERT_EQ(log.status, 200) << log.body;
  std::vector<std::tuple<std::string, std::string, std::string>> seen;  // kind, principal, action
  const bj::value doc = log.json();
  for (const auto& e : doc.at("entries").as_array()) {
    const std::string action(e.at("action").as_string());
    if (action != "rotate" && action != "revoke") continue;
    EXPECT_EQ(e.at("status").as_int64(), 200);
    seen.emplace_back(e.at("principal_kind").as_string(), e.at("principal").as_string(),
                      std::string(e.at("resource").as_string()));
  }
  const std::string t = "tenants/" + a_.tenant.tenant_id + "/";
  ASSERT_EQ(seen.size(), 4u) << log.body;
  EXPECT_EQ(seen[0], std::make_tuple("operator", "ops-alice", t + "api-token/rotate"));
  EXPECT_EQ(seen[1], std::make_tuple("operator", "ops-alice", t + "enroll-secret/rotate"));
  EXPECT_EQ(seen[2], std::make_tuple("operator", "ops-alice", t + "agents/" + agent + "/revoke"));
  EXPECT_EQ(seen[3], std::make_tuple("tenant_token", "Aardvark", std::string("api-token/rotate")));
  for (const auto& s : secrets) EXPECT_EQ(log.body.find(s), std::string::npos) << "secret logged";
}

TEST_F(CredentialsHttpTest, CommandLineRotatesAndRevokesWhileTheServerRunsAndIsAudited) {
  const std::string dir = cp_.dataDir().string();
  const auto [key, agent] = enrollAgent(a_);

  auto token = runCli("tenant rotate-token --data-dir " + dir + " " + a_.tenant.tenant_id +
                      " --grace-seconds 60");
  ASSERT_EQ(token.exit_code, 0) << token.output;
  auto tj = bj::parse(token.output).as_object();
  const std::string fresh(tj.at("api_token").as_string());
  EXPECT_FALSE(tj.at("previous_valid_until").is_null());
  // The CLI's grace runs on the system clock, the server's check on its ManualClock (2023): the
  // previous token's grace is seen as far in the future, so both work here.
  EXPECT_EQ(tokenStatus(fresh), 200);
  EXPECT_EQ(tokenStatus(a_.api_token), 200);

  auto secret = runCli("tenant rotate-enroll-secret --data-dir " + dir + " " + a_.tenant.tenant_id);
  ASSERT_EQ(secret.exit_code, 0) << secret.output;
  TenantCredentials rotated = a_;
  rotated.enroll_secret = std::string(bj::parse(secret.output).at("enroll_secret").as_string());
  EXPECT_EQ(
      cp_.request("POST", "/agent/v1/enroll", "",
                  R"({"enroll_secret":")" + a_.enroll_secret + R"(","host":"h","version":"1"})")
          .status,
      401);
  cp_.enroll(rotated);

  auto revoke = runCli("agent revoke --data-dir " + dir + " " + a_.tenant.tenant_id + " " + agent);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.output;
  expectNodeInvalid(poll(key));
  auto again = runCli("agent revoke --data-dir " + dir + " " + a_.tenant.tenant_id + " " + agent);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(bj::parse(again.output).at("was_revoked_already").as_bool()) << again.output;
  auto theirs = runCli("agent revoke --data-dir " + dir + " " + b_.tenant.tenant_id + " " + agent);
  EXPECT_NE(theirs.exit_code, 0) << theirs.output;

  // Bad input is refused and changes nothing.
  for (const std::string& args :
       {"tenant rotate-token --data-dir " + dir + " " + a_.tenant.tenant_id +
            " --grace-seconds 604801",
        "tenant rotate-token --data-dir " + dir + " " + a_.tenant.tenant_id + " --grace-seconds -5",
        "tenant rotate-token --data-dir " + dir + " " + a_.tenant.tenant_id + " --grace 5",
        "tenant rotate-token --data-dir " + dir + " t_0000000000000000",
        "agent revoke --data-dir " + dir + " " + a_.tenant.tenant_id}) {
    auto bad = runCli(args);
    EXPECT_NE(bad.exit_code, 0) << args << ": " << bad.output;
  }
  EXPECT_EQ(tokenStatus(fresh), 200);

  auto log = cp_.request("GET", "/api/v1/audit?limit=1000", "Bearer " + fresh);
  ASSERT_EQ(log.status, 200) << log.body;
  std::vector<std::string> cli;
  const bj::value doc = log.json();
  for (const auto& e : doc.at("entries").as_array()) {
    if (e.at("method").as_string() != "CLI") continue;
    EXPECT_EQ(e.at("principal_kind").as_string(), "operator");
    EXPECT_TRUE(e.at("principal").as_string().starts_with("cli:")) << e;
    cli.push_back(std::string(e.at("action").as_string()) + " " +
                  std::string(e.at("resource").as_string()));
  }
  const std::string t = "tenants/" + a_.tenant.tenant_id + "/";
  EXPECT_EQ(cli, (std::vector<std::string>{"rotate " + t + "api-token/rotate",
                                           "rotate " + t + "enroll-secret/rotate",
                                           "revoke " + t + "agents/" + agent + "/revoke",
                                           "revoke " + t + "agents/" + agent + "/revoke"}))
      << log.body;
  EXPECT_EQ(log.body.find(fresh), std::string::npos);
  EXPECT_EQ(log.body.find(rotated.enroll_secret), std::string::npos);
  auto usage = runCli("--help");
  EXPECT_NE(usage.output.find("tenant rotate-token --data-dir DIR TENANT_ID [--grace-seconds N]"),
            std::string::npos);
  EXPECT_NE(usage.output.find("agent revoke --data-dir DIR TENANT_ID AGENT_ID"), std::string::npos);
}

TEST_F(CredentialsHttpTest, AdminTokensAreListedRotatedAndRevokedFromTheCommandLine) {
  const std::string dir = cp_.dataDir().string();
  auto adminStatus = [&](const std::string& token) {
    return cp_.request("GET", "/admin/v1/agents", "Bearer " + token).status;
  };
  auto created = runCli("admin-token create --data-dir " + dir + " ops-bob");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string first(bj::parse(created.output).at("token").as_string());
  EXPECT_EQ(adminStatus(first), 200);

  auto list = runCli("admin-token list --data-dir " + dir);
  ASSERT_EQ(list.exit_code, 0) << list.output;
  std::vector<std::string> names;
  const bj::value listed = bj::parse(list.output);
  for (const auto& t : listed.at("admin_tokens").as_array()) {
    names.emplace_back(t.at("name").as_string());
    EXPECT_TRUE(t.as_object().contains("created_at")) << list.output;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"ops-alice", "ops-bob"}));
  EXPECT_EQ(list.output.find(first), std::string::npos);

  // Rotation: the old secret stops at once, the new one works, the other operator is untouched.
  auto rotated = runCli("admin-token rotate --data-dir " + dir + " ops-bob");
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  const std::string second(bj::parse(rotated.output).at("token").as_string());
  EXPECT_NE(second, first);
  EXPECT_EQ(adminStatus(first), 401);
  EXPECT_EQ(adminStatus(second), 200);
  EXPECT_EQ(cp_.request("GET", "/admin/v1/agents", admin_).status, 200);

  auto revoked = runCli("admin-token revoke --data-dir " + dir + " ops-bob");
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  EXPECT_TRUE(bj::parse(revoked.output).at("revoked").as_bool());
  EXPECT_EQ(adminStatus(second), 401);
  EXPECT_EQ(cp_.request("GET", "/admin/v1/agents", admin_).status, 200);

  // Unknown names, a missing name and stray flags are refused and change nothing.
  for (const std::string& args :
       {"admin-token rotate --data-dir " + dir + " ops-bob",
        "admin-token revoke --data-dir " + dir + " ops-bob",
        "admin-token revoke --data-dir " + dir,
        "admin-token list --data-dir " + dir + " --grace-seconds 5",
        "admin-token create --data-dir " + dir + " ops-alice",
        "admin-token rename --data-dir " + dir + " ops-alice"}) {
    auto bad = runCli(args);
    EXPECT_NE(bad.exit_code, 0) << args << ": " << bad.output;
  }
  EXPECT_EQ(cp_.request("GET", "/admin/v1/agents", admin_).status, 200);

  // Each change is in the control chain, by the invoking login, without the secret.
  auto log = cp_.request("GET", "/admin/v1/audit?limit=1000", admin_);
  ASSERT_EQ(log.status, 200) << log.body;
  std::vector<std::string> cli;
  const bj::value entries = log.json();
  for (const auto& e : entries.at("entries").as_array()) {
    if (e.at("method").as_string() != "CLI") continue;
    EXPECT_TRUE(e.at("principal").as_string().starts_with("cli:")) << e;
    EXPECT_EQ(e.at("tenant_id").as_string(), "") << e;
    cli.push_back(std::string(e.at("action").as_string()) + " " +
                  std::string(e.at("resource").as_string()));
  }
  EXPECT_EQ(cli, (std::vector<std::string>{"change admin-tokens/ops-bob",
                                           "rotate admin-tokens/ops-bob/rotate",
                                           "revoke admin-tokens/ops-bob/revoke"}))
      << log.body;
  EXPECT_EQ(log.body.find(first), std::string::npos);
  EXPECT_EQ(log.body.find(second), std::string::npos);
}

}  // namespace
}  // namespace tenure::cp
