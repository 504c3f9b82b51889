#pragma once
// The agent reaches the control plane through common/net's outbound HTTP seam: CurlHttpClient on
// Linux, WinHttpClient on Windows (agent/main/{posix,windows}/platform.cpp pick one).

#include "common/net/http_client.h"

namespace tenure::agent {

using net::HttpClient;
using net::HttpClientSettings;
using net::HttpRequest;
using net::HttpResponse;

}  // namespace tenure::agent
