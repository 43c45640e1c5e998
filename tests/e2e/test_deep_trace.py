"""Deep trace end to end (issue 2): exact bytes per stack for every probed
function, mmap/munmap/mremap, threads, unmatched frees, attach and launch
modes, interval reports, --output, -n, target exit, tracer killed.

The target is tests/targets/alloc_kinds.c: each scenario allocates known
amounts at a NOIPA function named after it; the numbers below come from
there. A stack's first frame is the caller of the allocation function, so
a scenario's stack is found by its first frame's function.

Several tests read the report of one shared memtrace session (a session
costs a few seconds): the session runs once, on first use, and a failure of
the session fails every test that reads it.
"""
import os
import re
import signal

import lib

PAGE = 4096
_allocator = {}


def session(key, *targs, mt_args=("-f", "json", "-n", "0")):
    """Attach-mode run of alloc_kinds TARGS, once per key: (report, done)."""
    def run():
        rep, done, m = lib.run_attach("alloc_kinds", *targs, mt_args=mt_args)
        _allocator[key] = m.allocator()
        lib.check_totals_sane(rep)
        return rep, done
    return lib.once(f"alloc_kinds {key}", run)


def heap():
    return session("heap", "malloc,calloc,realloc,reallocarray,aligned,churn,big", "wait")


def accepted_kinds(kind):
    """The kinds a call of kind may be reported as. glibc < 2.38 has one
    function under two names, aligned_alloc and memalign: the callee cannot
    tell which name was called, either kind is right (but only one)."""
    pair = {"aligned_alloc", "memalign"}
    if kind in pair and lib.aliases(_allocator["heap"], *sorted(pair)):
        return pair
    return {kind}


def mmaps():
    return session("mmap", "mmap", "wait")


# ---- the malloc family --------------------------------------------------------

def test_malloc_and_free():
    rep, _ = heap()
    lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000,
                    outstanding_allocs=3, alloc_calls=3, alloc_bytes=3000, free_calls=0)
    lib.check_stack(rep, "churn_malloc", "malloc", outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=500, free_calls=1,
                    free_bytes=500)


def test_calloc_and_overflow():
    rep, done = heap()
    lib.check_stack(rep, "leak_calloc", "calloc", outstanding_bytes=1000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=1000)
    assert done["calloc_overflow_null"] == 1, done
    lib.check_no_stack(rep, "calloc_overflow", why="(nmemb * size overflows: calloc failed)")


def test_realloc_grow_and_shrink():
    rep, _ = heap()
    lib.check_stack(rep, "realloc_grow", "realloc", outstanding_bytes=5000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=5000, free_calls=0)
    lib.check_stack(rep, "realloc_base", "malloc", outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=100, free_calls=1)
    lib.check_stack(rep, "realloc_shrink", "realloc", outstanding_bytes=100,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=100)
    lib.check_stack(rep, "shrink_base", "malloc", outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=4000, free_calls=1)


def test_realloc_null_is_an_allocation():
    rep, _ = heap()
    lib.check_stack(rep, "realloc_null", "realloc", outstanding_bytes=300,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=300, free_calls=0)


def test_realloc_zero_frees():
    rep, done = heap()
    assert done["realloc_zero_null"] == 1, done
    lib.check_stack(rep, "zero_base", "malloc", outstanding_bytes=0, outstanding_allocs=0,
                    alloc_calls=1, alloc_bytes=700, free_calls=1)
    lib.check_no_stack(rep, "realloc_zero", why="(realloc(p, 0) allocates nothing)")


def test_realloc_failure_keeps_old_block():
    rep, done = heap()
    assert done["realloc_fail_null"] == 1, done
    lib.check_stack(rep, "fail_base", "malloc", outstanding_bytes=800, outstanding_allocs=1,
                    alloc_calls=1, free_calls=0,
                    why="(realloc(p, SIZE_MAX - 65536) failed: p is still allocated)")
    lib.check_no_stack(rep, "realloc_fail", why="(the huge realloc failed)")


def test_reallocarray():
    rep, done = heap()
    lib.check_stack(rep, "reallocarray_new", "reallocarray", outstanding_bytes=1000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=1000, free_calls=0)
    lib.check_stack(rep, "reallocarray_grow", "reallocarray", outstanding_bytes=3000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=3000, free_calls=0)
    lib.check_stack(rep, "array_base", "malloc", outstanding_bytes=0, outstanding_allocs=0,
                    alloc_calls=1, alloc_bytes=100, free_calls=1)


