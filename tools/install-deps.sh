#!/bin/sh
# Install the Debian packages of the given sets, if missing.
# Usage: tools/install-deps.sh SET...   (SET: build, test, bench, deb; the
# build set is always included). The lists are tools/deps/SET, one package a
# line. Prints the packages it installs; when every package is present it
# calls no apt at all. Runs apt-get update once, only when something is
# missing (not even then with MEMTRACE_APT_UPDATED set). Needs root then.
set -eu
dir=$(dirname "$0")/deps
sets=build
for s in "$@"; do
	[ -f "$dir/$s" ] || { echo "install-deps: no package set '$s' (tools/deps/)" >&2; exit 2; }
	[ "$s" = build ] || sets="$sets $s"
done
pkgs=$(for s in $sets; do sed 's/#.*//' "$dir/$s"; done | awk 'NF && !seen[$1]++ { print $1 }')
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: not a Debian system; install the equivalents of:" $pkgs >&2
	exit 0
fi
# One dpkg-query for all: unknown packages print nothing (they are missing).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $pkgs 2>/dev/null |
	awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }') || true
missing=""
for p in $pkgs; do
	echo "$installed" | grep -qx "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps ($sets): installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages and not root; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
[ -n "${MEMTRACE_APT_UPDATED:-}" ] || apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
