"""How the uprobes attach: uprobe_multi links (Linux 6.6+) by default,
perf-event links with MEMTRACE_UPROBE_MULTI=0 (what older kernels get).

The breakpoints themselves are checked: each probe point memtrace prints
with -v is read from the target's /proc/PID/mem. While tracing it holds
int3 (0xcc) in the traced process and only there (the pid filter; a second
process mapping the same allocator keeps its code); right after memtrace
has exited (SIGINT or SIGKILL) it holds the file's byte again, in both
modes. In launch mode the links are made before exec: the breakpoints must
be in the exec'ed image. The fallback also traces exact bytes.
"""
import os
import re
import signal

import lib

INT3 = 0xCC
METHOD_RX = r"^memtrace: uprobes through (uprobe_multi|perf-event) links.*"


def uprobe_multi_env(value):
    """MEMTRACE_UPROBE_MULTI=value (None: unset) for processes started inside."""
    return lib.setenv("MEMTRACE_UPROBE_MULTI", value)


def method(m):
    """'uprobe_multi' or 'perf-event': the method memtrace -v says it uses."""
    return m.err.expect(METHOD_RX, what="memtrace -v method line").group(1)


def need_multi(m):
    """Skip when this kernel has no uprobe_multi links (memtrace fell back)."""
    line = m.err.expect(METHOD_RX).group(0)
    if "perf-event" in line:
        raise lib.Skip(f"no uprobe_multi links here: {line}")


def probe_points(m):
    """{function: (allocator path, file offset of its probe)} from -v."""
    m.wait_tracing()
    pts = {}
    rx = re.compile(r"^memtrace: (\w+): (/\S+)\+0x([0-9a-f]+) probe at \+0x([0-9a-f]+): ")
    for line in m.err.text().splitlines():
        g = rx.match(line)
        if g:
            pts[g.group(1)] = (g.group(2), int(g.group(3), 16) + int(g.group(4), 16))
    assert "malloc" in pts and "free" in pts, f"no probe points in -v output:\n{m.err.text()}"
    return pts


def vaddr(pid, path, off):
    """Where file offset off of path (any name of it) is mapped executable in pid."""
    real = os.path.realpath(path)
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fs = line.split(None, 5)
            if len(fs) < 6 or "x" not in fs[1] or os.path.realpath(fs[5].strip()) != real:
                continue
            lo, hi = (int(x, 16) for x in fs[0].split("-"))
            foff = int(fs[2], 16)
            if foff <= off < foff + hi - lo:
                return lo + off - foff
    raise AssertionError(f"{path}+{off:#x} is not mapped executable in pid {pid}")


def code_bytes(pid, pts):
    """{function: the byte at its probe point in pid's memory}."""
    out = {}
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for fn, (path, off) in pts.items():
            mem.seek(vaddr(pid, path, off))
            out[fn] = mem.read(1)[0]
    return out


def file_bytes(pts):
    """{function: the byte at its probe point in the file}."""
    out = {}
    for fn, (path, off) in pts.items():
        with open(path, "rb") as f:
            f.seek(off)
            out[fn] = f.read(1)[0]
    return out


def check_armed(pid, other, pts):
    """int3 at every probe point in pid; the file's code in other."""
    orig = file_bytes(pts)
    assert all(b != INT3 for b in orig.values()), f"int3 in the file itself: {orig}"
    got = code_bytes(pid, pts)
    assert all(b == INT3 for b in got.values()), f"breakpoints missing in the target: {got}"
    got = code_bytes(other, pts)
    assert got == orig, f"breakpoints in a process that is not traced: {got} (file: {orig})"
    return orig


def check_disarmed(pid, pts, orig, what):
    got = code_bytes(pid, pts)
    assert got == orig, f"breakpoints left in the target {what}: {got} (file: {orig})"


