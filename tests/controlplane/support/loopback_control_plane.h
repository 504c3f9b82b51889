#pragma once
// A real control plane for tests: ControlStore and TenantStores on SQLite files in a temp dir, the
// ControlPlaneService behind the real HttpServer (TLS, self-signed certificate, 127.0.0.1 port 0)
// on its own io thread, a ManualClock, and a libcurl client that verifies the certificate and
// keeps the response headers.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/base/clock.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/http/http_server.h"
#include "controlplane/service/control_plane_service.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp::testing {

struct LoopbackResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower case
  std::string header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? "" : it->second;
  }
  boost::json::value json() const;
};

class LoopbackControlPlane {
 public:
  // `start_ms`: the ManualClock's initial time.
  explicit LoopbackControlPlane(int64_t start_ms = 1'700'000'000'000);
  ~LoopbackControlPlane();

  LoopbackResponse request(const std::string& method, const std::string& target,
                           const std::string& authorization, const std::string& body = "",
                           const std::string& content_type = "application/json");

  TenantCredentials createTenant(const std::string& name);
  std::string createAdminToken(const std::string& name);
  // Enrolls an agent of the tenant; returns its node key.
  std::string enroll(const TenantCredentials& t);
  // Uploads CSV; returns the run id (expects 202).
  std::string uploadCsv(const TenantCredentials& t, const std::string& csv);
  // Leases the next job of the agent and posts `result_json` for it; returns the job id.
  std::string completeNextJob(const std::string& node_key, const std::string& result_json);

  ManualClock& clock() { return clock_; }
  ControlStore& control() { return *control_; }
  ControlPlaneService& service() { return *service_; }
  TenantStores& tenants() { return *tenants_; }
  const std::filesystem::path& dataDir() const { return dir_; }
  std::string url() const { return url_; }

 private:
  std::filesystem::path dir_;
  ManualClock clock_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::string ca_file_;
  std::string url_;
};

}  // namespace tenure::cp::testing
