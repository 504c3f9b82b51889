#include "controlplane/http/http_server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace tenure::cp {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// Waiting for the peer's close_notify after our own is a courtesy; it must not hold a drain up.
constexpr std::chrono::milliseconds kShutdownGrace{1'000};
constexpr size_t kIdleReadBytes = 4096;
constexpr std::chrono::milliseconds kAcceptBackoff{100};

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

HttpServerResponse errorResponse(int status, std::string_view code, std::string_view message) {
  HttpServerResponse res;
  res.status = status;
  res.body = "{\"error\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\"}";
  return res;
}

bool isHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

}  // namespace

std::string HttpServerRequest::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? std::string() : it->second;
}

class Session;

// Everything a connection needs from its server. HttpServer::Impl is private to the class, so the
// state lives here and Impl only names it.
struct ServerCore : std::enable_shared_from_this<ServerCore> {
  ServerCore(net::io_context& io_context, HttpServerOptions opts, RequestHandler request_handler)
      : io(io_context),
        options(std::move(opts)),
        handler(std::move(request_handler)),
        tls(ssl::context::tls_server),
        acceptor(net::make_strand(io_context)),
        accept_backoff(acceptor.get_executor()),
        drain_strand(net::make_strand(io_context)) {}

  Status start();
  void doAccept();
  void onAccept(beast::error_code ec, tcp::socket socket);
  void registerSession(Session* s, std::weak_ptr<Session> weak);
  void unregisterSession(Session* s);
  // Runs `fn` on the strand of every live connection.
  void forEachSession(const std::function<void(const std::shared_ptr<Session>&)>& fn);
  void drain(std::chrono::milliseconds deadline, std::function<void()> on_drain_start,
             std::function<void()> done);
  void maybeFinishDrain();
  void finishDrain();
  void stop();

  net::io_context& io;
  const HttpServerOptions options;
  const RequestHandler handler;
  ssl::context tls;
  tcp::acceptor acceptor;  // used only on its own strand
  net::steady_timer accept_backoff;  // on the acceptor's strand
  std::atomic<uint16_t> port{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};

  std::mutex mu;  // guards the members below
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::function<void()> drain_done;
  bool drain_done_called = false;

  net::strand<net::io_context::executor_type> drain_strand;
  std::optional<net::steady_timer> drain_timer;  // used only on drain_strand
};

// Shared by every copy of one request's Responder. Whoever first flips `answered` (the Responder,
// the connection closing, or the last Responder copy being dropped unanswered) releases the
// request from the in-flight count, so it is counted down exactly once.
struct ResponderState {
  explicit ResponderState(std::shared_ptr<ServerCore> s) : server(std::move(s)) {}
  // Defined after Session: a Responder dropped unanswered closes the connection.
  ~ResponderState();
  void respond(HttpServerResponse res);

