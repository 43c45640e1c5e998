"""Helpers of the e2e tests: start targets and memtrace, wait on their
output lines with timeouts, parse JSON reports, find stacks, check that no
BPF program of memtrace is left behind, and kill everything afterwards.

The waiting protocol (tests/targets/alloc_common.h): a target prints
"ready PID" and waits for SIGUSR1; memtrace prints "memtrace: tracing pid
..." on stderr once its probes are live; the test then signals the target,
which allocates and prints "done key=value ...". No sleep is used as
synchronization: every wait is on a line of output or a process exit, and
every wait has a timeout.

run.py calls configure(outdir) once and cleanup() after every test.
"""
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

WAIT_S = 20		# default timeout of one wait
OUT = "build"
_procs = []		# Popen objects started by the current test
_pids = []		# (pid, start time) of processes started indirectly (launch mode)
_tmpdirs = []

# Program names of bpf/memtrace.bpf.c: how bpftool shows memtrace's probes.
MEMTRACE_PROGS = {
    "malloc_enter", "calloc_enter", "realloc_enter", "reallocarray_enter",
    "posix_memalign_enter", "aligned_alloc_enter", "memalign_enter",
    "valloc_enter", "pvalloc_enter", "alloc_return", "free_enter",
    "mmap_enter", "mmap_exit", "munmap_enter", "munmap_exit",
    "mremap_enter", "mremap_exit", "target_exec", "target_fork",
    "alloc_return_fp", "mmap_exit_fp", "mremap_exit_fp",	# the fp walker's
    "alloc_sess", "alloc_sess_fp",	# uprobe session links (Linux 6.13+)
    # bpf/system.bpf.c (--system)
    "sys_rss_stat", "sys_brk_exit", "sys_mmap_exit", "sys_munmap_exit",
    "sys_mremap_exit", "sys_proc_exit",
    # kmem.bpf.c (--kernel), as the kernel keeps them (15 characters)
    "kmalloc", "kmalloc_node", "kmem_cache_allo", "kmem_cache_free", "kfree",
    "mm_page_alloc", "mm_page_free", "percpu_alloc_pe", "percpu_free_per",
}


class Skip(Exception):
    """Raised by a test that cannot run here (run.py counts it as skipped)."""


def configure(outdir):
    global OUT
    OUT = outdir


def memtrace_path():
    p = os.path.abspath(os.path.join(OUT, "memtrace"))
    if not os.access(p, os.X_OK):
        raise AssertionError(f"{p} is missing: run `make e2e` first")
    return p


def target_path(name):
    p = os.path.abspath(os.path.join(OUT, "targets", name))
    if not os.access(p, os.X_OK):
        raise AssertionError(f"{p} is missing: run `make e2e` first")
    return p


def tmpdir():
    """A fresh directory for this test's files, removed by cleanup()."""
    d = tempfile.mkdtemp(prefix="memtrace-e2e-")
    _tmpdirs.append(d)
    return d


def _start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def track_pid(pid):
    """Kill pid in cleanup() too (a process we did not spawn ourselves,
    e.g. the command memtrace launched). Identified by its start time, so a
    reused pid is never killed."""
    st = _start_time(pid)
    if st is not None:
        _pids.append((pid, st))


def alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def cleanup():
    """Kill every process the test started (memtrace, targets, and the
    commands memtrace launched), reap them, remove temporary files."""
    for p in _procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)	# its own session
            except OSError:
                pass
            try:
                p.kill()
            except OSError:
                pass
    for pid, st in _pids:
        if _start_time(pid) == st:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    for p in _procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (p.stdin, p.stdout, p.stderr):
            if f:
                try:
                    f.close()
                except OSError:
                    pass
    _procs.clear()
    _pids.clear()
    for d in _tmpdirs:
        subprocess.run(["rm", "-rf", d], check=False)
    _tmpdirs.clear()


