"""Kernel allocations (--kernel, issue 14) on the real kernel.

The target (tests/targets/kernel_objs.c) makes the kernel allocate known
objects in its context after memtrace is attached: 2,000 pipes (each a
pipe_inode_info and a buffer array, kmalloc'd in alloc_pipe_info()), held
then closed; or N anonymous pages touched once (one order-0 page each in
the fault path). The host is shared: other processes allocate too, so the
assertions are on the stacks through the target's known kernel functions,
never on totals.
"""
import os
import signal

import lib

PIPES = 2000
PAGES = 3000


def _kernel_stacks(report, func, kind, depth=64):
    """Stacks of kind with a kernel frame in func among the first depth
    frames (2: func called the allocator itself, not a slab refill under
    it)."""
    return [s for s in report["stacks"] if s["kind"] == kind and
            any(f.get("kernel") and f.get("function") == func for f in s["frames"][:depth])]


def _sum(stacks, key):
    return sum(s[key] for s in stacks)


def _missed(report):
    """Tracepoint runs the kernel skipped (host-wide): a program preempted
    mid-run on a CPU makes its next runs there be skipped, counted, never
    silent. The only events a test may lose."""
    return report["totals"]["drops"]["kernel_events_missed"]


def _report_after(m, n_before):
    """A report read wholly after an event, when n_before reports were out
    at the event: the second one after (the first may have been read
    before it)."""
    m.out.expect_count(r"^\{", n_before + 2)
    return m.reports()[n_before + 1]