def test_reallocarray_overflow_keeps_old_block():
    rep, done = heap()
    assert done["reallocarray_overflow_null"] == 1, done
    lib.check_stack(rep, "overflow_base", "malloc", outstanding_bytes=900,
                    outstanding_allocs=1, alloc_calls=1, free_calls=0,
                    why="(reallocarray(p, SIZE_MAX / 2, 4) failed: p is still allocated)")
    lib.check_no_stack(rep, "reallocarray_overflow", why="(nmemb * size overflows: it failed)")


def test_posix_memalign_and_einval():
    rep, done = heap()
    assert done["posix_memalign_rc"] == 0, done
    lib.check_stack(rep, "leak_posix_memalign", "posix_memalign", outstanding_bytes=1000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=1000)
    # EINVAL: the out pointer (holding the live 600-byte block) must not be read.
    assert done["posix_memalign_einval_rc"] == 22, done
    assert done["posix_memalign_einval_untouched"] == 1, done
    lib.check_stack(rep, "einval_base", "malloc", outstanding_bytes=600, outstanding_allocs=1,
                    alloc_calls=1, free_calls=0,
                    why="(the failed posix_memalign's out pointer still holds this block)")
    lib.check_no_stack(rep, "posix_memalign_einval", why="(posix_memalign failed: EINVAL)")


def _kind_of_live(rep, func, kind):
    """kind, or the accepted alias the live block at func is reported as."""
    live = {s["kind"] for s in lib.stacks_at(rep, func) if s["outstanding_bytes"]}
    ok = live & accepted_kinds(kind)
    return ok.pop() if len(ok) == 1 else kind


def test_aligned_alloc():
    rep, _ = heap()
    lib.check_stack(rep, "leak_aligned_alloc", _kind_of_live(rep, "leak_aligned_alloc",
                                                             "aligned_alloc"),
                    outstanding_bytes=1024, outstanding_allocs=1, alloc_calls=1,
                    alloc_bytes=1024, free_calls=0)


def test_memalign():
    rep, _ = heap()
    lib.check_stack(rep, "leak_memalign", _kind_of_live(rep, "leak_memalign", "memalign"),
                    outstanding_bytes=1000, outstanding_allocs=1, alloc_calls=1,
                    alloc_bytes=1000, free_calls=0)


def test_valloc_and_pvalloc_rounds_to_pages():
    rep, _ = heap()
    lib.check_stack(rep, "leak_valloc", "valloc", outstanding_bytes=1000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=1000)
    # pvalloc(1000) is one page, pvalloc(5000) two.
    lib.check_stack(rep, "leak_pvalloc", "pvalloc", outstanding_bytes=3 * PAGE,
                    outstanding_allocs=2, alloc_calls=2, alloc_bytes=3 * PAGE)


def test_free_releases_every_kind():
    rep, _ = heap()
    want = {"malloc": 111, "calloc": 111, "realloc": 113, "reallocarray": 117,
            "posix_memalign": 119, "aligned_alloc": 128, "memalign": 131, "valloc": 137,
            "pvalloc": PAGE}
    at = lib.stacks_at(rep, "churn_every_kind")
    bad = []
    for kind, size in want.items():
        hits = [s for s in at if s["kind"] in accepted_kinds(kind) and s["alloc_bytes"] == size]
        if len(hits) != 1 or (hits[0]["outstanding_bytes"], hits[0]["outstanding_allocs"],
                              hits[0]["alloc_calls"], hits[0]["free_calls"]) != (0, 0, 1, 1):
            bad.append(f"{kind}({size})")
    assert not bad, ("allocated then freed, want one stack each with 0 outstanding, "
                     f"1 alloc, 1 free: {', '.join(bad)}\n" + lib.describe(rep))
    assert sum(s["outstanding_bytes"] for s in at) == 0, lib.describe(rep)


