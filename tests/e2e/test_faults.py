"""The fault suite (issue 19): a target that forks children that allocate
and free its blocks, 64 threads at once, a realloc storm, a glibc abort
on a double free, SIGKILL of the target and of memtrace, two memtraces on
one pid, and a table of live allocations far too small. Each keeps exact
bytes (or counts what it cannot keep), ends with a clean final report and
leaves nothing attached. The expected numbers come from
tests/targets/faults.c. (exec mid-trace: test_lifecycle.py.)"""
import os
import re
import signal
import subprocess

import lib

TRACEFS = "/sys/kernel/tracing"


def session(scenario, mt_args=("-f", "json", "-n", "0")):
    """faults SCENARIO wait under memtrace -p: (final report, done pairs)."""
    rep, done, _ = lib.run_attach("faults", scenario, "wait", mt_args=mt_args)
    return rep, done


def test_fork_children_not_mixed():
    """3 children each free the 10 blocks they inherited (their copies) and
    allocate on their own: the parent's table keeps its 20 blocks exactly,
    no child frees count (not even as unmatched), no child stack appears,
    and the report counts the 3 forks."""
    rep, done = session("fork")
    assert done == {"children": 3, "statuses": 0}, done
    lib.check_stack(rep, "parent_keep", "malloc", outstanding_bytes=10000,
                    outstanding_allocs=10, alloc_calls=10, free_calls=0)
    lib.check_stack(rep, "parent_shared", "malloc", outstanding_bytes=20000,
                    outstanding_allocs=10, alloc_calls=10, free_calls=0,
                    why="(the children's frees of their copies are not the parent's)")
    lib.check_no_stack(rep, "child_alloc", anywhere=True, why="(made in a forked child)")
    t = rep["totals"]
    assert t["outstanding_bytes"] == 30000 and t["outstanding_allocs"] == 20, \
        f"{t}\n{lib.describe(rep)}"
    assert t["free_calls"] == 0 and t["unmatched_frees"] == 0, t
    assert rep["forked_children"] == 3, rep.get("forked_children")
    lib.check_totals_sane(rep)


def test_threads_64_exact():
    """64 threads at once, each 2,000 malloc/free pairs and 1,000 blocks
    kept: the outstanding bytes are exact, every pair is matched."""
    rep, done = session("threads")
    assert done["threads"] == 64, done
    lib.check_stack(rep, "thread_leak", "malloc", outstanding_bytes=done["leaked_bytes"],
                    outstanding_allocs=64000, alloc_calls=64000, free_calls=0)
    lib.check_stack(rep, "thread_churn", "malloc", outstanding_bytes=0, outstanding_allocs=0,
                    alloc_calls=128000, alloc_bytes=128000 * 64, free_calls=128000)
    # The rest is pthread's own: thread stacks (mmap) and TLS (calloc)
    # that glibc keeps cached for the next threads.
    for s in rep["stacks"]:
        if not lib.frames_of(s)[0].startswith("thread_"):
            assert "__pthread_create_2_1" in lib.frames_of(s), lib.describe(rep)
    t = rep["totals"]
    assert t["outstanding_bytes"] == sum(s["outstanding_bytes"] for s in rep["stacks"]), t
    # glibc frees each thread's tcache (made inside malloc, never seen as
    # an allocation) at thread exit: at most 2 unmatched frees a thread
    assert t["unmatched_frees"] <= 2 * 64, t
    lib.check_totals_sane(rep)


def _mmap_race(mt_args, keep="map_keep", churn="map_churn"):
    """keep, churn: the first frames of the two threads' mapping stacks."""
    rep, done = session("mmaprace", mt_args)
    assert done["kept"] == 2000 and done["churned"] == 4000, done
    lib.check_stack(rep, keep, "mmap", outstanding_bytes=done["bytes"],
                    outstanding_allocs=2000, alloc_calls=2000, free_calls=0)
    for s in lib.stacks_at(rep, churn):
        assert s["outstanding_bytes"] == 0 and s["outstanding_allocs"] == 0, \
            lib.describe(rep)
    churned = sum(s["alloc_calls"] for s in lib.stacks_at(rep, churn, "mmap"))
    assert churned == 4000, lib.describe(rep)
    lib.check_totals_sane(rep)


