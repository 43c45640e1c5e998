#!/bin/sh
# checks.sh - the kernel matrix's checks, run inside the guest by /init
# (busybox sh, no python): a core subset of tests/e2e with the same targets
# and expected values (tests/targets/alloc_kinds.c, unwind_chain.c).
# Prints "KT: ok NAME" or "KT: FAIL NAME: WHY" per check, then
# "KT: N passed, N failed". Files in /tmp; every wait has a timeout.
MT=${KT_MEMTRACE:-/kt/memtrace}
T=${KT_TARGETS:-/kt/targets}
AWK_STACKS=${KT_STACKS_AWK:-/kt/stacks.awk}
WAIT=${KT_WAIT:-180}	# seconds: emulated CPUs are slow
PAGE=4096
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "KT: ok   $1"; }
bad() { fail=$((fail + 1)); echo "KT: FAIL $1: $2"; }
info() { echo "KT: info $*"; }
# show a file's last lines on the console, for a failure's why
show() { [ -f "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/KT:   | /'; }

# running PID: true while PID runs (a zombie has exited)
running() {
	[ -r /proc/$1/stat ] && ! sed 's/.*) //' /proc/$1/stat | grep -q '^[ZX]'
}

# wait_for FILE REGEX [PID...]: 0 once a line of FILE matches; 1 after
# $WAIT s, or as soon as one of PIDs has exited without writing it
wait_for() {
	f=$1 re=$2
	shift 2
	i=0
	while [ $i -lt $((WAIT * 5)) ]; do
		grep -qE "$re" "$f" 2>/dev/null && return 0
		for p in "$@"; do
			running "$p" || { grep -qE "$re" "$f" 2>/dev/null; return; }
		done
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# wait_exit PID: its exit status (from `wait`), killing it after $WAIT s
wait_exit() {
	( sleep "$WAIT"; kill -KILL "$1" 2>/dev/null ) &
	w=$!
	wait "$1"
	rc=$?
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
	return $rc
}

# check NAME FLAT FUNC KIND first|any [FIELD=VALUE...]: the one stack of
# KIND whose first frame (any: some frame) is FUNC has these fields
# (stacks.awk's names: outstanding_bytes outstanding_allocs alloc_calls
# alloc_bytes free_calls free_bytes unwind_error truncated).
check() {
	name=$1 flat=$2 fn=$3 kind=$4 where=$5
	shift 5
	why=$(awk -v fn="$fn" -v kind="$kind" -v any="$where" -v want="$*" '
	BEGIN {
		n = split("x kind outstanding_bytes outstanding_allocs alloc_calls alloc_bytes " \
			  "free_calls free_bytes unwind_error truncated frames", c, " ")
		for (i = 1; i <= n; i++) col[c[i]] = i
	}
	$1 == "stack" && $2 == kind {
		nf = split($11, f, ";")
		hit = 0
		if (any == "any") {
			for (i = 1; i <= nf; i++) if (f[i] == fn) hit = 1
		} else hit = f[1] == fn
		if (hit) { cnt++; line = $0 }
	}
	END {
		if (cnt != 1) { print "want one " kind " stack at " fn "(), found " cnt + 0; exit }
		split(line, v, " ")
		nw = split(want, w, " ")
		for (i = 1; i <= nw; i++) {
			split(w[i], kv, "=")
			if (v[col[kv[1]]] != kv[2])
				err = err " " kv[1] "=" v[col[kv[1]]] " (want " kv[2] ")"
		}
		if (err != "") print kind " at " fn "():" err
	}' "$flat")
	if [ -z "$why" ]; then ok "$name"; else bad "$name" "$why"; fi
}

# check_frames NAME FLAT KIND REGEX FIELD=VALUE...: one stack of KIND whose
# frames (innermost first, ';') match the extended regex, with these fields
check_frames() {
	name=$1 flat=$2 kind=$3 re=$4
	shift 4
	why=$(awk -v kind="$kind" -v re="$re" -v want="$*" '
	BEGIN {
		n = split("x kind outstanding_bytes outstanding_allocs alloc_calls alloc_bytes " \
			  "free_calls free_bytes unwind_error truncated frames", c, " ")
		for (i = 1; i <= n; i++) col[c[i]] = i
	}
	$1 == "stack" && $2 == kind && $11 ~ re { cnt++; line = $0 }
	$1 == "stack" && $2 == kind && shown++ < 8 { seen = seen " [" $3 " B ue=" $9 " tr=" $10 " " $11 "]" }
	END {
		if (cnt != 1) {
			print "want one " kind " stack matching " re ", found " cnt + 0 "; " kind " stacks:" seen
			exit
		}
		split(line, v, " ")
		nw = split(want, w, " ")
		for (i = 1; i <= nw; i++) {
			split(w[i], kv, "=")
			if (v[col[kv[1]]] != kv[2])
				err = err " " kv[1] "=" v[col[kv[1]]] " (want " kv[2] ")"
		}
		if (err != "") print kind " stack " v[11] ":" err "; " kind " stacks:" seen
	}' "$flat")
	if [ -z "$why" ]; then ok "$name"; else bad "$name" "$why"; fi
}

# check_totals NAME FLAT KEY=VALUE...: fields of the report line
check_totals() {
	name=$1 flat=$2
	shift 2
	why=""
	for kv in "$@"; do
		grep -q "^report\( .*\)* $kv\( \|$\)" "$flat" ||
			why="$why $kv (got $(tr ' ' '\n' <"$flat" | grep "^${kv%%=*}=" | head -n1))"
	done
	[ -z "$why" ] || why="$why; $(tr ' ' '\n' <"$flat" | grep '^drops=' | head -n1)"
	if [ -z "$why" ]; then ok "$name"; else bad "$name" "want$why"; fi
}

# the report's JSON flattened into FLAT; 1 (and a failure) when there is none
flatten() {
	if awk -f "$AWK_STACKS" "$2" >"$3" 2>/dev/null; then
		return 0
	fi
	bad "$1" "no final JSON report in $2"
	show "$4"
	return 1
}

# ---- the malloc family and mmap: exact bytes per stack ---------------------
# tests/e2e/test_deep_trace.py's numbers for groups malloc,calloc,realloc,mmap.
heap_checks() {
	p=$1 f=$2
	check "$p malloc" "$f" leak_malloc malloc first outstanding_bytes=3000 \
		outstanding_allocs=3 alloc_calls=3 alloc_bytes=3000 free_calls=0
	check "$p free" "$f" churn_malloc malloc first outstanding_bytes=0 outstanding_allocs=0 \
		alloc_calls=1 alloc_bytes=500 free_calls=1 free_bytes=500
	check "$p calloc" "$f" leak_calloc calloc first outstanding_bytes=1000 \
		outstanding_allocs=1 alloc_calls=1 alloc_bytes=1000
	check "$p realloc grow" "$f" realloc_grow realloc first outstanding_bytes=5000 \
		outstanding_allocs=1 alloc_calls=1 alloc_bytes=5000 free_calls=0
	check "$p realloc frees the old block" "$f" realloc_base malloc first \
		outstanding_bytes=0 outstanding_allocs=0 alloc_calls=1 alloc_bytes=100 free_calls=1
	check "$p realloc shrink" "$f" realloc_shrink realloc first outstanding_bytes=100 \
		outstanding_allocs=1 alloc_calls=1 alloc_bytes=100
	check "$p realloc(NULL, n)" "$f" realloc_null realloc first outstanding_bytes=300 \
		outstanding_allocs=1 alloc_calls=1 alloc_bytes=300
	check "$p failed realloc keeps the block" "$f" fail_base malloc first \
		outstanding_bytes=800 outstanding_allocs=1 alloc_calls=1 free_calls=0
	check "$p mmap page-rounded" "$f" mmap_leak mmap any outstanding_bytes=$((3 * PAGE)) \
		outstanding_allocs=1 alloc_calls=1 alloc_bytes=$((3 * PAGE)) free_calls=0
	check "$p munmap whole" "$f" mmap_unmap_all mmap any outstanding_bytes=0 \
		outstanding_allocs=0 alloc_calls=1 alloc_bytes=$((3 * PAGE)) free_calls=1
	check "$p munmap middle: two pieces" "$f" mmap_unmap_middle mmap any \
		outstanding_bytes=$((4 * PAGE)) outstanding_allocs=2 alloc_calls=1 \
		alloc_bytes=$((5 * PAGE)) free_calls=0
	check "$p mremap moves the mapping" "$f" mremap_grow mremap any \
		outstanding_bytes=$((6 * PAGE)) outstanding_allocs=1 alloc_calls=1
	check "$p mremap releases the old range" "$f" mremap_base mmap any outstanding_bytes=0 \
		outstanding_allocs=0 alloc_calls=1 alloc_bytes=$((2 * PAGE)) free_calls=1
	check_totals "$p nothing dropped" "$f" dropped_events=0 unmatched_frees=0
}

GROUPS_=malloc,calloc,realloc,mmap

launch_heap() {
	rm -f /tmp/l.*
	$MT -f json -n 0 --output /tmp/l.json -- $T/alloc_kinds $GROUPS_ exit \
		>/tmp/l.out 2>/tmp/l.err &
	m=$!
	if ! wait_for /tmp/l.out '^ready [0-9]+$' $m; then
		bad "launch: tracing starts" "no 'ready' from the command"
		show /tmp/l.err
		kill -KILL $m 2>/dev/null
		return
	fi
	kill -USR1 "$(sed -n 's/^ready //p' /tmp/l.out)"
	wait_exit $m
	rc=$?
	if [ $rc -eq 0 ]; then ok "launch: exit status 0"; else bad "launch: exit status 0" "got $rc"; show /tmp/l.err; fi
	grep -q '^done' /tmp/l.out || bad "launch: the command ran" "no 'done' line"
	flatten "launch: report" /tmp/l.json /tmp/l.flat /tmp/l.err || return
	heap_checks launch: /tmp/l.flat
}

attach_heap() {
	rm -f /tmp/a.*
	$T/alloc_kinds $GROUPS_ wait >/tmp/a.out 2>/tmp/a.terr &
	t=$!
	if ! wait_for /tmp/a.out '^ready [0-9]+$' $t; then
		bad "attach: target starts" "no 'ready'"
		kill -KILL $t 2>/dev/null
		return
	fi
	$MT -f json -n 0 --output /tmp/a.json -p $t >/dev/null 2>/tmp/a.err &
	m=$!
	if ! wait_for /tmp/a.err '^memtrace: tracing pid' $m $t; then
		bad "attach: tracing starts" "no 'tracing pid' line"
		show /tmp/a.err
		kill -KILL $m $t 2>/dev/null
		return
	fi
	kill -USR1 $t
	wait_for /tmp/a.out '^done' $t || bad "attach: target ran" "no 'done' line"
	kill -INT $m
	wait_exit $m
	rc=$?
	if [ $rc -eq 0 ]; then ok "attach: exit status 0"; else bad "attach: exit status 0" "got $rc"; show /tmp/a.err; fi
	kill -USR1 $t 2>/dev/null
	wait_exit $t
	rc=$?
	if [ $rc -eq 0 ]; then ok "attach: target unharmed"; else bad "attach: target unharmed" "exit $rc"; fi
	flatten "attach: report" /tmp/a.json /tmp/a.flat /tmp/a.err || return
	heap_checks attach: /tmp/a.flat
}

# ---- one thread's munmap racing another's mmap (tests/e2e/test_faults.py) --
# faults mmaprace: 2,000 pages kept at map_keep while another thread maps,
# grows and unmaps a page 4,000 times; the kernel hands freed ranges to the
# other thread before the munmap's exit is seen.
mmap_race() {
	rm -f /tmp/r.*
	$MT -f json -n 0 --output /tmp/r.json -- $T/faults mmaprace exit \
		>/tmp/r.out 2>/tmp/r.err &
	m=$!
	if ! wait_for /tmp/r.out '^ready [0-9]+$' $m; then
		bad "mmap race: tracing starts" "no 'ready' from the command"
		show /tmp/r.err
		kill -KILL $m 2>/dev/null
		return
	fi
	kill -USR1 "$(sed -n 's/^ready //p' /tmp/r.out)"
	wait_exit $m
	rc=$?
	if [ $rc -ne 0 ]; then bad "mmap race: exit status 0" "got $rc"; show /tmp/r.err; fi
	flatten "mmap race: report" /tmp/r.json /tmp/r.flat /tmp/r.err || return
	check "mmap race: kept pages exact" /tmp/r.flat map_keep mmap first \
		outstanding_bytes=$((2000 * PAGE)) outstanding_allocs=2000 alloc_calls=2000 free_calls=0
	check "mmap race: churned pages released" /tmp/r.flat map_churn mmap first \
		outstanding_bytes=0 outstanding_allocs=0 alloc_calls=4000 free_calls=4000
	check "mmap race: grown pages released" /tmp/r.flat map_churn mremap first \
		outstanding_bytes=0 outstanding_allocs=0 alloc_calls=4000 free_calls=4000
	check_totals "mmap race: nothing dropped" /tmp/r.flat dropped_events=0
}

# ---- DWARF stacks through libc (tests/e2e/test_unwind.py) ------------------
# unwind_chain: -fomit-frame-pointer, 4 threads x 16 rounds + main's 16:
# 16 mallocs of 100 B at chain_d each, then one mmap of a page.
# Names of libc's frames need its debug file: else they are ?libc.so.6.
LIBC='[?]libc[.]so[.]6'
unwind_dwarf() {
	rm -f /tmp/u.*
	echo g | $MT -f json -n 0 --output /tmp/u.json -- $T/unwind_chain 4 16 \
		>/tmp/u.out 2>/tmp/u.err &
	m=$!
	wait_exit $m
	rc=$?
	if [ $rc -eq 0 ]; then ok "dwarf: exit status 0"; else bad "dwarf: exit status 0" "got $rc"; show /tmp/u.err; fi
	flatten "dwarf: report" /tmp/u.json /tmp/u.flat /tmp/u.err || return
	chain='^chain_d;chain_c;chain_b;chain_a'
	thr="$chain;thread_main;(start_thread|$LIBC);(clone3|$LIBC)\$"
	mn="$chain;main;(__libc_start_call_main|$LIBC);(__libc_start_main_impl|$LIBC);_start\$"
	check_frames "dwarf: thread malloc stacks whole" /tmp/u.flat malloc "$thr" \
		outstanding_bytes=$((4 * 16 * 100)) unwind_error=0 truncated=0
	check_frames "dwarf: main malloc stack whole" /tmp/u.flat malloc "$mn" \
		outstanding_bytes=$((16 * 100)) unwind_error=0 truncated=0
	check_frames "dwarf: thread mmap stacks through libc" /tmp/u.flat mmap "$thr" \
		outstanding_bytes=$((4 * PAGE)) unwind_error=0
	check_frames "dwarf: main mmap stack through libc" /tmp/u.flat mmap "$mn" \
		outstanding_bytes=$PAGE unwind_error=0
	check_totals "dwarf: report" /tmp/u.flat unwind=dwarf dropped_events=0 unwind_failures=0
}

unwind_fp() {
	rm -f /tmp/f.*
	echo g | $MT --unwind fp -f json -n 0 --output /tmp/f.json -- $T/unwind_chain 4 16 \
		>/tmp/f.out 2>/tmp/f.err &
	m=$!
	wait_exit $m
	rc=$?
	if [ $rc -eq 0 ]; then ok "fp: exit status 0"; else bad "fp: exit status 0" "got $rc"; show /tmp/f.err; fi
	flatten "fp: report" /tmp/f.json /tmp/f.flat /tmp/f.err || return
	check_totals "fp: report" /tmp/f.flat unwind=fp dropped_events=0
	# the bytes are all there, at shorter stacks (no frame pointers)
	got=$(awk '$1 == "stack" && $2 == "malloc" && $11 ~ /^chain_d(;|$)/ { s += $3 } END { print s + 0 }' /tmp/f.flat)
	if [ "$got" = $((5 * 16 * 100)) ]; then ok "fp: every malloc counted"; else
		bad "fp: every malloc counted" "$got bytes at chain_d, want $((5 * 16 * 100))"; fi
}

# ---- bad input: exit statuses (tests/e2e/test_bad_input.py) ---------------
status() {	# status NAME WANT CMD...: CMD exits WANT, with one stderr line at least
	name=$1 want=$2
	shift 2
	"$@" >/tmp/s.out 2>/tmp/s.err </dev/null
	rc=$?
	if [ $rc -ne "$want" ]; then
		bad "$name" "exit status $rc, want $want: $(head -n1 /tmp/s.err)"
	elif [ ! -s /tmp/s.err ]; then
		bad "$name" "nothing on stderr"
	else
		ok "$name"
	fi
}

bad_input() {
	status "bad input: nothing to trace" 2 $MT -f json
	status "bad input: unknown option" 2 $MT --no-such-option -- true
	true &
	gone=$!
	wait $gone
	status "bad input: no such pid" 1 $MT -p $gone
	status "bad input: command not found" 127 $MT -- /nonexistent/memtrace-cmd
	status "bad input: no allocator" 1 $MT -- $T/alloc_nolibc
	status "bad input: not root" 1 su -s /bin/sh nobody -c "$MT -p 1"
	status "bad input: --unwind nonsense" 2 $MT --unwind nonsense -- true
}

# ---- which kernel paths memtrace takes: -v and the report header say ------
# Probed, never by version: what -v says must be what the report says.
paths() {
	rm -f /tmp/v.*
	echo g | $MT -v -f json -n 0 --output /tmp/v.json -- $T/unwind_chain 1 1 \
		>/dev/null 2>/tmp/v.err
	grep -E '^memtrace: (uprobes through|malloc family by|stacks by|the dwarf stack walker)' /tmp/v.err |
		while read -r l; do info "$l"; done
	flatten "paths: report" /tmp/v.json /tmp/v.flat /tmp/v.err || return
	info "report header: $(sed -n 's/^report .* \(release=.*\)/\1/p' /tmp/v.flat)"
	check_totals "paths: report names this kernel" /tmp/v.flat "release=$(uname -r)"
	if grep -q '^memtrace: uprobes through uprobe_multi links' /tmp/v.err; then
		check_totals "paths: uprobes as -v says" /tmp/v.flat uprobes=uprobe_multi
	elif grep -q '^memtrace: uprobes through perf-event links (this kernel' /tmp/v.err; then
		check_totals "paths: uprobes as -v says, fallback counted" /tmp/v.flat \
			uprobes=perf_event "missing=uprobe_multi\(,[a-z_]*\)*" "fallbacks=[1-9]"
	else
		bad "paths: uprobes as -v says" "-v names no uprobe path"
		show /tmp/v.err
	fi
	# uprobe session links (6.13+): none on these kernels, entry and return links
	if grep -q '^memtrace: malloc family by uprobe session links' /tmp/v.err; then
		check_totals "paths: malloc family as -v says" /tmp/v.flat uprobe_session=true
	else
		check_totals "paths: malloc family as -v says" /tmp/v.flat uprobe_session=false \
			"missing=\([a-z_]*,\)*uprobe_session\(,[a-z_]*\)*"
	fi
	if grep -q '^memtrace: stacks by the dwarf walker' /tmp/v.err; then
		check_totals "paths: dwarf walker as -v says" /tmp/v.flat unwind=dwarf
	else
		bad "paths: dwarf walker as -v says" "the dwarf walker did not load"
		show /tmp/v.err
	fi
	# the fallback when the dwarf walker does not load, taken on purpose
	echo g | MEMTRACE_DWARF_WALKER=0 $MT -f json -n 0 --output /tmp/v.fb.json -- \
		$T/unwind_chain 1 1 >/dev/null 2>/tmp/v.fb.err
	flatten "paths: fallback report" /tmp/v.fb.json /tmp/v.fb.flat /tmp/v.fb.err || return
	check_totals "paths: dwarf walker fallback shown" /tmp/v.fb.flat unwind=fp \
		"missing=\([a-z_]*,\)*dwarf_walker"
	grep -q '^memtrace: the dwarf stack walker does not load' /tmp/v.fb.err &&
		ok "paths: dwarf walker fallback said" ||
		bad "paths: dwarf walker fallback said" "nothing on stderr"
}

info "memtrace $($MT --version 2>&1 | head -n1)"
paths
launch_heap
attach_heap
mmap_race
unwind_dwarf
unwind_fp
bad_input
echo "KT: $pass passed, $fail failed"
[ $fail -eq 0 ]
