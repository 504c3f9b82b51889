#!/usr/bin/env bash
# End-to-end smoke test of the Windows agent under Wine (run as root on Debian 12):
#   cross-builds the agent and its MSI and builds the Linux control plane (tenure-cp); starts
#   tenure-cp on loopback with a temp data dir, creates a tenant, starts the Samba AD fixture,
#   trusts the control plane's certificate in the Wine prefix's LocalMachine ROOT store, installs the
#   MSI silently (CP_URL, ENROLL_SECRET, AD settings; plain ldap:// with ALLOW_PLAIN_LDAP=1 because
#   Wine's LDAPS does not verify certificates), checks the service runs and took over the installer
#   settings, uploads a small HR CSV through the tenant API, waits for the run to succeed, verifies
#   the accounts with ldapsearch and that no secret is on disk in clear; then upgrades in place to a
#   higher MSI version (same exe, Version+1) and checks the service runs again with the same
#   configuration and the same agent_id (a second job, no re-enrollment); stops the service within
#   its wait hint; uninstalls with KEEP_STATE=1 (service and files gone, state kept), reinstalls,
#   uninstalls plainly (state gone too). Everything started here is stopped on exit (wineserver -k,
#   Samba, tenure-cp); every Wine command runs under a timeout.
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
# Every Wine command is bounded: a hung msiexec or SCM call fails the test instead of stalling CI.
wine_() { timeout -k 5 "${SMOKE_WINE_TIMEOUT:-180}" wine "$@" 2>/dev/null; }
status() { wine_ "C:\\Program Files\\Tenure\\tenure-agent.exe" service status | tr -d '\r'; }
agent_log() { tail -"${1:-30}" "${data:-/nonexistent}/logs/agent.log" 2>/dev/null || true; }
wait_running() {
  for _ in $(seq 1 100); do [[ $(status) == running ]] && return 0; sleep 0.2; done
  fail "service is not running ($(status)); log: $(agent_log 10)"
}
mkdir -p "$WINEPREFIX"
# Without a persistent wineserver, Wine tears the service down ~3 s after the last command.
wineserver -p
timeout -k 5 120 wine wineboot -i >/dev/null 2>&1 || fail "wineboot -i"
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
wine_ msiexec /i 'C:\tenure-agent.msi' /qn CP_URL="$url/" ENROLL_SECRET="$secret" \
  LDAP_URL="$TENURE_LDAP_PLAIN_URL" BIND_DN="$TENURE_LDAP_BIND_DN" AD_PASSWORD="$TENURE_LDAP_PASSWORD" \
  USERS_BASE_DN="$TENURE_LDAP_USERS_OU" LEAVERS_OU="$TENURE_LDAP_LEAVERS_OU" \
  ALLOW_PLAIN_LDAP=1 START_TLS=0 /l*v 'C:\msi-install.log' >/dev/null 2>&1 ||
  fail "msiexec /i (log: $(grep -a -i -m5 -e error -e 'return value 3' "$WINEPREFIX/drive_c/msi-install.log"))"
exe="$WINEPREFIX/drive_c/Program Files/Tenure/tenure-agent.exe"
[[ -f $exe ]] || fail "$exe not installed"

wait_running
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
if wine_ reg query 'HKLM\SOFTWARE\Tenure\Agent' /v EnrollSecret >/dev/null; then
  fail "the enroll secret is still in the registry"
fi
log "installer settings handed over (config written, secrets out of the registry)"

# --- a job end to end: HR CSV -> control plane -> agent under Wine -> Samba ----------------------
# run_job CSV: uploads CSV, waits for the run to succeed; leaves the run report in $work/report.json.
run_job() {
  local t_run=$SECONDS resp run_id status_="" report=""
  resp=$(curl -sS --cacert "$ca" -H "Authorization: Bearer $token" \
    -H "Content-Type: text/csv" --data-binary @"$1" "$url/api/v1/hr/records")
  run_id=$(field run_id <<<"$resp") || fail "upload: $resp"
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
}
check_ad() {
  local emp found
  for emp in "$@"; do
    found=$(ldapsearch -LLL -x -H "$TENURE_LDAP_PLAIN_URL" -D "$TENURE_LDAP_BIND_DN" -w "$TENURE_LDAP_PASSWORD" \
      -b "$TENURE_LDAP_USERS_OU" "(employeeID=$emp)" sAMAccountName 2>&1 | grep -i '^sAMAccountName:' || true)
    [[ -n $found ]] || fail "no AD account for $emp under $TENURE_LDAP_USERS_OU"
    log "AD: $emp -> ${found#*: }"
  done
}
hr_header=employee_id,given_name,family_name,preferred_name,department,title,location,manager_id,employment_type,start_date,end_date,status,cost_center
cat >"$work/hr.csv" <<CSV
$hr_header
W1001,Wendy,Winter,,Engineering,Engineer,Berlin,,employee,2024-01-15,,active,CC-200
W1002,Willem,Wijnberg,,Sales,Account Executive,Amsterdam,W1001,employee,2024-02-01,,active,CC-300
CSV
run_job "$work/hr.csv"
agent_id=$(field agent_id <"$work/report.json")
check_ad W1001 W1002
log "accounts in AD, agent $agent_id"

# Secrets at rest: DPAPI blobs only, nothing in clear under ProgramData\Tenure.
if grep -r -l -F -e "$TENURE_LDAP_PASSWORD" -e "$secret" "$data" 2>/dev/null; then
  fail "a secret is on disk in clear (files above)"
