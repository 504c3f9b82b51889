#!/usr/bin/env bash
# Benchmark: wall time for the agent to apply N joiners to Samba AD, against a raw sequential
# `ldapadd` of equivalent entries (same attributes, password in the same add), measured in the same
# run. Each of the three measurements — ldapadd, agent, ldapadd — gets a fresh copy of the same
# Samba AD DC (the fixture's golden domain, copied in ~0.1 s), so all three add N entries to a
# directory of the same size: Samba's add rate falls as its database grows (1,929 adds/min in the
# first minute of 10,000, 513/min by 20,000), and sharing one server made the figure depend on who
# went first. The yardstick is the mean of the two ldapadd runs (machine drift is shared fairly).
#
#   tests/bench/apply_joiners.sh [N] [BUILD_DIR]      (defaults: 1000, build/release; as root)
#
# Prints key=value lines and writes them to $OUT (default /var/tmp/tenure-bench/apply_joiners.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
n=${1:-1000}
build=${2:-$root/build/release}
addr=${TENURE_BENCH_LDAP_ADDR:-127.0.0.30}
work=$(mktemp -d /var/tmp/tenure-bench-XXXXXX)
out=${OUT:-/var/tmp/tenure-bench/apply_joiners.txt}
mkdir -p "$(dirname "$out")"
cp_bin=$build/controlplane/main/tenure-cp
agent_bin=$build/agent/main/tenure-agent
[[ -x $cp_bin && -x $agent_bin ]] || {
  echo "build first: cmake --build $build --target tenure-cp tenure-agent" >&2; exit 1; }

