#!/bin/sh
# Build the initramfs the kernel matrix boots: busybox (static), memtrace
# and the test targets with the shared libraries ldd names, libc's debug
# file when installed (names of libc's internal functions), and the in-guest
# checks (tools/kernels/guest-init.sh as /init, checks.sh, stacks.awk).
# Usage: tools/kernels/initramfs.sh OUTDIR IMAGE
#   OUTDIR: the build folder holding memtrace and targets/ (make e2e)
#   IMAGE:  the cpio archive to write (newc, uncompressed: quick to unpack
#           under emulation)
set -eu
out=$1 img=$2
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}
targets="alloc_kinds alloc_nolibc unwind_chain faults"

if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "initramfs: $busybox is not a static busybox (apt-get install busybox-static)" >&2
	exit 1
fi
root=$(mktemp -d "${TMPDIR:-/tmp}/memtrace-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/kt/targets" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
	"$root/etc"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$out/memtrace" "$root/kt/memtrace"
for t in $targets; do
	cp "$out/targets/$t" "$root/kt/targets/$t"
done
cp "$here/guest-init.sh" "$root/init"
cp "$here/checks.sh" "$here/stacks.awk" "$root/kt/"
chmod +x "$root/init" "$root/kt/checks.sh"
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >>"$root/etc/passwd"

# Shared libraries at the paths the dynamic loader asks for.
for bin in "$out/memtrace" $(for t in $targets; do echo "$out/targets/$t"; done); do
	ldd "$bin" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# libc's separate debug file (libc6-dbg), filed by build-id like --debug-dir.
libc=$(ldd "$out/memtrace" | sed -n 's/.*=> \(\/[^ ]*libc\.so\.6\) .*/\1/p')
bid=$(readelf -n "$libc" 2>/dev/null | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
if [ -n "$bid" ]; then
	dbg=/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)/$(echo "$bid" | cut -c3-).debug
	if [ -f "$dbg" ]; then
		mkdir -p "$root$(dirname "$dbg")"
		cp "$dbg" "$root$dbg"
	fi
fi

mkdir -p "$(dirname "$img")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$img.tmp"
mv -f "$img.tmp" "$img"
