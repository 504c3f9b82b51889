#!/usr/bin/env bash
# Control-plane benchmarks with a real tenure-cp (and, for latency, a real tenure-agent and the
# Samba AD fixture), driven by tenure_cp_load (tests/bench/cp_load.cpp). As root (the fixture and
# the file-descriptor limit need it).
#
#   tests/bench/cp_load.sh polls    [BUILD_DIR] [AGENTS=5000] [TENANTS=100] [HOLD_SECONDS=60]
#   tests/bench/cp_load.sh idle     [BUILD_DIR] [AGENTS=5000] [TENANTS=100] [HOLD_SECONDS=60]
#       (the yardstick for polls: the same connections kept open idle, no poll held)
#   tests/bench/cp_load.sh dispatch [BUILD_DIR] [JOBS_PER_TENANT=50] [TENANTS=100]
#   tests/bench/cp_load.sh latency  [BUILD_DIR] [CHANGES=200]
#
# BUILD_DIR defaults to build-bench (a -DCMAKE_BUILD_TYPE=Release build with
# -DTENURE_BUILD_TESTS=ON; targets tenure-cp tenure-agent tenure_cp_load). Prints key=value
# lines and writes them to $OUT (default /var/tmp/tenure-bench/cp_load_<mode>.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
mode=${1:?usage: $0 polls|dispatch|latency [BUILD_DIR] [...]}
build=${2:-$root/build-bench}
[[ $build = /* ]] || build=$root/$build
cp_bin=$build/controlplane/main/tenure-cp
agent_bin=$build/agent/main/tenure-agent
load_bin=$build/tests/bench/tenure_cp_load
[[ -x $cp_bin && -x $load_bin ]] || {
  echo "build first: cmake --build $build --target tenure-cp tenure-agent tenure_cp_load" >&2; exit 1; }
work=$(mktemp -d /var/tmp/tenure-cpload-XXXXXX)
out=${OUT:-/var/tmp/tenure-bench/cp_load_$mode.txt}
mkdir -p "$(dirname "$out")"
addr=${TENURE_BENCH_LDAP_ADDR:-127.0.0.31}

cleanup() {
  [[ -n ${agent_pid:-} ]] && kill -TERM "$agent_pid" 2>/dev/null || true
  [[ -n ${cp_pid:-} ]] && kill -TERM "$cp_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -d $work/samba ]] && bash tests/fixtures/samba-ad.sh stop "$work/samba" >/dev/null 2>&1 || true
  [[ -n ${TENURE_KEEP_BENCH_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

# The server needs a descriptor per held connection (plus SQLite files).
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"

start_cp() {
  "$cp_bin" serve --data-dir "$work/cp" --listen 127.0.0.1:0 --log-level warn \
    "$@" >"$work/cp.log" 2>&1 &
  cp_pid=$!
  for _ in $(seq 200); do [[ -f $work/cp/tenure-cp.url ]] && break; sleep 0.1; done
  url=$(cat "$work/cp/tenure-cp.url")
  ca=$work/cp/tls/cert.pem
}

make_tenants() {
  mkdir -p "$work/cp"
  : >"$work/tenants.jsonl"
  for i in $(seq "$1"); do
    "$cp_bin" tenant create --data-dir "$work/cp" "bench-$i" >>"$work/tenants.jsonl"
  done
}

header() {
  echo "mode=$mode"
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine=$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "load_average_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit=$(git rev-parse --short HEAD)"
  echo "build=$build"
}

case $mode in
  polls|idle)
    agents=${3:-5000} tenants=${4:-100} hold=${5:-60}
    idle=0; [[ $mode == idle ]] && idle=1
    make_tenants "$tenants"
    start_cp --threads 2
    {
      header
      echo "tenants=$tenants"
      "$load_bin" polls --url "$url" --ca "$ca" --tenants "$work/tenants.jsonl" \
        --agents "$agents" --wait-s 60 --hold-seconds "$hold" --cp-pid "$cp_pid" --idle "$idle"
      echo "cp_open_fds=$(ls /proc/$cp_pid/fd | wc -l)"
      echo "load_average_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    } | tee "$out"
    ;;
  dispatch)
    per=${3:-50} tenants=${4:-100}
    make_tenants "$tenants"
    start_cp --threads 2
    {
      header
      "$load_bin" dispatch --url "$url" --ca "$ca" --tenants "$work/tenants.jsonl" \
        --jobs-per-tenant "$per" --cp-pid "$cp_pid"
      echo "load_average_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    } | tee "$out"
    ;;
  latency)
    changes=${3:-200}
    [[ -x $agent_bin ]] || { echo "build tenure-agent too" >&2; exit 1; }
    bash tests/fixtures/samba-ad.sh start "$work/samba" "$addr" >"$work/samba.log" 2>&1
    # shellcheck disable=SC1091
    source "$work/samba/env"
    make_tenants 1
    start_cp
    ou="OU=latency-bench,$TENURE_LDAP_BASE_DN"
    printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$ou" |
      LDAPTLS_CACERT=$TENURE_LDAP_CA_FILE ldapadd -x -H "$TENURE_LDAP_URL" \
        -D "$TENURE_LDAP_BIND_DN" -w "$TENURE_LDAP_PASSWORD" >/dev/null
    mkdir -p "$work/agent"
    printf '%s\n' "$TENURE_LDAP_PASSWORD" >"$work/agent/pw"
    cat >"$work/agent/agent.json" <<JSON
{"ldap_url": "$TENURE_LDAP_URL", "ca_file": "$TENURE_LDAP_CA_FILE", "bind_dn": "$TENURE_LDAP_BIND_DN",
 "password_file": "$work/agent/pw", "users_base_dn": "$ou", "log_level": "warn"}
JSON
    secret=$(head -1 "$work/tenants.jsonl" | python3 -c "import json,sys; print(json.load(sys.stdin)['enroll_secret'])")
    "$agent_bin" enroll --url "$url" --secret "$secret" --state-dir "$work/agent/state" \
      --ca-file "$ca" >/dev/null
    "$agent_bin" run --state-dir "$work/agent/state" --config "$work/agent/agent.json" \
      >"$work/agent.log" 2>&1 &
    agent_pid=$!
    {
      header
      echo "samba=$TENURE_LDAP_URL"
      "$load_bin" latency --url "$url" --ca "$ca" --tenants "$work/tenants.jsonl" \
        --samba-env "$work/samba/env" --users-ou "$ou" --changes "$changes"
      echo "load_average_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    } | tee "$out"
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
