// The route table: matching, parameters, 404/405, authentication before anything is said about a
// path, audit recording; and the control plane's own table (built by its composition root), listed
// with every route's authentication kind.

#include "controlplane/api/route_table.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <iostream>
#include <set>

#include "controlplane/main/control_plane.h"

namespace tenure::cp::api {
namespace {

namespace fs = std::filesystem;

// Accepts "Bearer good" for every kind; counts its calls.
class FakeAuthenticator : public Authenticator {
 public:
  std::variant<Principal, AuthRefusal> authenticate(AuthKind kind,
                                                    const HttpServerRequest& req) override {
    ++calls;
    if (req.header("authorization") != "Bearer good") {
      return AuthRefusal{401, "unauthorized", "no", Status::ok()};
    }
    Principal p;
    p.kind = kind;
    p.tenant.tenant_id = "t1";
    return p;
  }
  int calls = 0;
};

class RouteTableTest : public ::testing::Test {
 protected:
  RouteTableTest()
      : table_(auth_, [this](const ApiRequest&, const RouteInfo& route, Responder w) {
          audited_.push_back(route.method + " " + route.pattern);
          return w;
        }) {
    table_.addSurface({"/api/v1", AuthKind::kTenantToken});
  }

  HttpServerResponse call(const std::string& method, const std::string& path,
                          const std::string& authorization = "Bearer good") {
    HttpServerRequest req;
    req.method = method;
    req.path = path;
    if (!authorization.empty()) req.headers["authorization"] = authorization;
    HttpServerResponse out;
    out.status = 0;
    table_.handle(req, [&out](HttpServerResponse r) { out = std::move(r); });
    return out;
  }

  // A handler answering 200 with "<tenant> <params...>".
  static Handler echo() {
    return [](ApiRequest& r, Responder w) {
      HttpServerResponse res;
      res.body = r.principal.tenantId();
      for (const auto& [k, v] : r.params) res.body += " " + k + "=" + v;
      w(std::move(res));
    };
  }

