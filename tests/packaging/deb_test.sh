#!/usr/bin/env bash
# Builds the Debian packages (CPack DEB: tenure-agent, tenure-cp), installs them with dpkg, runs the
# installed binaries as their system users (tenure-cp tenant create, tenure-cp serve briefly with a
# /healthz check, tenure-agent enroll against it, tenure-agent version), checks the hardened units,
# the conffiles and the users, then removes and purges the packages. Run as root on Debian 12;
# refuses to run when tenure-agent or tenure-cp is already installed (it would remove them).
# Usage: tests/packaging/deb_test.sh [BUILD_DIR]   (default: build-linux; JOBS=1 for the build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-linux}
log() { echo "deb_test: $*"; }
fail() { log "FAIL: $*"; exit 1; }
t0=$SECONDS
[[ $(id -u) == 0 ]] || fail "run as root (dpkg -i)"
for p in tenure-agent tenure-cp; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    fail "$p is already installed on this machine; not touching it"
  fi
done

if [[ -z ${DEB_SKIP_BUILD:-} ]]; then
  cmake -S "$root" -B "$build" -G Ninja >/dev/null
  cmake --build "$build" --target tenure-agent tenure-cp -j"${JOBS:-1}" >/dev/null
fi
work=$(mktemp -d /tmp/tenure-deb.XXXXXX)
cp_pid=""
cleanup() {
  [[ -n $cp_pid ]] && kill -TERM "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null
  for p in tenure-agent tenure-cp; do
    dpkg-query -W "$p" >/dev/null 2>&1 && dpkg -P "$p" >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap cleanup EXIT

t_pack=$SECONDS
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || fail "cpack: $(tail -20 "$work/cpack.log")"
agent_deb=$(ls "$work"/out/tenure-agent_*.deb 2>/dev/null | head -1)
cp_deb=$(ls "$work"/out/tenure-cp_*.deb 2>/dev/null | head -1)
[[ -s $agent_deb && -s $cp_deb ]] || fail "packages missing: $(ls "$work/out")"
log "built $(basename "$agent_deb") ($(du -h "$agent_deb" | cut -f1)) and $(basename "$cp_deb") ($(du -h "$cp_deb" | cut -f1)) in $((SECONDS - t_pack)) s"

# Contents and control files.
for spec in "$agent_deb:tenure-agent:/etc/tenure/agent.json" "$cp_deb:tenure-cp:/etc/tenure/tenure-cp.env"; do
  IFS=: read -r deb name conf <<<"$spec"
  dpkg-deb -c "$deb" >"$work/contents"
  for f in "./usr/bin/$name" "./usr/lib/systemd/system/$name.service" ".$conf"; do
    grep -q " $f\$" "$work/contents" || fail "$name: $f not in the package"
  done
  dpkg-deb -e "$deb" "$work/ctl-$name"
  grep -qx "$conf" "$work/ctl-$name/conffiles" || fail "$name: $conf is not a conffile"
  for s in postinst prerm postrm; do [[ -x $work/ctl-$name/$s ]] || fail "$name: no $s"; done
  dpkg-deb -f "$deb" Depends | grep -q adduser || fail "$name: no Depends on adduser"
done
log "contents: binaries in /usr/bin, units, conffiles, maintainer scripts"

t_inst=$SECONDS
dpkg -i "$agent_deb" "$cp_deb" >"$work/dpkg.log" 2>&1 || fail "dpkg -i: $(tail -20 "$work/dpkg.log")"
log "installed in $((SECONDS - t_inst)) s"
for name in tenure-agent tenure-cp; do
  getent passwd "$name" >/dev/null || fail "no system user $name"
  [[ $(getent passwd "$name" | cut -d: -f7) == /usr/sbin/nologin ]] || fail "$name has a login shell"
  [[ $(stat -c %U:%a "/var/lib/$name") == "$name:700" ]] || fail "/var/lib/$name: $(stat -c %U:%a "/var/lib/$name")"
  unit=/usr/lib/systemd/system/$name.service
  for k in "User=$name" ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes \
           "ReadWritePaths=/var/lib/$name" "CapabilityBoundingSet="; do
    grep -qx "$k" "$unit" || fail "$unit: no $k"
  done
  if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || fail "systemd-analyze verify $unit: $(cat "$work/verify.log")"
  fi
done
[[ $(stat -c %G:%a /etc/tenure/tenure-cp.env) == tenure-cp:640 ]] || fail "tenure-cp.env permissions"
[[ $(stat -c %G:%a /etc/tenure/agent.json) == tenure-agent:640 ]] || fail "agent.json permissions"
log "system users, data directories (0700), hardened units, config permissions"

# The installed binaries, as their service users.
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }
tenant=$(cd / && as tenure-cp /usr/bin/tenure-cp tenant create --data-dir /var/lib/tenure-cp "Deb Co") ||
  fail "tenure-cp tenant create"
secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["enroll_secret"])' <<<"$tenant")
log "tenure-cp tenant create: ok"
(cd / && exec runuser -u tenure-cp -- /usr/bin/tenure-cp serve --data-dir /var/lib/tenure-cp \
  --listen 127.0.0.1:0 >"$work/cp.log" 2>&1) &
cp_pid=$!
for _ in $(seq 100); do [[ -s /var/lib/tenure-cp/tenure-cp.url ]] && break; sleep 0.1; done
[[ -s /var/lib/tenure-cp/tenure-cp.url ]] || fail "tenure-cp serve: $(cat "$work/cp.log")"
url=$(cat /var/lib/tenure-cp/tenure-cp.url)
install -m 0644 /var/lib/tenure-cp/tls/cert.pem "$work/cp-ca.pem"
chmod 0755 "$work"
curl -fsS --cacert "$work/cp-ca.pem" "$url/healthz" >/dev/null || fail "GET $url/healthz"
log "tenure-cp serve: $url/healthz ok"
as tenure-agent /usr/bin/tenure-agent enroll --url "$url" --secret "$secret" \
  --state-dir /var/lib/tenure-agent/state --ca-file "$work/cp-ca.pem" >"$work/enroll.log" 2>&1 ||
  fail "tenure-agent enroll: $(cat "$work/enroll.log")"
log "tenure-agent enroll (as tenure-agent, state in /var/lib/tenure-agent): ok"
kill -TERM "$cp_pid"; wait "$cp_pid" || true; cp_pid=""
version=$(/usr/bin/tenure-agent version) || fail "tenure-agent version"
log "tenure-agent version: $version"

# Remove keeps conffiles (and the edits), purge removes them, the data and the users.
echo "# edited by deb_test" >>/etc/tenure/tenure-cp.env
dpkg -r tenure-agent tenure-cp >"$work/dpkg.log" 2>&1 || fail "dpkg -r: $(tail "$work/dpkg.log")"
[[ ! -e /usr/bin/tenure-cp && ! -e /usr/bin/tenure-agent ]] || fail "binaries left after dpkg -r"
grep -q "edited by deb_test" /etc/tenure/tenure-cp.env || fail "dpkg -r dropped the edited conffile"
dpkg -P tenure-agent tenure-cp >"$work/dpkg.log" 2>&1 || fail "dpkg -P: $(tail "$work/dpkg.log")"
for name in tenure-agent tenure-cp; do
  ! getent passwd "$name" >/dev/null || fail "user $name left after purge"
  [[ ! -e /var/lib/$name ]] || fail "/var/lib/$name left after purge"
done
[[ ! -e /etc/tenure ]] || fail "/etc/tenure left after purge: $(ls -A /etc/tenure)"
log "removed (conffiles kept), purged (config, data and users gone)"
log "PASS in $((SECONDS - t0)) s"