def test_mmap_race_exact():
    """One thread maps, grows (mremap) and unmaps a page 4,000 times while
    another maps 2,000 pages and keeps them: the kernel hands a range freed
    by one thread to the other at once, before the first one's syscall
    has returned. The kept pages are exact to the byte and the churn ends
    at zero: a release seen late never takes the new mapping with it.
    (Before the fix: 53 to 275 of the 2,000 kept pages lost, every run.)"""
    _mmap_race(("-f", "json", "-n", "0"))


def test_mmap_race_exact_fp():
    """The same race with the frame-pointer walker's programs (its stacks
    start at the caller of the function that called libc's mmap, which
    keeps no frame pointer)."""
    _mmap_race(("-f", "json", "-n", "0", "--unwind", "fp"), "run_mmap_race", "churn_main")


def test_munmap_over_30_mappings_exact():
    """One munmap that takes 30 tracked mappings at once (releases go in
    passes of a few): all released, nothing dropped."""
    rep, done = session("mmapspan30")
    assert done["pages"] == 30, done
    lib.check_stack(rep, "span_pages", "mmap", outstanding_bytes=0, outstanding_allocs=0,
                    alloc_calls=30, free_calls=30)
    lib.check_stack(rep, "span_reserve", "mmap", outstanding_bytes=0, outstanding_allocs=0,
                    alloc_calls=1)
    lib.check_totals_sane(rep)


def test_munmap_over_40_mappings_counted():
    """One munmap over 40 tracked mappings, more than one release takes
    (32): 32 are released, the rest stay outstanding and the report counts
    the overflow, never silently."""
    rep, done = session("mmapspan40")
    page = done["bytes"] // 40
    lib.check_stack(rep, "span_pages", "mmap", outstanding_bytes=8 * page,
                    outstanding_allocs=8, alloc_calls=40, free_calls=32)
    t = rep["totals"]
    assert t["drops"]["munmap_overflow"] == 1 and t["dropped_events"] == 1, t


def test_realloc_storm_exact():
    """10,000 growing reallocs of one block (the last ones move it with
    mremap inside glibc): one block of the last size is outstanding, and
    glibc's own mremaps are not counted again."""
    rep, done = session("realloc")
    assert done == {"steps": 10000, "bytes": 320000}, done
    s = lib.check_stack(rep, "realloc_storm", "realloc", outstanding_bytes=320000,
                        outstanding_allocs=1, alloc_calls=10000)
    assert s["free_calls"] == 9999, lib.describe(rep)
    t = rep["totals"]
    assert t["outstanding_bytes"] == 320000 and t["outstanding_allocs"] == 1, \
        f"{t}\n{lib.describe(rep)}"
    assert t["unmatched_frees"] == 0, t
    lib.check_totals_sane(rep)


def _abort_checks(rep):
    lib.check_stack(rep, "before_abort", "malloc", outstanding_bytes=3000,
                    outstanding_allocs=3, alloc_calls=3, free_calls=0)
    lib.check_totals_sane(rep)


def test_double_free_abort_attach():
    """glibc aborts the target on a double free: memtrace -p sees the exit,
    writes the final report (the 3 blocks kept before) and exits 0."""
    w = lib.ProbeWatch()
    t = lib.Target("faults", "doublefree")
    m = lib.Memtrace("-f", "json", "-n", "0", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    t.go()
    t.wait_done()
    assert t.wait() == -signal.SIGABRT, "the target did not abort"
    rc = m.wait()
    assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    assert "survived" not in t.out.text()
    _abort_checks(m.final())
    w.assert_clean(mine=[m.pid, t.pid])


def test_double_free_abort_launch():
    """The same in launch mode: memtrace exits with the shell's status of
    a SIGABRT death, 128 + 6."""
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "--", lib.target_path("faults"), "doublefree")
    pid = m.wait_tracing()
    m.out.expect(r"^ready \d+$", what="target readiness")
    os.kill(pid, signal.SIGUSR1)
    rc = m.wait()
    assert rc == 128 + signal.SIGABRT, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    _abort_checks(m.final())
    w.assert_clean(mine=[m.pid, pid])


