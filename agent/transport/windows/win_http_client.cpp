#include "agent/transport/windows/win_http_client.h"

#include <windows.h>
#include <wincrypt.h>
#include <winhttp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/base/windows/tls_trust.h"
#include "common/base/windows/wide.h"

namespace tenure::agent {

namespace {

using win::narrow;
using win::widen;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string winHttpErrorText(DWORD err) { return win::errorText(err, L"winhttp.dll"); }

// Certificate and TLS failures will not fix themselves on retry: an operator must act (wrong CA
// file, interception proxy, expired or mismatched certificate).
bool isTlsError(DWORD err) {
  switch (err) {
    case ERROR_WINHTTP_SECURE_FAILURE:
    case ERROR_WINHTTP_SECURE_CERT_CN_INVALID:
    case ERROR_WINHTTP_SECURE_CERT_DATE_INVALID:
    case ERROR_WINHTTP_SECURE_INVALID_CA:
    case ERROR_WINHTTP_SECURE_CERT_REV_FAILED:
    case ERROR_WINHTTP_SECURE_CERT_REVOKED:
    case ERROR_WINHTTP_SECURE_INVALID_CERT:
    case ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE:
    case ERROR_WINHTTP_SECURE_CHANNEL_ERROR:
    case ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED:
      return true;
    default:
      return false;
  }
}

bool isUsageError(DWORD err) {
  return err == ERROR_WINHTTP_INVALID_URL || err == ERROR_WINHTTP_UNRECOGNIZED_SCHEME;
}

struct HInternet {
  HINTERNET h = nullptr;
  HInternet() = default;
  explicit HInternet(HINTERNET x) : h(x) {}
  ~HInternet() {
    if (h != nullptr) WinHttpCloseHandle(h);
  }
  HInternet(const HInternet&) = delete;
  HInternet& operator=(const HInternet&) = delete;
};

// Per-request state seen by the WinHTTP status callback.
struct RequestContext {
  HCERTSTORE private_roots = nullptr;
  std::wstring host;
  bool cert_rejected = false;
};

// Runs after the TLS handshake and before the request is sent: the place to apply our own trust
// decision when the server's root is the configured private CA.
void CALLBACK onStatus(HINTERNET request, DWORD_PTR context, DWORD status, LPVOID, DWORD) {
  if (status != WINHTTP_CALLBACK_STATUS_SENDING_REQUEST || context == 0) return;
  auto* ctx = reinterpret_cast<RequestContext*>(context);
  PCCERT_CONTEXT cert = nullptr;
  DWORD size = sizeof cert;
  bool ok = WinHttpQueryOption(request, WINHTTP_OPTION_SERVER_CERT_CONTEXT, &cert, &size) &&
            cert != nullptr;
  if (ok) ok = win::serverCertificateTrusted(cert, ctx->private_roots, ctx->host);
  if (cert != nullptr) CertFreeCertificateContext(cert);
  if (!ok) {
    ctx->cert_rejected = true;
    // Closing the handle here cancels the request before a byte of it is sent.
    WinHttpCloseHandle(request);
  }
}

// Cancels a synchronous request from another thread when the abort flag is raised: closing a
// WinHTTP handle is the documented way to interrupt a blocking call on it.
class AbortWatch {
 public:
  AbortWatch(const std::atomic<bool>* abort, HINTERNET request) : abort_(abort), request_(request) {
    if (abort_ != nullptr) thread_ = std::thread([this] { watch(); });
  }
  ~AbortWatch() { finish(); }
  // Stops watching; true when the watch closed the request (the caller must not close it again).
  bool finish() {
    if (thread_.joinable()) {
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    return fired_;
  }

 private:
  void watch() {
    std::unique_lock lock(mu_);
    while (!done_) {
      if (abort_->load()) {
        fired_ = true;
        WinHttpCloseHandle(request_);
        return;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
  }

  const std::atomic<bool>* abort_;
  HINTERNET request_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
};

}  // namespace

struct WinHttpClient::Session {
  HINTERNET handle = nullptr;
  // Fallback when automatic proxy is unavailable: the service account's Internet Options.
  std::wstring named_proxy;
  std::wstring proxy_bypass;
  HCERTSTORE private_roots = nullptr;
  std::string private_roots_error;
  ~Session() {
    if (handle != nullptr) WinHttpCloseHandle(handle);
    if (private_roots != nullptr) CertCloseStore(private_roots, 0);
  }
};

WinHttpClient::WinHttpClient(HttpClientSettings settings)
    : settings_(std::move(settings)), session_(std::make_unique<Session>()) {
  const std::wstring agent = widen(settings_.user_agent);
  // Windows 8.1+: WinHTTP resolves the proxy like the rest of the system (WPAD, PAC, static).
  session_->handle = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY,
                                 WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
  if (session_->handle == nullptr) {
    WINHTTP_CURRENT_USER_IE_PROXY_CONFIG ie{};
    if (WinHttpGetIEProxyConfigForCurrentUser(&ie)) {
      if (ie.lpszProxy != nullptr) session_->named_proxy = ie.lpszProxy;
      if (ie.lpszProxyBypass != nullptr) session_->proxy_bypass = ie.lpszProxyBypass;
      if (ie.lpszProxy != nullptr) GlobalFree(ie.lpszProxy);
      if (ie.lpszProxyBypass != nullptr) GlobalFree(ie.lpszProxyBypass);
      if (ie.lpszAutoConfigUrl != nullptr) GlobalFree(ie.lpszAutoConfigUrl);
    }
    if (!session_->named_proxy.empty()) {
      session_->handle = WinHttpOpen(
          agent.c_str(), WINHTTP_ACCESS_TYPE_NAMED_PROXY, session_->named_proxy.c_str(),
          session_->proxy_bypass.empty() ? WINHTTP_NO_PROXY_BYPASS : session_->proxy_bypass.c_str(),
          0);
    } else {
      // The machine-wide WinHTTP proxy (netsh winhttp set proxy), or none.
      session_->handle = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_DEFAULT_PROXY,
                                     WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
    }
  }
  if (session_->handle != nullptr) {
    DWORD protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2;
#ifdef WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3
    protocols |= WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3;
#endif
    if (!WinHttpSetOption(session_->handle, WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                          sizeof protocols)) {
      protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2;
      WinHttpSetOption(session_->handle, WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                       sizeof protocols);
    }
  }
  if (!settings_.ca_file.empty()) {
    session_->private_roots = win::loadPemBundle(settings_.ca_file, &session_->private_roots_error);
  }
}

WinHttpClient::~WinHttpClient() = default;

Result<HttpResponse> WinHttpClient::send(const HttpRequest& request) {
  const std::string what = request.method + " " + request.url;
  if (session_->handle == nullptr) {
    return internalError(what + ": WinHttpOpen failed: " + winHttpErrorText(GetLastError()));
  }
  if (!settings_.ca_file.empty() && session_->private_roots == nullptr) {
    return configError(what + ": " + session_->private_roots_error);
  }
  if (settings_.abort != nullptr && settings_.abort->load()) {
    return transientError(what + ": aborted");
  }

  const std::wstring url = widen(request.url);
  URL_COMPONENTS parts{};
  parts.dwStructSize = sizeof parts;
  parts.dwHostNameLength = static_cast<DWORD>(-1);
  parts.dwUrlPathLength = static_cast<DWORD>(-1);
  parts.dwExtraInfoLength = static_cast<DWORD>(-1);
  parts.dwSchemeLength = static_cast<DWORD>(-1);
  if (!WinHttpCrackUrl(url.c_str(), static_cast<DWORD>(url.size()), 0, &parts)) {
    return configError(what + ": invalid URL", static_cast<int>(GetLastError()));
  }
  const bool https = parts.nScheme == INTERNET_SCHEME_HTTPS;
  const std::wstring host(parts.lpszHostName, parts.dwHostNameLength);
  std::wstring path(parts.lpszUrlPath, parts.dwUrlPathLength);
  path.append(parts.lpszExtraInfo, parts.dwExtraInfoLength);
  if (path.empty()) path = L"/";

  HInternet connection(WinHttpConnect(session_->handle, host.c_str(), parts.nPort, 0));
  if (connection.h == nullptr) {
    return transientError(what + ": " + winHttpErrorText(GetLastError()),
                          static_cast<int>(GetLastError()));
  }
  const std::wstring method = widen(request.method);
  HINTERNET raw_request =
      WinHttpOpenRequest(connection.h, method.c_str(), path.c_str(), nullptr, WINHTTP_NO_REFERER,
                         WINHTTP_DEFAULT_ACCEPT_TYPES, https ? WINHTTP_FLAG_SECURE : 0);
  if (raw_request == nullptr) {
    return internalError(what + ": " + winHttpErrorText(GetLastError()),
                         static_cast<int>(GetLastError()));
  }
  // Owned here unless the certificate callback or the abort watch closes it.
  bool request_closed = false;

  const int connect_ms = static_cast<int>(settings_.connect_timeout.count());
  const int total_ms = static_cast<int>(request.timeout.count());
  WinHttpSetTimeouts(raw_request, connect_ms, connect_ms, total_ms, total_ms);
  DWORD no_redirects = WINHTTP_DISABLE_REDIRECTS;
  WinHttpSetOption(raw_request, WINHTTP_OPTION_DISABLE_FEATURE, &no_redirects,
                   sizeof no_redirects);

  RequestContext ctx;
  if (https && session_->private_roots != nullptr) {
    // Schannel would reject a private root; the callback decides instead, before sending.
    DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA;
    WinHttpSetOption(raw_request, WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof flags);
    ctx.private_roots = session_->private_roots;
    ctx.host = host;
    WinHttpSetStatusCallback(raw_request, &onStatus, WINHTTP_CALLBACK_FLAG_SEND_REQUEST, 0);
  }

  std::wstring headers;
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "Content-Type")) has_content_type = true;
    headers += widen(name) + L": " + widen(value) + L"\r\n";
  }
  if (!has_content_type && request.method != "GET") headers += L"Content-Type: application/json\r\n";

