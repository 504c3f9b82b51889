// Access audit chain cost: appending an entry (IMMEDIATE transaction, read the last hash,
// SHA-256, insert, commit) against the yardstick of a plain insert in its own transaction on the
// same kind of SQLite file, and verifying a whole chain. Run by hand:
//   build-dev/tests/bench/tenure_audit_chain_bench [entries]      (default 20000)

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/sqlite/database.h"
#include "controlplane/audit/access_log.h"
#include "controlplane/store/sqlite/sqlite_tenant_store.h"

using namespace tenure;
using Steady = std::chrono::steady_clock;

namespace {
double secondsSince(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 20000;
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "tenure-audit-bench";
  fs::remove_all(dir);
  fs::create_directories(dir);

  // The chain of a tenant database, as the control plane keeps it.
  auto store =
      cp::SqliteTenantStore::open((dir / "chain.db").string(), SystemClock::instance()).value();
  cp::AccessChainStore& chain = store->accessChain();
  cp::AccessEntry e;
  e.principal_kind = "tenant_token";
  e.principal = "Acme";
  e.tenant_id = "t_0123456789abcdef";
  e.method = "GET";
  e.path = "/api/v1/runs/r_0123456789abcdef/report.csv";
  e.resource = "runs/r_0123456789abcdef/report.csv";
  e.action = "read";
  e.status = 200;
  auto t0 = Steady::now();
  for (int i = 0; i < n; ++i) {
    e.at_ms = 1'700'000'000'000 + i;
    if (!cp::appendAccessEntry(chain, e).isOk()) return 1;
  }
  const double append_s = secondsSince(t0);

  auto plain = sqlite::Database::open((dir / "plain.db").string()).value();
  if (!plain.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, at_ms INTEGER, principal TEXT, "
                  "path TEXT, status INTEGER)")
           .isOk()) {
    return 1;
  }
  t0 = Steady::now();
  for (int i = 0; i < n; ++i) {
    auto tx = sqlite::Transaction::begin(plain).value();
    auto st = plain.prepare("INSERT INTO t (at_ms, principal, path, status) VALUES (?, ?, ?, ?)")
                  .value();
    st.bindInt64(1, i).bindText(2, e.principal).bindText(3, e.path).bindInt64(4, 200);
    if (!st.run().isOk() || !tx.commit().isOk()) return 1;
  }
  const double plain_s = secondsSince(t0);

  t0 = Steady::now();
  auto check = cp::verifyAccessChain(chain).value();
  const double verify_s = secondsSince(t0);
  if (!check.ok || check.entries != n) return 1;

  std::printf("entries %d\n", n);
  std::printf("append (hash chained): %.1f us/entry (%.0f entries/s)\n", append_s * 1e6 / n,
              n / append_s);
  std::printf("yardstick plain insert, own transaction: %.1f us/entry\n", plain_s * 1e6 / n);
  std::printf("verify: %.2f s for %d entries (%.0f entries/s)\n", verify_s, n, n / verify_s);
  fs::remove_all(dir);
  return 0;
}
