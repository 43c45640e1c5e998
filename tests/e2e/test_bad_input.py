"""Bad input: memtrace refuses with one clear line on stderr, a non-zero
exit status (2 for usage errors), and leaves no BPF program behind; a
target it was pointed at runs on untouched."""
import os
import re
import shutil
import stat
import subprocess

import lib

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


refused = lib.refused


def test_no_such_pid():
    p = subprocess.Popen(["true"])
    p.wait()			# reaped: its pid is free
    pid = p.pid
    if lib.alive(pid):
        raise lib.Skip(f"pid {pid} was reused at once")
    refused(["-f", "json", "-p", str(pid)], r"^memtrace: .*\b%d\b.*no such process" % pid,
            status=1)


def test_zombie_pid():
    """A process that has exited but is not reaped yet has no memory to
    trace: the message says so (not "no allocator")."""
    z = lib.spawn(["true"])
    os.waitid(os.P_PID, z.pid, os.WEXITED | os.WNOWAIT)	# exited, not reaped
    assert os.path.exists(f"/proc/{z.pid}") and not lib.alive(z.pid), "not a zombie"
    refused(["-p", str(z.pid)], r"^memtrace: .*\b%d\b.*(exited|zombie|no such process)" % z.pid,
            status=1)


def _kernel_thread():
    """kthreadd (pid 2), or any process with PF_KTHREAD."""
    for pid in ["2"] + sorted(os.listdir("/proc")):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                flags = int(f.read().rsplit(")", 1)[1].split()[6])
        except (OSError, IndexError, ValueError):
            continue
        if flags & 0x00200000:
            return int(pid)
    raise lib.Skip("no kernel thread visible in /proc")


def test_kernel_thread():
    pid = _kernel_thread()
    refused(["-p", str(pid)], r"^memtrace: .*\b%d\b.*kernel thread" % pid, status=1)


def test_no_allocator_attach():
    """A static program without libc has no malloc to probe."""
    t = lib.Target("alloc_nolibc")
    refused(["-p", str(t.pid)], r"^memtrace: .*no allocator", status=1, mine=[t.pid])
    assert t.alive(), "the target died"


def test_no_allocator_launch():
    m = refused(["--", lib.target_path("alloc_nolibc")], r"^memtrace: .*no allocator",
                status=1)
    assert "ready" not in m.out.text(), "the command ran although memtrace refused it"


def test_missing_command():
    refused(["--", "/nonexistent/memtrace-e2e-cmd"], r"^memtrace: .*memtrace-e2e-cmd.*not found")


def test_missing_command_in_path():
    refused(["--", "memtrace-e2e-no-such-command"],
            r"^memtrace: .*memtrace-e2e-no-such-command.*not found")


def test_not_executable_file():
    path = os.path.join(lib.tmpdir(), "alloc_kinds")
    shutil.copy(lib.target_path("alloc_kinds"), path)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)  # 0644
    m = refused(["--", path, "none", "exit"], r"^memtrace: .*alloc_kinds.*permission denied")
    assert "ready" not in m.out.text()


def test_unknown_option():
    refused(["--no-such-option", "--", "true"], r"no-such-option", status=2, one_line=False)


def test_unknown_short_option():
    refused(["-Z", "--", "true"], r"invalid option.*Z", status=2, one_line=False)


def test_pid_and_command_both():
    t = lib.Target("alloc_kinds", "none", "wait")
    refused(["-p", str(t.pid), "--", lib.target_path("alloc_kinds"), "none", "exit"],
            r"^memtrace: .*either -p PID or -- CMD", status=2, one_line=False, mine=[t.pid])
    assert t.alive()


def test_own_pid():
    """memtrace cannot trace itself: its probes would fire on its own
    allocations while it reads its maps."""
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", prefix=("sh", "-c", 'exec "$0" "$@" -p $$'))
    rc = m.wait()
    err = m.stderr_lines()
    assert rc == 1, f"exit status {rc}, want 1; stderr:\n{m.err.text()}"
    assert len(err) == 1 and re.search(r"^memtrace: pid \d+: .*memtrace itself", err[0]), err
    assert not m.reports(), "a report was written"
    w.assert_clean(mine=[m.pid])


def test_help_has_no_stray_lines():
    """--help: option lines follow each other; no blank line inside a group
    (a description exactly as wide as the column used to wrap into one),
    no line ending in spaces."""
    m = lib.Memtrace("--help")
    assert m.wait() == 0, m.err.text()
    lines = m.out.text().splitlines()
    assert lines, "no help"
    for i, ln in enumerate(lines):
        assert ln == ln.rstrip(), f"help line {i + 1} ends in spaces: {ln!r}"
    first = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("-d, --duration"))
    last = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("-?, --help"))
    for i in range(first, last):
        assert lines[i].strip(), f"blank help line {i + 1} after {lines[i - 1].strip()!r}"


def test_nothing_to_trace():
    refused(["-f", "json"], r"^memtrace: .*nothing to trace", status=2, one_line=False)


def _nobody_can_run_memtrace():
    if shutil.which("setpriv") is None:
        raise lib.Skip("setpriv is not installed")
    r = subprocess.run(NOBODY + [lib.memtrace_path(), "--version"], capture_output=True,
                       text=True, timeout=lib.WAIT_S)
    if r.returncode != 0:
        raise lib.Skip(f"nobody cannot run {lib.memtrace_path()}: {r.stderr.strip()}")


def test_not_root_attach():
    _nobody_can_run_memtrace()
    t = lib.Target("alloc_kinds", "malloc", "wait")
    refused(["-f", "json", "-p", str(t.pid)], r"^memtrace: .*root", status=1, prefix=NOBODY,
            mine=[t.pid])
    t.go()			# untouched: it still works
    t.wait_done()
    t.release()
    assert t.wait() == 0


def test_not_root_launch():
    _nobody_can_run_memtrace()
    m = refused(["--", lib.target_path("alloc_kinds"), "none", "exit"], r"^memtrace: .*root",
                status=1, prefix=NOBODY)
    assert "ready" not in m.out.text(), "the command ran although memtrace refused it"


def test_exec_fails_after_attach():
    """The command defines malloc and free (memtrace loads and attaches its
    probes) but its ELF interpreter is missing: exec fails only then. The
    shell's status 127, and every probe detached again."""
    m = refused(["-f", "json", "--", lib.target_path("alloc_badinterp")],
                r"^memtrace: cannot execute .*alloc_badinterp", status=127)
    assert not m.out.text().strip(), m.out.text()


def test_thread_id_traces_its_process():
    """-p of a thread id (as top -H shows it): memtrace says so on one line
    and traces the whole process, exactly (a thread id as tgid filter
    would have matched nothing)."""
    t = lib.Target("alloc_kinds", "malloc,threads", "wait")	# 2 threads before attach
    tids = [int(x) for x in os.listdir(f"/proc/{t.pid}/task") if int(x) != t.pid]
    assert tids, "the target has no thread"
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "-p", str(tids[0]))
    assert m.wait_tracing() == t.pid
    assert m.stderr_lines()[0] == \
        f"memtrace: {tids[0]} is a thread of process {t.pid}: tracing the process", \
        m.err.text()
    t.go()
    t.wait_done()
    m.stop()
    assert m.wait() == 0, m.err.text()
    t.release()
    assert t.wait() == 0
    rep = m.final()
    assert rep["pid"] == t.pid, rep["pid"]
    lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000, outstanding_allocs=3)
    lib.check_stack(rep, "thread_alloc", "malloc", outstanding_bytes=4 * 100 * 96,
                    outstanding_allocs=400)
    w.assert_clean(mine=[m.pid, t.pid])
