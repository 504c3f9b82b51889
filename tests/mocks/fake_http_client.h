#pragma once
// FakeHttpClient: a scripted, recording net::HttpClient for unit tests of what sits above the
// outbound HTTP seam (retry policy, request shapes, how answers are read), without a socket.
// Every request is recorded; answers come from a queue of scripted replies (or a handler), and a
// request with nothing scripted fails the test's expectations with a transient error.
// FakeMailTransport does the same for net::MailTransport.
// Tests of the clients themselves (CurlHttpClient, WinHttpClient) use real servers on loopback.

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/net/http_client.h"
#include "common/net/mail_transport.h"

namespace tenure::testing {

class FakeHttpClient final : public net::HttpClient {
 public:
  using Handler = std::function<Result<net::HttpResponse>(const net::HttpRequest&)>;

  // Queues one answer: a response (status, body, headers) or a transport error.
  void reply(int status, std::string body = "", net::HttpHeaders headers = {}) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.content_type = r.header("Content-Type");
    std::lock_guard lock(mu_);
    script_.emplace_back(std::move(r));
  }
  void fail(Status status) {
    std::lock_guard lock(mu_);
    script_.emplace_back(std::move(status));
  }
  // Answers every request the queue does not (a server with state, routing by URL).
  void setHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }

  std::vector<net::HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t pending() const {
    std::lock_guard lock(mu_);
    return script_.size();
  }

  Result<net::HttpResponse> send(const net::HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (!script_.empty()) {
      Result<net::HttpResponse> next = std::move(script_.front());
      script_.pop_front();
      return next;
    }
    if (handler_) return handler_(request);
    return transientError("FakeHttpClient: nothing scripted for " + net::describeRequest(request));
  }

 private:
  mutable std::mutex mu_;
  std::deque<Result<net::HttpResponse>> script_;
  Handler handler_;
  std::vector<net::HttpRequest> requests_;
};

class FakeMailTransport final : public net::MailTransport {
 public:
  struct Sent {
    net::MailServer server;
    net::MailMessage message;
  };
  // The status every later send returns (ok by default).
  void setResult(Status status) {
    std::lock_guard lock(mu_);
    result_ = std::move(status);
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  Status send(const net::MailServer& server, const net::MailMessage& message,
              std::chrono::milliseconds) override {
    std::lock_guard lock(mu_);
    sent_.push_back({server, message});
    return result_;
  }

 private:
  mutable std::mutex mu_;
  Status result_;
  std::vector<Sent> sent_;
};

}  // namespace tenure::testing
