#!/bin/sh
# Run the libFuzzer harnesses (mk/fuzz.mk) for SECONDS each and print, per
# harness, executions, seconds and the verdict, then "fuzz: N passed, N failed".
# Usage: tools/fuzz.sh FUZZ_OUT SECONDS [NAME...]   (default: every harness)
# Seeds: tests/fuzz/corpus/NAME/ (committed, read-only here) and, for the
# ELF harnesses, FUZZ_OUT/seeds/; new inputs go to FUZZ_OUT/corpus/NAME/,
# kept between runs. A crash, leak, UB report, timeout (FUZZ_TIMEOUT s of
# wall time for one input, default 30: generous, the machine may be
# loaded) or out-of-memory fails the harness; its input is saved as
# FUZZ_OUT/crashes/NAME-*, to be kept in tests/fuzz/corpus/NAME/ once fixed.
# FUZZ_JOBS=N runs N processes a harness (default 1); runs at nice 19.
set -u
out=$1 secs=$2
shift 2
names=${*:-$(ls "$out" | sed -n 's/^fuzz_\([a-z_]*\)$/\1/p')}
elf_harnesses="unwind elf_funcs syms"
pass=0 fail=0
mkdir -p "$out/crashes" "$out/logs" "$out/tmp"
export TMPDIR="$PWD/$out/tmp"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for n in $names; do
	bin=$out/fuzz_$n
	[ -x "$bin" ] || { echo "fuzz $n: no $bin (make fuzz-build)" >&2; fail=$((fail + 1)); continue; }
	work=$out/corpus/$n
	mkdir -p "$work"
	seeds=""
	[ -d "tests/fuzz/corpus/$n" ] && seeds="tests/fuzz/corpus/$n"
	case " $elf_harnesses " in *" $n "*) seeds="$seeds $out/seeds" ;; esac
	log=$out/logs/$n.log
	# The committed inputs first, alone: every one must pass as it is.
	if [ -d "tests/fuzz/corpus/$n" ] && ! nice -n 19 "$bin" -runs=0 -artifact_prefix="$out/crashes/$n-" \
		-timeout="${FUZZ_TIMEOUT:-30}" -rss_limit_mb=2048 "tests/fuzz/corpus/$n" \
		>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "fuzz $n: FAILED on the committed corpus (log $log)"
		fail=$((fail + 1))
		continue
	fi
	jobs=""
	[ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"
	start=$(date +%s)
	(cd "$out/logs" && exec nice -n 19 "../fuzz_$n" -max_total_time="$secs" \
		-timeout="${FUZZ_TIMEOUT:-30}" -rss_limit_mb=2048 -print_final_stats=1 $jobs \
		-artifact_prefix="../crashes/$n-" "../corpus/$n" \
		$(for d in $seeds; do case "$d" in /*) echo "$d" ;; *) echo "$OLDPWD/$d" ;; esac; done)) \
		>"$log" 2>&1
	rc=$?
	if [ -n "$jobs" ]; then
		cat "$out"/logs/fuzz-*.log >>"$log" 2>/dev/null
		rm -f "$out"/logs/fuzz-*.log
	fi
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $n: $execs executions in $((end - start)) s, no crash"
		pass=$((pass + 1))
	else
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 >&2
		echo "fuzz $n: FAILED after $execs executions in $((end - start)) s (log $log, input $out/crashes/$n-*)"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
