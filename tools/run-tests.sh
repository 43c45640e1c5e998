#!/bin/sh
# Run every unit test binary and every e2e test; print "N passed, N failed".
# Usage: tools/run-tests.sh OUTDIR [FILTER]   (FILTER: substring of test file names)
# SAN_OUT=DIR also runs the unit tests built there (make SANITIZE=1 unit).
# KT_SERIES="6.1 ...": also boot these kernels with the core checks
# (tools/kernels/run.sh; unset: 6.1, empty: none; a FILTER skips them
# unless it is "kernels").
set -u
out=${1:-build}
filter=${2:-${T:-}}
pass=0 fail=0 skip=0
log=$(mktemp)
# Sanitized binaries: report leaks and UB as failures; huge requests return NULL.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "$out"/tests/test_* ${SAN_OUT:+"$SAN_OUT"/tests/test_*}; do
	[ -x "$t" ] || continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$f" -ne 0 ]; then cat "$log"; fi
	echo "unit $(basename "$(dirname "$(dirname "$t")")")/$(basename "$t"): $p passed, $f failed, $s skipped"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
rm -f "$log"
e2e_out=$(mktemp)
python3 tests/e2e/run.py --out "$out" ${filter:+--filter "$filter"} | tee "$e2e_out"
line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' "$e2e_out" | tail -n1)
rm -f "$e2e_out"
if [ -n "$line" ]; then
	ep=$(echo "$line" | sed 's/^e2e: \([0-9]*\) passed.*/\1/')
	ef=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
	es=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	pass=$((pass + ep)) fail=$((fail + ef)) skip=$((skip + ${es:-0}))
else
	echo "e2e runner did not report" >&2
	fail=$((fail + 1))
fi
series=${KT_SERIES-6.1}
case "kernels" in *"$filter"*) ;; *) series= ;; esac
if [ -n "$series" ]; then
	kt_out=$(mktemp)
	tools/kernels/run.sh "$out" $series | tee "$kt_out"
	line=$(grep -E '^kernels: [0-9]+ passed, [0-9]+ failed' "$kt_out" | tail -n1)
	rm -f "$kt_out"
	if [ -n "$line" ]; then
		kp=$(echo "$line" | sed 's/^kernels: \([0-9]*\) passed.*/\1/')
		kf=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
		ks=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
		pass=$((pass + kp)) fail=$((fail + kf)) skip=$((skip + ${ks:-0}))
	else
		echo "kernel matrix did not report" >&2
		fail=$((fail + 1))
	fi
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
