#!/usr/bin/env bash
# The module boundaries of docs/architecture.md, checked on the source tree: a file that crosses
# one fails this test with its name and the line. Run by ctest (architecture.layering) in every
# unit tree; `tests/architecture/layering_test.sh [SOURCE_DIR]` by hand.
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
failed=0

# check NAME PATTERN ALLOWED_REGEX DIR...: lines matching PATTERN in files under DIRs, except in
# files whose path matches ALLOWED_REGEX, are violations.
check() {
  local name=$1 pattern=$2 allowed=$3
  shift 3
  local dir
  for dir in "$@"; do
    # A folder that moved must fail the check, not make it pass on nothing.
    [[ -d $dir ]] || { echo "FAIL: $name: no folder $dir"; failed=1; return; }
  done
  local hits
  # grep -v finds nothing to print when every hit is allowed (exit 1): that is the passing case.
  hits=$(grep -rnE --include='*.h' --include='*.cpp' "$pattern" "$@" | grep -vE "^($allowed)" || true)
  if [[ -n $hits ]]; then
    echo "FAIL: $name"
    echo "$hits" | sed 's/^/  /'
    failed=1
  else
    echo "ok:   $name"
  fi
}

# Storage: SQL and SQLite only in the store implementations (ADR 0009). The agent's spool is the
# agent's own local store.
check "SQLite only in store implementations" \
  '#include [<"](sqlite3\.h|common/sqlite/)|withDatabase|sqlite::' \
  'common/sqlite/|controlplane/store/sqlite/|agent/spool/' \
  agent common controlplane
# Outbound HTTP and mail: libcurl driven in one module (common/net).
check "libcurl only in common/net" '#include [<"]curl/' 'common/net/posix/' agent common controlplane
# Platform code in posix/ and windows/ folders, chosen by CMake.
check "no platform #ifdefs in shared code" '^\s*#\s*(if|ifdef|ifndef|elif).*(_WIN32|__linux__|_MSC_VER)' \
  '[^:]*/(posix|windows)/' agent common controlplane
# Layers: common/ knows neither program; the agent and the control plane share only common/.
check "common/ includes neither program" '#include "(agent|controlplane)/' '^$' common
check "the agent does not include the control plane" '#include "controlplane/' '^$' agent
check "the control plane does not include the agent" '#include "agent/' '^$' controlplane
# Domain services below the API: no HTTP types in intake, queue, policy, scheduler, connectors'
# pull logic or the digest's scheduling, and no dependency on the HTTP-facing service.
check "domain services do not include the HTTP layer" \
  '#include "controlplane/(http|api)/|#include "controlplane/service/control_plane_service\.h"' '^$' \
  controlplane/intake controlplane/queue controlplane/policy controlplane/scheduler controlplane/store
# The scheduler, the connectors and the digest submit through the intake and the queue, never
# through the service that answers HTTP (issue 13).
check "scheduler, connectors and digest do not depend on ControlPlaneService" \
  '#include "controlplane/service/' '^$' \
  controlplane/scheduler controlplane/connectors controlplane/digest
exit $failed