def test_each_call_counted_once():
    """One call of an allocation function is one allocation of its own kind
    at its caller: glibc functions that call (or tail-call) another probed
    function, or share its address, must not add allocations and frees."""
    rep, _ = heap()
    want = {
        "leak_malloc": "malloc", "leak_calloc": "calloc", "realloc_grow": "realloc",
        "realloc_null": "realloc", "reallocarray_new": "reallocarray",
        "reallocarray_grow": "reallocarray", "leak_posix_memalign": "posix_memalign",
        "leak_aligned_alloc": "aligned_alloc", "leak_memalign": "memalign",
        "leak_valloc": "valloc", "leak_pvalloc": "pvalloc", "big_malloc_leak": "malloc",
        "big_realloc": "realloc",
    }
    bad = []
    for func, kind in want.items():
        at = lib.stacks_at(rep, func)
        got = sorted(f"{s['kind']}(alloc_calls={s['alloc_calls']}, free_calls={s['free_calls']})"
                     for s in at)
        if len(at) != 1 or at[0]["kind"] not in accepted_kinds(kind) or at[0]["free_calls"]:
            bad.append(f"{func}: want one {' or '.join(sorted(accepted_kinds(kind)))} stack, "
                       f"got {', '.join(got) or 'none'}")
    assert not bad, "\n".join(["calls not counted once:"] + bad) + "\n" + lib.describe(rep)


def test_large_malloc_counted_once_as_malloc():
    """A malloc above the mmap threshold calls mmap inside: one malloc of the
    exact size, no mmap stack; its free releases it."""
    rep, done = heap()
    assert done["big_leak_mmapped"] == 1 and done["big_freed_mmapped"] == 1, \
        f"glibc did not serve the large mallocs with mmap: {done}"
    lib.check_stack(rep, "big_malloc_leak", "malloc", outstanding_bytes=200000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=200000, free_calls=0)
    lib.check_stack(rep, "big_malloc_freed", "malloc", outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=300000, free_calls=1)
    # realloc of an mmapped chunk: glibc uses mremap inside realloc.
    lib.check_stack(rep, "big_realloc", "realloc", outstanding_bytes=600000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=600000)
    lib.check_stack(rep, "big_realloc_base", "malloc", outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, free_calls=1)
    for func in ("big_malloc_leak", "big_malloc_freed", "big_realloc", "big_realloc_base"):
        for kind in ("mmap", "mremap"):
            lib.check_no_stack(rep, func, kind, anywhere=True,
                               why="(the mapping is malloc's own: counted at malloc)")


def test_stacks_sorted_by_outstanding_bytes():
    rep, _ = heap()
    b = [s["outstanding_bytes"] for s in rep["stacks"]]
    assert b == sorted(b, reverse=True), lib.describe(rep)
    t = rep["totals"]
    assert t["outstanding_bytes"] == sum(b), (t, sum(b))
    assert t["stacks"] == len(rep["stacks"]), t


# ---- mmap, munmap, mremap -------------------------------------------------------
# These locate a mapping's stack by the scenario function anywhere in it;
# test_mmap_stacks_start_at_caller checks where the stack starts.

def test_mmap_page_rounded():
    rep, _ = mmaps()
    lib.check_stack(rep, "mmap_leak", "mmap", anywhere=True, outstanding_bytes=3 * PAGE,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=3 * PAGE, free_calls=0)


def test_munmap_whole():
    rep, done = mmaps()
    assert done["unmap_all_rc"] == 0, done
    lib.check_stack(rep, "mmap_unmap_all", "mmap", anywhere=True, outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=3 * PAGE, free_calls=1)


def test_munmap_partial():
    rep, done = mmaps()
    assert all(done[k] == 0 for k in ("unmap_tail_rc", "unmap_head_rc", "unmap_middle_rc",
                                      "split_rc", "split_free_rc")), done
    # Tail or head page: only that page is released; still one mapping.
    for func in ("mmap_unmap_tail", "mmap_unmap_head"):
        lib.check_stack(rep, func, "mmap", anywhere=True, outstanding_bytes=3 * PAGE,
                        outstanding_allocs=1, alloc_calls=1, alloc_bytes=4 * PAGE,
                        free_calls=0, free_bytes=PAGE)
    # A middle page: two pieces.
    lib.check_stack(rep, "mmap_unmap_middle", "mmap", anywhere=True,
                    outstanding_bytes=4 * PAGE, outstanding_allocs=2, alloc_calls=1,
                    alloc_bytes=5 * PAGE, free_calls=0)
    # Split, then one piece unmapped whole: one piece left, one free.
    lib.check_stack(rep, "mmap_split_then_free", "mmap", anywhere=True,
                    outstanding_bytes=2 * PAGE, outstanding_allocs=1, alloc_calls=1,
                    alloc_bytes=5 * PAGE, free_calls=1)


