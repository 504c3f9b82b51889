#!/usr/bin/env bash
# End-to-end smoke test of the Windows agent under Wine (run as root on Debian 12):
#   cross-builds the agent and its MSI and builds the Linux control plane (tenure-cp); starts
#   tenure-cp on loopback with a temp data dir, creates a tenant, starts the Samba AD fixture,
#   trusts the control plane's certificate in the Wine prefix's LocalMachine ROOT store, installs the
#   MSI silently (CP_URL, ENROLL_SECRET, AD settings; plain ldap:// with ALLOW_PLAIN_LDAP=1 because
#   Wine's LDAPS does not verify certificates), checks the service runs and took over the installer
#   settings, uploads a small HR CSV through the tenant API, waits for the run to succeed, verifies
#   the accounts with ldapsearch, stops the service, uninstalls and checks the service and files are
#   gone. Everything started here is stopped on exit (wineserver -k, Samba, tenure-cp).
#   Wine does not match IP-address SANs: the agent talks to https://localhost:PORT.
# Usage: tests/windows/smoke.sh [BUILD_DIR]     (default: build-windows)
#   LINUX_BUILD=dir (default build-linux) for tenure-cp; SMOKE_SKIP_BUILD=1 reuses both builds;
#   SMOKE_LDAP_ADDR (default 127.0.0.40); SMOKE_KEEP=1 keeps the temp dir and Wine prefix.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-windows}
linux_build=${LINUX_BUILD:-$root/build-linux}
ldap_addr=${SMOKE_LDAP_ADDR:-127.0.0.40}
log() { echo "smoke: $*"; }
fail() { log "FAIL: $*"; exit 1; }
t0=$SECONDS

"$root/deploy/install-deps" --windows
# wixl is packaged separately from msitools in Debian 12.
command -v wixl >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wixl >/dev/null
command -v tclsh >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tcl >/dev/null

if [[ -z ${SMOKE_SKIP_BUILD:-} ]]; then  # SMOKE_SKIP_BUILD=1: reuse the builds made before
  log "configure + build ($build, $linux_build)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/installer/windows/mingw-w64.cmake" >/dev/null
  cmake --build "$build" --target msi -j"${JOBS:-1}" >/dev/null
  cmake -S "$root" -B "$linux_build" -G Ninja >/dev/null
  cmake --build "$linux_build" --target tenure-cp -j"${JOBS:-1}" >/dev/null
fi
msi=$build/tenure-agent.msi
cp_bin=$linux_build/controlplane/main/tenure-cp
[[ -s $msi ]] || fail "no MSI"
[[ -x $cp_bin ]] || fail "no $cp_bin"
log "built $(du -h "$msi" | cut -f1) MSI and tenure-cp in $((SECONDS - t0)) s"