def test_target_sigkill_attach():
    """SIGKILL of the target mid-trace: memtrace -p writes one final report
    with what the target held and exits 0 by itself."""
    w = lib.ProbeWatch()
    t = lib.Target("faults", "hold", "wait")
    m = lib.Memtrace("-f", "json", "-n", "0", "-i", "30", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    t.go()
    t.wait_done()
    os.kill(t.pid, signal.SIGKILL)
    assert t.wait() == -signal.SIGKILL
    rc = m.wait()
    assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    rep = m.final()
    assert len(m.reports()) == 1, "one report (the final one) was expected"
    lib.check_stack(rep, "hold_blocks", "malloc", outstanding_bytes=20480,
                    outstanding_allocs=5, alloc_calls=5)
    lib.check_totals_sane(rep)
    w.assert_clean(mine=[m.pid, t.pid])


def test_target_sigkill_launch_text():
    """The same in launch mode, text: the final report, and memtrace exits
    with 128 + 9 as a shell would."""
    w = lib.ProbeWatch()
    m = lib.Memtrace("-i", "30", "--", lib.target_path("faults"), "hold", "wait")
    pid = m.wait_tracing()
    m.out.expect(r"^ready \d+$", what="target readiness")
    os.kill(pid, signal.SIGUSR1)
    m.out.expect(r"^done blocks=5", what="target done")
    os.kill(pid, signal.SIGKILL)
    rc = m.wait()
    assert rc == 128 + signal.SIGKILL, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    text = m.out.text()
    assert text.count("final report") == 1, text
    assert "hold_blocks" in text, text
    w.assert_clean(mine=[m.pid, pid])


def test_two_instances_one_pid():
    """Two memtraces on one pid at once, one on uprobe_multi links and one
    on perf-event links (the same probe points twice): each sees every
    allocation, both exact, and each leaves nothing behind when it stops."""
    w = lib.ProbeWatch()
    t = lib.Target("alloc_kinds", "malloc,calloc,realloc,threads", "wait")
    ms = [lib.Memtrace("-f", "json", "-n", "0", "-p", str(t.pid),
                       env=dict(os.environ, MEMTRACE_UPROBE_MULTI=multi))
          for multi in ("1", "0")]
    for m in ms:
        assert m.wait_tracing() == t.pid
    t.go()
    t.wait_done()
    for m in ms:
        m.stop()
    for m in ms:
        assert m.wait() == 0, m.err.text()
    t.release()
    assert t.wait() == 0
    reps = [m.final() for m in ms]
    assert [r["kernel_paths"]["uprobes"] for r in reps] == ["uprobe_multi", "perf_event"], \
        [r["kernel_paths"] for r in reps]
    for rep in reps:
        lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000,
                        outstanding_allocs=3, alloc_calls=3, free_calls=0)
        lib.check_stack(rep, "leak_calloc", "calloc", outstanding_bytes=1000,
                        outstanding_allocs=1)
        lib.check_stack(rep, "thread_alloc", "malloc", outstanding_bytes=4 * 100 * 96,
                        outstanding_allocs=400, alloc_calls=800, free_calls=400)
        lib.check_totals_sane(rep)
    keyed = [{(tuple(lib.frames_of(s)[:3]), s["kind"]): s["outstanding_bytes"]
              for s in rep["stacks"]} for rep in reps]
    assert keyed[0] == keyed[1], f"the two reports differ:\n{lib.describe(reps[0])}\n--\n" \
        f"{lib.describe(reps[1])}"
    assert reps[0]["totals"]["outstanding_bytes"] == reps[1]["totals"]["outstanding_bytes"]
    w.assert_clean(mine=[ms[0].pid, ms[1].pid, t.pid])


