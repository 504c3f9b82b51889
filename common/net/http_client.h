#pragma once
// HttpClient: the one seam between Tenure and outbound HTTP(S). The agent talks to the control
// plane through it; the control plane's sinks, HR connectors and the preview CLI talk to the
// outside world through it. Implementations: CurlHttpClient (libcurl, POSIX), WinHttpClient
// (WinHTTP, the Windows agent) and, in tests, FakeHttpClient (tests/mocks/fake_http_client.h).
// What is policy (which schemes a caller accepts, retries, how an HTTP status maps to an error)
// stays with the caller; the client only moves bytes, safely: TLS peer and host verification are
// always on, redirects are never followed, every request has a deadline and its answer a size cap.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace tenure::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// HTTP Basic credentials; never part of an error message.
struct BasicAuth {
  std::string user;
  std::string password;
};

struct HttpRequest {
  std::string method = "POST";  // GET sends no body; any other method sends `body`
  std::string url;
  HttpHeaders headers;
  // Sent with HttpClientSettings::default_content_type unless `headers` names a Content-Type.
  std::string body;
  std::chrono::milliseconds timeout{30'000};  // whole request
  // Per-request overrides of the client's settings (unset / empty: the client's).
  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<size_t> max_response_bytes;
  std::string ca_file;
  // Over max_response_bytes: keep the first max_response_bytes and drop the rest (a caller that
  // only needs the status and the start of the answer) instead of refusing the answer (kData).
  bool truncate_response = false;
  std::optional<BasicAuth> basic_auth;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  // The final answer's headers in the order received (names as the server spelled them).
  HttpHeaders headers;

  // The last value of header `name` (case-insensitive), trimmed; "" when absent.
  std::string header(std::string_view name) const;
};

struct HttpClientSettings {
  std::string ca_file;  // verify the server against this PEM bundle (empty: system store)
  std::chrono::milliseconds connect_timeout{10'000};
  std::string user_agent = "tenure-agent";
  // A larger response is refused (kData) instead of filling memory: a misbehaving proxy or server
  // must not be able to exhaust the process.
  size_t max_response_bytes = 64u << 20;
  // Added when a request names no Content-Type (the agent protocol is JSON); empty: none.
  std::string default_content_type = "application/json";
  // Only https:// URLs (the preview CLI: a bearer token never goes out in the clear); otherwise
  // http:// too, and the caller decides where plain http is acceptable.
  bool https_only = false;
  // When set and it becomes true, requests in flight are abandoned (kTransient "aborted") within
  // about a second: a held long-poll must not delay the agent's shutdown.
  const std::atomic<bool>* abort = nullptr;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A response with any HTTP status is ok(); only transport failures (DNS, connect, TLS, timeout)
  // are errors, classed kTransient (or kConfig for certificate problems and unusable URLs, kData
  // for a response over max_response_bytes). Messages name the method and the URL without its
  // query, never credentials.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

// "METHOD url-without-query": how errors name a request.
std::string describeRequest(const HttpRequest& request);

}  // namespace tenure::net
