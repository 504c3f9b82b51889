#!/usr/bin/env bash
# Produces sqlite3.c / sqlite3.h for the Windows agent build from Debian's own sqlite3 source package
# (the version libsqlite3-dev is built from), so the Windows spool runs the same SQLite as Linux.
# Debian ships no mingw build of SQLite and no amalgamation; `make sqlite3.c` needs tclsh and a host
# C compiler (both present after deploy/install-deps). The sources list is private to a temp dir: the
# system's apt configuration is not changed. Network: one `apt-get source` from the Debian mirror.
#
# Usage: fetch-sqlite-amalgamation.sh OUT_DIR     (writes OUT_DIR/sqlite3.c, OUT_DIR/sqlite3.h)
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
[[ -s $out/sqlite3.c && -s $out/sqlite3.h ]] && exit 0
command -v tclsh >/dev/null || { echo "fetch-sqlite: tclsh is required (apt-get install tcl)" >&2; exit 1; }
command -v dpkg-source >/dev/null || { echo "fetch-sqlite: dpkg-dev is required" >&2; exit 1; }

work=$(mktemp -d /tmp/tenure-sqlite.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{etc/sources.list.d,etc/preferences.d,lists/partial,cache/archives/partial}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# The same mirrors as the system's binary sources, as deb-src.
cat > "$work/etc/sources.list" <<LIST
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb-src [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main
LIST
apt_opts=(-o "Dir::Etc=$work/etc" -o "Dir::Etc::sourcelist=$work/etc/sources.list"
  -o "Dir::Etc::sourceparts=$work/etc/sources.list.d" -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache" -o "Dir::Etc::preferencesparts=$work/etc/preferences.d"
  -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
apt-get "${apt_opts[@]}" -qq update
# The source version libsqlite3-dev was built from (falls back to the newest one in the lists).
ver=$(dpkg-query -W -f='${source:Version}' libsqlite3-dev 2>/dev/null || true)
(cd "$work" && apt-get "${apt_opts[@]}" -qq source "sqlite3${ver:+=$ver}" >/dev/null 2>&1 ||
  apt-get "${apt_opts[@]}" -qq source sqlite3 >/dev/null)
src=$(find "$work" -maxdepth 1 -type d -name 'sqlite3-*' | head -1)
[[ -n $src ]] || { echo "fetch-sqlite: apt-get source sqlite3 gave no source tree" >&2; exit 1; }
(cd "$src" && ./configure --disable-tcl >/dev/null && make -s sqlite3.c >/dev/null)
mkdir -p "$out"
cp "$src/sqlite3.c" "$src/sqlite3.h" "$out/"
echo "fetch-sqlite: $(grep -m1 '#define SQLITE_VERSION ' "$out/sqlite3.h") from Debian source sqlite3 ${ver}"
