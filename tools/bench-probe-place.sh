#!/bin/sh
# What trap-aware probe placement saves, measured on this kernel:
#  1. the placement decision for each libc allocator function;
#  2. ns per call of libc malloc and free with no uprobe, a uprobe at the
#     entry and a uprobe at the chosen offset (one run, CALLS calls each);
#  3. synthetic one-instruction functions probed one by one: measured one
#     or two traps per hit vs what probe_place__classify() predicts.
# The uprobes are perf events on the bench process only.
# Usage: tools/bench-probe-place.sh [OUTDIR] [CALLS]   (root; build, 20000)
set -eu
out=${1:-build}
calls=${2:-20000}
bin=$out/tools/bench-probe-place
libc=/lib/x86_64-linux-gnu/libc.so.6

[ -x "$bin" ] || make --no-print-directory "$bin"
echo "bench-probe-place: kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
"$bin" show "$libc" malloc free calloc:2 realloc:2 posix_memalign:3 aligned_alloc:2 \
	memalign:2 valloc pvalloc reallocarray:3
if [ "$(id -u)" != 0 ]; then
	echo "bench-probe-place: skipped timing: needs root for uprobes"
	exit 0
fi
if [ ! -r /sys/bus/event_source/devices/uprobe/type ]; then
	echo "bench-probe-place: skipped timing: no uprobe PMU in this kernel"
	exit 0
fi
rc=0
"$bin" bench -n "$calls" "$libc" || rc=$?
[ "$rc" -eq 2 ] && { echo "bench-probe-place: skipped timing: uprobes not permitted"; exit 0; }
[ "$rc" -ne 0 ] && exit "$rc"
"$bin" classify -n "$calls"
