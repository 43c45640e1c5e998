#!/bin/sh
# memtrace's benchmarks (make bench); docs/benchmarks.md explains the numbers.
#  1. probe placement: tools/bench-probe-place.sh (bare uprobe at entry vs
#     at the chosen offset, per libc function);
#  2. symbolization cost of one report: tools/bench-syms.sh;
#  3. malloc+free overhead, every tracer in one run on one process
#     ($out/bench/bench-overhead, timing the worker thread's CPU time):
#     untraced, the bare uprobe floor (three traps a pair: perf events, no
#     BPF), the same with an empty BPF program, an empty BPF program
#     through uprobe_multi links, floor-session (a uprobe session link
#     whose entry skips the return: two traps), the naive peer (bcc
#     memleak's algorithm on libbpf), bpftrace and bcc's memleak when
#     installed, memtrace (dwarf; uprobe_multi links and uprobe session
#     links where the kernel has them), memtrace-nosess (entry and return
#     links: MEMTRACE_UPROBE_SESSION=0), memtrace-perf (perf-event links:
#     MEMTRACE_UPROBE_MULTI=0), --unwind fp, -s 524288 with and without
#     sessions; with attach and exit (SIGINT to exit) times;
#  4. redis-server on 127.0.0.1 under redis-benchmark: ops/s untraced and
#     under the floor, the naive peer and bpftrace on the allocator redis
#     uses (Debian's: libjemalloc), memtrace full and -s 524288 with and
#     without sessions;
#  5. footprint with default settings: memtrace on a small process (sleep):
#     its BPF maps' memory, its RSS, attach and exit times;
#  6. 1M live allocations: attach time, time of one report, memtrace's RSS
#     and the memory of its BPF maps;
#  7. the host-wide sweep on a busy host: its CPU and BPF time, redis-server's
#     throughput with and without it (tools/bench-system.sh);
#  8. --kernel: tracepoint events/s, ns per event and CPU during a file
#     copy, and the traced objects against /proc/slabinfo and /proc/meminfo
#     deltas (tools/bench-kernel.sh).
#  Last, a summary of this run: the ratios the goals of issue 15 are about.
# Every process it starts is stopped before it exits. Needs root.
# Usage: tools/bench.sh [OUTDIR]   (default build)
# Knobs (environment): BENCH_PAIRS (20000), BENCH_ROUNDS (3), BENCH_PASSES (6:
#   interleaved passes over every variant: this machine's speed drifts by
#   up to 30% within minutes, see docs/benchmarks.md), BENCH_DEPTH (8),
#   BENCH_REDIS_N (20000), BENCH_HOLD (1000000), BENCH_ONLY (sections to
#   run, e.g. "micro redis"; default all: probe syms micro redis footprint
#   report system kernel), BENCH_SYSTEM_S (60: the sweep section's length),
#   BENCH_CLOCK (cpu: the traced thread's CPU time, which other load on the
#   machine disturbs far less than the wall clock; wall).
set -eu
out=${1:-build}
pairs=${BENCH_PAIRS:-20000}
rounds=${BENCH_ROUNDS:-3}
passes=${BENCH_PASSES:-6}
depth=${BENCH_DEPTH:-8}
redis_n=${BENCH_REDIS_N:-20000}
hold=${BENCH_HOLD:-1000000}
only=${BENCH_ONLY:-probe syms micro redis footprint report system kernel}
clock=${BENCH_CLOCK:-cpu}
mt=$(cd "$out" && pwd)/memtrace
bench=$(cd "$out" && pwd)/bench
tmp=$(mktemp -d /tmp/memtrace-bench.XXXXXX)
pids=""

