#pragma once
// HttpClient: the seam between the agent and the network. CurlHttpClient on Linux (libcurl),
// WinHttpClient on Windows; tests may use either against a real server on loopback.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace tenure::agent {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
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
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A response with any HTTP status is ok(); only transport failures (DNS, connect, TLS, timeout)
  // are errors, classed kTransient (or kConfig for certificate problems).
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

}  // namespace tenure::agent
