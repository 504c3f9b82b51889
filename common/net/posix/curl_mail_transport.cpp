#include "common/net/curl_mail_transport.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/net/posix/curl_global.h"

namespace tenure::net {

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

struct UploadSource {
  const std::string* data;
  size_t offset = 0;
};

size_t readUpload(char* buf, size_t size, size_t n, void* user) {
  auto* src = static_cast<UploadSource*>(user);
  size_t left = src->data->size() - src->offset;
  size_t take = std::min(left, size * n);
  std::memcpy(buf, src->data->data() + src->offset, take);
  src->offset += take;
  return take;
}

}  // namespace

CurlMailTransport::CurlMailTransport() { initCurlOnce(); }

Status CurlMailTransport::send(const MailServer& server, const MailMessage& message,
                               std::chrono::milliseconds timeout) {
  if (message.recipients.empty()) return configError("no recipients");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return internalError("curl_easy_init failed");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  const std::string url = "smtp://" + server.host + ":" + std::to_string(server.port);
  CurlList rcpt;
  for (const auto& a : message.recipients) {
    if (!rcpt.add("<" + a + ">")) return internalError("cannot build the recipient list");
  }
  const std::string from = "<" + message.from + ">";
  UploadSource src{&message.data};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.list);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &readUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &src);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  if (server.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!server.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, server.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, server.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_LOGIN_DENIED) return permissionError("smtp login refused");
  if (rc != CURLE_OK) {
    return transientError("smtp " + server.host + ": " + curl_easy_strerror(rc),
                          static_cast<int>(rc));
  }
  return Status::ok();
}

}  // namespace tenure::net
