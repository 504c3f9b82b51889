#include "agent/transport/control_plane_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>

namespace tenure::agent {
namespace {

constexpr std::chrono::seconds kPollGrace{15};

std::string trimTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// Job ids come from the server; escape them anyway so no id can change the request path.
std::string escapePathSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 0xF]);
    }
  }
  return out;
}

std::optional<protocol::ErrorBody> errorBodyOf(const HttpResponse& r) {
  auto v = protocol::parseJsonText(r.body);
  if (!v) return std::nullopt;
  auto e = protocol::parseErrorBody(*v);
  if (!e) return std::nullopt;
  return std::move(e).value();
}

bool isNodeInvalid(const HttpResponse& r) {
  if (r.status != 401) return false;
  auto e = errorBodyOf(r);
  return e && e->error == protocol::kErrNodeInvalid;
}

std::string describeBody(const HttpResponse& r) {
  if (auto e = errorBodyOf(r)) {
    if (!e->message.empty()) return e->error.empty() ? e->message : e->error + ": " + e->message;
    if (!e->error.empty()) return e->error;
  }
  // Not our JSON (a proxy's or load balancer's page): a short printable excerpt helps the operator.
  std::string excerpt;
  for (char ch : r.body.substr(0, 200)) {
    excerpt.push_back(std::isprint(static_cast<unsigned char>(ch)) ? ch : ' ');
  }
  return excerpt.empty() ? "(empty body)" : excerpt;
}

template <typename T, typename Parse>
Result<T> parseBody(const HttpResponse& r, std::string_view what, Parse parse) {
  auto v = protocol::parseJsonText(r.body);
  if (!v) return v.status().withContext(std::string(what) + ": malformed response");
  auto parsed = parse(*v);
  if (!parsed) return parsed.status().withContext(std::string(what) + ": malformed response");
  return std::move(parsed).value();
}

}  // namespace

Status statusFromHttpResponse(const HttpResponse& r, std::string_view what) {
  const std::string msg =
      std::string(what) + ": HTTP " + std::to_string(r.status) + ": " + describeBody(r);
  const int s = r.status;
  if (s >= 500 || s == 408 || s == 429) return transientError(msg, s);
  if (s == 401 || s == 403) return permissionError(msg, s);
  if (s == 404) return notFoundError(msg, s);
  if (s == 409) return conflictError(msg, s);
  if (s >= 400) return dataError(msg, s);
  // A redirect or other surprise means the URL points at something that is not our control plane.
  return configError(msg, s);
}

ControlPlaneClient::ControlPlaneClient(HttpClient& http, NodeKeyStore& keys, ControlPlaneSettings s)
    : http_(http),
      keys_(keys),
      settings_(std::move(s)),
      base_url_(trimTrailingSlashes(settings_.url)),
      rng_(std::random_device{}()) {}

std::string ControlPlaneClient::endpoint(std::string_view path) const {
  return base_url_ + std::string(path);
}

std::string ControlPlaneClient::agentId() const {
  std::lock_guard lock(key_mu_);
  return agent_id_;
}

Status ControlPlaneClient::enroll() {
  std::lock_guard lock(enroll_mu_);
  if (settings_.enroll_secret.empty()) return configError("cannot enroll: no enroll secret");
  Status stored;
  RETURN_IF_ERROR(enrollLocked(&stored));
  return stored;
}

Status ControlPlaneClient::enrollLocked(Status* stored) {
  protocol::EnrollRequest req{settings_.enroll_secret, settings_.host, settings_.version,
                              settings_.capabilities};
  HttpRequest http_req;
  http_req.url = endpoint("/agent/v1/enroll");
  http_req.body = protocol::serialize(protocol::toJson(req));
  http_req.timeout = settings_.request_timeout;
  ASSIGN_OR_RETURN(HttpResponse resp, http_.send(http_req));
  if (resp.status != 200) return statusFromHttpResponse(resp, "enroll");
  ASSIGN_OR_RETURN(
      protocol::EnrollResponse er,
      parseBody<protocol::EnrollResponse>(resp, "enroll", &protocol::parseEnrollResponse));
  if (er.node_key.empty()) return dataError("enroll: control plane returned an empty node key");
  {
    std::lock_guard lock(key_mu_);
    key_ = er.node_key;
    agent_id_ = er.agent_id;
  }
  spdlog::info("enrolled with {} as agent {}", base_url_, er.agent_id);
  *stored = keys_.save(NodeKeyRecord{er.node_key, er.agent_id, base_url_});
  if (!*stored) {
    spdlog::error(
        "enrolled, but the node key could not be stored (a restart will need to enroll "
        "again): {}",
        stored->toString());
  }
  return Status::ok();
}