work=$(mktemp -d /tmp/tenure-smoke.XXXXXX)
export WINEPREFIX=$work/wine
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cp_pid=""
cleanup() {
  wineserver -k 2>/dev/null || true
  [[ -n $cp_pid ]] && kill -TERM "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null
  [[ -d $work/samba ]] && bash "$root/tests/fixtures/samba-ad.sh" stop "$work/samba" >/dev/null 2>&1
  if [[ -n ${SMOKE_KEEP:-} ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- control plane on loopback (https://localhost:PORT: Wine does not match IP SANs) ------------
"$cp_bin" serve --data-dir "$work/cp" --listen 127.0.0.1:0 >"$work/cp.log" 2>&1 &
cp_pid=$!
for _ in $(seq 100); do [[ -s $work/cp/tenure-cp.url ]] && break; sleep 0.1; done
[[ -s $work/cp/tenure-cp.url ]] || fail "tenure-cp did not start: $(cat "$work/cp.log")"
port=$(sed -E 's#.*:([0-9]+)/?$#\1#' "$work/cp/tenure-cp.url")
url=https://localhost:$port
ca=$work/cp/tls/cert.pem
openssl x509 -in "$ca" -noout -ext subjectAltName 2>/dev/null | grep -q DNS:localhost ||
  fail "the control plane certificate has no DNS:localhost"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
tenant=$("$cp_bin" tenant create --data-dir "$work/cp" "Smoke Co")
secret=$(field enroll_secret <<<"$tenant")
token=$(field api_token <<<"$tenant")
log "tenure-cp on $url, tenant created"

# --- Samba AD DC ----------------------------------------------------------------------------------
t_samba=$SECONDS
bash "$root/tests/fixtures/samba-ad.sh" start "$work/samba" "$ldap_addr" >"$work/samba-fixture.log" 2>&1 ||
  fail "samba fixture: $(tail -20 "$work/samba-fixture.log")"
# shellcheck disable=SC1091
source "$work/samba/env"
log "Samba AD DC on $ldap_addr in $((SECONDS - t_samba)) s"

# --- Wine prefix ------------------------------------------------------------------------------------
mkdir -p "$WINEPREFIX"
# Without a persistent wineserver, Wine tears the service down ~3 s after the last command.
wineserver -p
wine wineboot -i >/dev/null 2>&1
# Wine's SCM gives a starting service little time to connect; a loaded CI machine needs more.
wine reg add 'HKLM\System\CurrentControlSet\Control' /v ServicesPipeTimeout /t REG_DWORD \
  /d 120000 /f >/dev/null 2>&1
wineserver -k; wineserver -p
# Trust the control plane's certificate the way an administrator would (LocalMachine\ROOT).
x86_64-w64-mingw32-gcc -O2 -o "$work/add_root_cert.exe" "$root/tests/windows/add_root_cert.c" -lcrypt32
cp "$ca" "$WINEPREFIX/drive_c/cp-ca.pem"
wine "$work/add_root_cert.exe" 'C:\cp-ca.pem' >/dev/null 2>&1 || fail "could not add the CA to ROOT"
cp "$msi" "$WINEPREFIX/drive_c/tenure-agent.msi"

log "msiexec /i (silent, with properties)"
wine msiexec /i 'C:\tenure-agent.msi' /qn CP_URL="$url/" ENROLL_SECRET="$secret" \
  LDAP_URL="$TENURE_LDAP_PLAIN_URL" BIND_DN="$TENURE_LDAP_BIND_DN" AD_PASSWORD="$TENURE_LDAP_PASSWORD" \
  USERS_BASE_DN="$TENURE_LDAP_USERS_OU" LEAVERS_OU="$TENURE_LDAP_LEAVERS_OU" \
  ALLOW_PLAIN_LDAP=1 START_TLS=0 /l*v 'C:\msi-install.log' >/dev/null 2>&1 ||
  fail "msiexec /i (log: $(iconv -f UTF-16LE -t UTF-8 "$WINEPREFIX/drive_c/msi-install.log" 2>/dev/null | grep -i -m5 "error\|return value 3"))"
exe="$WINEPREFIX/drive_c/Program Files/Tenure/tenure-agent.exe"
[[ -f $exe ]] || fail "$exe not installed"

status() { wine "C:\\Program Files\\Tenure\\tenure-agent.exe" service status 2>/dev/null | tr -d '\r'; }
for _ in $(seq 1 50); do [[ $(status) == running ]] && break; sleep 0.2; done
[[ $(status) == running ]] || fail "service is not running ($(status))"
log "service running"

# FOLDERID_ProgramData: C:\ProgramData on Windows; Wine may answer C:\users\Public.
data=""
for _ in $(seq 1 50); do
  for d in "$WINEPREFIX/drive_c/ProgramData/Tenure" "$WINEPREFIX/drive_c/users/Public/Tenure"; do
    [[ -s $d/agent.json ]] && data=$d
  done
  [[ -n $data ]] && break; sleep 0.2
done
[[ -n $data ]] || fail "no agent.json"
grep -q "\"control_plane_url\":\"$url/\"" "$data/agent.json" || fail "config: $(cat "$data/agent.json")"
if wine reg query 'HKLM\SOFTWARE\Tenure\Agent' /v EnrollSecret >/dev/null 2>&1; then
  fail "the enroll secret is still in the registry"
fi
log "installer settings handed over (config written, secrets out of the registry)"
agent_log() { cat "$data/logs/agent.log" 2>/dev/null | tail -${1:-30}; }

# --- a job end to end: HR CSV -> control plane -> agent under Wine -> Samba ----------------------
cat >"$work/hr.csv" <<'CSV'
employee_id,given_name,family_name,preferred_name,department,title,location,manager_id,employment_type,start_date,end_date,status,cost_center
W1001,Wendy,Winter,,Engineering,Engineer,Berlin,,employee,2024-01-15,,active,CC-200
W1002,Willem,Wijnberg,,Sales,Account Executive,Amsterdam,W1001,employee,2024-02-01,,active,CC-300
CSV
t_run=$SECONDS
resp=$(curl -sS --cacert "$ca" --resolve "localhost:$port:127.0.0.1" -H "Authorization: Bearer $token" \
  -H "Content-Type: text/csv" --data-binary @"$work/hr.csv" "$url/api/v1/hr/records")
run_id=$(field run_id <<<"$resp") || fail "upload: $resp"
status_=""
for _ in $(seq 240); do
  report=$(curl -sS --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/runs/$run_id")
  status_=$(field status <<<"$report")
  [[ $status_ == succeeded || $status_ == partial || $status_ == failed ]] && break
  sleep 0.5
done
echo "$report" >"$work/report.json"
[[ $status_ == succeeded ]] || fail "run $run_id: $status_: $report
agent log:
$(agent_log)"
log "run $run_id succeeded in $((SECONDS - t_run)) s"
sams=$(python3 -c 'import json,sys; print(" ".join(p["sam_account_name"] for p in json.load(sys.stdin)["report"]["identities"]))' <"$work/report.json")
for emp in W1001 W1002; do
  found=$(ldapsearch -LLL -x -H "$TENURE_LDAP_PLAIN_URL" -D "$TENURE_LDAP_BIND_DN" -w "$TENURE_LDAP_PASSWORD" \
    -b "$TENURE_LDAP_USERS_OU" "(employeeID=$emp)" sAMAccountName 2>&1 | grep -i '^sAMAccountName:' || true)
  [[ -n $found ]] || fail "no AD account for $emp under $TENURE_LDAP_USERS_OU"
  log "AD: $emp -> ${found#*: }"
done
log "accounts in AD ($sams)"

log "service stop"
t_stop=$SECONDS
wine "C:\\Program Files\\Tenure\\tenure-agent.exe" service stop >/dev/null 2>&1
[[ $(status) == stopped ]] || fail "service did not stop ($(status))"
# The held long-poll (poll_wait_s, 25 s) is abandoned at once (asynchronous WinHTTP): the stop must
# complete within the service's stop wait hint (kStopWaitHintMs, 10 s).
stop_s=$((SECONDS - t_stop))
(( stop_s <= 10 )) || fail "stop took $stop_s s (wait hint 10 s)"
log "stopped in $stop_s s (wait hint 10 s)"
grep -q "service stopped" "$data/logs/agent.log" || fail "no stop in the log"

log "msiexec /x"
wine msiexec /x 'C:\tenure-agent.msi' /qn >/dev/null 2>&1
[[ ! -e $exe ]] || fail "program files left behind"
[[ ! -e "$WINEPREFIX/drive_c/Program Files/Tenure" ]] || fail "install folder left behind"
if wine sc query TenureAgent 2>/dev/null | grep -q RUNNING; then fail "service left"; fi
if wine "C:\\windows\\system32\\sc.exe" qc TenureAgent >/dev/null 2>&1; then
  fail "service still registered"
fi
log "uninstalled; state kept in ProgramData\\Tenure as designed"
log "PASS in $((SECONDS - t0)) s"
