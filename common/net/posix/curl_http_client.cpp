#include "common/net/curl_http_client.h"

#include "common/net/posix/curl_global.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace tenure::net {
namespace {

// libcurl calls this about once a second (and on every transfer event); non-zero aborts.
int abortCheck(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

// Idle handles kept for reuse; more concurrent requests than this simply create fresh handles.
constexpr size_t kMaxIdleHandles = 4;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

struct Sink {
  std::string* body;
  size_t limit;
  bool truncate = false;
  bool overflowed = false;
};

size_t writeBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (sink->body->size() + n > sink->limit) {
    if (sink->truncate) {
      sink->body->append(data, sink->limit - sink->body->size());
      return n;  // the rest is read and dropped
    }
    sink->overflowed = true;
    return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

// Keeps the headers of the final answer: a new status line (after 100 Continue, a proxy's
// CONNECT answer) starts over.
size_t readHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  const size_t n = size * nmemb;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  auto notSpace = [](char ch) { return ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n'; };
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && !notSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && !notSpace(value.back())) value.remove_suffix(1);
  headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return n;
}

// Certificate and TLS-configuration failures will not fix themselves on retry: an operator must
// act (wrong CA file, interception proxy, expired or mismatched certificate).
bool isTlsVerificationError(CURLcode rc) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return true;
    default:
      return false;
  }
}

bool isUsageError(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct CurlHttpClient::Handle {
  CURL* easy = nullptr;
  ~Handle() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

CurlHttpClient::CurlHttpClient(HttpClientSettings settings) : settings_(std::move(settings)) {
  initCurlOnce();
}

CurlHttpClient::~CurlHttpClient() = default;

std::unique_ptr<CurlHttpClient::Handle> CurlHttpClient::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->easy = curl_easy_init();
  if (h->easy == nullptr) return nullptr;
  return h;
}

void CurlHttpClient::release(std::unique_ptr<Handle> h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(h));
}

Result<HttpResponse> CurlHttpClient::send(const HttpRequest& request) {
  const std::string what = describeRequest(request);
  if (settings_.https_only && request.url.rfind("https://", 0) != 0) {
    return configError(what + ": only https:// URLs are allowed");
  }
  std::unique_ptr<Handle> handle = acquire();
  if (handle == nullptr) return internalError("curl_easy_init failed");
  CURL* c = handle->easy;
  // Reset drops every option of the previous request but keeps live connections, the DNS cache and
  // TLS session IDs, which is what keep-alive needs.
  curl_easy_reset(c);

  const size_t max_bytes = request.max_response_bytes.value_or(settings_.max_response_bytes);
  const auto connect_timeout = request.connect_timeout.value_or(settings_.connect_timeout);
  const std::string& ca_file = request.ca_file.empty() ? settings_.ca_file : request.ca_file;
  HttpResponse response;
  Sink sink{&response.body, max_bytes, request.truncate_response};
  char errbuf[CURL_ERROR_SIZE] = {0};

  CurlList headers;
  bool has_content_type = false;
  bool ok = true;
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "Content-Type")) has_content_type = true;
    ok = ok && headers.add(name + ": " + value);
  }
  if (!has_content_type && !settings_.default_content_type.empty()) {
    ok = ok && headers.add("Content-Type: " + settings_.default_content_type);
  }
  // libcurl would otherwise wait up to a second for "100 Continue" on larger POST bodies.
  ok = ok && headers.add("Expect:");
  if (!ok) return internalError("cannot build request headers");

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  // Nothing but http(s), whatever the URL says; the caller decides where plain http is acceptable.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, settings_.https_only ? "https" : "https,http");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // signals are not thread-safe; we run in many threads
  if (!settings_.user_agent.empty()) {
    curl_easy_setopt(c, CURLOPT_USERAGENT, settings_.user_agent.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
  // Never follow a redirect: a credential must not follow a Location header elsewhere.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  // Long-polls sit idle for tens of seconds; keepalive probes stop NAT boxes and proxies from
  // silently dropping the connection underneath us.
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 20L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
  if (!request.truncate_response) {
    // Refuse early when the server announces an oversized body; the write callback catches the
    // rest.
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &writeBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &readHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  if (request.basic_auth) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.basic_auth->user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.basic_auth->password.c_str());
  }
  // Proxy settings are deliberately not touched: libcurl then reads http_proxy, https_proxy and
  // no_proxy from the environment, which is how customer IT configures outbound access.

  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method != "POST")
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  }

  if (settings_.abort != nullptr) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &abortCheck);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(settings_.abort));
  }
  const CURLcode rc = curl_easy_perform(c);
  // The options point into this frame (headers, error buffer, sink, credentials); clear them
  // before the handle goes back to the pool.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  curl_easy_setopt(c, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
  curl_easy_setopt(c, CURLOPT_HEADERDATA, static_cast<void*>(nullptr));

  if (rc != CURLE_OK) {
    const std::string msg =
        what + ": " + (errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc));
    // A failed handle may hold a half-used connection; dropping it is cheaper than reasoning about
    // it.
    handle.reset();
    if (sink.overflowed || rc == CURLE_FILESIZE_EXCEEDED) {
      return dataError(what + ": response larger than " + std::to_string(max_bytes) + " bytes",
                       static_cast<int>(rc));
    }
    if (isTlsVerificationError(rc)) return configError(msg, static_cast<int>(rc));
    if (isUsageError(rc)) return configError(msg, static_cast<int>(rc));
    return transientError(msg, static_cast<int>(rc));
  }

  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  char* ct = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != nullptr) {
    response.content_type = ct;
  }
  release(std::move(handle));
  return response;
}

}  // namespace tenure::net
