#include "common/net/win_http_client.h"

#include <windows.h>
#include <wincrypt.h>
#include <winhttp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/windows/tls_trust.h"
#include "common/base/windows/wide.h"

namespace tenure::net {

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

// One request's state, shared by the calling thread and WinHTTP's callbacks (async mode). The
// calling thread waits for each step on `step_done`; when it gives up (abort, deadline) it closes the
// request and returns at once, without waiting for WinHTTP to wind the request down. Everything
// WinHTTP may still touch after that (buffers, the cert store) lives here, so the context is freed
// by whichever lets go last: the caller, or the HANDLE_CLOSING callback (the last one WinHTTP makes
// for a handle).
struct RequestContext {
  std::atomic<int> refs{2};  // the caller + the request handle
  HANDLE step_done = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  // Set by the callbacks before step_done; read by the caller after it.
  DWORD completed = 0;   // the WINHTTP_CALLBACK_STATUS_* that ended the step
  DWORD error = 0;       // for REQUEST_ERROR
  DWORD bytes = 0;       // for READ_COMPLETE
  std::atomic<bool> cert_rejected{false};
  std::atomic<bool> closed{false};  // WinHttpCloseHandle was called (exactly once)
  HINTERNET request = nullptr;
  HCERTSTORE private_roots = nullptr;  // own reference (CertDuplicateStore)
  std::wstring host;
  // Handed to WinHTTP and read or written by it asynchronously.
  std::wstring headers;
  std::string body;
  std::vector<char> buffer = std::vector<char>(64 * 1024);

  ~RequestContext() {
    if (step_done != nullptr) CloseHandle(step_done);
    if (private_roots != nullptr) CertCloseStore(private_roots, 0);
  }
  void release() {
    if (refs.fetch_sub(1) == 1) delete this;
  }
  // Closes the request once, from whichever thread gets here first.
  void close() {
    if (!closed.exchange(true)) WinHttpCloseHandle(request);
  }
};

void CALLBACK onStatus(HINTERNET request, DWORD_PTR context, DWORD status, LPVOID info,
                       DWORD info_length) {
  if (context == 0) return;
  auto* ctx = reinterpret_cast<RequestContext*>(context);
  switch (status) {
    case WINHTTP_CALLBACK_STATUS_SENDING_REQUEST: {
      // After the TLS handshake, before the request is sent: where our own trust decision applies
      // when the server's root is the configured private CA.
      if (ctx->private_roots == nullptr) return;
      PCCERT_CONTEXT cert = nullptr;
      DWORD size = sizeof cert;
      bool ok = WinHttpQueryOption(request, WINHTTP_OPTION_SERVER_CERT_CONTEXT, &cert, &size) &&
                cert != nullptr;
      if (ok) ok = win::serverCertificateTrusted(cert, ctx->private_roots, ctx->host);
      if (cert != nullptr) CertFreeCertificateContext(cert);
      if (!ok) {
        ctx->cert_rejected = true;
        // Closing the handle cancels the request before a byte of it is sent.
        ctx->close();
        SetEvent(ctx->step_done);
      }
      return;
    }
    case WINHTTP_CALLBACK_STATUS_SENDREQUEST_COMPLETE:
    case WINHTTP_CALLBACK_STATUS_HEADERS_AVAILABLE:
      ctx->completed = status;
      SetEvent(ctx->step_done);
      return;
    case WINHTTP_CALLBACK_STATUS_READ_COMPLETE:
      ctx->completed = status;
      ctx->bytes = info_length;
      SetEvent(ctx->step_done);
      return;
    case WINHTTP_CALLBACK_STATUS_REQUEST_ERROR: {
      const auto* result = static_cast<const WINHTTP_ASYNC_RESULT*>(info);
      ctx->completed = status;
      ctx->error = result != nullptr ? result->dwError : ERROR_WINHTTP_INTERNAL_ERROR;
      SetEvent(ctx->step_done);
      return;
    }
    case WINHTTP_CALLBACK_STATUS_HANDLE_CLOSING:
      // Wakes a caller still waiting (a close without REQUEST_ERROR), then drops the handle's ref.
      ctx->completed = status;
      SetEvent(ctx->step_done);
      ctx->release();
      return;
    default:
      return;
  }
}

// The final answer's headers, from WinHTTP's raw header block (status line first, CRLF lines).
HttpHeaders responseHeaders(HINTERNET request) {
  HttpHeaders headers;
  DWORD size = 0;
  WinHttpQueryHeaders(request, WINHTTP_QUERY_RAW_HEADERS_CRLF, WINHTTP_HEADER_NAME_BY_INDEX,
                      WINHTTP_NO_OUTPUT_BUFFER, &size, WINHTTP_NO_HEADER_INDEX);
  if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || size == 0) return headers;
  std::wstring raw(size / sizeof(wchar_t), L'\0');
  if (!WinHttpQueryHeaders(request, WINHTTP_QUERY_RAW_HEADERS_CRLF, WINHTTP_HEADER_NAME_BY_INDEX,
                           raw.data(), &size, WINHTTP_NO_HEADER_INDEX)) {
    return headers;
  }
  raw.resize(size / sizeof(wchar_t));
  const std::string text = narrow(raw);
  size_t pos = text.find("\r\n");  // past the status line
  while (pos != std::string::npos && pos + 2 < text.size()) {
    const size_t start = pos + 2;
    const size_t end = text.find("\r\n", start);
    const std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    const size_t colon = line.find(':');
    if (colon != std::string::npos && colon > 0) {
      size_t v = colon + 1;
      while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
      headers.emplace_back(line.substr(0, colon), line.substr(v));
    }
    pos = end;
  }
  return headers;
}