def spawn(argv, **kw):
    """Popen in its own session (cleanup kills the whole group), text pipes
    for stdout and stderr, stdin from /dev/null."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    p = subprocess.Popen(argv, text=True, start_new_session=True, **kw)
    _procs.append(p)
    return p


class Stream:
    """Lines of one pipe, read by a thread; wait for a line with a timeout."""

    def __init__(self, f, name):
        self.name = name
        self.lines = []
        self.closed = f is None
        self._cv = threading.Condition()
        if f is not None:
            threading.Thread(target=self._read, args=(f,), daemon=True).start()

    def _read(self, f):
        try:
            for line in f:
                with self._cv:
                    self.lines.append(line.rstrip("\n"))
                    self._cv.notify_all()
        except (OSError, ValueError):
            pass
        with self._cv:
            self.closed = True
            self._cv.notify_all()

    def text(self):
        with self._cv:
            return "\n".join(self.lines)

    def expect(self, pattern, timeout=WAIT_S, what=None):
        """The first match of regex pattern in a line (searching from the
        start), waiting for it. Raises AssertionError on timeout or EOF."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    why = "closed" if self.closed else f"nothing after {timeout} s"
                    raise AssertionError(
                        f"{what or self.name}: no line matching {pattern!r} ({why}); got:\n"
                        + "\n".join(self.lines[-40:]))
                self._cv.wait(left)

    def expect_count(self, pattern, n, timeout=WAIT_S):
        """Wait until n lines match regex pattern."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                got = sum(1 for line in self.lines if rx.search(line))
                if got >= n:
                    return got
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise AssertionError(f"{self.name}: {got} lines matching {pattern!r}, "
                                         f"want {n} (after {timeout} s)")
                self._cv.wait(left)

    def wait_closed(self, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        with self._cv:
            while not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name}: still open after {timeout} s")
                self._cv.wait(left)


def _wait(p, timeout, what, err=None):
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{what} still running after {timeout} s"
                             + (f"; stderr:\n{err.text()}" if err else "")) from None


def parse_done(line):
    """'done a=1 b=2' -> {'a': 1, 'b': 2}"""
    out = {}
    for kv in line.split()[1:]:
        k, _, v = kv.partition("=")
        out[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
    return out


class Target:
    """A target program started by the test (attach mode): build/targets/NAME,
    or the executable at path (a copy, a deleted file) named name."""

    def __init__(self, name, *args, path=None):
        self.name = name
        self.proc = spawn([path or target_path(name), *args])
        self.pid = self.proc.pid
        self.out = Stream(self.proc.stdout, f"{name} stdout")
        self.err = Stream(self.proc.stderr, f"{name} stderr")
        m = self.out.expect(r"^ready (\d+)$", what=f"{name} readiness")
        assert int(m.group(1)) == self.pid, m.group(0)

    def go(self):
        """Signal the target to allocate (SIGUSR1)."""
        os.kill(self.pid, signal.SIGUSR1)

    def wait_done(self, timeout=WAIT_S):
        """Wait for 'done ...'; return its key=value pairs."""
        return parse_done(self.out.expect(r"^done\b.*", timeout, f"{self.name} done").group(0))

    def release(self):
        """A target in mode 'wait': let it exit 0."""
        os.kill(self.pid, signal.SIGUSR1)

    def wait(self, timeout=WAIT_S):
        return _wait(self.proc, timeout, self.name, self.err)

    def alive(self):
        return self.proc.poll() is None


class Memtrace:
    """memtrace ARGS, stdout and stderr read line by line.

    prefix: argv put in front (e.g. setpriv ... to drop root); env: its
    environment (default: the test's)."""

    def __init__(self, *args, prefix=(), output=None, env=None):
        self.output = output
        self.proc = spawn([*prefix, memtrace_path(), *args], env=env)
        self.pid = self.proc.pid
        self.out = Stream(self.proc.stdout, "memtrace stdout")
        self.err = Stream(self.proc.stderr, "memtrace stderr")
        self.rc = None

    def wait_tracing(self, timeout=WAIT_S):
        """Wait until the probes are live; return the traced pid. In launch
        mode the command is tracked for cleanup()."""
        m = self.err.expect(r"^memtrace: tracing pid (\d+)", timeout, "memtrace start")
        pid = int(m.group(1))
        track_pid(pid)
        return pid

    def allocator(self):
        """The allocator module memtrace probes (from its tracing line)."""
        return self.err.expect(r"^memtrace: tracing pid \d+ .*, allocator (\S+),").group(1)

    def stop(self):
        """Ask for the final report (SIGINT, as Ctrl-C)."""
        os.kill(self.pid, signal.SIGINT)

    def wait(self, timeout=WAIT_S):
        """Wait for exit (stdout and stderr read to the end); return the status."""
        self.rc = _wait(self.proc, timeout, "memtrace", self.err)
        self.out.wait_closed(timeout)
        self.err.wait_closed(timeout)
        return self.rc

    def stderr_lines(self):
        return [ln for ln in self.err.text().splitlines() if ln.strip()]

    def reports(self):
        """Every JSON report, in order (from --output FILE if given)."""
        if self.output:
            with open(self.output) as f:
                lines = f.read().splitlines()
        else:
            lines = self.out.text().splitlines()
        out = []
        for ln in lines:
            if ln.startswith("{"):
                try:
                    out.append(json.loads(ln))
                except ValueError as e:
                    raise AssertionError(f"report is not JSON ({e}): {ln[:300]}") from None
        return out

    def final(self):
        """The last report, which must be the only one with final: true."""
        reps = self.reports()
        if not reps:
            raise AssertionError("no JSON report; stderr:\n" + self.err.text())
        assert reps[-1]["final"] is True, "last report is not final"
        assert not any(r["final"] for r in reps[:-1]), "a final report before the last"
        return reps[-1]


@contextlib.contextmanager
def setenv(name, value):
    """Environment variable name = value (None: unset) for the processes
    started inside the block."""
    old = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


# How memtrace attaches the malloc family (MEMTRACE_UPROBE_SESSION): uprobe
# session links, one trap for an unsampled call (Linux 6.13+; "1": the
# default, skips where the kernel has none), or entry and return links.
LINK_MODES = {"sessions": "1", "entry_return": "0"}


def link_mode(mode):
    """The block runs memtrace with the malloc family linked as mode says
    (a key of LINK_MODES)."""
    return setenv("MEMTRACE_UPROBE_SESSION", LINK_MODES[mode])


def check_link_mode(report, mode):
    """The report says the malloc family was linked as mode asked; Skip
    when sessions were asked for and this kernel has none."""
    k = report["kernel_paths"]
    if mode == "sessions" and not k["uprobe_session"]:
        raise Skip(f"no uprobe session links here: {k}")
    assert k["uprobe_session"] == (mode == "sessions"), (mode, k)


def run_attach(name, *targs, mt_args=("-f", "json", "-n", "0"), output=None):
    """Attach mode, the whole protocol: start target NAME TARGS (give mode
    'wait'), memtrace MT_ARGS -p PID, wait for tracing, signal, wait for
    done, stop memtrace (SIGINT), release the target; check that no probe
    is left. output: the --output FILE in mt_args, if any. Returns (final
    report, done pairs, Memtrace)."""
    return attach_started(Target(name, *targs), mt_args, output=output)


def attach_started(t, mt_args, output=None, before_go=None):
    """run_attach for a target t already started (any object with pid, go,
    wait_done, alive, release, wait, err, name); before_go(t) runs once
    tracing is live. Returns (final report, done pairs, Memtrace)."""
    w = ProbeWatch()
    m = Memtrace(*mt_args, "-p", str(t.pid), output=output)
    assert m.wait_tracing() == t.pid
    if before_go:
        before_go(t)
    t.go()
    done = t.wait_done()
    m.stop()
    rc = m.wait()
    assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    if t.alive():
        t.release()
    assert t.wait() == 0, f"{getattr(t, 'name', 'target')} failed: {t.err.text()}"
    w.assert_clean(mine=[m.pid, t.pid])
    return m.final(), done, m


_once = {}


def once(key, fn):
    """fn() run once per key for the whole e2e run, its result shared by the
    tests that read it (a session costs seconds); its failure is replayed
    to every one of them."""
    if key not in _once:
        try:
            _once[key] = fn()
        except Exception as e:  # noqa: BLE001 - replayed to every reader
            _once[key] = e
    got = _once[key]
    if isinstance(got, Exception):
        raise AssertionError(f"session {key!r} failed: {got}") from got
    return got


# ---- waiting, ports, HTTP --------------------------------------------------

def wait_for(what, fn, timeout=WAIT_S, every=0.05, show=None):
    """Poll fn() until it returns something true; return it. Raises
    AssertionError with what (and show(), if given) after timeout: a wait
    on output with a timeout, not a sleep used as synchronization."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: nothing after {timeout} s"
                                 + (f"; last seen:\n{show()}" if show else ""))
        time.sleep(every)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(url, method="GET", data=None, timeout=10):
    """(status, headers, body bytes) of one request to url, never through a
    proxy. Raises OSError when nothing answers."""
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with _NO_PROXY.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# ---- reports ----------------------------------------------------------------

def frames_of(stack):
    """Function names of a stack's frames; '?' (module+offset) when unknown."""
    out = []
    for f in stack["frames"]:
        if f.get("function"):
            out.append(f["function"])
        elif f.get("module"):
            out.append(f"?({os.path.basename(f['module'])}+{f.get('offset', 0):#x})")
        else:
            out.append(f"?({f.get('ip', 0):#x})")
    return out


def describe(report, limit=60):
    """The stacks of a report, one line each, for failure messages."""
    lines = []
    for s in report["stacks"][:limit]:
        lines.append(f"  {s['kind']:>14} out={s['outstanding_bytes']}/{s['outstanding_allocs']}"
                     f" alloc={s['alloc_calls']}/{s['alloc_bytes']} free={s['free_calls']}"
                     f"  {' < '.join(frames_of(s)[:5])}")
    return "\n".join(lines)


def stacks_at(report, func, kind=None, anywhere=False):
    """Stacks whose first frame is in function func (anywhere: func in any
    frame), of the given kind if any."""
    out = []
    for s in report["stacks"]:
        names = frames_of(s)
        hit = func in names if anywhere else (names[:1] == [func])
        if hit and (kind is None or s["kind"] == kind):
            out.append(s)
    return out


def stack_at(report, func, kind, anywhere=False):
    """The one stack of kind whose first frame is func. Raises if none or many."""
    got = stacks_at(report, func, kind, anywhere)
    if len(got) != 1:
        where = "with a frame in" if anywhere else "starting at"
        raise AssertionError(f"expected one {kind} stack {where} {func}(), found {len(got)}:\n"
                             + describe(report))
    return got[0]


def check_stack(report, func, kind, anywhere=False, why="", **want):
    """Assert exact fields (outstanding_bytes=..., alloc_calls=...) of the
    stack of kind starting at func (anywhere: with a frame in func). why:
    what the numbers mean, for the failure message."""
    s = stack_at(report, func, kind, anywhere)
    bad = {k: (s[k], v) for k, v in want.items() if s[k] != v}
    if bad:
        raise AssertionError(f"{kind} stack at {func}(): "
                             + ", ".join(f"{k}={g} (want {w})" for k, (g, w) in bad.items())
                             + (f" {why}" if why else "") + "\n" + describe(report))
    return s


def check_no_stack(report, func, kind=None, anywhere=False, why=""):
    got = stacks_at(report, func, kind, anywhere)
    if got:
        raise AssertionError(f"unexpected {kind or 'any'} stack at {func}() {why}:\n"
                             + describe(report))


def check_totals_sane(report):
    """Nothing dropped, no stack with negative bytes or counts."""
    t = report["totals"]
    assert t["dropped_events"] == 0, f"dropped events: {t['drops']}"
    for s in report["stacks"]:
        for k in ("outstanding_bytes", "outstanding_allocs"):
            assert s[k] >= 0, f"negative {k}:\n{describe(report)}"


def build_id(path):
    """The hex GNU build-id of an ELF file (readelf -n)."""
    out = subprocess.run(["readelf", "-n", "--wide", path], capture_output=True, text=True,
                         check=True, timeout=WAIT_S).stdout
    m = re.search(r"Build ID:\s*([0-9a-f]+)", out)
    if not m:
        raise AssertionError(f"{path} has no build-id:\n{out}")
    return m.group(1)


def aliases(path, *names):
    """True when the dynamic symbols names of ELF path share one address."""
    out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True,
                         timeout=WAIT_S)
    if out.returncode:
        raise AssertionError(f"nm -D {path}: {out.stderr.strip()}")
    addr = {}
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) == 3:
            addr[f[2].split("@")[0]] = f[0]
    return len({addr.get(n) for n in names}) == 1 and names[0] in addr