cleanup() {
  [[ -n ${agent_pid:-} ]] && kill -TERM "$agent_pid" 2>/dev/null || true
  [[ -n ${cp_pid:-} ]] && kill -TERM "$cp_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -n ${dc:-} ]] && bash tests/fixtures/samba-ad.sh stop "$dc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Stops the current domain controller (if any) and starts a fresh copy of the golden domain.
fresh_dc() {
  [[ -n ${dc:-} ]] && bash tests/fixtures/samba-ad.sh stop "$dc" >/dev/null 2>&1 || true
  dc=$work/samba-$1
  bash tests/fixtures/samba-ad.sh start "$dc" "$addr" >"$work/samba-$1.log" 2>&1
  # shellcheck disable=SC1091
  source "$dc/env"
}

ldapadd_seconds() {  # on the current domain controller
  bash tests/bench/ldapadd_baseline.sh "$n" "$dc/env" "$work/ldapadd-$1" |
    sed -n 's/^ldapadd_seconds=//p'
}
fresh_dc ldapadd-1
before=$(ldapadd_seconds 1)
fresh_dc agent

# Control plane + agent, the agent writing into its own OU.
"$cp_bin" serve --data-dir "$work/cp" --listen 127.0.0.1:0 >"$work/cp.log" 2>&1 &
cp_pid=$!
for _ in $(seq 100); do [[ -f $work/cp/tenure-cp.url ]] && break; sleep 0.1; done
url=$(cat "$work/cp/tenure-cp.url")
ca=$work/cp/tls/cert.pem
tenant=$("$cp_bin" tenant create --data-dir "$work/cp" bench)
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
secret=$(field enroll_secret <<<"$tenant")
token=$(field api_token <<<"$tenant")
ou="OU=agent-bench,$TENURE_LDAP_BASE_DN"
printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$ou" |
  LDAPTLS_CACERT=$TENURE_LDAP_CA_FILE ldapadd -x -H "$TENURE_LDAP_URL" -D "$TENURE_LDAP_BIND_DN" \
    -w "$TENURE_LDAP_PASSWORD" >/dev/null
mkdir -p "$work/agent"
printf '%s\n' "$TENURE_LDAP_PASSWORD" >"$work/agent/pw"
cat >"$work/agent/agent.json" <<JSON
{"ldap_url": "$TENURE_LDAP_URL", "ca_file": "$TENURE_LDAP_CA_FILE", "bind_dn": "$TENURE_LDAP_BIND_DN",
 "password_file": "$work/agent/pw", "users_base_dn": "$ou", "log_level": "warn"}
JSON
"$agent_bin" enroll --url "$url" --secret "$secret" --state-dir "$work/agent/state" --ca-file "$ca" >/dev/null
"$agent_bin" run --state-dir "$work/agent/state" --config "$work/agent/agent.json" >"$work/agent.log" 2>&1 &
agent_pid=$!

# The same kind of people as the ldapadd baseline: varied, partly non-Latin names.
python3 - "$n" >"$work/joiners.csv" <<'PY'
import sys
n = int(sys.argv[1])
givens = ["Anna", "Ben", "Chloé", "David", "Eva", "Fatima", "Георгий", "Hiro", "Ines", "王"]
surnames = ["Smith", "Müller", "O'Brien", "García", "Иванова", "Tanaka", "Rossi", "Nowak", "Kim", "李"]
depts = ["Engineering", "Finance", "Sales", "Support", "People"]
titles = ["Engineer", "Analyst", "Account Executive", "Support Specialist", "Partner"]
def letters(i):
    s = ""
    for _ in range(3):
        s = chr(ord("a") + i % 26) + s
        i //= 26
    return s
print("employee_id,given_name,family_name,department,title,status")
for i in range(n):
    g = givens[i % 10]
    s = surnames[(i // 10) % 10] + letters(i)
    print(f'B{i:06d},{g},"{s}",{depts[i % 5]},{titles[i % 5]},active')
PY

t0=$(date +%s.%N)
resp=$(curl -sS --cacert "$ca" -H "Authorization: Bearer $token" -H "Content-Type: text/csv" \
  --data-binary @"$work/joiners.csv" "$url/api/v1/hr/records")
run_id=$(field run_id <<<"$resp")
# One poller process for the whole run, on one kept-alive HTTPS connection, asking for the run list
# (the status without the N outcomes) every 0.1 s. Until 2026-12-03 the loop started a curl and a
# Python every 0.1 s; that kept about one of the two CPUs busy (0.4 s of CPU per poll through a
# pyenv shim) while the agent and Samba worked, and nothing like it ran beside ldapadd — it alone
# made 1.05 look like 1.5.
status=$(python3 - "$url" "$ca" "$token" "$run_id" <<'PY'
import http.client, json, ssl, sys, time, urllib.parse
url, ca, token, run_id = sys.argv[1:5]
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=ca))
while True:
    conn.request("GET", "/api/v1/runs", headers={"Authorization": "Bearer " + token})
    runs = json.loads(conn.getresponse().read())["runs"]
    status = next(r["status"] for r in runs if r["run_id"] == run_id)
    if status not in ("queued", "running"):
        print(status)
        break
    time.sleep(0.1)
PY
)
t1=$(date +%s.%N)
report=$(curl -sS --cacert "$ca" -H "Authorization: Bearer $token" "$url/api/v1/runs/$run_id")
created=$(python3 -c "import json,sys; print(json.load(sys.stdin)['report']['counts'].get('created', 0))" <<<"$report")
# The control plane's own record of the run (second resolution): accepted → finished.
cp_seconds=$(python3 -c "
import json, sys, datetime
r = json.load(sys.stdin)
t = lambda k: datetime.datetime.fromisoformat(r[k].replace('Z', '+00:00'))
print(int((t('finished_at') - t('created_at')).total_seconds()))" <<<"$report")

# The agent and the control plane are idle now; stop them so they take nothing from the second
# ldapadd.
kill -TERM "$agent_pid" "$cp_pid" 2>/dev/null || true
wait "$agent_pid" "$cp_pid" 2>/dev/null || true
agent_pid="" cp_pid=""
fresh_dc ldapadd-2
after=$(ldapadd_seconds 2)
agent_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
ldapadd_s=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.3f", (a + b) / 2 }')
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine=$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "n=$n"
  echo "run_status=$status"
  echo "created=$created"
  echo "agent_seconds=$agent_s"
  echo "control_plane_run_seconds=$cp_seconds"
  echo "agent_rate=$(awk -v n="$n" -v t="$agent_s" 'BEGIN { printf "%.1f", n / t }')"
  echo "ldapadd_seconds_first=$before"
  echo "ldapadd_seconds_second=$after"
  echo "ldapadd_seconds_mean=$ldapadd_s"
  echo "ratio_agent_to_ldapadd=$(awk -v a="$agent_s" -v l="$ldapadd_s" 'BEGIN { printf "%.2f", a / l }')"
} | tee "$out"