def attach_and_stop(mode, sig):
    """Attach to a target, with a bystander running the same code; check
    the breakpoints, allocate, stop memtrace with sig, check them gone at
    once. Returns memtrace."""
    t = lib.Target("alloc_kinds", "top", "wait")
    other = lib.Target("alloc_kinds", "top", "exit")
    w = lib.ProbeWatch()
    with uprobe_multi_env(mode):
        m = lib.Memtrace("-v", "-f", "json", "-n", "0", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    if mode != "0":
        need_multi(m)
    pts = probe_points(m)
    orig = check_armed(t.pid, other.pid, pts)
    t.go()
    t.wait_done()
    os.kill(m.pid, sig)
    rc = m.wait()
    check_disarmed(t.pid, pts, orig, f"right after memtrace exited ({signal.Signals(sig).name})")
    if sig == signal.SIGINT:
        assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()[-3000:]}"
        lib.check_stack(m.final(), "top_a", "malloc", outstanding_bytes=50000,
                        outstanding_allocs=1)
    else:
        assert rc == -sig, rc
    w.assert_clean(mine=[m.pid, t.pid])
    t.release()
    other.go()
    for p in (t, other):
        assert p.wait() == 0, p.err.text()
    return m


def test_multi_breakpoints_gone_at_exit():
    """uprobe_multi links by default (memtrace -v says so): int3 in the
    target only; none left once memtrace exited after SIGINT."""
    m = attach_and_stop(None, signal.SIGINT)
    assert method(m) == "uprobe_multi", m.err.expect(METHOD_RX).group(0)
    assert re.search(r"^memtrace: uprobe_multi link (alloc_return \(return\)|"
                     r"alloc_sess \(session\)): malloc, ", m.err.text(), re.M), \
        "no return or session link over the allocating functions"


def test_multi_breakpoints_gone_after_sigkill():
    """uprobe_multi: SIGKILL closes the links with the process: no int3 left."""
    attach_and_stop(None, signal.SIGKILL)


def test_perf_fallback_breakpoints_gone_at_exit():
    """MEMTRACE_UPROBE_MULTI=0: perf-event links, the same guarantees."""
    m = attach_and_stop("0", signal.SIGINT)
    line = m.err.expect(METHOD_RX).group(0)
    assert "perf-event links (MEMTRACE_UPROBE_MULTI=0)" in line, line
    assert "uprobe_multi link" not in m.err.text()


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def exact_bytes(multi, links, preload=None):
    """The malloc family to the byte (tests/e2e/test_deep_trace.py's heap
    scenario) with MEMTRACE_UPROBE_MULTI=multi and the malloc family linked
    as links says (lib.LINK_MODES), in the target's libc or the allocator
    it preloads (churn left out: it crashes under jemalloc untraced); every
    call seen: as many returns as
    entries, unless nested: glibc's realloc(NULL, n) tail-calls malloc and
    its memalign family calls malloc for small alignments; with sessions
    those inner returns are skipped (the outer call accounts, as without)."""
    with lib.setenv("LD_PRELOAD", preload):
        t = lib.Target("alloc_kinds", "malloc,calloc,realloc,aligned" + ("" if preload else ",churn"),
                       "wait")
    with uprobe_multi_env(multi), lib.link_mode(links):
        rep, done, m = lib.attach_started(t, ("-v", "-f", "json", "-n", "0"))
    lib.check_link_mode(rep, links)
    if preload:
        assert m.allocator() == preload, m.allocator()
    lib.check_totals_sane(rep)
    lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000,
                    outstanding_allocs=3, alloc_calls=3, alloc_bytes=3000, free_calls=0)
    if not preload:
        lib.check_stack(rep, "churn_malloc", "malloc", outstanding_bytes=0,
                        outstanding_allocs=0, alloc_calls=1, alloc_bytes=500, free_calls=1,
                        free_bytes=500)
    lib.check_stack(rep, "leak_calloc", "calloc", outstanding_bytes=1000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=1000)
    lib.check_stack(rep, "realloc_grow", "realloc", outstanding_bytes=5000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=5000, free_calls=0)
    lib.check_stack(rep, "realloc_base", "malloc", outstanding_bytes=0,
                    outstanding_allocs=0, alloc_calls=1, alloc_bytes=100, free_calls=1)
    lib.check_stack(rep, "realloc_null", "realloc", outstanding_bytes=300,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=300)
    assert done["posix_memalign_rc"] == 0, done
    lib.check_stack(rep, "leak_posix_memalign", "posix_memalign", outstanding_bytes=1000,
                    outstanding_allocs=1, alloc_calls=1, alloc_bytes=1000)
    t = rep["totals"]
    assert t["drops"]["missed_entry"] == 0, t["drops"]
    nested = t["alloc_entry_hits"] - t["alloc_return_hits"]
    assert nested >= 0 if links == "sessions" else nested == 0, t
    return m


