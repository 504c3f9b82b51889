#include "tests/controlplane/support/loopback_control_plane.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <algorithm>
#include <stdexcept>

#include "common/protocol/messages.h"

namespace tenure::cp::testing {

namespace bj = boost::json;
namespace fs = std::filesystem;

bj::value LoopbackResponse::json() const { return bj::parse(body); }

LoopbackControlPlane::LoopbackControlPlane(int64_t start_ms) : clock_(start_ms) {
  std::string tmpl = (fs::temp_directory_path() / "tenure-cp-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  control_ = std::move(ControlStore::open((dir_ / "control.db").string(), clock_).value());
  tenants_ = std::make_unique<TenantStores>((dir_ / "tenants").string(), clock_);
  service_ = std::make_unique<ControlPlaneService>(io_, *control_, *tenants_, clock_);
  api_ = std::make_unique<api::ControlPlaneApi>(
      api::ApiComponents{*control_, *tenants_, clock_, *service_});
  HttpServerOptions http;
  http.tls_cert_file = (dir_ / "tls" / "cert.pem").string();
  http.tls_key_file = (dir_ / "tls" / "key.pem").string();
  if (!ensureSelfSignedCertificate(http.tls_cert_file, http.tls_key_file).isOk()) {
    throw std::runtime_error("certificate");
  }
  ca_file_ = http.tls_cert_file;
  server_ = std::make_unique<HttpServer>(io_, http, [this](HttpServerRequest req, Responder r) {
    api_->handle(std::move(req), std::move(r));
  });
  if (!server_->start().isOk()) throw std::runtime_error("server start");
  url_ = "https://127.0.0.1:" + std::to_string(server_->port());
  work_ = std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
      io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

LoopbackControlPlane::~LoopbackControlPlane() {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  api_.reset();
  service_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

namespace {
size_t onBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}
size_t onHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}
}  // namespace

LoopbackResponse LoopbackControlPlane::request(const std::string& method,
                                               const std::string& target,
                                               const std::string& authorization,
                                               const std::string& body,
                                               const std::string& content_type) {
  LoopbackResponse out;
  CURL* c = curl_easy_init();
  const std::string url = url_ + target;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20'000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_slist* headers = nullptr;
  if (!authorization.empty()) {
    headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  }
  if (method != "GET") {
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc) << " for " << method << " " << target;
  out.status = static_cast<int>(status);
  return out;
}

TenantCredentials LoopbackControlPlane::createTenant(const std::string& name) {
  return control_->createTenant(name).value();
}

std::string LoopbackControlPlane::createAdminToken(const std::string& name) {
  return control_->createAdminToken(name).value().token;
}

std::string LoopbackControlPlane::enroll(const TenantCredentials& t) {
  auto r = request("POST", "/agent/v1/enroll", "",
                   R"({"enroll_secret":")" + t.enroll_secret + R"(","host":"h","version":"1"})");
  EXPECT_EQ(r.status, 200) << r.body;
  return std::string(r.json().at("node_key").as_string());
}

std::string LoopbackControlPlane::uploadCsv(const TenantCredentials& t, const std::string& csv) {
  auto r = request("POST", "/api/v1/hr/records", "Bearer " + t.api_token, csv, "text/csv");
  EXPECT_EQ(r.status, 202) << r.body;
  if (r.status != 202) return "";
  return std::string(r.json().at("run_id").as_string());
}

std::string LoopbackControlPlane::completeNextJob(const std::string& node_key,
                                                  const std::string& result_json) {
  auto p = request("POST", "/agent/v1/poll", "NodeKey " + node_key, R"({"wait_s":0})");
  EXPECT_EQ(p.status, 200) << p.body;
  auto jobs = p.json().at("jobs").as_array();
  EXPECT_EQ(jobs.size(), 1u) << p.body;
  if (jobs.empty()) return "";
  std::string job_id(jobs[0].at("job_id").as_string());
  auto r = request("POST", "/agent/v1/jobs/" + job_id + "/result", "NodeKey " + node_key,
                   result_json);
  EXPECT_EQ(r.status, 200) << r.body;
  return job_id;
}

}  // namespace tenure::cp::testing
