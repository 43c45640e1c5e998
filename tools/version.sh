#!/bin/sh
# Print memtrace's version. Usage: tools/version.sh BASE (the Makefile's
# VERSION_BASE). In a git checkout (this tree's own, not a parent's): a vX.Y.Z
# tag gives `git describe` without the v ("0.2.0", "0.2.0-3-gabc1234",
# "-dirty" with local changes); untagged history gives BASE+gHASH(.dirty).
# Elsewhere (a release tarball, the Debian source tree): BASE.
set -u
base=$1
cd "$(dirname "$0")/.."
top=$(git rev-parse --show-toplevel 2>/dev/null) || { echo "$base"; exit 0; }
[ "$top" = "$(pwd -P)" ] || { echo "$base"; exit 0; }
if d=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "${d#v}"
	exit 0
fi
h=$(git rev-parse --short HEAD 2>/dev/null) || { echo "$base"; exit 0; }
if [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	echo "$base+g$h"
else
	echo "$base+g$h.dirty"
fi
