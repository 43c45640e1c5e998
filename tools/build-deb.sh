#!/bin/sh
# Build the Debian package from a clean copy of the source tree, the way a
# distribution does: dpkg-buildpackage -us -uc -b (debian/), then lintian.
# Usage: tools/build-deb.sh OUTDIR   (`make deb`: OUTDIR = the top directory)
# The copy holds the files git tracks plus untracked ones not ignored (all
# files but build outputs when there is no git); the build never touches this
# tree's build/. Leaves OUTDIR/memtrace_VERSION_ARCH.deb (and .buildinfo,
# .changes); prints lintian's findings and exits 1 on any beyond the
# overrides in debian/memtrace.lintian-overrides.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
out=$(mkdir -p "$1" && cd "$1" && pwd -P)
stage=$(mktemp -d "${TMPDIR:-/tmp}/memtrace-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/memtrace"
cd "$top"
if git rev-parse --show-toplevel >/dev/null 2>&1 &&
   [ "$(git rev-parse --show-toplevel)" = "$top" ]; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$stage/memtrace"
else
	tar --exclude=./build --exclude=./build-san --exclude=./memtrace -cf - . |
		tar -xf - -C "$stage/memtrace"
fi
cd "$stage/memtrace"
echo "build-deb: dpkg-buildpackage -us -uc -b in $stage/memtrace"
DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }noddebs nocheck" \
	dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$stage/build.log" 2>&1 || {
	tail -n 40 "$stage/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
cd "$stage"
debs=$(ls memtrace_*.deb)
cp $debs memtrace_*.changes memtrace_*.buildinfo "$out/"
echo "build-deb: $out/$debs"
if command -v lintian >/dev/null 2>&1; then
	# --fail-on: errors, warnings and info-level tags fail; overridden ones do not.
	lintian --fail-on error,warning,info --info --display-info "$out/$debs"
	echo "build-deb: lintian clean (overrides, each with its reason: debian/memtrace.lintian-overrides)"
else
	echo "build-deb: lintian not installed, not run" >&2
fi
