#pragma once
// WinHttpClient: HttpClient on WinHTTP + Schannel (Windows agent). Proxies come from the system as
// customer IT configures them (automatic proxy / WPAD / PAC, `netsh winhttp set proxy`, or the
// Internet Options of the account the service runs as); server certificates are validated against the
// Windows certificate store. When HttpClientSettings::ca_file is set (a private control-plane CA),
// a server whose chain ends at one of that file's certificates is accepted too, checked before any
// request header (and so before the node key) leaves the machine.
// WinHTTP runs in asynchronous mode: the calling thread waits for each step in 100 ms slices and
// checks HttpClientSettings::abort between them, so a stop abandons a held long-poll at once instead
// of depending on WinHTTP to cancel a blocking call (which Wine does not do).

#include <memory>

#include "common/net/http_client.h"

namespace tenure::net {

class WinHttpClient final : public HttpClient {
 public:
  explicit WinHttpClient(HttpClientSettings settings);
  ~WinHttpClient() override;
  WinHttpClient(const WinHttpClient&) = delete;
  WinHttpClient& operator=(const WinHttpClient&) = delete;

  // Thread-safe: one WinHTTP session (its connection pool is shared); each call has its own request.
  Result<HttpResponse> send(const HttpRequest& request) override;

 private:
  struct Session;
  const HttpClientSettings settings_;
  std::unique_ptr<Session> session_;
};

}  // namespace tenure::net