# ---- bad input ------------------------------------------------------------------

def refused(args, reason, status=None, prefix=(), mine=(), one_line=True):
    """Run memtrace ARGS; assert it exits non-zero (status if given) without
    starting to trace, the first stderr line matches regex reason, and no
    memtrace BPF program is left. Returns the Memtrace."""
    w = ProbeWatch()
    m = Memtrace(*args, prefix=prefix)
    rc = m.wait()
    err = m.stderr_lines()
    assert rc != 0, f"memtrace {' '.join(args)} exited 0; stderr:\n{m.err.text()}"
    if status is not None:
        assert rc == status, f"exit status {rc}, want {status}; stderr:\n{m.err.text()}"
    assert err, "nothing on stderr"
    assert re.search(reason, err[0]), f"first stderr line {err[0]!r} does not say {reason!r}"
    if one_line:
        assert len(err) == 1, "more than one line on stderr:\n" + "\n".join(err)
    assert "tracing pid" not in m.err.text(), m.err.text()
    assert not m.reports(), "a report was written"
    w.assert_clean(mine=[m.pid, *mine])
    return m


# ---- BPF programs left behind -------------------------------------------------

def _bpftool(*args):
    try:
        out = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True,
                             timeout=WAIT_S)
    except FileNotFoundError:
        raise Skip("bpftool is not installed") from None
    if out.returncode:
        raise AssertionError(f"bpftool {' '.join(args)}: {out.stderr.strip()}")
    return json.loads(out.stdout or "[]")


