// HttpServer over real TLS on loopback: a small Beast client trusts the certificate that
// ensureSelfSignedCertificate generated for the test.

#include "controlplane/http/http_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace tenure::cp {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// Upper bound for anything the test waits on; only there so a broken server fails instead of
// hanging the suite.
constexpr auto kPatience = 20s;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tenure-http-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct ClientResponse {
  beast::error_code ec;
  int status = 0;
  http::response<http::string_body> message;
};

// A synchronous-looking TLS client; every operation runs on `ioc` with its own deadline.
class TestClient {
 public:
  TestClient(net::io_context& ioc, ssl::context& tls) : ioc_(ioc), stream_(ioc, tls) {}

  beast::error_code connect(uint16_t port) {
    beast::error_code result;
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_after(kPatience);
    lowest.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                         [&](beast::error_code ec) { result = ec; });
    run();
    if (result) return result;
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    lowest.expires_after(kPatience);
    stream_.async_handshake(ssl::stream_base::client, [&](beast::error_code ec) { result = ec; });
    run();
    return result;
  }

  beast::error_code sendRaw(const std::string& bytes) {
    beast::error_code result;
    beast::get_lowest_layer(stream_).expires_after(kPatience);
    net::async_write(stream_, net::buffer(bytes),
                     [&](beast::error_code ec, size_t) { result = ec; });
    run();
    return result;
  }

  beast::error_code send(http::verb method, const std::string& target, const std::string& body = "",
                         const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    beast::error_code result;
    beast::get_lowest_layer(stream_).expires_after(kPatience);
    http::async_write(stream_, req, [&](beast::error_code ec, size_t) { result = ec; });
    run();
    return result;
  }

  ClientResponse read() {
    ClientResponse out;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::get_lowest_layer(stream_).expires_after(kPatience);
    http::async_read(stream_, buffer_, parser,
                     [&](beast::error_code ec, size_t) { out.ec = ec; });
    run();
    if (!out.ec) {
      out.message = parser.release();
      out.status = static_cast<int>(out.message.result_int());
    }
    return out;
  }

  ClientResponse roundTrip(http::verb method, const std::string& target,
                           const std::string& body = "") {
    if (auto ec = send(method, target, body)) return ClientResponse{ec, 0, {}};
    return read();
  }

  // Reads until the server closes the connection; returns the error that ended the read, or
  // beast::error::timeout when the server kept the connection open for kPatience.
  beast::error_code readUntilClosed() {
    beast::error_code result;
    char scratch[512];
    beast::get_lowest_layer(stream_).expires_after(kPatience);
    std::function<void(beast::error_code, size_t)> onRead = [&](beast::error_code ec, size_t) {
      if (ec) {
        result = ec;
        return;
      }
      stream_.async_read_some(net::buffer(scratch), onRead);
    };
    stream_.async_read_some(net::buffer(scratch), onRead);
    run();
    return result;
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  net::io_context& ioc_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

bool waitFor(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Records what the handler saw and keeps held requests' Responders for the test to answer.
struct HandlerLog {
  std::mutex mu;
  std::vector<HttpServerRequest> requests;
  std::vector<Responder> held;
  std::set<std::thread::id> threads;

  size_t heldCount() {
    std::lock_guard lock(mu);
    return held.size();
  }
  size_t requestCount() {
    std::lock_guard lock(mu);
    return requests.size();
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.path("tls/cert.pem");
    key_ = dir_.path("tls/key.pem");
    ASSERT_TRUE(ensureSelfSignedCertificate(cert_, key_).isOk());
    client_tls_.load_verify_file(cert_);
    options_.tls_cert_file = cert_;
    options_.tls_key_file = key_;
  }

  void TearDown() override {
    server_.reset();
    work_.reset();
    server_io_.stop();
    for (auto& t : threads_) t.join();
  }

  // Starts the server with `handler` on `threads` io threads.
  void startServer(RequestHandler handler, int threads = 2) {
    server_ = std::make_unique<HttpServer>(server_io_, options_, std::move(handler));
    Status st = server_->start();
    ASSERT_TRUE(st.isOk()) << st.toString();
    ASSERT_NE(server_->port(), 0);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { server_io_.run(); });
  }

  // Answers every request with 200 and the path as the body, after logging it.
  void startEchoServer(int threads = 2) {
    startServer(
        [this](HttpServerRequest req, Responder respond) {
          HttpServerResponse res;
          res.body = req.path;
          {
            std::lock_guard lock(log_.mu);
            log_.requests.push_back(std::move(req));
          }
          respond(std::move(res));
        },
        threads);
  }

  // Holds every request until the test answers it.
  void startHoldingServer(int threads = 2) {
    startServer(
        [this](HttpServerRequest req, Responder respond) {
          std::lock_guard lock(log_.mu);
          log_.requests.push_back(std::move(req));
          log_.held.push_back(std::move(respond));
          log_.threads.insert(std::this_thread::get_id());
        },
        threads);
  }

  std::unique_ptr<TestClient> connectedClient() {
    auto client = std::make_unique<TestClient>(client_io_, client_tls_);
    auto ec = client->connect(server_->port());
    EXPECT_FALSE(ec) << ec.message();
    return client;
  }

  TempDir dir_;
  std::string cert_;
  std::string key_;
  HttpServerOptions options_;
  net::io_context server_io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{
      net::make_work_guard(server_io_)};
  std::vector<std::thread> threads_;
  std::unique_ptr<HttpServer> server_;
  net::io_context client_io_;
  ssl::context client_tls_{ssl::context::tls_client};
  HandlerLog log_;
};

TEST_F(HttpServerTest, RoundTripDecodesPathQueryAndLowercasesHeaders) {
  startServer([this](HttpServerRequest req, Responder respond) {
    HttpServerResponse res;
    res.status = 201;
    res.body = "got:" + req.body;
    res.headers["X-Request-Path"] = req.path;
    {
      std::lock_guard lock(log_.mu);
      log_.requests.push_back(std::move(req));
    }
    respond(std::move(res));
  });
  auto client = connectedClient();
  ASSERT_FALSE(client->send(http::verb::post, "/api/v1/runs%20x?limit=5&name=a%20b&flag", "hello",
                            {{"X-Custom-Thing", "Hi"}, {"Content-Type", "text/plain"}}));
  auto res = client->read();
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.message.body(), "got:hello");
  EXPECT_EQ(res.message["X-Request-Path"], "/api/v1/runs x");
  EXPECT_EQ(res.message[http::field::cache_control], "no-store");
  EXPECT_EQ(res.message["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res.message[http::field::content_type], "application/json");

  ASSERT_EQ(log_.requestCount(), 1u);
  const auto& req = log_.requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/api/v1/runs%20x?limit=5&name=a%20b&flag");
  EXPECT_EQ(req.path, "/api/v1/runs x");
  EXPECT_EQ(req.query.at("limit"), "5");
  EXPECT_EQ(req.query.at("name"), "a b");
  EXPECT_EQ(req.query.at("flag"), "");
  EXPECT_EQ(req.header("x-custom-thing"), "Hi");
  EXPECT_EQ(req.header("content-type"), "text/plain");
  EXPECT_EQ(req.header("X-Custom-Thing"), "");  // lookups are by lowercase name
  EXPECT_EQ(req.body, "hello");
  EXPECT_EQ(req.remote_address, "127.0.0.1");

  // Keep-alive: the same connection serves a second request.
  auto second = client->roundTrip(http::verb::get, "/second");
  ASSERT_FALSE(second.ec) << second.ec.message();
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(log_.requestCount(), 2u);
  EXPECT_EQ(server_->inFlight(), 0u);
}

TEST_F(HttpServerTest, OversizedContentLengthIsRefusedWith413BeforeTheBodyIsSent) {
  options_.max_body_bytes = 1024;
  startEchoServer();
  auto client = connectedClient();
  // Only the header: the server must answer without waiting for a body that never comes.
  ASSERT_FALSE(client->sendRaw(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n"));
  auto res = client->read();
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_EQ(res.status, 413);
  EXPECT_FALSE(res.message.keep_alive());
  EXPECT_EQ(log_.requestCount(), 0u);
}

TEST_F(HttpServerTest, ChunkedBodyGrowingPastTheLimitIsRefusedWith413) {
  options_.max_body_bytes = 1024;
  startEchoServer();
  auto client = connectedClient();
  std::string chunk(600, 'x');
  std::string raw = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) raw += "258\r\n" + chunk + "\r\n";  // 0x258 == 600
  ASSERT_FALSE(client->sendRaw(raw));
  auto res = client->read();
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(log_.requestCount(), 0u);
}

TEST_F(HttpServerTest, ChunkedBodyWithinTheLimitIsAccepted) {
  options_.max_body_bytes = 1024;
  startServer([](HttpServerRequest req, Responder respond) {
    HttpServerResponse res;
    res.body = req.body;
    respond(std::move(res));
  });
  auto client = connectedClient();
  ASSERT_FALSE(client->sendRaw(
      "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto res = client->read();
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.message.body(), "hello world");
}

TEST_F(HttpServerTest, GarbageAfterTheHandshakeGets400) {
  startEchoServer();
  auto client = connectedClient();
  ASSERT_FALSE(client->sendRaw(std::string("\x01\x02\xff garbage that is no request\r\n\r\n")));
  auto res = client->read();
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_EQ(res.status, 400);
  EXPECT_FALSE(res.message.keep_alive());
  EXPECT_EQ(log_.requestCount(), 0u);
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  options_.max_header_bytes = 1024;
  startEchoServer();
  auto client = connectedClient();
  ASSERT_FALSE(client->send(http::verb::get, "/", "", {{"X-Big", std::string(4096, 'a')}}));
  auto res = client->read();
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_EQ(res.status, 431);
  EXPECT_EQ(log_.requestCount(), 0u);
}

TEST_F(HttpServerTest, ClientStallingHalfwayThroughTheHeaderIsDisconnected) {
  options_.header_timeout = 200ms;
  startEchoServer();
  auto client = connectedClient();
  ASSERT_FALSE(client->sendRaw("GET /slow HTTP/1.1\r\nHost: x\r\nX-Partial: "));
  auto ec = client->readUntilClosed();
  EXPECT_NE(ec, beast::error::timeout) << "server kept a stalled connection open";
  EXPECT_EQ(log_.requestCount(), 0u);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  options_.idle_timeout = 200ms;
  startEchoServer();
  auto client = connectedClient();
  auto res = client->roundTrip(http::verb::get, "/once");
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_TRUE(res.message.keep_alive());
  auto ec = client->readUntilClosed();
  EXPECT_NE(ec, beast::error::timeout) << "server kept an idle connection open";
}

TEST_F(HttpServerTest, HeldRequestIsAnsweredLaterFromAnotherThread) {
  options_.header_timeout = 200ms;  // the handler's time is not bounded by the read timeouts
  options_.body_timeout = 200ms;
  startHoldingServer();
  auto client = connectedClient();
  ASSERT_FALSE(client->send(http::verb::post, "/agent/v1/poll", R"({"wait_s":30})"));
  ASSERT_TRUE(waitFor([&] { return log_.heldCount() == 1; }));
  EXPECT_EQ(server_->inFlight(), 1u);
  std::this_thread::sleep_for(400ms);  // longer than every read timeout configured above
  EXPECT_EQ(server_->inFlight(), 1u);

  std::thread answerer([&] {
    HttpServerResponse res;
    res.body = R"({"jobs":[]})";
    log_.held[0](std::move(res));
  });
  answerer.join();
  auto res = client->read();
  ASSERT_FALSE(res.ec) << res.ec.message();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.message.body(), R"({"jobs":[]})");
  EXPECT_EQ(server_->inFlight(), 0u);
}

TEST_F(HttpServerTest, CallingTheResponderTwiceSendsOnlyTheFirstAnswer) {
  startServer([](HttpServerRequest req, Responder respond) {
    HttpServerResponse first;
    first.body = "first:" + req.path;
    respond(std::move(first));
    HttpServerResponse second;
    second.status = 500;
    second.body = "second";
    respond(std::move(second));
  });
  auto client = connectedClient();
  auto a = client->roundTrip(http::verb::get, "/a");
  ASSERT_FALSE(a.ec) << a.ec.message();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.message.body(), "first:/a");
  // A stray second response would be read here instead of the answer to /b.
  auto b = client->roundTrip(http::verb::get, "/b");
  ASSERT_FALSE(b.ec) << b.ec.message();
  EXPECT_EQ(b.message.body(), "first:/b");
  EXPECT_EQ(server_->inFlight(), 0u);
}

TEST_F(HttpServerTest, HandlerThatThrowsOrSendsAnInvalidStatusGets500) {
  startServer([](HttpServerRequest req, Responder respond) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    HttpServerResponse res;
    res.status = 42;
    respond(std::move(res));
  });
  auto client = connectedClient();
  auto thrown = client->roundTrip(http::verb::get, "/throw");
  ASSERT_FALSE(thrown.ec) << thrown.ec.message();
  EXPECT_EQ(thrown.status, 500);
  auto invalid = client->roundTrip(http::verb::get, "/invalid");
  ASSERT_FALSE(invalid.ec) << invalid.ec.message();
  EXPECT_EQ(invalid.status, 500);
  EXPECT_EQ(server_->inFlight(), 0u);
}

TEST_F(HttpServerTest, AnsweringAfterTheClientLeftIsHarmless) {
  startHoldingServer();
  {
    auto client = connectedClient();
    ASSERT_FALSE(client->send(http::verb::post, "/agent/v1/poll", "{}"));
    ASSERT_TRUE(waitFor([&] { return log_.heldCount() == 1; }));
    client->close();
  }
  HttpServerResponse res;
  res.body = "too late";
  log_.held[0](std::move(res));
  EXPECT_EQ(server_->inFlight(), 0u);

  // The server still serves others.
  auto other = connectedClient();
  ASSERT_FALSE(other->send(http::verb::get, "/next"));
  ASSERT_TRUE(waitFor([&] { return log_.heldCount() == 2; }));
  log_.held[1](HttpServerResponse{});
  auto next = other->read();
  ASSERT_FALSE(next.ec) << next.ec.message();
  EXPECT_EQ(next.status, 200);
}

TEST_F(HttpServerTest, DroppingTheResponderUnansweredReleasesTheRequest) {
  startServer([](HttpServerRequest, Responder) {});
  auto client = connectedClient();
  ASSERT_FALSE(client->send(http::verb::get, "/ignored"));
  auto ec = client->readUntilClosed();
  EXPECT_NE(ec, beast::error::timeout);
  EXPECT_TRUE(waitFor([&] { return server_->inFlight() == 0; }));
}

TEST_F(HttpServerTest, AnsweringAfterTheServerWasDestroyedIsHarmless) {
  startHoldingServer();
  auto client = connectedClient();
  ASSERT_FALSE(client->send(http::verb::get, "/held"));
  ASSERT_TRUE(waitFor([&] { return log_.heldCount() == 1; }));
  server_.reset();
  EXPECT_NE(client->readUntilClosed(), beast::error::timeout);
  log_.held[0](HttpServerResponse{});
  log_.held.clear();
}

TEST_F(HttpServerTest, DrainAnswersHeldRequestsClosesIdleConnectionsAndRefusesNewOnes) {
  startServer([this](HttpServerRequest req, Responder respond) {
    if (req.path == "/quick") return respond(HttpServerResponse{});
    std::lock_guard lock(log_.mu);
    log_.held.push_back(std::move(respond));
  });
  auto idle = connectedClient();
  auto quick = idle->roundTrip(http::verb::get, "/quick");
  ASSERT_FALSE(quick.ec) << quick.ec.message();
  ASSERT_TRUE(quick.message.keep_alive());

  auto polling = connectedClient();
  ASSERT_FALSE(polling->send(http::verb::post, "/agent/v1/poll", "{}"));
  ASSERT_TRUE(waitFor([&] { return log_.heldCount() == 1; }));

  std::promise<void> done;
  std::atomic<bool> drain_started{false};
  server_->drain(
      kPatience,
      [&] {
        drain_started = true;
        std::lock_guard lock(log_.mu);
        for (auto& respond : log_.held) {
          HttpServerResponse res;
          res.status = 503;
          res.body = R"({"error":"draining"})";
          respond(std::move(res));
        }
      },
      [&] { done.set_value(); });
  EXPECT_TRUE(drain_started);

  auto answered = polling->read();
  ASSERT_FALSE(answered.ec) << answered.ec.message();
  EXPECT_EQ(answered.status, 503);
  EXPECT_FALSE(answered.message.keep_alive());  // Connection: close while draining
  EXPECT_NE(idle->readUntilClosed(), beast::error::timeout);
  ASSERT_EQ(done.get_future().wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(server_->inFlight(), 0u);

  TestClient late(client_io_, client_tls_);
  EXPECT_TRUE(late.connect(server_->port()));
}

TEST_F(HttpServerTest, DrainDeadlineClosesRequestsNobodyAnswered) {
  startHoldingServer();
  auto client = connectedClient();
  ASSERT_FALSE(client->send(http::verb::post, "/agent/v1/poll", "{}"));
  ASSERT_TRUE(waitFor([&] { return log_.heldCount() == 1; }));
  std::promise<void> done;
  server_->drain(100ms, [] {}, [&] { done.set_value(); });
  ASSERT_EQ(done.get_future().wait_for(kPatience), std::future_status::ready);
  EXPECT_NE(client->readUntilClosed(), beast::error::timeout);
  EXPECT_TRUE(waitFor([&] { return server_->inFlight() == 0; }));
  log_.held[0](HttpServerResponse{});  // the owner answering late is still harmless
}

TEST_F(HttpServerTest, DrainWithNoConnectionsCompletesAtOnce) {
  startEchoServer();
  std::promise<void> done;
  server_->drain(kPatience, nullptr, [&] { done.set_value(); });
  EXPECT_EQ(done.get_future().wait_for(kPatience), std::future_status::ready);
}

TEST_F(HttpServerTest, FiveHundredHeldRequestsNeedOnlyOneServerThread) {
  constexpr int kClients = 500;
  startHoldingServer(/*threads=*/1);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    auto client = std::make_unique<TestClient>(client_io_, client_tls_);
    ASSERT_FALSE(client->connect(server_->port())) << "client " << i;
    ASSERT_FALSE(client->send(http::verb::post, "/agent/v1/poll?n=" + std::to_string(i), "{}"));
    clients.push_back(std::move(client));
  }
  ASSERT_TRUE(waitFor([&] { return log_.heldCount() == kClients; }));
  EXPECT_EQ(server_->inFlight(), static_cast<size_t>(kClients));
  EXPECT_EQ(log_.threads.size(), 1u);

  {
    std::lock_guard lock(log_.mu);
    for (size_t i = 0; i < log_.held.size(); ++i) {
      HttpServerResponse res;
      res.body = log_.requests[i].query.at("n");
      log_.held[i](std::move(res));
    }
  }
  for (int i = 0; i < kClients; ++i) {
    auto res = clients[i]->read();
    ASSERT_FALSE(res.ec) << "client " << i << ": " << res.ec.message();
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.message.body(), std::to_string(i));
  }
  EXPECT_EQ(server_->inFlight(), 0u);
}