def test_perf_fallback_exact_bytes():
    """MEMTRACE_UPROBE_MULTI=0: the malloc family to the byte, as with
    uprobe_multi links."""
    m = exact_bytes("0", "entry_return")
    assert method(m) == "perf-event"


def test_entry_return_links_exact_bytes():
    """MEMTRACE_UPROBE_SESSION=0: uprobe_multi entry and return links."""
    exact_bytes(None, "entry_return")


def test_session_links_exact_bytes():
    """Uprobe session links, full tracing: still every call, to the byte."""
    m = exact_bytes(None, "sessions")
    assert re.search(r"^memtrace: uprobe_multi link alloc_sess \(session\): malloc, ",
                     m.err.text(), re.M), m.err.text()[-2000:]


def jemalloc_moved_return_probe(links):
    """jemalloc's malloc starts with a cmp (single-stepped: two traps); the
    probe moves to the ja after it, where the stack pointer has not moved,
    and its return probe (or session) moves with it: still exact."""
    if not os.path.exists(JEMALLOC):
        raise lib.Skip(f"{JEMALLOC} is not installed (libjemalloc2)")
    m = exact_bytes(None, links, preload=JEMALLOC)
    g = re.search(r"^memtrace: malloc: \S+ probe at \+0x([0-9a-f]+): .*; shared with the return "
                  r"probe$", m.err.text(), re.M)
    assert g and int(g.group(1), 16) > 0, \
        "malloc's probe and its return probe did not move:\n" + m.err.text()[-3000:]


def test_jemalloc_moved_return_probe_sessions():
    jemalloc_moved_return_probe("sessions")


def test_jemalloc_moved_return_probe_entry_return():
    jemalloc_moved_return_probe("entry_return")


def test_multi_launch_mode_breakpoints_after_exec():
    """-- CMD: the links are made for the command's pid before it execs; its
    new image gets the breakpoints (same tgid), nobody else does, and it is
    traced from its first allocation."""
    other = lib.Target("alloc_kinds", "top", "exit")
    out = os.path.join(lib.tmpdir(), "report.json")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-v", "-f", "json", "-n", "0", "--output", out, "--",
                     lib.target_path("alloc_kinds"), "malloc,top", "exit", output=out)
    pid = m.wait_tracing()
    need_multi(m)
    assert int(m.out.expect(r"^ready (\d+)$").group(1)) == pid
    pts = probe_points(m)
    check_armed(pid, other.pid, pts)
    os.kill(pid, signal.SIGUSR1)
    m.out.expect(r"^done\b")
    assert m.wait() == 0, m.err.text()[-3000:]
    rep = m.final()
    assert rep["pid"] == pid, rep["pid"]
    lib.check_totals_sane(rep)
    lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000,
                    outstanding_allocs=3, alloc_calls=3)
    lib.check_stack(rep, "top_a", "malloc", outstanding_bytes=50000, outstanding_allocs=1)
    w.assert_clean(mine=[m.pid, pid])
    other.go()
    assert other.wait() == 0, other.err.text()
