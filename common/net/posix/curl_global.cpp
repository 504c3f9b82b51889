#include "common/net/posix/curl_global.h"

#include <mutex>

namespace tenure::net {

void initCurlOnce() {
  static std::once_flag once;
  // Never paired with curl_global_cleanup: other threads may still use libcurl at exit.
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace tenure::net
