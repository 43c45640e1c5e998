#!/bin/sh
# Cost and accuracy of --kernel (issue 14), part of make bench.
#  1. cost: a file-copy workload (cp of a BENCH_KERNEL_MB file and rm of the
#     copy, BENCH_KERNEL_ROUNDS times: page cache pages and file-system slab
#     objects made and freed) untraced, under `memtrace --kernel` host-wide
#     and under `--kernel --kernel-sample 16`, interleaved BENCH_PASSES
#     times. Per variant: wall time and CPU of the workload (the BPF
#     programs run in its context, so their cost is in its system time),
#     tracepoint events/s and ns per event (kernel.bpf_stats_enabled, on for
#     the run), and memtrace's own CPU (its reports) from /proc/PID/stat.
#  2. accuracy: kernel_objs holds BENCH_KERNEL_PIPES (9000) pipes under a host-wide
#     --kernel run; the traced outstanding objects per slab cache are set
#     against the /proc/slabinfo active_objs deltas, and the traced slab
#     bytes and pages against the /proc/meminfo Slab and MemFree deltas.
# Usage: tools/bench-kernel.sh [OUTDIR]   (needs root; ~1-2 minutes)
set -eu
out=${1:-build}
mb=${BENCH_KERNEL_MB:-256}
rounds=${BENCH_KERNEL_ROUNDS:-3}
passes=${BENCH_PASSES:-2}
npipes=${BENCH_KERNEL_PIPES:-9000}	# 2 files each: under a 20,000 file limit
mt=$(cd "$out" && pwd)/memtrace
objs=$(cd "$out" && pwd)/targets/kernel_objs
tmp=$(mktemp -d /tmp/memtrace-bench-kernel.XXXXXX)
stats_before=$(cat /proc/sys/kernel/bpf_stats_enabled)
pids=""

cleanup() {
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null || true
	done
	echo "$stats_before" >/proc/sys/kernel/bpf_stats_enabled
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "bench-kernel: needs root" >&2; exit 1; }
for f in "$mt" "$objs"; do
	[ -x "$f" ] || { echo "bench-kernel: $f is missing: run make bench" >&2; exit 1; }
done

# CPU seconds (user + system) of a process, from /proc/PID/stat.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# Sum of run_cnt and run_time_ns of memtrace's kernel programs (by name:
# bpftool shows no holder pids here; run the bench alone).
prog_stats() {
	bpftool -j prog show | python3 -c '
import json, sys
names = {"kmalloc", "kmalloc_node", "kmem_cache_allo", "kmem_cache_free", "kfree",
         "mm_page_alloc", "mm_page_free", "percpu_alloc_pe", "percpu_free_per"}
n = t = 0
for p in json.load(sys.stdin):
    if p.get("name") in names:
        n += p.get("run_cnt", 0); t += p.get("run_time_ns", 0)
print(n, t)'
}

# The workload, timed: "wall_s cpu_s" (cp and rm, user + system).
workload() {
	python3 - "$tmp" "$rounds" <<-'EOF'
	import resource, subprocess, sys, time
	d, n = sys.argv[1], int(sys.argv[2])
	t0 = time.monotonic()
	for _ in range(n):
	    subprocess.run(["cp", f"{d}/src", f"{d}/dst"], check=True)
	    subprocess.run(["rm", "-f", f"{d}/dst"], check=True)
	ru = resource.getrusage(resource.RUSAGE_CHILDREN)
	print(f"{time.monotonic() - t0:.3f} {ru.ru_utime + ru.ru_stime:.3f}")
	EOF
}

# start_memtrace ARGS...: memtrace in the background, waits until tracing.
start_memtrace() {
	"$mt" "$@" >"$tmp/mt.out" 2>"$tmp/mt.err" &
	mtpid=$!
	pids="$pids $mtpid"
	for _ in $(seq 200); do
		grep -q "tracing" "$tmp/mt.err" && return 0
		sleep 0.05
	done
	echo "bench-kernel: memtrace did not start:" >&2
	cat "$tmp/mt.err" >&2
	return 1
}

stop_memtrace() {
	kill -INT "$mtpid"
	wait "$mtpid" || true
}

dd if=/dev/urandom of="$tmp/src" bs=1M count="$mb" status=none
cat "$tmp/src" >/dev/null
echo 1 >/proc/sys/kernel/bpf_stats_enabled
echo "workload: $rounds x (cp of a $mb MiB file, rm of the copy); $passes interleaved passes"
printf '%-24s %8s %8s %12s %10s %10s %12s\n' variant wall_s cpu_s events/s ns/event \
	bpf_cpu% memtrace_cpu_s