  std::shared_ptr<ServerCore> server;
  std::atomic<bool> answered{false};
  // What the handler sees as HttpServerRequest::peer_closed.
  std::shared_ptr<std::atomic<bool>> peer_closed = std::make_shared<std::atomic<bool>>(false);
  std::mutex mu;
  // Keeps the connection alive while the handler holds the request; released on answer/close.
  std::shared_ptr<Session> session;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerCore> server, tcp::socket socket, std::string remote)
      : server_(std::move(server)),
        stream_(std::move(socket), server_->tls),
        watch_timer_(stream_.get_executor()),
        remote_(std::move(remote)) {}

  ~Session() { finish(); }

  net::any_io_executor executor() { return stream_.get_executor(); }

  void start() {
    server_->registerSession(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->doHandshake(); });
  }

  // The following run on the connection's strand only.
  void close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    watch_timer_.cancel();
    beast::get_lowest_layer(stream_).close();
    finish();
  }

  // Drain: a connection that is not in the middle of a request can go now.
  void closeIfIdle() {
    if (phase_ == Phase::kHandshake || phase_ == Phase::kIdle) close();
  }

  void writeResponse(HttpServerResponse res) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kWriting;
    const bool keep = keep_alive_ && !server_->draining.load();
    try {
      buildResponse(std::move(res), keep);
    } catch (const std::exception& e) {
      // A handler's bad status or header must not take the io thread down with it.
      spdlog::error("http: invalid response for {}: {}", remote_, e.what());
      buildResponse(errorResponse(500, "internal", "invalid response"), keep);
    }
    keep_alive_ = keep;
    beast::get_lowest_layer(stream_).expires_after(server_->options.write_timeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::onWrite, shared_from_this()));
  }

 private:
  void buildResponse(HttpServerResponse res, bool keep) {
    if (res.status < 100 || res.status > 599) {
      throw std::invalid_argument("HTTP status " + std::to_string(res.status));
    }
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(res.status));
    if (!res.content_type.empty()) response_.set(http::field::content_type, res.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.set("X-Content-Type-Options", "nosniff");
    for (auto& [name, value] : res.headers) response_.set(name, value);
    response_.keep_alive(keep);
    response_.body() = std::move(res.body);
    response_.prepare_payload();
    if (head_) response_.body().clear();  // Content-Length still announces the GET size
  }

  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  void doHandshake() {
    if (server_->draining || server_->stopped) return close();
    phase_ = Phase::kHandshake;
    beast::get_lowest_layer(stream_).expires_after(server_->options.handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            beast::bind_front_handler(&Session::onHandshake, shared_from_this()));
  }

  void onHandshake(beast::error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      spdlog::debug("http: TLS handshake with {} failed: {}", remote_, ec.message());
      return close();
    }
    readRequest();
  }

  void readRequest() {
    if (server_->draining || server_->stopped) return shutdown();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    auto& lowest = beast::get_lowest_layer(stream_);
    if (watching_) {
      // The read that watched the held request is still pending: it becomes the idle read.
      phase_ = Phase::kIdle;
      return limitWatch(server_->options.idle_timeout);
    }
    if (buffer_.size() > 0) {  // pipelined: the next request has started already
      phase_ = Phase::kReading;
      lowest.expires_after(server_->options.header_timeout);
      return readHeader();
    }
    // Wait for the first byte separately so that a drain can tell an idle keep-alive connection
    // (closed at once) from one in the middle of sending a request (allowed to finish).
    phase_ = Phase::kIdle;
    lowest.expires_after(first_request_ ? server_->options.header_timeout
                                        : server_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                            beast::bind_front_handler(&Session::onIdleRead, shared_from_this()));
  }

  void onIdleRead(beast::error_code ec, size_t n) {
    if (phase_ == Phase::kClosed) return;
    if (ec) return close();
    buffer_.commit(n);
    phase_ = Phase::kReading;
    // The first request's header deadline started with the connection; keep-alive requests
    // get theirs from their first byte.
    if (!first_request_) {
      beast::get_lowest_layer(stream_).expires_after(server_->options.header_timeout);
    }
    readHeader();
  }

  void readHeader() {
    first_request_ = false;
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::onHeader, shared_from_this()));
  }

  void onHeader(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    if (ec) return onReadError(ec);
    auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
      continue_ = {http::status::continue_, req.version()};
      beast::get_lowest_layer(stream_).expires_after(server_->options.write_timeout);
      return http::async_write(stream_, continue_,
                               [self = shared_from_this()](beast::error_code wec, size_t) {
                                 if (self->phase_ == Phase::kClosed) return;
                                 if (wec) return self->close();
                                 self->readBody();
                               });
    }
    readBody();
  }

  void readBody() {
    if (parser_->is_done()) return onRequest();
    beast::get_lowest_layer(stream_).expires_after(server_->options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::onBody, shared_from_this()));
  }

  void onBody(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    if (ec) return onReadError(ec);
    onRequest();
  }

  void onReadError(const beast::error_code& ec) {
    keep_alive_ = false;
    version_ = 11;
    if (ec == http::error::body_limit) {
      // The client may still be sending the body; closing at once would reset the connection
      // before it reads the 413. Discard what it sends for a while after answering.
      linger_ = true;
      return writeResponse(errorResponse(413, "payload_too_large", "request body too large"));
    }
    if (ec == http::error::header_limit) {
      return writeResponse(
          errorResponse(431, "header_too_large", "request header fields too large"));
    }
    if (isHttpParseError(ec) && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      return writeResponse(errorResponse(400, "bad_request", "malformed request"));
    }
    spdlog::debug("http: connection from {} closed while reading: {}", remote_, ec.message());
    close();
  }

  void onRequest() {
    auto req = parser_->release();
    parser_.reset();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    head_ = req.method() == http::verb::head;

    HttpServerRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    auto parsed = boost::urls::parse_origin_form(request.target);
    if (!parsed) {
      keep_alive_ = false;
      return writeResponse(errorResponse(400, "bad_request", "malformed request target"));
    }
    request.path = parsed->path();
    for (auto param : parsed->params()) {
      request.query.emplace(std::move(param.key), std::move(param.value));
    }
    for (const auto& field : req) {
      auto [it, inserted] =
          request.headers.emplace(lowercase(field.name_string()), std::string(field.value()));
      if (!inserted) it->second.append(", ").append(field.value());
    }
    request.body = std::move(req.body());
    request.remote_address = remote_;

    if (server_->stopped) return close();
    // The handler owns the time from here on: a long-poll may be held as long as it likes.
    beast::get_lowest_layer(stream_).expires_never();
    phase_ = Phase::kHandling;
    server_->in_flight.fetch_add(1);
    auto state = std::make_shared<ResponderState>(server_);
    state->session = shared_from_this();
    request.peer_closed = state->peer_closed;
    current_ = state;
    Responder responder = [state](HttpServerResponse res) { state->respond(std::move(res)); };
    try {
      server_->handler(std::move(request), responder);
    } catch (const std::exception& e) {
      spdlog::error("http: handler threw for {}: {}", std::string(req.target()), e.what());
      responder(errorResponse(500, "internal", "internal error"));
    } catch (...) {
      responder(errorResponse(500, "internal", "internal error"));
    }
    if (!state->answered && keep_alive_ && buffer_.size() == 0) watchHeldRequest();
  }

  // While the handler holds the request (long-poll), keep one read pending so that the client's
  // close is seen at once instead of when the answer is written into a dead connection. A
  // keep-alive client sends nothing until it has the answer; bytes that do arrive (a pipelined
  // request) are kept for after it and end the watch. Asio's SSL stream allows this read to run
  // alongside the answer's write; once the answer is written the pending read serves as the
  // connection's idle read (readRequest), or waits for the client's close (shutdown).
  void watchHeldRequest() {
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                            beast::bind_front_handler(&Session::onWatchRead, shared_from_this()));
  }

  // The stream's expiry only reaches operations started after it is set, so the pending watch
  // read gets its deadline (idle, or shutdown grace) from a timer of its own.
  void limitWatch(std::chrono::milliseconds limit) {
    watch_timer_.expires_after(limit);
    watch_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->watching_) self->close();
    });
  }

  void onWatchRead(beast::error_code ec, size_t n) {
    watching_ = false;
    watch_timer_.cancel();
    switch (phase_) {
      case Phase::kClosed:
        return;
      case Phase::kIdle:  // the answer was written meanwhile: this is the idle read
        return onIdleRead(ec, n);
      case Phase::kClosing:
        return close();
      default:  // kHandling, kWriting
        if (ec) {
          spdlog::debug("http: {} closed the connection of a held request: {}", remote_,
                        ec.message());
          return close();
        }
        buffer_.commit(n);
    }
  }

  void onWrite(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    current_.reset();
    if (ec) return close();
    if (linger_) return linger();
    if (!keep_alive_) return shutdown();
    readRequest();
  }

  // Lingering close: read and drop the rest of a refused request (bounded in time and bytes),
  // so the client sees our answer instead of a connection reset.
  void linger() {
    phase_ = Phase::kClosing;
    beast::get_lowest_layer(stream_).expires_after(kLingerTime);
    discardSome();
  }

  void discardSome() {
    stream_.async_read_some(
        boost::asio::buffer(discard_.data(), discard_.size()),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (self->phase_ == Phase::kClosed) return;
          self->lingered_bytes_ += n;
          if (ec || self->lingered_bytes_ > kMaxLingerBytes) return self->close();
          self->discardSome();
        });
  }

  void shutdown() {
    phase_ = Phase::kClosing;
    if (watching_) {
      // A TLS shutdown must not read alongside the pending read: skip our close_notify and let
      // the pending read end the connection when the client, told `Connection: close`, closes.
      return limitWatch(std::min(kShutdownGrace, server_->options.write_timeout));
    }
    beast::get_lowest_layer(stream_).expires_after(
        std::min(kShutdownGrace, server_->options.write_timeout));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->close(); });
  }

  // Unregisters the connection and releases a request it still held; safe to call twice.
  void finish() {
    if (finished_.exchange(true)) return;
    if (auto state = current_.lock()) {
      state->peer_closed->store(true);
      if (!state->answered.exchange(true)) server_->in_flight.fetch_sub(1);
      std::lock_guard lock(state->mu);
      state->session.reset();
    }
    server_->unregisterSession(this);
  }

  std::shared_ptr<ServerCore> server_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  net::steady_timer watch_timer_;  // the watch read's deadline once the request is answered
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  http::response<http::empty_body> continue_;
  Phase phase_ = Phase::kHandshake;
  bool linger_ = false;
  size_t lingered_bytes_ = 0;
  std::array<char, 16 * 1024> discard_{};
  static constexpr auto kLingerTime = std::chrono::seconds(5);
  static constexpr size_t kMaxLingerBytes = 256u << 20;
  bool first_request_ = true;
  bool watching_ = false;  // watchHeldRequest's read is pending
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  std::weak_ptr<ResponderState> current_;
  std::atomic<bool> finished_{false};

  friend struct ResponderState;
};