fi
[[ -s $data/state/ldap_password.dpapi ]] || fail "no DPAPI-protected password: $(ls "$data/state")"
log "secrets on disk only as DPAPI blobs: $(cd "$data/state" && ls -- *.dpapi | tr '\n' ' ')"

# --- upgrade in place: a higher version of the same product, no properties ----------------------
v1=$(msiinfo export "$msi" Property | tr -d '\r' | awk -F'\t' '$1=="ProductVersion"{print $2}')
[[ $v1 =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || fail "ProductVersion '$v1'"
v2=${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] + 1))
(cd "$build/msi-stage" && wixl -a x64 -D Version="$v2" -D AgentExe=tenure-agent.exe \
  -o "$WINEPREFIX/drive_c/tenure-agent-next.msi" "$root/installer/windows/tenure-agent.wxs") ||
  fail "wixl (version $v2)"
config_before=$(sha256sum <"$data/agent.json")
log "msiexec /i (upgrade $v1 -> $v2, no properties)"
t_up=$SECONDS
wine_ msiexec /i 'C:\tenure-agent-next.msi' /qn /l*v 'C:\msi-upgrade.log' ||
  fail "upgrade (log: $(grep -a -i -m5 -e error -e 'return value 3' "$WINEPREFIX/drive_c/msi-upgrade.log"))"
wait_running
[[ $(sha256sum <"$data/agent.json") == "$config_before" ]] || fail "upgrade changed agent.json: $(cat "$data/agent.json")"
installed=$(wine_ reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s | tr -d '\r' |
  awk '/DisplayName.*Tenure Agent/{f=1} f&&/DisplayVersion/{print $NF; exit}')
[[ $installed == "$v2" ]] || fail "installed version '$installed', expected $v2"
log "upgraded to $v2 in $((SECONDS - t_up)) s; service running, agent.json unchanged"
# The old agent process abandoned its held long-poll when the upgrade stopped it; tenure-cp sees the
# closed connection and never leases to it. Wait for what matters: the upgraded agent's own poll
# held by tenure-cp (GET /api/v1/agents: held_polls), so the next job goes straight to it.
held=""
for _ in $(seq 300); do
  held=$(curl -sS --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/agents" |
    python3 -c 'import json,sys; print(sum(a["held_polls"] for a in json.load(sys.stdin)["agents"]))') || held=""
  [[ $held == 1 ]] && break
  sleep 0.2
done
[[ $held == 1 ]] || fail "the upgraded agent's poll is not held by tenure-cp (held polls: '$held')"
cat >"$work/hr2.csv" <<CSV
$hr_header
W1003,Wilma,Weber,,Finance,Controller,Vienna,W1001,employee,2024-03-01,,active,CC-400
CSV
run_job "$work/hr2.csv"
agent_id2=$(field agent_id <"$work/report.json")
[[ $agent_id2 == "$agent_id" ]] || fail "after the upgrade the job ran as $agent_id2, not $agent_id"
enrollments=$(grep -c "enrolled with" "$data/logs/agent.log" || true)
[[ $enrollments == 1 ]] || fail "$enrollments enrollments in the log (expected 1: no re-enrollment)"
check_ad W1003
log "after the upgrade: same agent $agent_id, no re-enrollment, job done"

log "service stop"
t_stop=$SECONDS
wine_ "C:\\Program Files\\Tenure\\tenure-agent.exe" service stop >/dev/null
[[ $(status) == stopped ]] || fail "service did not stop ($(status))"
# The held long-poll (poll_wait_s, 25 s) is abandoned at once (asynchronous WinHTTP): the stop must
# complete within the service's stop wait hint (kStopWaitHintMs, 10 s).
stop_s=$((SECONDS - t_stop))
(( stop_s <= 10 )) || fail "stop took $stop_s s (wait hint 10 s)"
log "stopped in $stop_s s (wait hint 10 s)"
grep -q "service stopped" "$data/logs/agent.log" || fail "no stop in the log"

assert_uninstalled() {
  [[ ! -e $exe ]] || fail "program files left behind"
  [[ ! -e "$WINEPREFIX/drive_c/Program Files/Tenure" ]] || fail "install folder left behind"
  if wine_ "C:\\windows\\system32\\sc.exe" qc TenureAgent >/dev/null; then
    fail "service still registered"
  fi
}
log "msiexec /x KEEP_STATE=1"
wine_ msiexec /x 'C:\tenure-agent-next.msi' /qn KEEP_STATE=1 >/dev/null || fail "msiexec /x KEEP_STATE=1"
assert_uninstalled
[[ -s $data/agent.json && -s $data/state/node_key.dpapi ]] || fail "KEEP_STATE=1 did not keep the state"
log "uninstalled; state kept in $(basename "$(dirname "$data")")\\Tenure (KEEP_STATE=1)"

log "msiexec /i again (kept state), then msiexec /x"
wine_ msiexec /i 'C:\tenure-agent-next.msi' /qn >/dev/null || fail "reinstall"
wait_running
wine_ msiexec /x 'C:\tenure-agent-next.msi' /qn >/dev/null || fail "msiexec /x"
assert_uninstalled
[[ ! -e $data ]] || fail "state left behind after a plain uninstall: $(find "$data" | head)"
log "uninstalled; service, program files and state gone"
log "PASS in $((SECONDS - t0)) s"
