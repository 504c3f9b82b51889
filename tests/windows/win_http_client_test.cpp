// WinHttpClient against a real server on loopback (Winsock, in this process): a response arrives
// whole, and a request the server holds (a long-poll) is abandoned as soon as the abort flag rises,
// not when the server lets go. The held request's timeout is ten minutes and the ctest timeout one
// minute, so a client that waits for the server fails this test rather than passing slowly.

#include <gtest/gtest.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "common/net/win_http_client.h"

namespace tenure::net {
namespace {

// Accepts one connection, reads the request head, then answers with `reply` (or holds the
// connection without answering while `reply` is empty) until stopped.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::string reply) : reply_(std::move(reply)) {
    WSADATA wsa;
    WSAStartup(MAKEWORD(2, 2), &wsa);
    listener_ = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listener_, 4);
    int len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    closesocket(listener_);
    thread_.join();
    WSACleanup();
  }
  int port() const { return port_; }
  bool gotRequest() const { return got_request_; }

 private:
  void serve() {
    SOCKET c = accept(listener_, nullptr, nullptr);
    if (c == INVALID_SOCKET) return;
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      int n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    got_request_ = true;
    if (!reply_.empty()) {
      send(c, reply_.data(), static_cast<int>(reply_.size()), 0);
    } else {
      while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    closesocket(c);
  }

  std::string reply_;
  SOCKET listener_ = INVALID_SOCKET;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> got_request_{false};
};

TEST(WinHttpClientTest, ReadsAWholeResponse) {
  const std::string body = R"({"ok":true})";
  LoopbackServer server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  WinHttpClient client(HttpClientSettings{});
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1/agent/poll";
  req.body = "{}";
  auto r = client.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body);
  EXPECT_EQ(r->content_type, "application/json");
}

TEST(WinHttpClientTest, ReturnsTheAnswersHeadersAndTruncatesWhenAsked) {
  const std::string body = std::string(40, 'a') + std::string(40, 'b');
  LoopbackServer server("HTTP/1.1 429 Too Many Requests\r\nRetry-After:  7\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  WinHttpClient client(HttpClientSettings{});
  HttpRequest req;
  req.method = "GET";
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/data";
  req.max_response_bytes = 40;
  req.truncate_response = true;
  auto r = client.send(req);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->header("retry-after"), "7");
  EXPECT_EQ(r->body, std::string(40, 'a'));
}

TEST(WinHttpClientTest, AHeldRequestIsAbandonedWhenTheAbortFlagRises) {
  LoopbackServer server("");  // never answers
  std::atomic<bool> abort{false};
  HttpClientSettings settings;
  settings.abort = &abort;
  WinHttpClient client(settings);
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1/agent/poll";
  req.body = "{}";
  req.timeout = std::chrono::minutes(10);
  std::thread stopper([&] {
    while (!server.gotRequest()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    abort = true;
  });
  auto r = client.send(req);
  stopper.join();
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kTransient);
  EXPECT_NE(r.status().message().find("aborted"), std::string::npos) << r.status().toString();
}

TEST(WinHttpClientTest, NothingIsSentOnceTheAbortFlagIsUp) {
  LoopbackServer server("");
  std::atomic<bool> abort{true};
  HttpClientSettings settings;
  settings.abort = &abort;
  WinHttpClient client(settings);
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto r = client.send(req);
  ASSERT_FALSE(r.isOk());
  EXPECT_FALSE(server.gotRequest());
}

}  // namespace
}  // namespace tenure::net