ResponderState::~ResponderState() {
  if (!answered.exchange(true)) server->in_flight.fetch_sub(1);
  // Still set: nobody answered and the connection is open. Its watch read (if any) keeps the
  // session alive, so close it explicitly rather than by dropping the last reference.
  if (session) {
    auto s = std::move(session);
    auto executor = s->stream_.get_executor();
    net::post(executor, [s = std::move(s)] { s->close(); });
  }
}

void ResponderState::respond(HttpServerResponse res) {
  if (answered.exchange(true)) return;
  server->in_flight.fetch_sub(1);
  std::shared_ptr<Session> s;
  {
    std::lock_guard lock(mu);
    s = std::move(session);
  }
  if (!s) return;  // the connection is gone; nobody to answer
  auto executor = s->stream_.get_executor();
  net::post(executor, [s = std::move(s), res = std::move(res)]() mutable {
    s->writeResponse(std::move(res));
  });
}

Status ServerCore::start() {
  beast::error_code ec;
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  tls.use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    return configError("cannot load TLS certificate " + options.tls_cert_file + ": " +
                       ec.message());
  }
  tls.use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec) {
    return configError("cannot load TLS key " + options.tls_key_file + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(tls.native_handle()) != 1) {
    return configError("TLS key " + options.tls_key_file + " does not match the certificate");
  }

  auto address = net::ip::make_address(options.address, ec);
  if (ec) return configError("bad listen address '" + options.address + "': " + ec.message());
  tcp::endpoint endpoint(address, options.port);
  auto fail = [&](std::string_view what) {
    return configError("cannot " + std::string(what) + " " + options.address + ":" +
                           std::to_string(options.port) + ": " + ec.message(),
                       ec.value());
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) return fail("configure");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return fail("listen on");
  port = acceptor.local_endpoint(ec).port();
  net::dispatch(acceptor.get_executor(), [self = shared_from_this()] { self->doAccept(); });
  return Status::ok();
}

