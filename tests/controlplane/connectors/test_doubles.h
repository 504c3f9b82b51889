#pragma once
// Test doubles for the connector tests: a SecretBox that seals reversibly but binds tenant and
// context (and never stores the plaintext as is), and a TicketRaiser that records calls.

#include <mutex>
#include <string>
#include <vector>

#include "controlplane/secrets/secret_box.h"
#include "controlplane/tickets/ticket_raiser.h"

namespace tenure::testing {

class TestSecretBox final : public cp::SecretBox {
 public:
  Result<std::string> seal(const std::string& tenant_id, std::string_view context,
                           std::string_view plaintext) override {
    std::string out = "sealed:" + tenant_id + ":" + std::string(context) + ":";
    static const char* kHex = "0123456789abcdef";
    for (unsigned char ch : plaintext) {
      const unsigned char x = ch ^ 0x5a;
      out += kHex[x >> 4];
      out += kHex[x & 15];
    }
    return out;
  }
  Result<std::string> open(const std::string& tenant_id, std::string_view context,
                           std::string_view sealed) override {
    const std::string prefix = "sealed:" + tenant_id + ":" + std::string(context) + ":";
    if (sealed.substr(0, prefix.size()) != prefix) return dataError("does not open");
    std::string_view hex = sealed.substr(prefix.size());
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
      out += static_cast<char>(((v(hex[i]) << 4) | v(hex[i + 1])) ^ 0x5a);
    }
    return out;
  }
};

class RecordingTicketRaiser final : public cp::TicketRaiser {
 public:
  struct Cleared {
    std::string tenant_id, detector, subject;
  };
  void raise(const cp::Detection& d) override {
    std::lock_guard lock(mu_);
    raised_.push_back(d);
  }
  void clear(const std::string& tenant_id, const std::string& detector,
             const std::string& subject) override {
    std::lock_guard lock(mu_);
    cleared_.push_back({tenant_id, detector, subject});
  }
  std::vector<cp::Detection> raised() const {
    std::lock_guard lock(mu_);
    return raised_;
  }
  std::vector<Cleared> cleared() const {
    std::lock_guard lock(mu_);
    return cleared_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<cp::Detection> raised_;
  std::vector<Cleared> cleared_;
};

}  // namespace tenure::testing
