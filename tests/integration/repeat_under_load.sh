#!/usr/bin/env bash
# Runs the integration label many times in a row on a loaded machine, to show that no test waits
# for a fixed time instead of for what it needs (docs/testing.md):
#   tests/integration/repeat_under_load.sh [BUILD_DIR] [REPEAT]     (defaults: build/release 20)
# One busy process per core runs beside ctest --repeat until-fail:REPEAT (every integration test
# REPEAT times, stopping at its first failure). Needs a built tree (./deploy/test builds
# build/release) and root (the Samba fixture). Exits with ctest's status.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
repeat=${2:-20}
hogs=()
stop_hogs() { for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_hogs EXIT
for _ in $(seq "$(nproc)"); do
  (while :; do :; done) &
  hogs+=($!)
done
echo "repeat_under_load: $(nproc) CPU hog(s), ctest -L integration --repeat until-fail:$repeat"
start=$SECONDS
rc=0
ctest --test-dir "$build" -L integration -j "$(nproc)" --repeat "until-fail:$repeat" \
  --timeout 600 --output-on-failure || rc=$?
echo "repeat_under_load: exit $rc after $((SECONDS - start)) s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
exit $rc