void ServerCore::doAccept() {
  if (!acceptor.is_open()) return;
  acceptor.async_accept(net::make_strand(io),
                        beast::bind_front_handler(&ServerCore::onAccept, shared_from_this()));
}

void ServerCore::onAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Typically out of file descriptors: back off instead of spinning on the error.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_backoff.expires_after(kAcceptBackoff);
    accept_backoff.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec) self->doAccept();
    });
    return;
  }
  if (draining || stopped) {
    socket.close(ec);
    return;
  }
  auto remote = socket.remote_endpoint(ec);
  std::string remote_address = ec ? std::string() : remote.address().to_string();
  std::make_shared<Session>(shared_from_this(), std::move(socket), std::move(remote_address))
      ->start();
  doAccept();
}

void ServerCore::registerSession(Session* s, std::weak_ptr<Session> weak) {
  std::lock_guard lock(mu);
  sessions.emplace(s, std::move(weak));
}

void ServerCore::unregisterSession(Session* s) {
  {
    std::lock_guard lock(mu);
    sessions.erase(s);
  }
  maybeFinishDrain();
}

void ServerCore::forEachSession(
    const std::function<void(const std::shared_ptr<Session>&)>& fn) {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu);
    for (auto& [ptr, weak] : sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) fn(s);
}