enum class Wait { kDone, kAborted, kDeadline };

// Waits for the current step, checking the abort flag every 100 ms: the flag is a plain atomic
// shared with the rest of the agent, so a short wait slice is what bounds the reaction to a stop.
Wait waitStep(RequestContext& ctx, const std::atomic<bool>* abort,
              std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (abort != nullptr && abort->load()) return Wait::kAborted;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Wait::kDeadline;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    const DWORD slice = static_cast<DWORD>(std::min<int64_t>(left.count() + 1, 100));
    if (WaitForSingleObject(ctx.step_done, slice) == WAIT_OBJECT_0) return Wait::kDone;
  }
}

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

// Asynchronous WinHTTP: the calling thread waits for each step itself, so a stop is never held by a
// blocking WinHTTP call (Wine's synchronous mode does not return when the handle is closed, and a
// held long-poll lasts poll_wait_s).
constexpr DWORD kAsync = WINHTTP_FLAG_ASYNC;

WinHttpClient::WinHttpClient(HttpClientSettings settings)
    : settings_(std::move(settings)), session_(std::make_unique<Session>()) {
  const std::wstring agent = widen(settings_.user_agent);
  // Windows 8.1+: WinHTTP resolves the proxy like the rest of the system (WPAD, PAC, static).
  session_->handle = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY,
                                 WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, kAsync);
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
          kAsync);
    } else {
      // The machine-wide WinHTTP proxy (netsh winhttp set proxy), or none.
      session_->handle = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_DEFAULT_PROXY,
                                     WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, kAsync);
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
  const std::string what = describeRequest(request);
  if (settings_.https_only && request.url.rfind("https://", 0) != 0) {
    return configError(what + ": only https:// URLs are allowed");
  }
  // What only the control plane's callers ask for; the Windows agent never does.
  if (request.basic_auth || (!request.ca_file.empty() && request.ca_file != settings_.ca_file)) {
    return configError(what + ": basic_auth and a per-request ca_file are not supported here");
  }
  const size_t max_bytes = request.max_response_bytes.value_or(settings_.max_response_bytes);
  const auto connect_timeout = request.connect_timeout.value_or(settings_.connect_timeout);
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
  auto* ctx = new RequestContext();
  ctx->request = raw_request;
  // The caller's reference; the handle's is dropped by HANDLE_CLOSING.
  struct CallerRef {
    RequestContext* ctx;
    ~CallerRef() {
      ctx->close();
      ctx->release();
    }
  } caller_ref{ctx};
  if (ctx->step_done == nullptr) {
    return internalError(what + ": CreateEvent: " + win::errorText(GetLastError()));
  }
  if (WinHttpSetStatusCallback(raw_request, &onStatus,
                               WINHTTP_CALLBACK_FLAG_ALL_COMPLETIONS |
                                   WINHTTP_CALLBACK_FLAG_SEND_REQUEST |
                                   WINHTTP_CALLBACK_FLAG_HANDLES,
                               0) == WINHTTP_INVALID_STATUS_CALLBACK) {
    return internalError(what + ": WinHttpSetStatusCallback: " +
                         winHttpErrorText(GetLastError()));
  }
  DWORD_PTR context_value = reinterpret_cast<DWORD_PTR>(ctx);
  WinHttpSetOption(raw_request, WINHTTP_OPTION_CONTEXT_VALUE, &context_value,
                   sizeof context_value);

  const int connect_ms = static_cast<int>(connect_timeout.count());
  const int total_ms = static_cast<int>(request.timeout.count());
  WinHttpSetTimeouts(raw_request, connect_ms, connect_ms, total_ms, total_ms);
  // Our own bound as well: a stack that ignores its timeouts must not hold the agent.
  const auto deadline = std::chrono::steady_clock::now() + connect_timeout +
                        request.timeout + std::chrono::seconds(5);
  DWORD no_redirects = WINHTTP_DISABLE_REDIRECTS;
  WinHttpSetOption(raw_request, WINHTTP_OPTION_DISABLE_FEATURE, &no_redirects,
                   sizeof no_redirects);

  if (https && session_->private_roots != nullptr) {
    // Schannel would reject a private root; the callback decides instead, before sending.
    DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA;
    WinHttpSetOption(raw_request, WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof flags);
    ctx->private_roots = CertDuplicateStore(session_->private_roots);
    ctx->host = host;
  }

  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "Content-Type")) has_content_type = true;
    ctx->headers += widen(name) + L": " + widen(value) + L"\r\n";
  }
  if (!has_content_type && request.method != "GET" && !settings_.default_content_type.empty()) {
    ctx->headers += L"Content-Type: " + widen(settings_.default_content_type) + L"\r\n";
  }
  ctx->body = request.body;

  auto fail = [&](DWORD err) -> Status {
    ctx->close();
    if (settings_.abort != nullptr && settings_.abort->load()) {
      return transientError(what + ": aborted", static_cast<int>(err));
    }
    if (ctx->cert_rejected) {
      return configError(what + ": the server certificate is not trusted (not by the Windows "
                                "store, nor by " + settings_.ca_file + ")",
                         static_cast<int>(ERROR_WINHTTP_SECURE_INVALID_CA));
    }
    const std::string msg = what + ": " + winHttpErrorText(err);
    if (isTlsError(err)) return configError(msg, static_cast<int>(err));
    if (isUsageError(err)) return configError(msg, static_cast<int>(err));
    return transientError(msg, static_cast<int>(err));
  };
  // Waits for the step started just before; ok when it ended with `expected`.
  auto await = [&](DWORD expected) -> Status {
    switch (waitStep(*ctx, settings_.abort, deadline)) {
      case Wait::kAborted:
        return fail(ERROR_WINHTTP_OPERATION_CANCELLED);
      case Wait::kDeadline:
        return fail(ERROR_WINHTTP_TIMEOUT);
      case Wait::kDone:
        break;
    }
    if (ctx->completed == expected && !ctx->cert_rejected) return Status::ok();
    if (ctx->completed == WINHTTP_CALLBACK_STATUS_REQUEST_ERROR) return fail(ctx->error);
    return fail(ERROR_WINHTTP_OPERATION_CANCELLED);
  };

  if (!WinHttpSendRequest(raw_request,
                          ctx->headers.empty() ? WINHTTP_NO_ADDITIONAL_HEADERS
                                               : ctx->headers.c_str(),
                          static_cast<DWORD>(ctx->headers.size()),
                          ctx->body.empty() ? WINHTTP_NO_REQUEST_DATA : ctx->body.data(),
                          static_cast<DWORD>(ctx->body.size()),
                          static_cast<DWORD>(ctx->body.size()), context_value)) {
    return fail(GetLastError());
  }
  RETURN_IF_ERROR(await(WINHTTP_CALLBACK_STATUS_SENDREQUEST_COMPLETE));
  if (!WinHttpReceiveResponse(raw_request, nullptr)) return fail(GetLastError());
  RETURN_IF_ERROR(await(WINHTTP_CALLBACK_STATUS_HEADERS_AVAILABLE));

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
  response.headers = responseHeaders(raw_request);
  const Status too_large =
      dataError(what + ": response larger than " + std::to_string(max_bytes) + " bytes");
  // Refuse early when the server announces an oversized body; the read loop catches the rest.
  DWORD length = 0;
  size = sizeof length;
  if (WinHttpQueryHeaders(raw_request, WINHTTP_QUERY_CONTENT_LENGTH | WINHTTP_QUERY_FLAG_NUMBER,
                          WINHTTP_HEADER_NAME_BY_INDEX, &length, &size, WINHTTP_NO_HEADER_INDEX) &&
      length > max_bytes && !request.truncate_response) {
    return too_large;
  }

  for (;;) {
    if (!WinHttpReadData(raw_request, ctx->buffer.data(), static_cast<DWORD>(ctx->buffer.size()),
                         nullptr)) {
      return fail(GetLastError());
    }
    RETURN_IF_ERROR(await(WINHTTP_CALLBACK_STATUS_READ_COMPLETE));
    const DWORD got = ctx->bytes;
    if (got == 0) break;
    if (response.body.size() + got > max_bytes) {
      if (!request.truncate_response) return too_large;
      response.body.append(ctx->buffer.data(), max_bytes - response.body.size());
      continue;  // the rest is read and dropped
    }
    response.body.append(ctx->buffer.data(), got);
  }
  return response;
}

}  // namespace tenure::net