def test_munmap_spanning_pieces():
    """One munmap over both pieces of a split mapping (and the hole)."""
    rep, done = mmaps()
    assert done["span_split_rc"] == 0 and done["span_rc"] == 0, done
    lib.check_stack(rep, "mmap_unmap_span", "mmap", anywhere=True, outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=6 * PAGE,
                    free_bytes=6 * PAGE)


def test_mmap_fixed_replaces_part_of_a_mapping():
    rep, done = mmaps()
    assert done["fixed_ok"] == 1, done
    # Page 1 of 4 replaced: the old mapping keeps pages 0 and 2-3, two pieces.
    lib.check_stack(rep, "fixed_base", "mmap", anywhere=True, outstanding_bytes=3 * PAGE,
                    outstanding_allocs=2, alloc_calls=1, alloc_bytes=4 * PAGE, free_calls=0)
    lib.check_stack(rep, "mmap_fixed_over", "mmap", outstanding_bytes=PAGE,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=PAGE)


def test_mremap_failure_keeps_mapping():
    rep, done = mmaps()
    assert done["mremap_einval_failed"] == 1, done
    lib.check_stack(rep, "einval_map_base", "mmap", anywhere=True, outstanding_bytes=2 * PAGE,
                    outstanding_allocs=1, alloc_calls=1, free_calls=0,
                    why="(mremap failed with EINVAL: the mapping is unchanged)")
    lib.check_no_stack(rep, "mremap_einval", "mremap", anywhere=True)


def test_file_mapping_not_tracked():
    rep, done = mmaps()
    assert done["file_mapped"] == 1, done
    lib.check_no_stack(rep, "mmap_file", anywhere=True, why="(a file mapping is not anonymous)")


def test_mremap_moves_the_mapping():
    rep, done = mmaps()
    assert done["mremap_grow_ok"] == 1 and done["mremap_shrink_ok"] == 1, done
    lib.check_stack(rep, "mremap_grow", "mremap", anywhere=True, outstanding_bytes=6 * PAGE,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=6 * PAGE)
    lib.check_stack(rep, "mremap_base", "mmap", anywhere=True, outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=2 * PAGE, free_calls=1)
    lib.check_stack(rep, "mremap_shrink", "mremap", anywhere=True, outstanding_bytes=PAGE,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=PAGE)
    lib.check_stack(rep, "mremap_shrink_base", "mmap", anywhere=True, outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=4 * PAGE, free_calls=1)


def test_mmap_stacks_start_at_caller():
    """mmap and mremap are called from map_anon() and remap() in the target:
    the first frame is that caller, the second the scenario function."""
    rep, _ = mmaps()
    want = [("mmap_leak", "mmap", "map_anon"), ("mmap_unmap_tail", "mmap", "map_anon"),
            ("mremap_base", "mmap", "map_anon"), ("mremap_grow", "mremap", "remap"),
            ("mremap_shrink", "mremap", "remap")]
    bad = []
    for func, kind, helper in want:
        got = lib.stacks_at(rep, func, kind, anywhere=True)
        if not got:
            bad.append(f"{kind} via {helper}() from {func}(): no stack")
        for s in got:
            names = lib.frames_of(s)
            if names[:2] != [helper, func] and not (func == "mremap_base" and
                                                    names[:3] == [helper, func, "mremap_grow"]):
                bad.append(f"{kind} via {helper}() from {func}(): frames "
                           f"{' < '.join(names[:5])}")
    assert not bad, "stacks do not start at the caller of mmap/mremap:\n" + "\n".join(bad)


# ---- threads, unmatched frees ---------------------------------------------------

def test_threads_counted_exactly():
    rep, done = session("threads", "threads", "wait")
    assert done["threads"] == 4, done
    # 4 threads (2 started before attach) x 200 mallocs of 96 bytes, every
    # other one freed.
    s = lib.check_stack(rep, "thread_alloc", "malloc", outstanding_bytes=4 * 100 * 96,
                        outstanding_allocs=400, alloc_calls=800, alloc_bytes=800 * 96,
                        free_calls=400, free_bytes=400 * 96)
    assert "thread_main" in lib.frames_of(s), lib.frames_of(s)