def memtrace_progs():
    """{prog id: name} of loaded BPF programs named like memtrace's."""
    return {p["id"]: p.get("name") for p in _bpftool("prog", "show")
            if p.get("name") in MEMTRACE_PROGS}


def prog_holders():
    """{prog id: {pid, ...}}: the processes holding a fd of (or a link to)
    each BPF program, from /proc/*/fdinfo."""
    held = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        d = f"/proc/{pid}/fdinfo"
        try:
            fds = os.listdir(d)
        except OSError:
            continue
        for fd in fds:
            try:
                with open(f"{d}/{fd}") as f:
                    m = re.search(r"^prog_id:\s*(\d+)", f.read(), re.M)
            except OSError:
                continue
            if m:
                held.setdefault(int(m.group(1)), set()).add(int(pid))
    return held


class ProbeWatch:
    """Snapshot memtrace's BPF programs before a run; after it, assert that
    none of the programs loaded since is still there, other than those held
    by some other process (another memtrace run on this machine)."""

    def __init__(self):
        self.before = set(memtrace_progs())

    def leftovers(self, mine):
        now = {i: n for i, n in memtrace_progs().items() if i not in self.before}
        if not now:
            return {}
        held = prog_holders()
        return {i: (n, sorted(held.get(i, ()))) for i, n in now.items()
                if not held.get(i) or held[i] & set(mine)}

    def assert_clean(self, mine=(), timeout=10):
        """mine: pids of this test (memtrace, its target). Waits up to
        timeout for programs being freed."""
        deadline = time.monotonic() + timeout
        while True:
            left = self.leftovers(mine)
            if not left:
                return
            if time.monotonic() > deadline:
                links = [ln for ln in _bpftool("link", "list") if ln.get("prog_id") in left]
                raise AssertionError(
                    "memtrace BPF programs left behind (id: name, holder pids): "
                    + ", ".join(f"{i}: {n} {h}" for i, (n, h) in sorted(left.items()))
                    + f"; their links: {links}")
            time.sleep(0.1)
