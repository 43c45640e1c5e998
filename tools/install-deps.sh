#!/bin/sh
# Install the Debian packages memtrace needs to build and test, if missing.
# Runs apt-get update once, only when something is missing. Needs root then.
set -eu
pkgs="clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libcmocka-dev
libjson-c-dev libcapstone-dev libprotobuf-c-dev protobuf-c-compiler libmicrohttpd-dev
elfutils pkg-config make gcc g++ python3 python3-yaml binutils iproute2 util-linux
golang-go prometheus chromium libxml2-utils libjemalloc2 libgoogle-perftools4
bpftrace redis-server redis-tools"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages and not root; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
[ -n "${MEMTRACE_APT_UPDATED:-}" ] || apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
