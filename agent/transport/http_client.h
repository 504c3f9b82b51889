#pragma once
// HttpClient: the seam between the agent and the network. CurlHttpClient on Linux (libcurl),
// WinHttpClient on Windows; tests may use either against a real server on loopback.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace tenure::agent {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as application/json unless `headers` names a Content-Type
  std::chrono::milliseconds timeout{30'000};  // whole request
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};

struct HttpClientSettings {
  std::string ca_file;  // verify the server against this PEM bundle (empty: system store)
  std::chrono::milliseconds connect_timeout{10'000};
  std::string user_agent = "tenure-agent";
  // A larger response is refused (kData) instead of filling memory: a misbehaving proxy or server
  // must not be able to exhaust the agent.
  size_t max_response_bytes = 64u << 20;
  // When set and it becomes true, requests in flight are abandoned (kTransient "aborted") within
  // about a second: a held long-poll must not delay the agent's shutdown.
  const std::atomic<bool>* abort = nullptr;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A response with any HTTP status is ok(); only transport failures (DNS, connect, TLS, timeout)
  // are errors, classed kTransient (or kConfig for certificate problems and unusable URLs, kData
  // for a response over max_response_bytes).
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

}  // namespace tenure::agent
