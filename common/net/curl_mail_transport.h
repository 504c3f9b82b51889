#pragma once
// CurlMailTransport: MailTransport on libcurl's SMTP client (POSIX). A line holding a single "."
// is escaped by libcurl.

#include "common/net/mail_transport.h"

namespace tenure::net {

class CurlMailTransport final : public MailTransport {
 public:
  CurlMailTransport();
  // Thread-safe: every message has its own connection.
  Status send(const MailServer& server, const MailMessage& message,
              std::chrono::milliseconds timeout) override;
};

}  // namespace tenure::net