for pass in $(seq "$passes"); do
	for v in untraced kernel sample16; do
		case $v in
		untraced) set -- ;;
		kernel) set -- --kernel ;;
		sample16) set -- --kernel --kernel-sample 16 ;;
		esac
		s0="0 0" c0=0
		if [ $# -gt 0 ]; then
			start_memtrace "$@" -i 1 -n 5
			c0=$(cpu_s "$mtpid")
			s0=$(prog_stats)
		fi
		r=$(workload)
		s1="0 0" c1=0
		if [ $# -gt 0 ]; then
			s1=$(prog_stats)
			c1=$(cpu_s "$mtpid")
			stop_memtrace
		fi
		# events and BPF time during the workload only
		echo "$v $r $s0 $s1 $c0 $c1" | awk '{
			n = $6 - $4; t = $7 - $5
			printf "%-24s %8.2f %8.2f %12.0f %10.0f %10.1f %12.2f\n", $1 " (pass '"$pass"')",
			       $2, $3, n / $2, n ? t / n : 0, t / 1e9 / $2 * 100, $9 - $8 }'
	done
done

# ---- accuracy: against /proc/slabinfo and /proc/meminfo ---------------------
echo
echo "accuracy: $npipes pipes held by kernel_objs, host-wide --kernel"
"$objs" pipes "$npipes" >"$tmp/objs.out" 2>&1 &
opid=$!
pids="$pids $opid"
until grep -q ready "$tmp/objs.out"; do
	kill -0 "$opid" 2>/dev/null || { cat "$tmp/objs.out" >&2; exit 1; }
	sleep 0.05
done
start_memtrace --kernel -f json -n 0 -i 60 --output "$tmp/k.json"
cp /proc/slabinfo "$tmp/slab.0"
cp /proc/meminfo "$tmp/mem.0"
kill -USR1 "$opid"
until grep -q held "$tmp/objs.out"; do
	kill -0 "$opid" 2>/dev/null || { cat "$tmp/objs.out" >&2; exit 1; }
	sleep 0.05
done
cp /proc/slabinfo "$tmp/slab.1"
cp /proc/meminfo "$tmp/mem.1"
stop_memtrace
kill -USR1 "$opid"; sleep 0.2; kill -USR1 "$opid" 2>/dev/null || true
wait "$opid" 2>/dev/null || true
python3 - "$tmp" "$npipes" <<'EOF'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
def slab(p):
    out = {}
    for ln in open(p).read().splitlines()[2:]:
        f = ln.split()
        out[f[0]] = (int(f[1]), int(f[3]))
    return out
def mem(p):
    return {l.split(':')[0]: int(l.split()[1]) * 1024 for l in open(p)}
s0, s1 = slab(f"{d}/slab.0"), slab(f"{d}/slab.1")
m0, m1 = mem(f"{d}/mem.0"), mem(f"{d}/mem.1")
rep = [json.loads(l) for l in open(f"{d}/k.json") if l.startswith("{")][-1]
by_cache, kinds = {}, {}
for s in rep["stacks"]:
    kinds[s["kind"]] = kinds.get(s["kind"], 0) + s["outstanding_bytes"]
    if s.get("cache"):
        c = by_cache.setdefault(s["cache"], [0, 0])
        c[0] += s["outstanding_allocs"]; c[1] += s["outstanding_bytes"]
print(f"{'slab cache':<24} {'slabinfo d(active)':>18} {'traced outstanding':>18}")
for name, (cnt, _) in sorted(by_cache.items(), key=lambda kv: -kv[1][0])[:8]:
    if name in s0 and name in s1:
        print(f"{name:<24} {s1[name][0] - s0[name][0]:>18} {cnt:>18}")
slab_traced = kinds.get("kmalloc", 0) + kinds.get("kmem_cache", 0)
print(f"meminfo Slab delta {(m1['Slab'] - m0['Slab']) / 2**20:.1f} MiB; traced kmalloc + "
      f"kmem_cache outstanding {slab_traced / 2**20:.1f} MiB (objects; Slab counts whole slabs)")
print(f"meminfo MemFree delta {(m1['MemFree'] - m0['MemFree']) / 2**20:.1f} MiB; traced pages "
      f"outstanding {kinds.get('pages', 0) / 2**20:.1f} MiB; percpu {kinds.get('percpu', 0)} B "
      f"(meminfo Percpu delta {m1['Percpu'] - m0['Percpu']} B)")
print(f"drops {rep['totals']['drops']}")
EOF
