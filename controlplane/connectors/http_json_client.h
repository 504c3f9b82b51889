#pragma once
// HttpJsonClient: the generic core of HR pull connectors. One JSON request to an HR system's API
// through the injected outbound HTTP client (common/net), with the protections a control plane needs when it talks to the Internet on a
// tenant's behalf: https only (plain http only to a loopback address, for tests), TLS peer and host
// verification, no redirects (the credential must not follow a Location header elsewhere), a
// connect and a whole-request timeout, a cap on the response size, and retries of the same
// request on 5xx, 429 (honouring Retry-After) and transport failures with capped exponential
// backoff. Errors never carry the credential.

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "common/net/http_client.h"

namespace tenure::cp::connectors {

struct JsonRequest {
  std::string method = "GET";  // GET | POST
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Accept and Authorization
  std::string body;  // POST only, sent as Content-Type: application/json
  // HTTP Basic credentials (user name, password); empty user: no Authorization header.
  std::string basic_user;
  std::string basic_password;
};

struct HttpJsonOptions {
  std::chrono::milliseconds timeout{30'000};          // whole request (one attempt)
  std::chrono::milliseconds connect_timeout{10'000};
  size_t max_response_bytes = 32u << 20;  // larger answers are refused (kData), never buffered
  int max_attempts = 4;                   // first try + retries, per request
  std::chrono::milliseconds backoff_initial{500};  // doubled after each failed attempt
  std::chrono::milliseconds backoff_max{30'000};
  // Upper bound on a server's Retry-After; a longer wait fails the request instead (a pull must
  // not hang for hours because a server says so).
  std::chrono::milliseconds retry_after_max{120'000};
  std::string ca_file;  // extra trust anchors (PEM); empty: the HTTP client's (the system store)
  std::string user_agent = "tenure-cp";  // sent as the User-Agent header
};

// How the client waits between attempts. Tests inject one that records the waits.
using Sleeper = std::function<void(std::chrono::milliseconds)>;

// True when `url` may be used: https://host..., or http:// to 127.0.0.0/8, ::1 or localhost.
// No user info, no fragment. A config error says why not.
Status checkConnectorUrl(const std::string& url);

// The Retry-After value in milliseconds: delay-seconds or an HTTP date relative to `now`;
// nullopt when absent or unreadable.
std::optional<std::chrono::milliseconds> parseRetryAfter(const std::string& value,
                                                         std::chrono::system_clock::time_point now);

class HttpJsonClient {
 public:
  // `http` moves the bytes (it must outlive this client); the policy above is this class's.
  HttpJsonClient(net::HttpClient& http, HttpJsonOptions options, Sleeper sleeper = {});

  // Sends `request` and parses a 2xx answer as JSON. Retries 5xx, 408, 429 and transport
  // failures up to max_attempts. Errors: 401/403 kPermission (native code: the HTTP status),
  // 404 and other 4xx kConfig, exhausted retries kTransient, a body that is not JSON or too
  // large kData, a refused URL or TLS verification failure kConfig.
  Result<boost::json::value> fetch(const JsonRequest& request) const;

 private:
  net::HttpRequest toHttpRequest(const JsonRequest& request) const;

  net::HttpClient& http_;
  HttpJsonOptions options_;
  Sleeper sleeper_;
};

}  // namespace tenure::cp::connectors