  AbortWatch watch(settings_.abort, raw_request);
  auto fail = [&](DWORD err) -> Status {
    request_closed = watch.finish() || ctx.cert_rejected;
    if (!request_closed) WinHttpCloseHandle(raw_request);
    request_closed = true;
    if (settings_.abort != nullptr && settings_.abort->load()) {
      return transientError(what + ": aborted", static_cast<int>(err));
    }
    if (ctx.cert_rejected) {
      return configError(what + ": the server certificate is not trusted (not by the Windows "
                                "store, nor by " + settings_.ca_file + ")",
                         static_cast<int>(ERROR_WINHTTP_SECURE_INVALID_CA));
    }
    const std::string msg = what + ": " + winHttpErrorText(err);
    if (isTlsError(err)) return configError(msg, static_cast<int>(err));
    if (isUsageError(err)) return configError(msg, static_cast<int>(err));
    return transientError(msg, static_cast<int>(err));
  };

  if (!WinHttpSendRequest(raw_request, headers.empty() ? WINHTTP_NO_ADDITIONAL_HEADERS : headers.c_str(),
                          static_cast<DWORD>(headers.size()),
                          request.body.empty() ? WINHTTP_NO_REQUEST_DATA
                                               : const_cast<char*>(request.body.data()),
                          static_cast<DWORD>(request.body.size()),
                          static_cast<DWORD>(request.body.size()),
                          reinterpret_cast<DWORD_PTR>(&ctx))) {
    return fail(GetLastError());
  }
  if (!WinHttpReceiveResponse(raw_request, nullptr)) return fail(GetLastError());

