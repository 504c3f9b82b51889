#pragma once
// What the libcurl clients of this module (CurlHttpClient, CurlMailTransport) share.

#include <curl/curl.h>

#include <string>

namespace tenure::net {

// curl_global_init, once per process, before the first handle.
void initCurlOnce();

// An owned curl_slist (request headers, mail recipients).
struct CurlList {
  curl_slist* list = nullptr;
  CurlList() = default;
  CurlList(const CurlList&) = delete;
  CurlList& operator=(const CurlList&) = delete;
  ~CurlList() { curl_slist_free_all(list); }
  [[nodiscard]] bool add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

}  // namespace tenure::net
