#pragma once
// Shared by the ticket tests: a control plane (real SQLite stores in a temp dir, the real
// ControlPlaneService and TicketService, HttpServer over TLS on a loopback port 0) driven by a
// libcurl client, with an injected ManualClock and a small reversible SecretBox.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "common/net/curl_http_client.h"
#include "common/net/curl_mail_transport.h"
#include "controlplane/http/http_server.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/service/control_plane_service.h"
#include "controlplane/tickets/ticket_service.h"

namespace tenure::cp::testing {

namespace bj = boost::json;
namespace fs = std::filesystem;

inline std::string hexOf(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Binds tenant and context like the real box does, and hides the plaintext from a byte search;
// not encryption (the AES-GCM box has its own tests).
class TestSecretBox final : public SecretBox {
 public:
  Result<std::string> seal(const std::string& tenant_id, std::string_view context,
                           std::string_view plaintext) override {
    return "tsb:" + hexOf(tenant_id + "\n" + std::string(context) + "\n") + ":" + hexOf(plaintext);
  }
  Result<std::string> open(const std::string& tenant_id, std::string_view context,
                           std::string_view sealed) override {
    const std::string prefix = "tsb:" + hexOf(tenant_id + "\n" + std::string(context) + "\n") + ":";
    if (sealed.substr(0, prefix.size()) != prefix) return dataError("sealed for something else");
    std::string hex(sealed.substr(prefix.size())), out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return out;
  }
};

struct HttpResult {
  long status = 0;
  std::string body;
  bj::value json() const { return bj::parse(body); }
};

inline size_t appendBody(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

inline std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TicketEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tenure-tickets-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
    tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
    ServiceOptions so;
    so.lease = std::chrono::milliseconds(10'000);
    so.max_attempts = 2;
    so.retry_base = std::chrono::milliseconds(0);  // re-queued jobs are ready at once here
    TicketOptions o = ticketOptions();
    tickets_ = std::make_unique<TicketService>(
        io_, *control_, *tenants_, clock_, [this] { return box_in_use_; }, transport(),
        o);
    service_ = std::make_unique<ControlPlaneService>(
        io_, *control_, *tenants_, clock_, so,
        ServiceCollaborators{.tickets = tickets_.get(), .secrets = &box_});
    api_ = std::make_unique<api::ControlPlaneApi>(
        api::ApiComponents{*control_, *tenants_, clock_, *service_, tickets_.get(), nullptr, nullptr});
    a_ = control_->createTenant("A").value();
    b_ = control_->createTenant("B").value();
    admin_ = control_->createAdminToken("olga").value().token;
  }

  virtual TicketOptions ticketOptions() {
    TicketOptions o;
    o.retry_base = std::chrono::milliseconds(1'000);
    o.retry_max = std::chrono::milliseconds(60'000);
    o.delivery_timeout = std::chrono::milliseconds(5'000);
    return o;
  }

  // Starts HTTPS on a loopback port; requests then go through request().
  void startHttp() {
    HttpServerOptions http;
    http.tls_cert_file = (dir_ / "cert.pem").string();
    http.tls_key_file = (dir_ / "key.pem").string();
    ASSERT_TRUE(ensureSelfSignedCertificate(http.tls_cert_file, http.tls_key_file).isOk());
    server_ = std::make_unique<HttpServer>(io_, http, [this](HttpServerRequest r, Responder s) {
      api_->handle(std::move(r), std::move(s));
    });
    ASSERT_TRUE(server_->start().isOk());
    work_ = std::make_unique<WorkGuard>(io_.get_executor());
    io_thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (tickets_) tickets_->stop();
    if (work_) {
      work_.reset();
      io_.stop();
      io_thread_.join();
    }
    server_.reset();
    tickets_.reset();
    api_.reset();
    service_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  HttpResult request(const std::string& method, const std::string& path, const std::string& auth,
                     const std::string& body = "",
                     const std::string& content_type = "application/json") {
    HttpResult out;
    CURL* c = curl_easy_init();
    const std::string url = "https://127.0.0.1:" + std::to_string(server_->port()) + path;
    const std::string ca = (dir_ / "cert.pem").string();
    curl_slist* h = nullptr;
    h = curl_slist_append(h, ("Content-Type: " + content_type).c_str());
    if (!auth.empty()) h = curl_slist_append(h, ("Authorization: " + auth).c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (method != "GET") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &appendBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return out;
  }

  std::string tenantAuth(const TenantCredentials& t) { return "Bearer " + t.api_token; }
  std::string adminAuth() { return "Bearer " + admin_; }

  std::vector<Ticket> ticketsOf(const TenantCredentials& t, const std::string& state = "") {
    return tickets_->list(t.tenant.tenant_id, state).value();
  }
  std::optional<Ticket> find(const TenantCredentials& t, const std::string& detector,
                             const std::string& subject) {
    for (auto& k : ticketsOf(t)) {
      if (k.detector == detector && k.subject == subject) return k;
    }
    return std::nullopt;
  }

  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  fs::path dir_;
  ManualClock clock_;
  boost::asio::io_context io_;
  TestSecretBox box_;
  SecretBox* box_in_use_ = &box_;  // what the ticket service seals sink secrets with (null: none)
  // Sinks deliver to real servers on loopback, through the control plane's libcurl clients.
  net::CurlHttpClient http_{[] {
    net::HttpClientSettings s;
    s.user_agent = "tenure-cp";
    s.default_content_type.clear();
    return s;
  }()};
  net::CurlMailTransport mail_;
  SinkTransport transport() { return SinkTransport{http_, mail_}; }
  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<api::ControlPlaneApi> api_;
  std::unique_ptr<TicketService> tickets_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<WorkGuard> work_;
  std::thread io_thread_;
  TenantCredentials a_, b_;
  std::string admin_;
};

}  // namespace tenure::cp::testing
