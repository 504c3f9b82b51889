#pragma once
// `tenure-cp preview`: uploads an HR file as a dry run through the tenant API, waits for the
// agent's plan and prints it per person (action, operations and their reasons) with the rejected
// rows. A client of the public API only; it never touches the data directory. Requests go out
// through the HttpClient the caller hands in (main.cpp: libcurl, https only, trusting
// PreviewOptions::ca_file).

#include <chrono>
#include <iosfwd>
#include <string>

#include "common/net/http_client.h"

namespace tenure::cp {

struct PreviewOptions {
  std::string url;      // https://host:port of the control plane
  std::string token;    // the tenant's API token
  std::string ca_file;  // PEM bundle to trust (empty: the system store); the caller's client uses it
  std::string file;     // .csv or .json
  std::chrono::seconds timeout{300};
  std::chrono::milliseconds poll_interval{1'000};
};

// Returns the process exit code: 0 when the preview run succeeded, 1 when it failed, was held or
// timed out, or every row was rejected; 2 for usage or transport errors. Writes to `out`/`err`.
int runPreview(net::HttpClient& http, const PreviewOptions& options, std::ostream& out,
               std::ostream& err);

}  // namespace tenure::cp