# ---- SIGKILL of memtrace ------------------------------------------------------

def _bpf_objects_of(pid):
    """(prog ids, map ids, link ids) a running memtrace holds."""
    progs = {i for i, holders in lib.prog_holders().items() if pid in holders}
    progs &= set(lib.memtrace_progs())
    maps = set()
    for p in lib._bpftool("prog", "show"):
        if p["id"] in progs:
            maps.update(p.get("map_ids", ()))
    links = {ln["id"] for ln in lib._bpftool("link", "list") if ln.get("prog_id") in progs}
    return progs, maps, links


def _uprobe_events():
    try:
        with open(f"{TRACEFS}/uprobe_events") as f:
            return f.read().splitlines()
    except OSError:
        return []


def _sigkill_memtrace(env_multi):
    w = lib.ProbeWatch()
    events_before = set(_uprobe_events())
    t = lib.Target("faults", "hold", "wait")
    env = dict(os.environ, MEMTRACE_UPROBE_MULTI=env_multi)
    m = lib.Memtrace("-f", "json", "-p", str(t.pid), env=env)
    assert m.wait_tracing() == t.pid
    progs, maps, links = _bpf_objects_of(m.pid)
    assert progs and maps and links, (progs, maps, links)
    os.kill(m.pid, signal.SIGKILL)
    m.wait()

    def gone():
        ids = {p["id"] for p in lib._bpftool("prog", "show")}
        mids = {p["id"] for p in lib._bpftool("map", "show")}
        lids = {ln["id"] for ln in lib._bpftool("link", "list")}
        return not (progs & ids or maps & mids or links & lids)
    lib.wait_for("memtrace's programs, maps and links released", gone,
                 show=lambda: str(_bpf_objects_of(m.pid)))
    new_events = [e for e in _uprobe_events() if e not in events_before]
    assert not new_events, f"uprobe_events left behind: {new_events}"
    w.assert_clean(mine=[m.pid, t.pid])
    # the target runs on untouched: it allocates and exits 0
    t.go()
    assert t.wait_done() == {"blocks": 5, "bytes": 20480}
    t.release()
    assert t.wait() == 0, t.err.text()


def test_sigkill_memtrace_uprobe_multi():
    """SIGKILL of memtrace (uprobe_multi links): the kernel releases every
    program, map and link it held; no uprobe event stays in tracefs; the
    target runs on."""
    _sigkill_memtrace("1")


def test_sigkill_memtrace_perf_links():
    """The same with one perf-event link per probe."""
    _sigkill_memtrace("0")


def test_sigkill_memtrace_launch():
    """SIGKILL of memtrace in launch mode: the command runs on by itself
    and nothing stays attached."""
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "--", lib.target_path("faults"), "hold", "wait")
    pid = m.wait_tracing()
    m.out.expect(r"^ready \d+$", what="target readiness")
    os.kill(m.pid, signal.SIGKILL)
    m.proc.wait(timeout=lib.WAIT_S)	# its stdout stays open: the command holds it
    w.assert_clean(mine=[m.pid, pid])
    assert lib.alive(pid), "the command died with memtrace"
    os.kill(pid, signal.SIGUSR1)	# allocate, then wait
    m.out.expect(r"^done blocks=5 bytes=20480$", what="the command's allocations")
    os.kill(pid, signal.SIGUSR1)	# exit
    lib.wait_for("the command's exit", lambda: not lib.alive(pid))


# ---- a table far too small ------------------------------------------------------