def _attach(mt_args, *targs):
    t = lib.Target("kernel_objs", *targs)
    m = lib.Memtrace("-f", "json", "-n", "0", "-i", "0.5", *mt_args, "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    return t, m


def _finish(t, m, w):
    m.stop()
    assert m.wait() == 0, f"memtrace failed:\n{m.err.text()}"
    if t.alive():
        t.release()
    assert t.wait() == 0, t.err.text()
    w.assert_clean(mine=[m.pid, t.pid])
    return m.final()


def test_pipes_held_then_closed():
    """--kernel -p: the pipes' kmalloc'd objects at alloc_pipe_info() are
    outstanding (>= 2,000 of each) while held, attributed to the target
    (its own user frames follow the kernel frames: pipe2 <- open_pipes),
    and drop back to 0 once closed (freed by address, whoever frees)."""
    w = lib.ProbeWatch()
    t, m = _attach(("--kernel",), "pipes", str(PIPES))
    t.go()
    t.out.expect(r"^held n=")
    held = _report_after(m, len(m.reports()))
    pipes = _kernel_stacks(held, "alloc_pipe_info", "kmalloc", depth=2)
    assert _sum(pipes, "outstanding_allocs") + _missed(held) >= 2 * PIPES, (
        f"want >= {2 * PIPES} kmalloc objects held at alloc_pipe_info() "
        f"(less {_missed(held)} missed):\n" + lib.describe(held))
    assert held["scope"] == "user+kernel"
    users = [f for s in pipes for f in s["frames"] if not f.get("kernel")]
    assert any(f.get("module") and f["module"].endswith("/kernel_objs") for f in users), (
        "no user frame of the target after the kernel frames:\n" + lib.describe(held))
    for s in pipes:
        assert all(f.get("module") for f in s["frames"] if f.get("kernel")), s["frames"]
    # kmem_cache stacks name their cache
    assert any(s.get("cache") for s in held["stacks"] if s["kind"] == "kmem_cache"), \
        lib.describe(held)
    t.go()
    t.out.expect(r"^closed n=")
    final = _finish(t, m, w)
    pipes = _kernel_stacks(final, "alloc_pipe_info", "kmalloc", depth=2)
    left = _sum(pipes, "outstanding_allocs")
    assert left <= _missed(final), (f"{left} pipe objects still outstanding after close "
                                    f"({_missed(final)} missed):\n" + lib.describe(final))
    assert _sum(pipes, "free_calls") + _missed(final) >= _sum(pipes, "alloc_calls"), \
        lib.describe(final)


def test_pages_touched():
    """--kernel-only -p: N touched anonymous pages are >= N page allocations
    in the fault path (handle_mm_fault), outstanding while mapped."""
    w = lib.ProbeWatch()
    t, m = _attach(("--kernel-only",), "pages", str(PAGES))
    t.go()
    t.out.expect(r"^touched n=")
    rep = _report_after(m, len(m.reports()))
    final = _finish(t, m, w)
    for r in (rep, final):
        faults = _kernel_stacks(r, "handle_mm_fault", "pages")
        assert _sum(faults, "alloc_calls") + _missed(r) >= PAGES, (
            f"want >= {PAGES} page allocations under handle_mm_fault "
            f"(less {_missed(r)} missed):\n" + lib.describe(r))
        assert _sum(faults, "outstanding_bytes") + _missed(r) * os.sysconf("SC_PAGE_SIZE") >= \
            PAGES * os.sysconf("SC_PAGE_SIZE"), lib.describe(r)
        assert r["scope"] == "kernel"
        # --kernel-only: no user allocation kinds, no user frames
        assert all(s["kind"] in ("kmalloc", "kmem_cache", "pages", "percpu")
                   for s in r["stacks"]), lib.describe(r)


def test_host_wide():
    """--kernel -d 5 host-wide: reports, exits 0, counts drops by reason
    (their sum is dropped_events), shows /proc/meminfo's kernel memory."""
    w = lib.ProbeWatch()
    m = lib.Memtrace("--kernel", "-d", "5", "-i", "2", "-f", "json", "-n", "20")
    assert m.wait() == 0, m.err.text()
    w.assert_clean(mine=[m.pid])
    reps = m.reports()
    assert len(reps) >= 2, m.out.text()
    final = m.final()
    assert final["scope"] == "kernel-host" and final["pid"] == 0
    t = final["totals"]
    assert sum(t["drops"].values()) == t["dropped_events"], t
    for k in ("kernel_stack_failed", "kernel_events_missed", "allocs_map_full",
              "stacks_map_full"):
        assert k in t["drops"], t["drops"]
    assert t["alloc_calls"] > 0, t
    assert final["kernel"]["slab_bytes"] > 0 and final["kernel"]["percpu_bytes"] > 0, \
        final["kernel"]
    kinds = {s["kind"] for s in final["stacks"]}
    assert kinds <= {"kmalloc", "kmem_cache", "pages", "percpu"}, kinds
    # An allocation whose stack could not be stored (the stacks map's
    # update failed, in a context where the kernel cannot refill its
    # per-CPU cache, or bpf_get_stack failed) keeps its bytes under stack
    # 0, with no frames; the loss is counted.
    lost = t["drops"]["stacks_map_full"] + t["drops"]["kernel_stack_failed"]
    for s in final["stacks"]:
        if not s["frames"]:
            assert s["stack_id"] == "0" * 16 and lost > 0, (s, t["drops"])
    walked = [s for s in final["stacks"] if s["frames"]]
    assert walked, lib.describe(final)
    top = walked[0]
    assert top["frames"][0].get("kernel"), top
    assert top["frames"][0]["function"], top
    # the tracing machinery does not lead the stacks
    for s in walked:
        f0 = s["frames"][0].get("function") or ""
        assert not f0.startswith(("bpf_prog_", "bpf_trace_run")), lib.describe(final)


def test_host_wide_text():
    """The text report's header shows the scope and Slab/SUnreclaim/Percpu."""
    m = lib.Memtrace("--kernel", "-d", "1", "-n", "2")
    assert m.wait() == 0, m.err.text()
    out = m.out.text()
    assert "=== memtrace: kernel, host-wide" in out, out
    assert "Kernel (/proc/meminfo, change since start): Slab " in out, out
    assert "SUnreclaim " in out and "Percpu " in out, out


def test_kernel_sample():
    """--kernel-sample 4: page allocations at the fault path are still
    estimated (unbiased, 1 in 4 recorded with weight 4): within 25% of N
    for N = 3,000, and sampled-out events are not counted as drops."""
    w = lib.ProbeWatch()
    t, m = _attach(("--kernel-only", "--kernel-sample", "4"), "pages", str(PAGES))
    t.go()
    t.out.expect(r"^touched n=")
    _report_after(m, len(m.reports()))
    final = _finish(t, m, w)
    faults = _kernel_stacks(final, "handle_mm_fault", "pages")
    est = _sum(faults, "alloc_calls")
    # 1 in 4 of >= 3000: binomial sd of the estimate ~ 4*sqrt(3000*0.1875) = 95
    assert 0.75 * PAGES <= est <= 1.6 * PAGES, f"estimate {est}:\n" + lib.describe(final)


def test_not_root():
    """--kernel as nobody: one line on stderr, exit 1, nothing loaded."""
    import shutil
    if shutil.which("setpriv") is None:
        raise lib.Skip("setpriv is not installed")
    m = lib.Memtrace("--kernel", "-d", "1",
                     prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    rc = m.wait()
    lines = m.stderr_lines()
    assert rc == 1, (rc, lines)
    assert len(lines) == 1 and "root" in lines[0], lines


def test_usage():
    """--kernel-sample without --kernel, and a bad N: usage errors (exit 2)."""
    for args in (["--kernel-sample", "4", "-p", str(os.getpid())],
                 ["--kernel", "--kernel-sample", "0"]):
        m = lib.Memtrace(*args)
        assert m.wait() == 2, (args, m.err.text())
        assert m.stderr_lines()[0].startswith("memtrace: "), m.stderr_lines()


def test_writers_carry_kernel_stacks():
    """Every writer of a --kernel run holds the kernel stacks: the pipes'
    alloc_pipe_info() (held by the target) is in the pprof profile, the
    collapsed stacks, the flame graph and the CSV; /metrics has the
    meminfo gauges and the kernel's drop reasons."""
    import gzip
    import socket
    import time
    import urllib.request
    d = lib.tmpdir()
    files = {k: os.path.join(d, f"k.{k}") for k in ("pprof", "collapsed", "svg", "csv")}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    w = lib.ProbeWatch()
    t, m = _attach(("--kernel-only", "--pprof", files["pprof"], "--collapsed",
                    files["collapsed"], "--flamegraph", files["svg"], "--csv", files["csv"],
                    "--http", f"127.0.0.1:{port}"), "pipes", "500")
    t.go()
    t.out.expect(r"^held n=")
    _report_after(m, len(m.reports()))
    metrics = ""
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                metrics = r.read().decode()
            break
        except OSError:
            time.sleep(0.1)
    m.stop()                    # the files are written at the end, pipes still held
    assert m.wait() == 0, m.err.text()
    t.go()
    t.out.expect(r"^closed n=")
    t.release()
    assert t.wait() == 0, t.err.text()
    w.assert_clean(mine=[m.pid, t.pid])
    final = m.final()
    assert _kernel_stacks(final, "alloc_pipe_info", "kmalloc", depth=2), lib.describe(final)
    with gzip.open(files["pprof"]) as f:
        assert b"alloc_pipe_info" in f.read()
    for k in ("collapsed", "svg", "csv"):
        with open(files[k], errors="replace") as f:
            assert "alloc_pipe_info" in f.read(), f"{k} has no kernel stack"
    assert "memtrace_kernel_slab_bytes " in metrics, metrics[:2000]
    assert 'reason="kernel_events_missed"' in metrics, metrics[:2000]
