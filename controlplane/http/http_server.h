#pragma once
// HttpServer: HTTPS on Boost.Beast for the control plane. Asynchronous: a request handler may
// answer later (long-poll) without holding a thread. Protects itself: header, body and idle
// timeouts, request-size limits (413), malformed requests (400), and a graceful drain on shutdown.

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

struct HttpServerRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw target, e.g. "/api/v1/runs?limit=5"
  std::string path;    // percent-decoded path without the query, e.g. "/api/v1/runs"
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string remote_address;
  // Set once the connection is gone (the client closed it, or it failed) while the request is
  // still unanswered. While a handler holds a keep-alive request, the server keeps one read
  // pending on the connection so that a client's close is seen at once; a handler holding a
  // long-poll checks this before committing work (a job lease) to the answer. Never null.
  std::shared_ptr<const std::atomic<bool>> peer_closed =
      std::make_shared<const std::atomic<bool>>(false);

  // Header value or "" (name must be lowercase).
  std::string header(const std::string& lowercase_name) const;
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

// Completes a request. Call exactly once, from any thread; later calls are ignored. Calling it
// after the connection closed is harmless. The connection stays open while a copy of the
// Responder exists; dropping every copy unanswered closes the connection.
// Every response gets `Cache-Control: no-store` and `X-Content-Type-Options: nosniff` unless the
// handler sets those headers itself; `status` must be 100..599 (otherwise a 500 is sent).
using Responder = std::function<void(HttpServerResponse)>;
// Called on an io_context thread; must not block (hold the Responder instead). No read timeout
// runs while the handler holds a request. An exception becomes a 500.
using RequestHandler = std::function<void(HttpServerRequest, Responder)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (see HttpServer::port())
  std::string tls_cert_file;  // PEM certificate chain
  std::string tls_key_file;   // PEM private key
  size_t max_header_bytes = 16 * 1024;       // larger headers: 431
  size_t max_body_bytes = 16 * 1024 * 1024;  // larger bodies: 413 (before reading them)
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds header_timeout{10'000};  // whole header must arrive within this
  std::chrono::milliseconds body_timeout{60'000};    // whole body must arrive within this
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive between requests
  std::chrono::milliseconds write_timeout{30'000};
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the certificate, binds and starts accepting. Errors: kConfig (bad cert, port in use).
  Status start();
  uint16_t port() const;

  // Graceful drain: stops accepting, closes idle keep-alive connections, lets requests being
  // handled finish (the owner answers held long-polls when told via on_drain_start), then calls
  // `done` when no connection is left (every answer written, with `Connection: close`) or
  // `deadline` passed (remaining connections are closed). on_drain_start runs on the calling
  // thread before drain returns; `done` runs once, on an io_context thread. A second drain is
  // ignored.
  void drain(std::chrono::milliseconds deadline, std::function<void()> on_drain_start,
             std::function<void()> done);

  // Requests currently being handled (received, not yet answered).
  size_t inFlight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// "/a//b/" -> {"a", "b"}: a request path's segments; empty ones are dropped, as the APIs always
// did.
std::vector<std::string> pathSegments(std::string_view path);

// Writes a self-signed certificate (EC P-256, SAN: localhost, 127.0.0.1, ::1 and `extra_names`)
// to cert_path/key_path (key mode 0600) unless both files exist already.
Status ensureSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                   const std::vector<std::string>& extra_names = {});

}  // namespace tenure::cp