  HttpResponse response;
  DWORD status = 0;
  DWORD size = sizeof status;
  if (!WinHttpQueryHeaders(raw_request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                           WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX)) {
    return fail(GetLastError());
  }
  response.status = static_cast<int>(status);
  wchar_t ct[256];
  size = sizeof ct;
  if (WinHttpQueryHeaders(raw_request, WINHTTP_QUERY_CONTENT_TYPE, WINHTTP_HEADER_NAME_BY_INDEX, ct,
                          &size, WINHTTP_NO_HEADER_INDEX)) {
    response.content_type = narrow(std::wstring_view(ct, size / sizeof(wchar_t)));
  }
  // Refuse early when the server announces an oversized body; the read loop catches the rest.
  DWORD length = 0;
  size = sizeof length;
  const bool has_length =
      WinHttpQueryHeaders(raw_request, WINHTTP_QUERY_CONTENT_LENGTH | WINHTTP_QUERY_FLAG_NUMBER,
                          WINHTTP_HEADER_NAME_BY_INDEX, &length, &size, WINHTTP_NO_HEADER_INDEX);
  auto too_large = [&]() -> Status {
    request_closed = watch.finish();
    if (!request_closed) WinHttpCloseHandle(raw_request);
    request_closed = true;
    return dataError(what + ": response larger than " +
                     std::to_string(settings_.max_response_bytes) + " bytes");
  };
  if (has_length && length > settings_.max_response_bytes) return too_large();

  std::vector<char> buf(64 * 1024);
  for (;;) {
    DWORD got = 0;
    if (!WinHttpReadData(raw_request, buf.data(), static_cast<DWORD>(buf.size()), &got)) {
      return fail(GetLastError());
    }
    if (got == 0) break;
    if (response.body.size() + got > settings_.max_response_bytes) return too_large();
    response.body.append(buf.data(), got);
  }
  request_closed = watch.finish();
  if (!request_closed) WinHttpCloseHandle(raw_request);
  return response;
}

}  // namespace tenure::agent