def readme_max_allocs(n):
    """The most live allocations README's --max-allocs row promises for N:
    "up to 1.5 N", rounded up as the row says (to whole buckets)."""
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")) as f:
        row = next(ln for ln in f if ln.startswith("| `--max-allocs N`"))
    m = re.search(r"up to 1\.5 N(?:,? rounded up to a multiple of (\d+))?", row)
    assert m, f"README's --max-allocs row states no bound: {row}"
    most = n + n // 2
    if m.group(1):
        step = int(m.group(1))
        most = (most + step - 1) // step * step
    return most


def test_full_allocs_table_is_counted():
    """--max-allocs 1000 and 5000 live blocks: the table keeps at least 1000
    and at most what README promises (1.5 N rounded up to buckets of 8:
    1504), every allocation it cannot keep is a counted drop, its later free
    an unmatched free, and what it keeps is exact. The blocks are freed and
    made again: freed slots are reused."""
    most = readme_max_allocs(1000)
    rep, done = lib.run_attach("alloc_kinds", "many", "wait",
                               mt_args=("-f", "json", "-n", "0", "--max-allocs", "1000"))[:2]
    assert done["many"] == 5000, done
    t = rep["totals"]
    full = t["drops"]["allocs_map_full"]
    s = lib.stack_at(rep, "hold_many", "malloc")
    kept = s["outstanding_allocs"]
    assert 1000 <= kept <= most, f"kept {kept}, README: at most {most}\n{lib.describe(rep)}"
    # first round: kept1 tracked, all freed; second round: kept2 tracked
    kept1 = s["free_calls"]
    assert 1000 <= kept1 <= most, s
    assert s["alloc_calls"] == kept1 + kept, s
    assert full == 2 * 5000 - kept1 - kept, t
    assert t["dropped_events"] >= full, t
    assert t["unmatched_frees"] == 5000 - kept1, t
    assert s["outstanding_bytes"] == 48 * kept and s["free_bytes"] == 48 * kept1, s


def test_unmatched_frees_attach():
    """Blocks allocated before attach and released after (5 frees, 1
    realloc) are unmatched frees, never negative bytes; so is half of a
    mapping made before attach."""
    rep, done = session("prefree", "prefree,fork", "wait")
    assert done["pre_unmap_rc"] == 0, done
    t = rep["totals"]
    assert t["unmatched_frees"] == 6, t
    assert t["free_calls"] == 0, t
    lib.check_no_stack(rep, "free_pre_attach")
    lib.check_stack(rep, "realloc_pre_attach", "realloc", outstanding_bytes=2000,
                    outstanding_allocs=1, alloc_calls=1, free_calls=0)
    assert t["outstanding_bytes"] == 2000 and t["outstanding_allocs"] == 1, \
        f"{t}\n{lib.describe(rep)}"


def test_forked_child_not_traced():
    """A child of the target (fork) is another process: its mallocs are not
    the target's."""
    rep, done = session("prefree", "prefree,fork", "wait")
    assert done["child_status"] == 0, done
    lib.check_no_stack(rep, "child_alloc", anywhere=True, why="(made in a forked child)")


# ---- modes and options ------------------------------------------------------------

def test_launch_mode():
    """-- CMD: traced from its first instruction; exact bytes; exit 0."""
    out = os.path.join(lib.tmpdir(), "report.json")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "--output", out, "--",
                     lib.target_path("alloc_kinds"), "malloc,top", "exit", output=out)
    pid = m.wait_tracing()
    # The command's stdout is memtrace's: its protocol lines arrive there.
    assert int(m.out.expect(r"^ready (\d+)$").group(1)) == pid
    os.kill(pid, signal.SIGUSR1)
    m.out.expect(r"^done\b")
    assert m.wait() == 0, m.err.text()
    rep = m.final()
    assert rep["pid"] == pid and rep["comm"] == "alloc_kinds", (rep["pid"], rep["comm"])
    lib.check_totals_sane(rep)
    lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000,
                    outstanding_allocs=3, alloc_calls=3)
    lib.check_stack(rep, "churn_malloc", "malloc", outstanding_bytes=0, alloc_calls=1,
                    free_calls=1)
    lib.check_stack(rep, "top_a", "malloc", outstanding_bytes=50000, outstanding_allocs=1)
    assert rep["totals"]["unmatched_frees"] == 0, rep["totals"]
    w.assert_clean(mine=[m.pid, pid])


