#include "controlplane/connectors/http_json_client.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <thread>

namespace tenure::cp::connectors {
namespace {

namespace bj = boost::json;

void globalInitOnce() {
  static std::once_flag once;
  // Never paired with curl_global_cleanup: other threads may still use libcurl at exit.
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string* body;
  size_t limit;
  bool overflowed = false;
};

size_t writeBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (sink->body->size() + n > sink->limit) {
    sink->overflowed = true;
    return 0;  // libcurl aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

size_t readHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* retry_after = static_cast<std::string*>(user);
  const size_t n = size * nmemb;
  std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      std::string v(line.substr(kName.size()));
      auto notSpace = [](unsigned char ch) { return !std::isspace(ch); };
      v.erase(v.begin(), std::find_if(v.begin(), v.end(), notSpace));
      v.erase(std::find_if(v.rbegin(), v.rend(), notSpace).base(), v.end());
      *retry_after = v;
    }
  }
  return n;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  bool add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

struct Easy {
  CURL* c = curl_easy_init();
  ~Easy() {
    if (c != nullptr) curl_easy_cleanup(c);
  }
};

bool isTlsVerificationError(CURLcode rc) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return true;
    default:
      return false;
  }
}

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

HttpJsonClient::HttpJsonClient(HttpJsonOptions options, Sleeper sleeper)
    : options_(std::move(options)), sleeper_(std::move(sleeper)) {
  globalInitOnce();
  if (!sleeper_) sleeper_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

Result<HttpJsonClient::Raw> HttpJsonClient::once(const JsonRequest& request) const {
  Easy easy;
  if (easy.c == nullptr) return internalError("curl_easy_init failed");
  CURL* c = easy.c;
  Raw raw;
  Sink sink{&raw.body, options_.max_response_bytes};
  char errbuf[CURL_ERROR_SIZE] = {0};

  HeaderList headers;
  bool ok = headers.add("Accept: application/json");
  for (const auto& [name, value] : request.headers) ok = ok && headers.add(name + ": " + value);
  if (request.method == "POST") ok = ok && headers.add("Content-Type: application/json");
  ok = ok && headers.add("Expect:");
  if (!ok) return internalError("cannot build request headers");

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  // Enforced by libcurl as well as by checkConnectorUrl: nothing but http(s), never a redirect.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_response_bytes));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &writeBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &readHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &raw.retry_after);
  if (!request.basic_user.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.basic_user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.basic_password.c_str());
  }
  if (request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string msg = request.method + " " + endpointOf(request.url) + ": " +
                      (errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc));
    if (sink.overflowed || rc == CURLE_FILESIZE_EXCEEDED) {
      return dataError(request.method + " " + endpointOf(request.url) + ": response larger than " +
                           std::to_string(options_.max_response_bytes) + " bytes",
                       static_cast<int>(rc));
    }
    if (isTlsVerificationError(rc)) return configError(msg, static_cast<int>(rc));
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
      return configError(msg, static_cast<int>(rc));
    }
    return transientError(msg, static_cast<int>(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  raw.status = static_cast<int>(status);
  return raw;
}

Result<bj::value> HttpJsonClient::fetch(const JsonRequest& request) const {
  RETURN_IF_ERROR(checkConnectorUrl(request.url));
  const std::string what = request.method + " " + endpointOf(request.url);
  std::chrono::milliseconds backoff = options_.backoff_initial;
  Status last;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    std::chrono::milliseconds wait = backoff;
    auto raw = once(request);
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
        if (auto ra = parseRetryAfter(raw->retry_after, std::chrono::system_clock::now())) {
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