cleanup() {
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { case " $only " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
section() { printf '\n==== %s ====\n' "$*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# naive_bt LIB: naive_memleak's algorithm in bpftrace on the allocator LIB;
# BEGIN runs once every probe is attached.
naive_bt() {
	cat <<-EOF
	BEGIN { printf("bpftrace: attached\n"); }
	uprobe:$1:malloc { @size[tid] = arg0; }
	uretprobe:$1:malloc /@size[tid]/ {
		@allocs[retval] = @size[tid];
		@bytes[ustack] = sum(@size[tid]);
		delete(@size[tid]);
	}
	uprobe:$1:free /@allocs[arg0]/ { delete(@allocs[arg0]); }
	END { clear(@allocs); clear(@size); clear(@bytes); }
	EOF
}

# wait_for FILE REGEX SECONDS: until a line of FILE matches (grep -E).
wait_for() {
	_end=$(($(now_ms) + $3 * 1000))
	until grep -Eq "$2" "$1" 2>/dev/null; do
		if [ "$(now_ms)" -gt "$_end" ]; then
			echo "bench: no line matching '$2' in $1 after $3 s:" >&2
			tail -n 5 "$1" >&2 || true
			return 1
		fi
		sleep 0.05
	done
}

# stop PID: SIGINT, SIGKILL after 20 s, reap.
stop() {
	kill -INT "$1" 2>/dev/null || return 0
	_n=0
	while kill -0 "$1" 2>/dev/null && [ $_n -lt 400 ]; do
		sleep 0.05
		_n=$((_n + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (uprobes, BPF)" >&2
	exit 1
fi
for f in "$mt" "$bench/bench-overhead" "$bench/malloc_loop" "$bench/naive_memleak" \
	 "$bench/hold_allocs"; do
	[ -x "$f" ] || { echo "bench: $f is missing: run make bench" >&2; exit 1; }
done
libc=$(ldd "$bench/malloc_loop" | awk '/libc\.so/ { print $3; exit }')
section "machine"
echo "kernel $(uname -r), $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "memory $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
	"$(ldd --version | head -n1), libc $libc"
echo "memtrace $(git describe --always --dirty 2>/dev/null || echo '?'), load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"

if want probe; then
	section "probe placement (tools/bench-probe-place.sh)"
	tools/bench-probe-place.sh "$out" "$pairs"
fi
if want syms; then
	section "symbolization (tools/bench-syms.sh)"
	tools/bench-syms.sh "$out"
fi
if want kernel; then
	section "kernel allocations, --kernel (tools/bench-kernel.sh)"
	tools/bench-kernel.sh "$out"
fi

# ---- 3. malloc+free overhead ----------------------------------------------
if want micro; then
	section "malloc+free overhead ($pairs pairs x $rounds rounds x $passes passes, $depth frames deep)"
	set -- -t "naive|naive_memleak: tracing|$bench/naive_memleak -p {pid}"
	if command -v bpftrace >/dev/null; then
		naive_bt "$libc" >"$tmp/naive.bt"
		set -- "$@" -t "bpftrace|bpftrace: attached|bpftrace -p {pid} $tmp/naive.bt"
	else
		echo "bpftrace: not installed, skipped"
	fi
	if command -v memleak-bpfcc >/dev/null; then
		# bcc compiles its program at run time against the kernel's headers.
		if timeout 60 memleak-bpfcc -p $$ 1 1 >"$tmp/bcc.out" 2>&1; then
			set -- "$@" -t "bcc-memleak|Attaching to pid|memleak-bpfcc -p {pid} 3600"
		else
			echo "bcc memleak (memleak-bpfcc) does not run here, skipped:"
			grep -m 3 -iE 'unable|error|exception|fail' "$tmp/bcc.out" | sed 's/^/  /'
		fi
	else
		echo "bcc memleak (memleak-bpfcc): not installed, skipped"
	fi
	set -- "$@" \
		-t "memtrace|memtrace: tracing pid|$mt -p {pid} >/dev/null" \
		-t "memtrace-nosess|memtrace: tracing pid|env MEMTRACE_UPROBE_SESSION=0 $mt -p {pid} >/dev/null" \
		-t "memtrace-perf|memtrace: tracing pid|env MEMTRACE_UPROBE_MULTI=0 $mt -p {pid} >/dev/null" \
		-t "memtrace-nomemo|memtrace: tracing pid|env MEMTRACE_WALK_MEMO=0 $mt -p {pid} >/dev/null" \
		-t "memtrace-fp|memtrace: tracing pid|$mt --unwind fp -p {pid} >/dev/null" \
		-t "memtrace-s512k|memtrace: tracing pid|$mt -s 524288 -p {pid} >/dev/null" \
		-t "memtrace-s512k-nosess|memtrace: tracing pid|env MEMTRACE_UPROBE_SESSION=0 $mt -s 524288 -p {pid} >/dev/null"
	[ "$clock" = cpu ] && set -- -c "$@"
	"$bench/bench-overhead" -w "$bench/malloc_loop" -n "$pairs" -r "$rounds" -k "$passes" -d "$depth" \
		"$@" 2>"$tmp/overhead.err" | tee "$tmp/micro.out" || { cat "$tmp/overhead.err" >&2; exit 1; }
fi

# ---- 4. redis ---------------------------------------------------------------
# redis_bench LABEL: redis-benchmark 3 times; the median ops/s of each test.
redis_bench() {
	: >"$tmp/rb"
	for _i in 1 2 3; do
		redis-benchmark -h 127.0.0.1 -p "$port" -n "$redis_n" -r 100000 -t set,get -q \
			</dev/null 2>&1 | tr '\r' '\n' | grep 'requests per second' >>"$tmp/rb" || true
	done
	printf '%-22s' "$1"
	printf '%s' "$1" >>"$tmp/redis.tsv"
	for _t in SET: GET:; do
		awk -v t="$_t" '$1 == t { print $2 }' "$tmp/rb" | sort -n |
			awk -v t="$_t" '{ v[NR] = $1 } END { if (NR) printf " %s %9.0f (%.0f-%.0f)",
				t, v[int((NR + 1) / 2)], v[1], v[NR] }'
		awk -v t="$_t" '$1 == t { print $2 }' "$tmp/rb" | sort -n |
			awk '{ v[NR] = $1 } END { printf "\t%.0f", NR ? v[int((NR + 1) / 2)] : 0 }' \
			>>"$tmp/redis.tsv"
	done
	echo
	echo >>"$tmp/redis.tsv"
}

if want redis; then
	section "redis-server: redis-benchmark -n $redis_n -r 100000 -t set,get: ops/s," \
		"median of 3 runs (min-max)"
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
		echo "redis-server or redis-benchmark not installed, skipped"
	else
		redis-server --version
		rpid=""
		for port in 16379 16389 16399 16409; do
			redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
				--daemonize no --logfile "$tmp/redis.log" </dev/null >/dev/null 2>&1 &
			rpid=$!
			pids="$pids $rpid"
			# Up, and ours (not another redis already on the port).
			_n=0
			until redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' |
				grep -qx "process_id:$rpid"; do
				_n=$((_n + 1))
				[ $_n -gt 100 ] && break
				sleep 0.05
			done
			[ $_n -le 100 ] && break
			stop "$rpid"
			rpid=""
		done
		if [ -z "$rpid" ]; then
			echo "redis-server did not start; skipped"
		else
			echo "redis-server pid $rpid on 127.0.0.1:$port"
			redis_bench "warm-up" >/dev/null
			: >"$tmp/redis.tsv"
			redis_bench "untraced"
			# The floor on redis: memtrace's own probe points (from -v),
			# perf uprobe events without and with an empty BPF program,
			# and an empty BPF program through uprobe_multi links.
			"$mt" -v -d 1 --no-mmap -p "$rpid" 2>&1 >/dev/null | sed -n \
				's/^memtrace: \([a-z_]*\): \(\/[^ ]*\)+\(0x[0-9a-f]*\) probe at +\(0x[0-9a-f]*\): \(.*\)$/\1 \2 \3 \4 \5/p' \
				>"$tmp/points"
			pts=""
			while read -r _fn _path _base _delta _why; do
				pts="$pts -u $_path:$((_base + _delta))"
				case "$_why" in *"return probe"*) pts="$pts -u $_path:$((_base + _delta)):ret" ;; esac
			done <"$tmp/points"
			echo "memtrace's probe points: $(awk '{ printf "%s%s+%s", (NR > 1 ? ", " : ""), $1, $4 }' \
				"$tmp/points")"
			# The naive peers probe the allocator memtrace found (the
			# library of its malloc probe: libjemalloc for Debian's redis).
			alloc=$(awk '$1 == "malloc" { print $2; exit }' "$tmp/points")
			echo "naive_memleak and bpftrace probe $alloc"
			naive_bt "$alloc" >"$tmp/naive-redis.bt"
			bt=""
			command -v bpftrace >/dev/null &&
				bt="bpftrace|bpftrace: attached|bpftrace -p $rpid $tmp/naive-redis.bt"
			while IFS='|' read -r label ready cmd; do
				[ -n "$label" ] || continue
				# one file: bpftrace says it is attached on stdout
				sh -c "exec $cmd" >"$tmp/mt.err" 2>&1 &
				mpid=$!
				pids="$pids $mpid"
				if wait_for "$tmp/mt.err" "$ready" 60; then
					redis_bench "$label"
				fi
				stop "$mpid"
			done <<-EOF
			floor|probes attached|$bench/bench-overhead -p $rpid $pts
			floor-bpf|probes attached|$bench/bench-overhead -p $rpid -e $pts
			floor-multi|probes attached|$bench/bench-overhead -p $rpid -m $pts
			naive|naive_memleak: tracing|$bench/naive_memleak -p $rpid -l $alloc
			$bt
			memtrace|^memtrace: tracing pid|$mt -p $rpid
			memtrace-nosess|^memtrace: tracing pid|env MEMTRACE_UPROBE_SESSION=0 $mt -p $rpid
			memtrace-perf|^memtrace: tracing pid|env MEMTRACE_UPROBE_MULTI=0 $mt -p $rpid
			memtrace-fp|^memtrace: tracing pid|$mt --unwind fp -p $rpid
			memtrace-s512k|^memtrace: tracing pid|$mt -s 524288 -p $rpid
			memtrace-s512k-nosess|^memtrace: tracing pid|env MEMTRACE_UPROBE_SESSION=0 $mt -s 524288 -p $rpid
			EOF
			redis_bench "untraced again"
			stop "$rpid"
		fi
	fi
fi

# ---- helpers of 5 and 6: map memory, RSS, the summary's numbers ---------------
# map_memory PID: BPF maps PID holds (from its fdinfo), name, entries, memlock.
map_memory() {
	bpftool -j map show | python3 -c '
import json, os, sys
pid = sys.argv[1]
ids = set()
for fd in os.listdir(f"/proc/{pid}/fdinfo"):
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            for line in f:
                if line.startswith("map_id:"):
                    ids.add(int(line.split()[1]))
    except OSError:
        pass
total = 0
for m in sorted(json.load(sys.stdin), key=lambda m: -m.get("bytes_memlock", 0)):
    if m["id"] in ids:
        total += m.get("bytes_memlock", 0)
        if m.get("bytes_memlock", 0) >= 1 << 20:
            print("  map %-16s %-14s %9d entries %9.1f MiB" % (m.get("name", "?"), m["type"],
                  m["max_entries"], m["bytes_memlock"] / 2**20))
print(f"  BPF maps: {len(ids)}, memlock {total / 2**20:.1f} MiB in all")
print(f"{total / 2**20:.1f}", file=open(sys.argv[2], "w"))
' "$1" "$tmp/maps_mib"
}

# rss_mib PID: its VmRSS in MiB.
rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# note KEY VALUE...: a number for the summary.
note() { _k=$1; shift; echo "$_k	$*" >>"$tmp/summary"; }
: >"$tmp/summary"

# tracer_cost KEY PID: memtrace PID's BPF maps and RSS now, then its exit
# (final report and detach) timed; noted for the summary as KEY_*.
tracer_cost() {
	map_memory "$2"
	note "$1_maps" "$(cat "$tmp/maps_mib")"
	note "$1_rss" "$(rss_mib "$2")"
	_t=$(now_ms)
	stop "$2"
	_t=$(($(now_ms) - _t))
	echo "final report and exit (detach): $_t ms"
	note "$1_exit" "$_t"
}

# ---- 5. footprint with default settings ---------------------------------------
if want footprint; then
	section "footprint with default settings: memtrace -p on a small process (sleep)"
	sleep 3600 &
	spid=$!
	pids="$pids $spid"
	t0=$(now_ms)
	"$mt" -p "$spid" -i 3600 >/dev/null 2>"$tmp/small.err" &
	mpid=$!
	pids="$pids $mpid"
	wait_for "$tmp/small.err" "^memtrace: tracing pid" 120
	t1=$(now_ms)
	sleep 1
	echo "sleep's RSS $(rss_mib "$spid") MiB; attach: $((t1 - t0)) ms from start to" \
		"\"memtrace: tracing pid\""
	echo "memtrace RSS: $(rss_mib "$mpid") MiB"
	note small_attach "$((t1 - t0))"
	tracer_cost small "$mpid"
	kill -TERM "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
fi

# metric NAME: its value in $tmp/metrics.
metric() { awk -v n="$1" '$1 == n { print $2; exit }' "$tmp/metrics"; }

# ---- 6. report cost with many live allocations --------------------------------
if want report; then
	section "report cost with $hold live allocations (32 B, 256 stacks)"
	"$bench/hold_allocs" "$hold" 32 >"$tmp/hold.out" 2>&1 &
	hpid=$!
	pids="$pids $hpid"
	wait_for "$tmp/hold.out" "^ready" 20
	hport=17411
	t0=$(now_ms)
	"$mt" -p "$hpid" -f json -i 1 -n 10 --http "127.0.0.1:$hport" >"$tmp/hold.json" \
		2>"$tmp/hold.err" &
	mpid=$!
	pids="$pids $mpid"
	wait_for "$tmp/hold.err" "^memtrace: tracing pid" 120
	t1=$(now_ms)
	echo "attach: $((t1 - t0)) ms from start to \"memtrace: tracing pid\"" \
		"(dwarf tables of $(grep -c 'r-xp' "/proc/$hpid/maps") executable mappings)"
	note hold_attach "$((t1 - t0))"
	kill -USR1 "$hpid"
	wait_for "$tmp/hold.out" "^done" 600
	t2=$(now_ms)
	echo "allocating: $((t2 - t1)) ms for $hold malloc calls under memtrace" \
		"($(((t2 - t1) * 1000000 / hold)) ns a call)"
	# Reports every second: wait for one that sees every allocation.
	n=0
	while :; do
		curl -s "http://127.0.0.1:$hport/metrics" >"$tmp/metrics" || true
		v=$(metric memtrace_outstanding_allocations)
		# every allocation seen: kept, or refused by a full table (counted)
		d=$(awk '$1 == "memtrace_dropped_events_total{reason=\"allocs_full\"}" { print $2; exit }' \
			"$tmp/metrics")
		[ $(( ${v%%.*} + ${d:-0} )) -ge "$hold" ] 2>/dev/null && break
		n=$((n + 1))
		[ $n -lt 600 ] || { echo "bench: no report with $hold allocations" >&2; exit 1; }
		sleep 0.1
	done
	lat=""
	for _ in 1 2 3 4 5; do
		sleep 1.1
		curl -s "http://127.0.0.1:$hport/metrics" >"$tmp/metrics" || true
		lat="$lat $(metric memtrace_report_latency_seconds)"
	done
	echo "report: memtrace_report_latency_seconds of 5 successive reports (ms):" \
		"$(echo "$lat" | awk '{ for (i = 1; i <= NF; i++) printf " %.0f", $i * 1000 }')"
	echo "  (collect + symbolize + analyse; outstanding" \
		"$(metric memtrace_outstanding_allocations) allocations, ${d:-0} refused by the" \
		"full table (counted in drops)," \
		"$(metric memtrace_stacks) stacks)"
	echo "memtrace RSS: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$mpid/status")," \
		"peak $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$mpid/status")"
	# The BPF tables memtrace maps (allocs, aggs) count in VmRSS as file
	# pages: they are the maps' own pages, not a copy.
	echo "  of which RssAnon (private) $(awk '/RssAnon/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$mpid/status")," \
		"RssFile (binaries, mapped BPF tables) $(awk '/RssFile/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$mpid/status")," \
		"RssShmem $(awk '/RssShmem/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$mpid/status")"
	tracer_cost hold "$mpid"
	kill -TERM "$hpid" 2>/dev/null || true
	wait "$hpid" 2>/dev/null || true
fi

# ---- 7. the host-wide sweep -------------------------------------------------
if want system; then
	section "memtrace --system on a busy host"
	if ! command -v redis-server >/dev/null; then
		echo "redis-server not installed, skipped"
	else
		"$(dirname "$0")/bench-system.sh" "$out"
		BENCH_SOAK_S=0 "$(dirname "$0")/bench-system.sh" "$out" "${BENCH_SYSTEM_S:-60}" --fault-stacks
	fi
fi

# ---- summary ------------------------------------------------------------------
section "summary of this run (issue 15's goals; benchmarks, not tests)"
if [ -s "$tmp/micro.out" ]; then
	echo "malloc+free microbenchmark, $depth frames ($(sed -n 's/^# clock: //p' "$tmp/micro.out")):"
	printf '  %-22s %10s %10s %12s\n' variant ns/pair "x untraced" "x floor"
	awk '!/^#/ && $1 != "variant" && $2 != "n/a" { printf "  %-22s %10s %10s %12s\n", $1, $2, $4, $6 }' \
		"$tmp/micro.out" | grep -E '^  (untraced|floor|floor-session|naive|bpftrace|memtrace|memtrace-nosess|memtrace-s512k|memtrace-s512k-nosess) ' || true
	echo "  (x floor: ns added over untraced, as a ratio to what the three-trap floor adds)"
	awk '$1 == "memtrace-s512k" { s = $6 } $1 == "memtrace" { f = $6 }
	     END { printf "  goal sampled (sessions) <= 0.75x floor: %s (%s)\n", s, (s + 0 <= 0.75 ? "met" : "not met");
		   printf "  goal full <= 1.15x floor (exactness: make test): %s (%s)\n", f, (f + 0 <= 1.15 ? "met" : "not met") }' \
		"$tmp/micro.out"
fi
if [ -s "$tmp/redis.tsv" ]; then
	echo "redis-server under redis-benchmark (median ops/s):"
	# untraced: the mean of the runs before and after the traced ones
	awk -F'\t' '$1 ~ /^untraced/ { us += $2; ug += $3; u++ }
	     { row[NR] = $0 } END { if (u) { us /= u; ug /= u }
		printf "  %-22s %9s %10s %9s %10s\n", "variant", "SET", "x untraced", "GET", "x untraced"
		for (i = 1; i <= NR; i++) { split(row[i], f, "\t")
			printf "  %-22s %9s %10.3f %9s %10.3f\n", f[1], f[2], us ? f[2] / us : 0, f[3], ug ? f[3] / ug : 0 }
	}' "$tmp/redis.tsv"
	awk -F'\t' '$1 == "memtrace-s512k" { s = $2 } $1 == "naive" { n = $2 }
	     END { if (n) { r = s / n; printf "  goal SET sampled / SET naive >= 1.35: %.2f (%s)\n", r,
		   (r >= 1.35 ? "met" : "not met") } }' \
		"$tmp/redis.tsv"
fi
if [ -s "$tmp/summary" ]; then
	awk -F'\t' '{ v[$1] = $2 } END {
		if ("small_maps" in v)
			printf "default settings, small target: BPF maps %s MiB, memtrace RSS %s MiB, attach %s ms, exit %s ms\n",
				v["small_maps"], v["small_rss"], v["small_attach"], v["small_exit"]
		if ("hold_maps" in v)
			printf "%d live allocations: BPF maps %s MiB (%.0f B per allocation), memtrace RSS %s MiB, attach %s ms, exit %s ms\n",
				'"$hold"', v["hold_maps"], v["hold_maps"] * 1048576 / '"$hold"', v["hold_rss"], v["hold_attach"], v["hold_exit"]
	}' "$tmp/summary"
fi