  FakeAuthenticator auth_;
  std::vector<std::string> audited_;
  RouteTable table_;
};

TEST_F(RouteTableTest, MatchesPatternsAndPassesTheirParameters) {
  ASSERT_TRUE(table_.add({"GET", "/api/v1/runs/{run_id}", AuthKind::kTenantToken, echo()}).isOk());
  ASSERT_TRUE(
      table_.add({"GET", "/api/v1/runs/{run_id}/report.{format}", AuthKind::kTenantToken, echo()})
          .isOk());
  auto r = call("GET", "/api/v1/runs/r_1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "t1 run_id=r_1");
  EXPECT_EQ(call("GET", "/api/v1/runs/r_1/report.csv").body, "t1 run_id=r_1 format=csv");
  // Empty segments are dropped, as the API always did.
  EXPECT_EQ(call("GET", "//api/v1/runs/r_2/").body, "t1 run_id=r_2");
  EXPECT_EQ(call("GET", "/api/v1/runs/r_1/report.").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/runs/r_1/summary.csv").status, 404);
}

TEST_F(RouteTableTest, AnotherMethodOnAKnownPathIs405WithAllow) {
  ASSERT_TRUE(table_.add({"GET", "/api/v1/policy", AuthKind::kTenantToken, echo()}).isOk());
  ASSERT_TRUE(table_.add({"PUT", "/api/v1/policy", AuthKind::kTenantToken, echo()}).isOk());
  auto r = call("DELETE", "/api/v1/policy");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["Allow"], "GET, PUT");
}

TEST_F(RouteTableTest, CredentialIsCheckedBeforeA404Or405UnderASurface) {
  ASSERT_TRUE(table_.add({"GET", "/api/v1/policy", AuthKind::kTenantToken, echo()}).isOk());
  EXPECT_EQ(call("GET", "/api/v1/nothing-here", "").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/policy", "Bearer bad").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/nothing-here").status, 404);
  // Outside every surface there is nothing to authenticate for.
  auth_.calls = 0;
  EXPECT_EQ(call("GET", "/elsewhere", "").status, 404);
  EXPECT_EQ(auth_.calls, 0);
}

TEST_F(RouteTableTest, UnauthenticatedRoutesNeverAskTheAuthenticator) {
  ASSERT_TRUE(table_.add({"GET", "/healthz", AuthKind::kNone, echo()}).isOk());
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(auth_.calls, 0);
}

TEST_F(RouteTableTest, OnlyAuditedRoutesAreRecorded) {
  ASSERT_TRUE(table_.add({"GET", "/api/v1/runs", AuthKind::kTenantToken, echo()}).isOk());
  ASSERT_TRUE(table_.add({"POST", "/api/v1/poll", AuthKind::kNodeKey, echo()}).isOk());
  ASSERT_TRUE(table_.add({"POST", "/api/v1/result", AuthKind::kNodeKey, echo(), true}).isOk());
  call("GET", "/api/v1/runs");
  call("POST", "/api/v1/poll");
  call("POST", "/api/v1/result");
  call("GET", "/api/v1/runs", "Bearer bad");  // refused: never reaches the log as a request
  EXPECT_EQ(audited_, (std::vector<std::string>{"GET /api/v1/runs", "POST /api/v1/result"}));
}

TEST_F(RouteTableTest, ARouteWithoutAnAuthenticationKindOrTwiceIsRefused) {
  EXPECT_FALSE(table_.add({"GET", "/api/v1/x", AuthKind::kUnspecified, echo()}).isOk());
  EXPECT_FALSE(table_.add({"GET", "/api/v1/x"}).isOk());
  ASSERT_TRUE(table_.add({"GET", "/api/v1/x", AuthKind::kTenantToken, echo()}).isOk());
  EXPECT_FALSE(table_.add({"GET", "/api/v1/x", AuthKind::kAdminToken, echo()}).isOk());
  EXPECT_FALSE(table_.add({"GET", "api/v1/y", AuthKind::kTenantToken, echo()}).isOk());
  EXPECT_EQ(table_.routes().size(), 1u);
}

// The control plane's table as tenure-cp builds it: every route, with its kind, in the test's
// output; none without a kind; only health and enrollment open to everyone; every route under the
// surface of its kind.
TEST(ControlPlaneRoutesTest, EveryRouteNamesItsAuthenticationKind) {
  std::string tmpl = (fs::temp_directory_path() / "tenure-routes-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  std::vector<RouteInfo> routes;
  {
    boost::asio::io_context io;
    ManualClock clock(1'700'000'000'000);
    ControlPlaneOptions options;
    options.data_dir = tmpl;
    auto cp = ControlPlane::open(io, clock, options);
    ASSERT_TRUE(cp.isOk()) << cp.status().toString();
    routes = (*cp)->api().routes();
  }
  fs::remove_all(tmpl);

  std::set<std::string> open_routes;
  for (const auto& r : routes) {
    std::cout << r.method << " " << r.pattern << " " << authKindName(r.auth)
              << (r.audited ? " audited" : "") << "\n";
    EXPECT_NE(r.auth, AuthKind::kUnspecified) << r.method << " " << r.pattern;
    if (r.auth == AuthKind::kNone) open_routes.insert(r.method + " " + r.pattern);
    const std::string expected_prefix = r.auth == AuthKind::kNodeKey     ? "/agent/v1/"
                                        : r.auth == AuthKind::kAdminToken ? "/admin/v1/"
                                                                          : "";
    if (!expected_prefix.empty()) {
      EXPECT_TRUE(r.pattern.starts_with(expected_prefix)) << r.pattern;
    }
    if (r.auth == AuthKind::kTenantToken) {
      EXPECT_TRUE(r.pattern.starts_with("/api/v1/") || r.pattern.starts_with("/scim/v2/"))
          << r.pattern;
      EXPECT_TRUE(r.audited) << r.pattern;
    }
    if (r.auth == AuthKind::kAdminToken) {
      EXPECT_TRUE(r.audited) << r.pattern;
    }
  }
  EXPECT_EQ(open_routes, (std::set<std::string>{"GET /healthz", "POST /agent/v1/enroll"}));
  EXPECT_GT(routes.size(), 50u);
}

}  // namespace
}  // namespace tenure::cp::api