void ServerCore::drain(std::chrono::milliseconds deadline,
                             std::function<void()> on_drain_start, std::function<void()> done) {
  {
    std::lock_guard lock(mu);
    if (draining.exchange(true)) {
      spdlog::warn("http: drain requested twice; ignoring the second request");
      return;
    }
    drain_done = std::move(done);
  }
  net::post(acceptor.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor.close(ec);
    self->accept_backoff.cancel();
  });
  forEachSession([](const std::shared_ptr<Session>& s) {
    net::post(s->executor(), [s] { s->closeIfIdle(); });
  });
  net::post(drain_strand, [self = shared_from_this(), deadline] {
    {
      std::lock_guard lock(self->mu);
      if (self->drain_done_called) return;
    }
    self->drain_timer.emplace(self->drain_strand, deadline);
    self->drain_timer->async_wait([self](beast::error_code ec) {
      if (ec) return;
      self->forEachSession([](const std::shared_ptr<Session>& s) {
        net::post(s->executor(), [s] { s->close(); });
      });
      self->finishDrain();
    });
  });
  if (on_drain_start) on_drain_start();
  maybeFinishDrain();
}

void ServerCore::maybeFinishDrain() {
  {
    std::lock_guard lock(mu);
    if (!draining || drain_done_called || !sessions.empty()) return;
  }
  net::post(drain_strand, [self = shared_from_this()] { self->finishDrain(); });
}

// Runs on drain_strand.
void ServerCore::finishDrain() {
  std::function<void()> done;
  {
    std::lock_guard lock(mu);
    if (drain_done_called) return;
    drain_done_called = true;
    done = std::move(drain_done);
  }
  if (drain_timer) drain_timer->cancel();
  if (done) done();
}

void ServerCore::stop() {
  stopped = true;
  net::post(acceptor.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor.close(ec);
    self->accept_backoff.cancel();
  });
  forEachSession([](const std::shared_ptr<Session>& s) {
    net::post(s->executor(), [s] { s->close(); });
  });
  net::post(drain_strand, [self = shared_from_this()] {
    if (self->drain_timer) self->drain_timer->cancel();
  });
}

struct HttpServer::Impl : ServerCore {
  using ServerCore::ServerCore;
};

HttpServer::HttpServer(boost::asio::io_context& io, HttpServerOptions options,
                       RequestHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { impl_->stop(); }

Status HttpServer::start() {
  try {
    return impl_->start();
  } catch (const std::exception& e) {
    return configError(std::string("cannot start HTTPS server: ") + e.what());
  }
}

uint16_t HttpServer::port() const { return impl_->port.load(); }

void HttpServer::drain(std::chrono::milliseconds deadline, std::function<void()> on_drain_start,
                       std::function<void()> done) {
  impl_->drain(deadline, std::move(on_drain_start), std::move(done));
}

size_t HttpServer::inFlight() const { return impl_->in_flight.load(); }

std::vector<std::string> pathSegments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t n = path.find('/');
    out.emplace_back(path.substr(0, n));
    if (n == std::string_view::npos) break;
    path.remove_prefix(n);
  }
  return out;
}

}  // namespace tenure::cp
