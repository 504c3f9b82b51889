#include "controlplane/connectors/http_json_client.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <thread>

namespace tenure::cp::connectors {
namespace {

namespace bj = boost::json;

// Only literal loopback addresses and "localhost": a DNS name that merely starts with "127."
// must not unlock plain http.
bool isLoopbackHost(const boost::urls::url_view& u) {
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      return u.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6:
      return u.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name:
      return u.host() == "localhost";
    default:
      return false;
  }
}

// The URL without its query: errors name the endpoint, and a query never carries secrets here,
// but keeping messages short keeps tickets readable.
std::string endpointOf(const std::string& url) { return url.substr(0, url.find('?')); }

}  // namespace

Status checkConnectorUrl(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return configError("not an absolute URL: " + url);
  const std::string scheme = parsed->scheme();
  const std::string host = parsed->host();
  if (host.empty()) return configError("URL has no host: " + url);
  if (parsed->has_userinfo()) return configError("URL must not carry user info");
  if (parsed->has_fragment()) return configError("URL must not have a fragment");
  if (scheme == "https") return Status::ok();
  if (scheme == "http" && isLoopbackHost(*parsed)) return Status::ok();
  if (scheme == "http") {
    return configError("plain http is refused (only https; http only to a loopback address)");
  }
  return configError("unsupported URL scheme '" + scheme + "' (use https)");
}

std::optional<std::chrono::milliseconds> parseRetryAfter(
    const std::string& value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](unsigned char ch) { return std::isdigit(ch) != 0; })) {
    if (value.size() > 9) return std::chrono::milliseconds::max();
    return std::chrono::seconds(std::stol(value));
  }
  // HTTP-date (IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

HttpJsonClient::HttpJsonClient(net::HttpClient& http, HttpJsonOptions options, Sleeper sleeper)
    : http_(http), options_(std::move(options)), sleeper_(std::move(sleeper)) {
  if (!sleeper_) sleeper_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

net::HttpRequest HttpJsonClient::toHttpRequest(const JsonRequest& request) const {
  net::HttpRequest r;
  r.method = request.method == "POST" ? "POST" : "GET";
  r.url = request.url;
  r.headers.emplace_back("Accept", "application/json");
  for (const auto& h : request.headers) r.headers.push_back(h);
  if (r.method == "POST") {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = request.body;
  }
  if (!options_.user_agent.empty()) r.headers.emplace_back("User-Agent", options_.user_agent);
  r.timeout = options_.timeout;
  r.connect_timeout = options_.connect_timeout;
  r.max_response_bytes = options_.max_response_bytes;
  r.ca_file = options_.ca_file;
  if (!request.basic_user.empty()) {
    r.basic_auth = net::BasicAuth{request.basic_user, request.basic_password};
  }
  return r;
}

Result<bj::value> HttpJsonClient::fetch(const JsonRequest& request) const {
  RETURN_IF_ERROR(checkConnectorUrl(request.url));
  const std::string what = request.method + " " + endpointOf(request.url);
  const net::HttpRequest http_request = toHttpRequest(request);
  std::chrono::milliseconds backoff = options_.backoff_initial;
  Status last;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    std::chrono::milliseconds wait = backoff;
    auto raw = http_.send(http_request);
    if (!raw.isOk()) {
      if (raw.status().errorClass() != ErrorClass::kTransient) return raw.status();
      last = raw.status();
    } else if (raw->status >= 200 && raw->status < 300) {
      boost::system::error_code ec;
      bj::value v = bj::parse(raw->body, ec);
      if (ec) return dataError(what + ": the answer is not valid JSON (" + ec.message() + ")");
      return v;
    } else if (raw->status == 401 || raw->status == 403) {
      return permissionError(what + ": HTTP " + std::to_string(raw->status) +
                                 " (the API key is wrong, revoked or lacks access)",
                             raw->status);
    } else if (raw->status == 429 || raw->status == 408 || raw->status >= 500) {
      last = transientError(what + ": HTTP " + std::to_string(raw->status), raw->status);
      if (raw->status == 429 || raw->status == 503) {
        if (auto ra =
                parseRetryAfter(raw->header("Retry-After"), std::chrono::system_clock::now())) {
          if (*ra > options_.retry_after_max) {
            return transientError(what + ": HTTP " + std::to_string(raw->status) +
                                      ", Retry-After longer than the connector waits",
                                  raw->status);
          }
          wait = *ra;
        }
      }
    } else {
      return configError(what + ": HTTP " + std::to_string(raw->status), raw->status);
    }
    if (attempt < options_.max_attempts) {
      sleeper_(wait);
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
  }
  return last.withContext("after " + std::to_string(options_.max_attempts) + " attempts");
}

}  // namespace tenure::cp::connectors
