#!/bin/sh
# Check the layout rules of README.md "Layout":
#  1. one-way includes: a file in src/STAGE/ includes only headers of its own
#     stage or of stages below it, in pipeline order (main.c is on top);
#  2. no tracked source, script or data file over 800 lines (vmlinux.h, which
#     bpftool generates, and the fuzzers' corpus of raw inputs aside).
# Prints every broken rule and "layout: N passed, N failed"; exit 1 on any.
set -u
cd "$(dirname "$0")/.."
stages="common target unwind tracer collect symbolize analysis output cli pipeline"
rank() {
	r=0
	for s in $stages; do
		[ "$s" = "$1" ] && { echo $r; return; }
		r=$((r + 1))
	done
	echo 99		# main.c and anything not in a stage: the top
}
pass=0 fail=0 arrows=0
for f in $(git ls-files 'src/*.c' 'src/*.h'; git ls-files --others --exclude-standard 'src/*.c' 'src/*.h'); do
	[ -f "$f" ] || continue
	case "$f" in src/*/*) from=${f#src/}; from=${from%%/*} ;; *) from=main ;; esac
	rf=$(rank "$from")
	for inc in $(sed -n 's/^#include "\([a-z_]*\)\/.*".*/\1/p' "$f"); do
		case " $stages " in *" $inc "*) ;; *) continue ;; esac
		[ "$inc" = "$from" ] && continue
		arrows=$((arrows + 1))
		if [ "$(rank "$inc")" -ge "$rf" ]; then
			echo "layout: $f (stage $from) includes $inc/: an arrow up the pipeline" >&2
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
done
for f in $(git ls-files; git ls-files --others --exclude-standard); do
	case "$f" in vmlinux/*|*.png|*.svg|tests/fuzz/corpus/*) continue ;; esac
	[ -f "$f" ] || continue
	n=$(wc -l < "$f")
	if [ "$n" -gt 800 ]; then
		echo "layout: $f has $n lines (at most 800)" >&2
		fail=$((fail + 1))
	fi
done
echo "layout: $arrows include arrows between stages, all downward unless listed above"
echo "layout: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
