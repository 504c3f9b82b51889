#pragma once
// ControlPlaneClient: the agent's side of protocol v1 (enroll, long-poll, result upload).
// It holds the node key (cached in a NodeKeyStore), re-enrolls exactly when the control plane says
// the key is unknown (HTTP 401 `node_invalid`) and never for any other failure, so a control-plane
// outage cannot cause a re-enrollment storm. Retrying is the caller's loop, paced by nextBackoff().

#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "agent/enroll/node_key_store.h"
#include "agent/transport/http_client.h"
#include "common/base/status.h"
#include "common/protocol/messages.h"

namespace tenure::agent {

struct ControlPlaneSettings {
  std::string url;            // base URL, e.g. "https://cp.example.com:8443"
  std::string enroll_secret;  // may be empty when a key is stored
  std::string host;
  std::string version;
  std::vector<std::string> capabilities;
  std::chrono::milliseconds max_backoff{60'000};
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds request_timeout{30'000};  // enroll and result upload
};

class ControlPlaneClient {
 public:
  // `http` and `keys` must outlive the client. Thread-safe: poll() and postResult() may run
  // concurrently; a key rejection seen by several callers leads to one re-enrollment.
  ControlPlaneClient(HttpClient& http, NodeKeyStore& keys, ControlPlaneSettings s);

  // Enrolls now with the enroll secret and stores the key. When only storing fails, the key is
  // still used in memory and the store's error is returned.
  Status enroll();

  // One long-poll; the server may hold it up to `wait_s`. Uses the stored key (enrolling first
  // when there is none) and re-enrolls once on node_invalid.
  Result<protocol::PollResponse> poll(int wait_s);

  // One upload attempt; re-enrolls once on node_invalid.
  Status postResult(const protocol::JobResult& r);

  // Sends the job's plan before anything is applied; the control plane checks the tenant's safety
  // thresholds and answers whether to proceed. Re-enrolls once on node_invalid.
  Result<protocol::PlanDecision> submitPlan(const protocol::PlanSummary& plan);

  // Tells the control plane the job is still being worked on, which extends its lease. One short
  // attempt (no re-enrollment): a missed heartbeat only risks the lease, never the work.
  Status reportProgress(const std::string& job_id);

  // Delay before retry number `attempt` (1-based): uniform in [0, min(max_backoff,
  // initial_backoff * 2^(attempt-1))] ("full jitter"), so agents that lost the control plane
  // together do not come back in lockstep.
  std::chrono::milliseconds nextBackoff(int attempt) const;

  // Empty until enrolled or a stored key was loaded.
  std::string agentId() const;

 private:
  Result<std::string> currentKey();
  Status reenroll(const std::string& rejected_key);
  // Requires enroll_mu_. Returns the enrollment outcome; `stored` gets the store's outcome.
  Status enrollLocked(Status* stored);
  Result<HttpResponse> postWithKey(const std::string& path, std::string body,
                                   std::chrono::milliseconds timeout);
  std::string endpoint(std::string_view path) const;

  HttpClient& http_;
  NodeKeyStore& keys_;
  const ControlPlaneSettings settings_;
  const std::string base_url_;  // settings_.url without a trailing '/'

  std::mutex enroll_mu_;  // one enrollment at a time; taken before key_mu_
  mutable std::mutex key_mu_;
  std::string key_;       // guarded by key_mu_
  std::string agent_id_;  // guarded by key_mu_

  mutable std::mutex rng_mu_;
  mutable std::mt19937_64 rng_;  // guarded by rng_mu_
};

// Maps a non-2xx control-plane response to a Status (401/403 kPermission, 404 kNotFound,
// 409 kConflict, 408/429/5xx kTransient, other 4xx kData), using the ErrorBody message when
// present.
Status statusFromHttpResponse(const HttpResponse& r, std::string_view what);

}  // namespace tenure::agent
