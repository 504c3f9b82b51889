#!/usr/bin/env bash
# Smoke test of the Windows agent under Wine (run as root on Debian 12):
#   installs the Windows toolchain packages if missing, cross-builds the agent and its MSI, installs
#   the MSI silently into a fresh WINEPREFIX, checks that the service runs and took over the installer
#   settings (config written, secrets moved out of the registry), stops it, uninstalls, and checks that
#   the service and the program files are gone.
#   TODO(next step): enroll with a real tenure-cp on loopback and run a job against the Samba fixture
#   (plain LDAP under Wine).
# Usage: tests/windows/smoke.sh [BUILD_DIR]     (default: build-windows)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-windows}
log() { echo "smoke: $*"; }
t0=$SECONDS

"$root/deploy/install-deps" --windows
# wixl is packaged separately from msitools in Debian 12.
command -v wixl >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wixl >/dev/null
command -v tclsh >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tcl >/dev/null

if [[ -z ${SMOKE_SKIP_BUILD:-} ]]; then  # SMOKE_SKIP_BUILD=1: reuse an MSI built before
  log "configure + build ($build)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/installer/windows/mingw-w64.cmake" >/dev/null
  cmake --build "$build" --target msi -j"${JOBS:-1}" >/dev/null
fi
msi=$build/tenure-agent.msi
[[ -s $msi ]] || { log "FAIL: no MSI"; exit 1; }
log "built $(du -h "$msi" | cut -f1) MSI in $((SECONDS - t0)) s"

export WINEPREFIX
WINEPREFIX=$(mktemp -d /tmp/tenure-wine.XXXXXX)
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
  wineserver -k 2>/dev/null || true
  rm -rf "$WINEPREFIX"
}
[[ -n ${SMOKE_KEEP_PREFIX:-} ]] || trap cleanup EXIT
# Without a persistent wineserver, Wine tears the service down ~3 s after the last command.
wineserver -p
wine wineboot -i >/dev/null 2>&1
# Wine's SCM gives a starting service little time to connect; a loaded CI machine needs more.
wine reg add 'HKLM\System\CurrentControlSet\Control' /v ServicesPipeTimeout /t REG_DWORD \
  /d 120000 /f >/dev/null 2>&1
wineserver -k; wineserver -p
cp "$msi" "$WINEPREFIX/drive_c/tenure-agent.msi"

log "msiexec /i (silent, with properties)"
wine msiexec /i 'C:\tenure-agent.msi' /qn CP_URL=https://localhost:1/ ENROLL_SECRET=smoke-secret \
  LDAP_URL=ldap://127.0.0.1:1 BIND_DN=svc@example.test AD_PASSWORD=smoke-pass \
  USERS_BASE_DN='OU=Staff,DC=example,DC=test' ALLOW_PLAIN_LDAP=1 START_TLS=0 /l*v 'C:\msi-install.log' >/dev/null 2>&1 ||
  { log "FAIL: msiexec /i (log: $(iconv -f UTF-16LE -t UTF-8 "$WINEPREFIX/drive_c/msi-install.log" 2>/dev/null | grep -i -m5 "error\|return value 3"))"; exit 1; }
exe="$WINEPREFIX/drive_c/Program Files/Tenure/tenure-agent.exe"
[[ -f $exe ]] || { log "FAIL: $exe not installed"; exit 1; }

status() { wine "C:\\Program Files\\Tenure\\tenure-agent.exe" service status 2>/dev/null | tr -d '\r'; }
for _ in $(seq 1 50); do [[ $(status) == running ]] && break; sleep 0.2; done
[[ $(status) == running ]] || { log "FAIL: service is not running ($(status))"; exit 1; }
log "service running"

# FOLDERID_ProgramData: C:\ProgramData on Windows; Wine may answer C:\users\Public.
data=""
for _ in $(seq 1 50); do
  for d in "$WINEPREFIX/drive_c/ProgramData/Tenure" "$WINEPREFIX/drive_c/users/Public/Tenure"; do
    [[ -s $d/agent.json ]] && data=$d
  done
  [[ -n $data ]] && break; sleep 0.2
done
[[ -n $data ]] || { log "FAIL: no agent.json"; exit 1; }
for _ in $(seq 1 50); do [[ -s $data/agent.json ]] && break; sleep 0.2; done
[[ -s $data/agent.json ]] || { log "FAIL: no agent.json"; exit 1; }
grep -q '"control_plane_url":"https://localhost:1/"' "$data/agent.json" || { log "FAIL: config: $(cat "$data/agent.json")"; exit 1; }
[[ $(cat "$data/state/enroll_secret") == smoke-secret ]] || { log "FAIL: enroll secret not handed over"; exit 1; }
if wine reg query 'HKLM\SOFTWARE\Tenure\Agent' /v EnrollSecret >/dev/null 2>&1; then
  log "FAIL: the enroll secret is still in the registry"; exit 1
fi
log "installer settings handed over (config written, secrets out of the registry)"

log "service stop"
t_stop=$SECONDS
wine "C:\\Program Files\\Tenure\\tenure-agent.exe" service stop >/dev/null 2>&1
[[ $(status) == stopped ]] || { log "FAIL: service did not stop ($(status))"; exit 1; }
log "stopped in $((SECONDS - t_stop)) s"
grep -q "service stopped" "$data/logs/agent.log" || { log "FAIL: no stop in the log"; exit 1; }

log "msiexec /x"
wine msiexec /x 'C:\tenure-agent.msi' /qn >/dev/null 2>&1
[[ ! -e $exe ]] || { log "FAIL: program files left behind"; exit 1; }
if wine sc query TenureAgent 2>/dev/null | grep -q RUNNING; then log "FAIL: service left"; exit 1; fi
if wine "C:\\windows\\system32\\sc.exe" qc TenureAgent >/dev/null 2>&1; then
  log "FAIL: service still registered"; exit 1
fi
log "uninstalled; state kept in ProgramData\\Tenure as designed"
log "PASS in $((SECONDS - t0)) s"
