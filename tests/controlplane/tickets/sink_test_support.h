#pragma once
// Shared by the sink tests: local stand-ins for the sinks' servers
// (tests/fixtures/ticket_sink_server.py: an HTTP recorder that answers like ServiceNow's Table
// API and Jira's REST v2, and Debian's aiosmtpd as the mail server), started as child processes
// on loopback port 0, and a TicketEnv whose sinks point at them. Delivery goes through the outbox
// (deliverDue), with an injected clock for the backoff.

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include "tests/agent/transport/test_support.h"
#include "tests/controlplane/tickets/ticket_test_support.h"

namespace tenure::cp::testing {

using namespace std::chrono_literals;
using agent::testing::ChildServer;

inline std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

inline std::string hmacHex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return hexOf(std::string_view(reinterpret_cast<const char*>(mac), len));
}

class SinkEnv : public TicketEnv {
 protected:
  void SetUp() override {
    agent::testing::clearProxyEnvironment();
    TicketEnv::SetUp();
    fs::create_directories(dir_ / "sink");
  }

  // The HTTP recorder; answers 503 to its first `fail` requests.
  std::unique_ptr<ChildServer> httpSink(int fail = 0) {
    auto s = ChildServer::start({"/usr/bin/python3", TENURE_SINK_SERVER, "http",
                                 (dir_ / "sink").string(), "--fail", std::to_string(fail)});
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    return s.isOk() ? std::move(*s) : nullptr;
  }

  std::vector<bj::object> received() {
    std::vector<bj::object> out;
    std::istringstream in(readFile(dir_ / "sink" / "requests.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(bj::parse(line).as_object());
    return out;
  }

  void configure(const std::string& sinks_json) {
    std::vector<SinkConfig> sinks;
    const bj::value doc = bj::parse(sinks_json);
    for (const auto& v : doc.as_array()) {
      auto s = parseSinkConfig(v);
      ASSERT_TRUE(s.isOk()) << s.status().toString();
      sinks.push_back(*s);
    }
    ASSERT_TRUE(tickets_->setSinks(a_.tenant.tenant_id, sinks).isOk());
  }

  void raise(const std::string& subject = "E1") {
    ASSERT_TRUE(tickets_->raiseOrFail(Detection{a_.tenant.tenant_id, "bad_hr_data", subject,
                                                "HR row 2 (" + subject + ") rejected: Zoë",
                                                "Add an end date"})
                    .isOk());
  }

  static std::string field(const bj::object& request, const char* header) {
    const auto& h = request.at("headers").as_object();
    return h.contains(header) ? std::string(h.at(header).as_string()) : "";
  }

  static bj::value body(const bj::object& request) {
    return bj::parse(request.at("body").as_string());
  }

  // What the fake ITSM tool holds now: {"incidents": [...], "issues": [...]}.
  bj::value itsmState() { return bj::parse(readFile(dir_ / "sink" / "state.json")); }

  // Makes the fake answer `status` to the next `times` requests of `method` whose path contains
  // `path_contains`; with `after`, the request is carried out first (an answer lost on the way).
  void injectFault(const std::string& method, const std::string& path_contains, int status,
                   int times = 1, bool after = false) {
    std::ofstream(dir_ / "sink" / "faults.json")
        << bj::serialize(bj::array{bj::object{{"method", method},
                                              {"path_contains", path_contains},
                                              {"status", status},
                                              {"times", times},
                                              {"after", after}}});
  }

  // Sends a request straight to the fake, as someone working in the ITSM tool would.
  long directRequest(const std::string& method, const std::string& url,
                     const std::string& body = "") {
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!body.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    std::string sink;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &appendBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    EXPECT_EQ(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
  }
};

}  // namespace tenure::cp::testing
