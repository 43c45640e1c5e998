#!/bin/sh
# Download and unpack one of Debian's cloud kernels, never installing it.
# Usage: tools/kernels/fetch.sh DIR SERIES     (SERIES: 6.1, 6.12)
# Prints the kernel's directory, DIR/PACKAGE, which holds boot/vmlinuz-*
# (dpkg-deb -x of the package). The package is the one Debian 12's meta
# package of the series depends on now:
#   6.1:  linux-image-cloud-amd64       (bookworm's own kernel)
#   6.12: linux-image-6.12-cloud-amd64  (bookworm's 6.12, from security)
# A kernel already unpacked in DIR is used as it is (no download).
set -eu
dir=$1 series=$2
case $series in
6.1) meta=linux-image-cloud-amd64 ;;
*) meta=linux-image-$series-cloud-amd64 ;;
esac
resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n1
}
pkg=$(resolve)
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ] && [ -z "${MEMTRACE_APT_UPDATED:-}" ]; then
	apt-get update -qq >&2 || true	# package lists absent or stale
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	# No package lists: fall back to the newest kernel of the series unpacked.
	pkg=$(ls -d "$dir"/linux-image-"$series"[.-]*-cloud-amd64 2>/dev/null | sort -V | tail -n1)
	[ -n "$pkg" ] || { echo "fetch: no package for kernel $series ($meta)" >&2; exit 1; }
	pkg=$(basename "$pkg")
fi
kdir=$dir/$pkg
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "fetch: downloading $pkg" >&2
	# apt's sandbox user cannot write here: fetch as root, unsandboxed
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null)
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x"
	# only what a boot needs: the image, its config (lib/modules stays out)
	mkdir -p "$tmp/k/boot"
	cp "$tmp"/x/boot/vmlinuz-* "$tmp"/x/boot/config-* "$tmp/k/boot/"
	rm -rf "$kdir"
	mv "$tmp/k" "$kdir"
fi
echo "$kdir"