Result<std::string> ControlPlaneClient::currentKey() {
  {
    std::lock_guard lock(key_mu_);
    if (!key_.empty()) return key_;
  }
  std::lock_guard enroll_lock(enroll_mu_);
  {
    std::lock_guard lock(key_mu_);
    if (!key_.empty()) return key_;  // another caller got here first
  }
  auto loaded = keys_.load();
  if (!loaded) {
    spdlog::warn("cannot read the stored node key: {}", loaded.status().toString());
  } else if (loaded->has_value()) {
    const NodeKeyRecord& rec = **loaded;
    if (trimTrailingSlashes(rec.cp_url) == base_url_) {
      std::lock_guard lock(key_mu_);
      key_ = rec.node_key;
      agent_id_ = rec.agent_id;
      return key_;
    }
    spdlog::warn("the stored node key was issued by {}, not {}; enrolling again", rec.cp_url,
                 base_url_);
  }
  if (settings_.enroll_secret.empty()) {
    if (!loaded) return loaded.status().withContext("no usable node key and no enroll secret");
    return configError("not enrolled: no node key stored and no enroll secret");
  }
  Status stored;
  RETURN_IF_ERROR(enrollLocked(&stored));
  std::lock_guard lock(key_mu_);
  return key_;
}

Status ControlPlaneClient::reenroll(const std::string& rejected_key) {
  std::lock_guard enroll_lock(enroll_mu_);
  {
    std::lock_guard lock(key_mu_);
    // Another caller already replaced the rejected key while we waited for the lock.
    if (key_ != rejected_key && !key_.empty()) return Status::ok();
  }
  if (settings_.enroll_secret.empty()) {
    return configError("node key invalid and no enroll secret");
  }
  spdlog::warn("control plane rejected the node key (node_invalid); re-enrolling");
  Status stored;
  return enrollLocked(&stored);
}

Result<HttpResponse> ControlPlaneClient::postWithKey(const std::string& path, std::string body,
                                                     std::chrono::milliseconds timeout) {
  HttpRequest req;
  req.url = endpoint(path);
  req.body = std::move(body);
  req.timeout = timeout;
  for (int round = 0;; ++round) {
    ASSIGN_OR_RETURN(std::string key, currentKey());
    req.headers = {{"Authorization", "NodeKey " + key}};
    ASSIGN_OR_RETURN(HttpResponse resp, http_.send(req));
    if (!isNodeInvalid(resp)) return resp;
    if (round > 0) {
      return permissionError(path +
                                 ": control plane rejected the node key right after "
                                 "re-enrollment",
                             resp.status);
    }
    RETURN_IF_ERROR(reenroll(key));
  }
}

Result<protocol::PollResponse> ControlPlaneClient::poll(int wait_s) {
  wait_s = std::max(0, wait_s);
  protocol::PollRequest pr;
  pr.wait_s = wait_s;
  ASSIGN_OR_RETURN(HttpResponse resp,
                   postWithKey("/agent/v1/poll", protocol::serialize(protocol::toJson(pr)),
                               std::chrono::seconds(wait_s) + kPollGrace));
  if (resp.status == 204) return protocol::PollResponse{};
  if (resp.status != 200) return statusFromHttpResponse(resp, "poll");
  return parseBody<protocol::PollResponse>(resp, "poll", &protocol::parsePollResponse);
}

Status ControlPlaneClient::postResult(const protocol::JobResult& r) {
  const std::string what = "result of job " + r.job_id;
  ASSIGN_OR_RETURN(
      HttpResponse resp,
      postWithKey("/agent/v1/jobs/" + escapePathSegment(r.job_id) + "/result",
                  protocol::serialize(protocol::toJson(r)), settings_.request_timeout));
  if (resp.status != 200 && resp.status != 204) return statusFromHttpResponse(resp, what);
  return Status::ok();
}

Result<protocol::PlanDecision> ControlPlaneClient::submitPlan(const protocol::PlanSummary& plan) {
  const std::string what = "plan of job " + plan.job_id;
  ASSIGN_OR_RETURN(
      HttpResponse resp,
      postWithKey("/agent/v1/jobs/" + escapePathSegment(plan.job_id) + "/plan",
                  protocol::serialize(protocol::toJson(plan)), settings_.request_timeout));
  if (resp.status != 200) return statusFromHttpResponse(resp, what);
  auto v = protocol::parseJsonText(resp.body);
  if (!v.isOk()) return v.status().withContext(what);
  return protocol::parsePlanDecision(*v);
}

Status ControlPlaneClient::reportProgress(const std::string& job_id) {
  ASSIGN_OR_RETURN(std::string key, currentKey());
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint("/agent/v1/jobs/" + escapePathSegment(job_id) + "/progress");
  req.headers.emplace_back("Authorization", "NodeKey " + key);
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = "{}";
  req.timeout = std::chrono::seconds(10);
  ASSIGN_OR_RETURN(HttpResponse resp, http_.send(req));
  if (resp.status != 200 && resp.status != 204) {
    return statusFromHttpResponse(resp, "progress of job " + job_id);
  }
  return Status::ok();
}

std::chrono::milliseconds ControlPlaneClient::nextBackoff(int attempt) const {
  const int64_t cap = std::max<int64_t>(0, settings_.max_backoff.count());
  const int64_t base = std::max<int64_t>(1, settings_.initial_backoff.count());
  const int exponent = std::clamp(attempt - 1, 0, 40);
  // Doubling stops once past the cap, so large attempts cannot overflow.
  int64_t ceiling = base;
  for (int i = 0; i < exponent && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  std::uniform_int_distribution<int64_t> dist(0, ceiling);
  std::lock_guard lock(rng_mu_);
  return std::chrono::milliseconds(dist(rng_));
}

}  // namespace tenure::agent