def test_max_allocs_far_below_live_count():
    """--max-allocs 16 under 64,000 live blocks and 128,000 churning pairs:
    the table keeps what it can (exact for those), every allocation it
    cannot keep is a counted drop, the frees of dropped blocks are
    unmatched frees, and no stack or total goes negative."""
    rep, done = session("threads", mt_args=("-f", "json", "-n", "0", "--max-allocs", "16"))
    t = rep["totals"]
    full = t["drops"]["allocs_map_full"]
    assert full > 0, t
    assert t["dropped_events"] >= full, t
    heap = [s for s in rep["stacks"] if s["kind"] not in ("mmap", "mremap")]
    kept = sum(s["outstanding_allocs"] for s in heap)
    assert 0 <= kept <= 24, f"kept {kept}: more than 1.25 x 16 in buckets of 8\n" \
        + lib.describe(rep)
    for s in rep["stacks"]:
        assert s["outstanding_bytes"] >= 0 and s["outstanding_allocs"] >= 0, lib.describe(rep)
        assert s["free_calls"] <= s["alloc_calls"], lib.describe(rep)
    calls = sum(s["alloc_calls"] for s in rep["stacks"] if s["kind"] == "malloc")
    assert calls + full >= 64000 + 128000, (calls, full)
    assert t["unmatched_frees"] > 0, t


def test_max_allocs_drops_shown_in_text():
    """The text report shows the drops, with their reason."""
    t = lib.Target("alloc_kinds", "many", "wait")
    m = lib.Memtrace("--max-allocs", "16", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    t.go()
    t.wait_done()
    m.stop()
    assert m.wait() == 0, m.err.text()
    text = m.out.text()
    mt = re.search(r"^Dropped events: (\d+)", text, re.M)
    assert mt and int(mt.group(1)) > 0, text
    assert re.search(r"^Dropped events: \d+ \(allocs_map_full: \d+\)", text, re.M), text
    assert not re.search(r"-\d+(\.\d+)? ?[KMG]?i?B", text), f"negative bytes:\n{text}"


def test_max_stacks_far_below():
    """--max-stacks 1 under a dozen stacks: the one stack kept is exact,
    every allocation at another stack is a counted drop (stacks_map_full),
    nothing is negative."""
    rep, done = session("fork", mt_args=("-f", "json", "-n", "0", "--max-stacks", "1"))
    t = rep["totals"]
    assert t["drops"]["stacks_map_full"] > 0, t
    assert len(rep["stacks"]) == 1, lib.describe(rep)
    s = rep["stacks"][0]
    assert lib.frames_of(s)[0] in ("parent_keep", "parent_shared"), lib.describe(rep)
    assert s["outstanding_bytes"] == s["outstanding_allocs"] * \
        (1000 if lib.frames_of(s)[0] == "parent_keep" else 2000), lib.describe(rep)
    assert s["outstanding_allocs"] == 10 and s["free_calls"] == 0, lib.describe(rep)
    assert t["outstanding_bytes"] == s["outstanding_bytes"], t
    for x in rep["stacks"]:
        assert x["outstanding_bytes"] >= 0 and x["outstanding_allocs"] >= 0


def test_sigkill_memtrace_while_command_stopped():
    """In launch mode memtrace holds the command (SIGSTOP from BPF) at each
    new code mapping until it has loaded its unwind tables. Killed with
    SIGKILL in that moment (here: memtrace stopped, the command dlopen()s,
    then memtrace is killed), it must not leave the command stopped: the
    command goes on, loads its library and finishes."""
    w = lib.ProbeWatch()
    plugin = lib.target_path("libsym_plugin.so")
    m = lib.Memtrace("-f", "json", "--", lib.target_path("sym_dlopen"), plugin, "wait")
    pid = m.wait_tracing()
    m.out.expect(r"^ready \d+$", what="target readiness")
    os.kill(m.pid, signal.SIGSTOP)		# memtrace cannot answer now
    os.kill(pid, signal.SIGUSR1)		# dlopen: BPF stops the command
    lib.wait_for("the command stopped at its dlopen", lambda: _state(pid) == "T",
                 show=lambda: _state(pid))
    os.kill(m.pid, signal.SIGKILL)
    m.proc.wait(timeout=lib.WAIT_S)
    m.out.expect(r"^done loaded=1", what="the command after memtrace's death")
    os.kill(pid, signal.SIGUSR1)		# let it exit
    lib.wait_for("the command's exit", lambda: not lib.alive(pid))
    w.assert_clean(mine=[m.pid, pid])


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
