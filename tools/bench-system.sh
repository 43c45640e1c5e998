#!/bin/sh
# The host-wide sweep's cost (make bench, section "system"; issue 13):
# on a busy host (redis-server under redis-benchmark, a compiler run in a
# loop, a churning allocator), run `memtrace --system` for SECS seconds and
# report its own CPU time (user + system, from /proc/PID/stat) plus the
# run time of its BPF programs in the kernel (the final report's
# totals.bpf_run_time_ns, counted while memtrace holds BPF_ENABLE_STATS),
# as a share of one core; events/s; and redis-server's SET/GET throughput
# with and without the sweep, interleaved, as ratios from this one run.
# Then the agent's memory over a soak (BENCH_SOAK_S seconds, 120; 0: none).
# Usage: tools/bench-system.sh OUTDIR [SECS] [MEMTRACE ARGS...]  (build 60)
set -eu
out=${1:-build}
secs=${2:-${BENCH_SYSTEM_S:-60}}
shift 2 2>/dev/null || shift $#
mt=$(cd "$out" && pwd)/memtrace
grow=$(cd "$out" && pwd)/targets/sys_grow
tmp=$(mktemp -d /tmp/memtrace-bench-sys.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

port=16419
redis-server --bind 127.0.0.1 --port $port --save '' --appendonly no --daemonize no \
	--logfile "$tmp/redis.log" </dev/null >/dev/null 2>&1 &
pids="$pids $!"
until redis-cli -h 127.0.0.1 -p $port ping 2>/dev/null | grep -q PONG; do sleep 0.1; done

# the busy host: a compiler in a loop, a churning allocator, redis load
( while :; do cc -O2 -c -o /dev/null "$(dirname "$0")/../src/output/metrics.c" \
	-I"$(dirname "$0")/../src" -I"$(dirname "$0")/.." -I"$out" -D_GNU_SOURCE 2>/dev/null; done ) &
pids="$pids $!"
"$grow" bench_churn churn 4194304 >/dev/null &
pids="$pids $!"

rb() {	# redis-benchmark once: "SET GET" ops/s
	redis-benchmark -h 127.0.0.1 -p $port -n 20000 -r 100000 -t set,get -q </dev/null 2>&1 |
		tr '\r' '\n' | awk '$1 == "SET:" { s = $2 } $1 == "GET:" { g = $2 } END { print s, g }'
}

: >"$tmp/with"
: >"$tmp/without"
for _i in 1 2 3; do rb >>"$tmp/without"; done	# before the sweep
echo "busy host: redis-server, cc -O2 in a loop, a 4 MiB churning allocator; $secs s;" \
	"memtrace --system $*"
"$mt" --system -f json -n 5 -i 5 -d "$secs" "$@" >"$tmp/sys.json" 2>"$tmp/sys.err" &
mpid=$!
pids="$pids $mpid"
until grep -q "sweeping the host" "$tmp/sys.err"; do sleep 0.1; done
t0=$(date +%s.%N)
c0=$(cpu_ticks $mpid)
# redis with the sweep running; without it before and after
end=$(awk -v t="$t0" -v s="$secs" 'BEGIN { printf "%.3f", t + s - 8 }')
while awk -v n="$(date +%s.%N)" -v e="$end" 'BEGIN { exit !(n < e) }'; do
	rb >>"$tmp/with"
	sleep 1
done
c1=$(cpu_ticks $mpid)
t1=$(date +%s.%N)
wait $mpid || true
for _i in 1 2 3; do rb >>"$tmp/without"; done	# after
python3 - "$tmp" "$c0" "$c1" "$t0" "$t1" "$hz" <<'PY'
import json, statistics, sys
tmp, c0, c1, t0, t1, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
reps = [json.loads(l) for l in open(f"{tmp}/sys.json") if l.startswith("{")]
fin = reps[-1]
span = fin["elapsed_s"]
bpf_s = fin["totals"]["bpf_run_time_ns"] / 1e9
own_s = (c1 - c0) / hz
wall = t1 - t0
ev = fin["totals"]["events"]
print(f"sweep: {span:.0f} s, {ev} events ({ev / span:.0f}/s), {fin['totals']['processes_seen']} processes seen, "
      f"{fin['totals']['dropped_events']} dropped")
if fin["totals"].get("faults") is not None:
    print(f"  faults: {fin['totals']['faults']} first-touch ({fin['totals']['faults'] / span:.0f}/s), "
          f"{fin['totals']['fault_samples']} sampled")
print(f"  memtrace CPU {own_s:.2f} s in {wall:.0f} s = {100 * own_s / wall:.2f}% of a core")
print(f"  BPF programs {bpf_s:.3f} s = {100 * bpf_s / span:.2f}% of a core "
      f"({1e9 * bpf_s / max(ev, 1):.0f} ns per event)")
print(f"  total {100 * (own_s / wall + bpf_s / span):.2f}% of one core")
def col(f, i):
    return [float(l.split()[i]) for l in open(f) if len(l.split()) == 2]
for name, i in (("SET", 0), ("GET", 1)):
    w, wo = col(f"{tmp}/with", i), col(f"{tmp}/without", i)
    if w and wo:
        print(f"  redis {name}/s: {statistics.median(wo):.0f} without, {statistics.median(w):.0f} with "
              f"the sweep: ratio {statistics.median(w) / statistics.median(wo):.3f} "
              f"({len(w)} and {len(wo)} runs)")
PY

# The agent's memory over a soak: -i 1 reports, /metrics scraped every
# second, a process started and gone every few ms; VmRSS sampled.
soak=${BENCH_SOAK_S:-120}
[ "$soak" -gt 0 ] || exit 0
echo "agent soak: memtrace --system --http, -i 1, $soak s of process churn and scrapes"
"$mt" --system -i 1 --http 127.0.0.1:16429 >/dev/null 2>"$tmp/soak.err" &
apid=$!
pids="$pids $apid"
until grep -q "sweeping the host" "$tmp/soak.err"; do sleep 0.1; done
( while :; do /bin/true; done ) &
cpid=$!
pids="$pids $cpid"
: >"$tmp/rss"
i=0
while [ $i -lt "$soak" ]; do
	curl -s -o /dev/null http://127.0.0.1:16429/metrics || true
	awk -v t=$i '$1 == "VmRSS:" { print t, $2 }' "/proc/$apid/status" >>"$tmp/rss"
	sleep 1
	i=$((i + 1))
done
kill $cpid
kill -INT $apid
wait $apid || true
awk 'NR == 10 { a = $2 } { b = $2; if ($2 > m) m = $2 }
     END { printf "  VmRSS %d KiB at 10 s, %d KiB at the end, %d KiB at most\n", a, b, m }' "$tmp/rss"