TEST_F(HttpServerTest, StartFailsWithConfigErrorForAMissingCertificate) {
  options_.tls_cert_file = dir_.path("missing.pem");
  HttpServer server(server_io_, options_, [](HttpServerRequest, Responder) {});
  Status st = server.start();
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig);
}

TEST_F(HttpServerTest, StartFailsWithConfigErrorWhenThePortIsTaken) {
  startEchoServer();
  options_.port = server_->port();
  HttpServer second(server_io_, options_, [](HttpServerRequest, Responder) {});
  Status st = second.start();
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig);
}

struct CurlResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
};

size_t appendToString(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// POSTs `body` with libcurl, trusting only `ca_file`, the way an operator's curl --cacert would.
CurlResult curlPost(const std::string& url, const std::string& ca_file, const std::string& body) {
  CurlResult out;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(kPatience.count()));
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  out.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_cleanup(curl);
  return out;
}

TEST_F(HttpServerTest, CurlTrustsTheGeneratedCertificateAndUploadsALargeBody) {
  startServer([](HttpServerRequest req, Responder respond) {
    HttpServerResponse res;
    res.body = std::to_string(req.body.size());
    respond(std::move(res));
  });
  // Above 1 MB curl asks "Expect: 100-continue" first.
  std::string body(2 * 1024 * 1024, 'x');
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto res = curlPost("https://" + host + ":" + std::to_string(server_->port()) + "/upload",
                        cert_, body);
    ASSERT_EQ(res.code, CURLE_OK) << host << ": " << curl_easy_strerror(res.code);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, std::to_string(body.size()));
  }
}

