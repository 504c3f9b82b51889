#pragma once
// MailTransport: the seam between the control plane and an SMTP server (ticket notifications and
// report digests go out through a tenant's smtp sink). CurlMailTransport is the implementation
// (libcurl's SMTP client, POSIX); tests use a real SMTP server on loopback or a fake of their own.

#include <chrono>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::net {

struct MailServer {
  std::string host;
  int port = 25;
  bool starttls = false;  // refuse to send unless the server upgrades the connection to TLS
  std::string username;   // empty: no AUTH
  std::string password;
};

struct MailMessage {
  std::string from;                     // envelope sender (MAIL FROM), an address without <>
  std::vector<std::string> recipients;  // envelope recipients (RCPT TO); the To header is the
                                        // message's own
  std::string data;                     // the complete RFC 5322 message, CRLF line endings
};

class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // Transient error for network faults and refusals, permission error for a refused login.
  virtual Status send(const MailServer& server, const MailMessage& message,
                      std::chrono::milliseconds timeout) = 0;
};

}  // namespace tenure::net
