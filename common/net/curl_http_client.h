#pragma once
// CurlHttpClient: HttpClient on libcurl (POSIX). TLS peer and host verification are always on;
// proxies come from the environment (http_proxy / https_proxy / no_proxy) as libcurl does by
// default. The only libcurl HTTP code in Tenure (posix/curl_http_client.cpp).

#include <memory>
#include <mutex>
#include <vector>

#include "common/net/http_client.h"

namespace tenure::net {

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpClientSettings settings);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // Thread-safe. Easy handles (and so their keep-alive connections and TLS sessions) are reused
  // across calls; concurrent calls each get their own handle, so a held long-poll never blocks
  // a result upload.
  Result<HttpResponse> send(const HttpRequest& request) override;

 private:
  struct Handle;
  std::unique_ptr<Handle> acquire();
  void release(std::unique_ptr<Handle> h);

  const HttpClientSettings settings_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;  // guarded by mu_
};

}  // namespace tenure::net