def test_launch_exit_status():
    """memtrace -- CMD exits with CMD's status, after its final report."""
    m = lib.Memtrace("-f", "json", "-n", "0", "--", lib.target_path("alloc_kinds"), "top",
                     "exit=3")
    pid = m.wait_tracing()
    m.out.expect(r"^ready \d+$")
    os.kill(pid, signal.SIGUSR1)
    assert m.wait() == 3, f"want the command's exit status 3; stderr:\n{m.err.text()}"
    rep = m.final()
    lib.check_stack(rep, "top_a", "malloc", outstanding_bytes=50000, outstanding_allocs=1)


def test_interval_reports():
    """-i 1: a report per second, the last one final."""
    t = lib.Target("alloc_kinds", "top", "wait")
    m = lib.Memtrace("-f", "json", "-n", "0", "-i", "1", "-p", str(t.pid))
    m.wait_tracing()
    t.go()
    t.wait_done()
    seen = len(m.reports())
    m.out.expect_count(r"^\{", seen + 2, timeout=10)	# two reports after done
    m.stop()
    assert m.wait() == 0, m.err.text()
    reps = m.reports()
    assert len(reps) >= 3, len(reps)
    assert [r["final"] for r in reps] == [False] * (len(reps) - 1) + [True]
    el = [r["elapsed_s"] for r in reps]
    assert el == sorted(el) and len(set(el)) == len(el), el
    for r in reps[seen:]:	# made after the allocations
        lib.check_stack(r, "top_a", "malloc", outstanding_bytes=50000, outstanding_allocs=1)
    t.release()
    assert t.wait() == 0


def test_output_file():
    """--output FILE: the reports go there, nothing to stdout."""
    out = os.path.join(lib.tmpdir(), "reports.json")
    rep, _, m = lib.run_attach("alloc_kinds", "top", "wait",
                               mt_args=("-f", "json", "-n", "0", "--output", out), output=out)
    assert not m.out.text().strip(), f"stdout not empty: {m.out.text()[:300]}"
    lib.check_stack(rep, "top_b", "malloc", outstanding_bytes=40000, outstanding_allocs=1)


def test_top_n_limits_stacks():
    """-n 2: the two stacks with the most outstanding bytes, in order."""
    rep, _, _ = lib.run_attach("alloc_kinds", "top", "wait", mt_args=("-f", "json", "-n", "2"))
    names = [lib.frames_of(s)[0] for s in rep["stacks"]]
    assert names == ["top_a", "top_b"], f"{names}\n{lib.describe(rep)}"
    assert rep["totals"]["stacks"] >= 5, rep["totals"]
    assert rep["totals"]["outstanding_bytes"] == 150000, rep["totals"]


def test_target_exits_mid_run():
    """The target exits while memtrace runs (-d 60): a final report with its
    allocations, symbolized, then exit 0 at once."""
    t = lib.Target("alloc_kinds", "top", "exit")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "-d", "60", "-p", str(t.pid))
    m.wait_tracing()
    t.go()
    t.wait_done()
    assert t.wait() == 0
    assert m.wait(timeout=15) == 0, m.err.text()
    rep = m.final()
    lib.check_stack(rep, "top_a", "malloc", outstanding_bytes=50000, outstanding_allocs=1)
    lib.check_stack(rep, "top_e", "malloc", outstanding_bytes=10000, outstanding_allocs=1)
    w.assert_clean(mine=[m.pid, t.pid])


def test_tracer_killed():
    """SIGKILL to memtrace: its probes go away with it, the target runs on."""
    t = lib.Target("alloc_kinds", "malloc,realloc,big", "wait")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-p", str(t.pid))
    m.wait_tracing()
    assert w.leftovers([m.pid]), "no memtrace BPF program seen while tracing"
    os.kill(m.pid, signal.SIGKILL)
    assert m.wait() == -signal.SIGKILL
    w.assert_clean(mine=[m.pid, t.pid])
    assert t.alive(), "the target died with the tracer"
    t.go()				# allocates where the probes were
    done = t.wait_done()
    assert done["realloc_fail_null"] == 1, done
    t.release()
    assert t.wait() == 0, t.err.text()