TEST_F(HttpServerTest, CurlUploadOverTheLimitGets413) {
  options_.max_body_bytes = 1024 * 1024;
  startEchoServer();
  auto res = curlPost("https://127.0.0.1:" + std::to_string(server_->port()) + "/upload", cert_,
                      std::string(2 * 1024 * 1024, 'x'));
  ASSERT_EQ(res.code, CURLE_OK) << curl_easy_strerror(res.code);
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(log_.requestCount(), 0u);
}

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr loadCertificate(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return X509Ptr(nullptr, X509_free);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return X509Ptr(cert, X509_free);
}

TEST(SelfSignedCertificateTest, CreatesAPrivateKeyAndACertificateValidFor127001) {
  TempDir dir;
  std::string cert_path = dir.path("a/b/cert.pem");
  std::string key_path = dir.path("a/keys/key.pem");
  ASSERT_TRUE(
      ensureSelfSignedCertificate(cert_path, key_path, {"cp.example.com", "10.1.2.3"}).isOk());

  struct stat st {};
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  auto cert = loadCertificate(cert_path);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.1.2.3", 0), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "cp.example.com", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(cert.get(), "10.9.9.9", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "other.example.com", 0, 0, nullptr), 1);

  // It verifies as its own trust anchor, the way a client using --cacert sees it.
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert.get(), nullptr);
  X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(ctx), "127.0.0.1");
  EXPECT_EQ(X509_verify_cert(ctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
}

TEST(SelfSignedCertificateTest, LeavesExistingFilesAlone) {
  TempDir dir;
  std::string cert_path = dir.path("cert.pem");
  std::string key_path = dir.path("key.pem");
  ASSERT_TRUE(ensureSelfSignedCertificate(cert_path, key_path).isOk());
  std::string cert_before = readFile(cert_path);
  std::string key_before = readFile(key_path);
  ASSERT_TRUE(ensureSelfSignedCertificate(cert_path, key_path).isOk());
  EXPECT_EQ(readFile(cert_path), cert_before);
  EXPECT_EQ(readFile(key_path), key_before);
}

TEST(SelfSignedCertificateTest, RefusesToOverwriteHalfAPair) {
  TempDir dir;
  std::string cert_path = dir.path("cert.pem");
  std::string key_path = dir.path("key.pem");
  std::ofstream(key_path) << "operator's key";
  Status st = ensureSelfSignedCertificate(cert_path, key_path);
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig);
  EXPECT_EQ(readFile(key_path), "operator's key");
  EXPECT_FALSE(std::filesystem::exists(cert_path));
}

}  // namespace
}  // namespace tenure::cp
