#pragma once
// A small HTTP/1.1 server on 127.0.0.1 (port 0) standing in for an HR system's API in tests. Each
// request is answered by a handler the test supplies; every request is recorded. A handler may
// stall (to exercise client timeouts); the destructor ends stalls and joins every thread.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tenure::testing {

struct FakeRequest {
  std::string method;
  std::string target;  // path and query
  std::string authorization;
  std::string accept;
  std::string content_type;
  std::string body;
};

struct FakeReply {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds stall{0};  // wait this long before answering
};

class FakeHrServer {
 public:
  using Handler = std::function<FakeReply(const FakeRequest&)>;

  explicit FakeHrServer(Handler handler) : handler_(std::move(handler)), acceptor_(io_) {
    namespace ip = boost::asio::ip;
    ip::tcp::endpoint ep(ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { acceptLoop(); });
  }

  ~FakeHrServer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    boost::system::error_code ec;
    {
      // A blocking accept() is not woken by close() from another thread: connect once instead.
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket poke(io);
      poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    }
    accept_thread_.join();
    acceptor_.close(ec);
    std::list<std::thread> conns;
    {
      std::lock_guard lock(mu_);
      conns.swap(connections_);
      // Unblocks connection threads waiting in read() on a kept-alive connection.
      for (auto& s : sockets_) s->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
    for (auto& t : conns) t.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }

  std::vector<FakeRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t requestCount() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  void acceptLoop() {
    while (true) {
      boost::system::error_code ec;
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(io_);
      acceptor_.accept(*socket, ec);
      std::lock_guard lock(mu_);
      if (ec || stopping_) return;
      sockets_.push_back(socket);
      connections_.emplace_back([this, socket] { serve(*socket); });
    }
  }

  void serve(boost::asio::ip::tcp::socket& socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(socket, buffer, req, ec);
      if (ec) return;
      FakeRequest fr{std::string(req.method_string()),
                     std::string(req.target()),
                     std::string(req[http::field::authorization]),
                     std::string(req[http::field::accept]),
                     std::string(req[http::field::content_type]),
                     req.body()};
      {
        std::lock_guard lock(mu_);
        requests_.push_back(fr);
      }
      FakeReply reply = handler_(fr);
      if (reply.stall.count() > 0) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, reply.stall, [this] { return stopping_; });
        if (stopping_) return;
      }
      http::response<http::string_body> res{static_cast<http::status>(reply.status),
                                            req.version()};
      res.set(http::field::content_type, "application/json");
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::list<std::thread> connections_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<FakeRequest> requests_;
};

}  // namespace tenure::testing
