"""memtrace --system (issue 13): the host-wide sweep from tracepoints.

Targets are tests/targets/sys_grow.c processes named PFX* (their comm),
so that --comm picks them out of whatever else the host runs."""
import json
import os
import re
import subprocess
import time

import lib
from test_bad_input import refused

MIB = 1 << 20
# comm prefix of this run's targets: concurrent runs (other checkouts) never mix
PFX = f"s{os.getpid() % 100000:05d}"
LEAK_BPS = 2 * MIB	# the leaker's true rate: touched heap bytes a second


def grow(name, mode, nbytes):
    """Start sys_grow NAME MODE BYTES; return it once it said ready."""
    t = lib.Target("sys_grow", name, mode, str(nbytes))
    return t


def sweep(*args, duration=12):
    """memtrace --system ARGS -f json -n 0 -d DURATION -i 1, to its end."""
    m = lib.Memtrace("--system", "-f", "json", "-n", "0", "-i", "1", "-d", str(duration), *args)
    m.err.expect(r"^memtrace: sweeping the host", what="sweep start")
    return m


def desc(report):
    return "\n".join(f"{p['pid']} {p['comm']} anon {p['rss_anon_bytes']} growth "
                     f"{p['growth_bytes_per_s']} {p['severity']}" for p in report["processes"])


def by_pid(report):
    return {p["pid"]: p for p in report["processes"]}


def test_leak_steady_churn_separated():
    leak = grow(PFX + "leak", "leak", LEAK_BPS)
    steady = grow(PFX + "steady", "steady", 32 * MIB)
    churn = grow(PFX + "churn", "churn", 4 * MIB)
    m = sweep("--comm", "^" + PFX)
    assert m.wait(40) == 0, m.err.text()
    rep = m.final()
    assert rep["mode"] == "system"
    procs = by_pid(rep)
    assert set(procs) == {leak.pid, steady.pid, churn.pid}, desc(rep)
    for p in procs.values():
        assert p["comm"].startswith(PFX) and p["cgroup"].startswith("/"), p
        for k in ("rss_anon_bytes", "swap_bytes", "heap_bytes", "anon_map_bytes", "started"):
            assert p[k] is not None, (k, p)
    lp, sp, cp = procs[leak.pid], procs[steady.pid], procs[churn.pid]
    # growth within 15% of the true rate
    assert abs(lp["growth_bytes_per_s"] - LEAK_BPS) <= 0.15 * LEAK_BPS, lp
    assert abs(lp["growth_mb_per_h"] - lp["growth_bytes_per_s"] * 3600 / 1e6) < 1e-6 * LEAK_BPS
    assert lp["severity"] in ("high", "critical"), lp
    for p in (sp, cp):
        assert p["severity"] in ("none", "low"), p
        assert abs(p["growth_bytes_per_s"]) < 0.05 * LEAK_BPS, p
    assert sp["rss_anon_bytes"] >= 32 * MIB, sp
    # the leak's heap (brk) grows with it: it allocates below the mmap threshold
    assert lp["heap_bytes"] >= 8 * MIB, lp
    # ranked by growth; the verdict names the leaker
    assert rep["processes"][0]["pid"] == leak.pid, desc(rep)
    v = rep["verdict"]
    assert v["result"] == "possible_leak" and v["suspect"]["pid"] == leak.pid, v
    t = rep["totals"]
    for k in ("processes_seen", "events", "dropped_events"):
        assert isinstance(t[k], int), (k, t)
    assert t["events"] > 0 and t["dropped_events"] == 0, t
    # nothing of the sweep stays loaded
    lib.ProbeWatch().assert_clean(mine=[m.pid])


def test_text_table_and_gate():
    leak = grow(PFX + "gate", "leak", LEAK_BPS)
    csv_path = os.path.join(lib.tmpdir(), "sweep.csv")
    m = lib.Memtrace("--system", "--comm", "^" + PFX + "gate$", "-d", "8", "-i", "1",
                     "--fail-on", "high", "--csv", csv_path)
    rc = m.wait(30)
    out = m.out.text()
    assert rc == 3, f"exit {rc}, want 3 (gate)\n{out}\n{m.err.text()}"
    assert re.search(r"^ *PID +COMM +ANON +SWAP +HEAP +ANON-MAPS +MB/h +SEVERITY +CGROUP",
                     out, re.M), out
    assert re.search(rf"^ *{leak.pid} +{PFX}gate ", out, re.M), out
    assert re.search(rf"^Verdict: POSSIBLE LEAK: pid {leak.pid} \({PFX}gate\)", out, re.M), out
    # CSV: a row per process per report, with the process's own pid and comm
    import csv
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["pid"] == str(leak.pid) and r["comm"] == PFX + "gate" and
                        r["kind"] == "process" for r in rows), rows[:3]
    assert rows[-1]["final"] == "1" and rows[-1]["severity"] in ("high", "critical"), rows[-1]


def cgroup2_root():
    """Where cgroup v2 is mounted (hybrid hosts: /sys/fs/cgroup/unified), or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.split()[0] == "cgroup2":
                return pre.split()[4]
    return None


def test_cgroup_filter():
    root = cgroup2_root()
    if not root:
        raise lib.Skip("no cgroup v2 hierarchy mounted")
    name = f"memtrace-e2e-{os.getpid()}"
    cg = os.path.join(root, name)
    os.mkdir(cg)
    try:
        inside = grow(PFX + "in", "leak", MIB)
        outside = grow(PFX + "out", "leak", MIB)
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(inside.pid))
        m = sweep("--cgroup", name, "--comm", "^" + PFX, duration=4)
        assert m.wait(30) == 0, m.err.text()
        rep = m.final()
        procs = by_pid(rep)
        assert set(procs) == {inside.pid}, desc(rep)
        assert procs[inside.pid]["cgroup"] == "/" + name, procs
        assert outside.pid not in procs
    finally:
        lib.cleanup()
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)


def test_short_lived_leave_no_state():
    m = lib.Memtrace("--system", "-f", "json", "-n", "0", "-i", "1",
                     "--comm", "^(true|" + PFX + "idle)$")
    m.err.expect(r"^memtrace: sweeping the host", what="sweep start")
    idle = grow(PFX + "idle", "steady", MIB)
    runs = subprocess.run(["sh", "-c", "for i in $(seq 1000); do /bin/true & echo $!; wait; done"],
                          capture_output=True, text=True, timeout=120)
    pids = [int(x) for x in runs.stdout.split()]
    assert len(pids) == 1000, runs.stderr
    time.sleep(1.5)		# one report after the last of them
    m.stop()
    assert m.wait(40) == 0, m.err.text()
    rep = m.final()
    procs = by_pid(rep)
    assert not set(pids) & set(procs), "an exited process is still reported"
    assert idle.pid in procs, desc(rep)
    t = rep["totals"]
    assert t["processes_exited"] >= 1000, t
    assert t["processes_seen"] >= 1000, t
    # the table holds the host's live processes, not the 1000 gone ones
    live = sum(1 for d in os.listdir("/proc") if d.isdigit())
    assert t["processes_tracked"] <= live + 50, (t, live)


def test_bad_input():
    refused(["--system", "--cgroup", "no/such/cgroup-memtrace"], r"unknown cgroup", 2, one_line=False)
    refused(["--system", "--comm", "a(b"], r"invalid --comm regex", 2, one_line=False)
    refused(["--system", "--exclude-comm", "[z"], r"invalid --exclude-comm regex", 2, one_line=False)
    refused(["--cgroup", "/", "-p", "1"], r"go with --system", 2, one_line=False)
    refused(["--comm", "x", "-p", "1"], r"go with --system", 2, one_line=False)
    refused(["--system", "-p", "1"], r"no -p PID or -- CMD", 2, one_line=False)
    refused(["--system", "--metrics-top", "0"], r"invalid --metrics-top", 2, one_line=False)
    refused(["--deep", "1", "-p", "1"], r"go with --system", 2, one_line=False)
    refused(["--system", "--deep", "0"], r"invalid --deep", 2, one_line=False)
    refused(["--system", "--deep-duration", "5"], r"go with --deep N", 2, one_line=False)
    refused(["--system", "--deep", "1", "--deep-min", "none"], r"invalid --deep-min", 2,
            one_line=False)
    refused(["--system", "--fault-sample", "10"], r"goes with --fault-stacks", 2, one_line=False)
    refused(["--system", "--fault-stacks", "--fault-sample", "0"], r"invalid --fault-sample", 2,
            one_line=False)


def test_agent_answers_from_the_start():
    """--system --http: /metrics and /report.json answer before the first
    interval's report (never 503 once tracing is live), with per-process
    series bounded by --metrics-top."""
    from test_outputs import _free_port, _http
    leak = grow(PFX + "agent", "leak", MIB)
    steady = [grow(PFX + f"st{i}", "steady", MIB) for i in range(3)]
    port = _free_port()
    pids = {leak.pid} | {t.pid for t in steady}
    m = lib.Memtrace("--system", "--comm", "^" + PFX, "-i", "3", "--metrics-top", "2",
                     "--http", f"127.0.0.1:{port}")
    m.err.expect(r"^memtrace: sweeping the host", what="sweep start")
    status, _, body = _http(port, "/metrics")	# before the first report
    assert status == 200, (status, body)
    text = body.decode()
    series = re.findall(rf'^memtrace_process_rss_anon_bytes\{{pid="(\d+)",comm="{PFX}[a-z0-9]+",'
                        r'cgroup="[^"]*"\} [1-9]\d*$', text, re.M)
    assert len(series) == 2 and {int(p) for p in series} <= pids, text	# --metrics-top 2
    assert re.search(r'^memtrace_processes\{state="tracked"\} 2$', text, re.M), text
    other = re.search(r'^memtrace_processes\{state="other"\} (\d+)$', text, re.M)
    assert other and int(other.group(1)) >= 1, text
    # after reports, the growing one leads
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(1)
        text = _http(port, "/metrics")[2].decode()
        if re.search(rf'^memtrace_process_growth_bytes_per_second\{{pid="{leak.pid}",'
                     rf'comm="{PFX}agent",cgroup="[^"]*"\}} [1-9]', text, re.M):
            break
    else:
        raise AssertionError("the leaker never got a growth series:\n" + text)
    for name in ("memtrace_process_growth_bytes_per_second", "memtrace_process_severity",
                 "memtrace_sweep_events_total", "memtrace_bpf_run_time_seconds_total",
                 "memtrace_process_other_rss_anon_bytes"):
        assert re.search(rf"^{name}\b", text, re.M), (name, text)
    status, _, body = _http(port, "/report.json")
    assert status == 200, status
    rep = json.loads(body)
    assert rep["mode"] == "system" and {p["pid"] for p in rep["processes"]} >= {leak.pid}
    assert len(steady) == 3
    m.stop()
    assert m.wait(20) == 0, m.err.text()


def test_attach_http_answers_before_first_report():
    """-p with --http: the first scrape, inside the first interval, is 200."""
    from test_outputs import _free_port, _http
    t = lib.Target("sys_grow", PFX + "p", "steady", str(MIB))
    port = _free_port()
    m = lib.Memtrace("-i", "60", "--http", f"127.0.0.1:{port}", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    status, _, body = _http(port, "/metrics")
    assert status == 200, (status, body)
    assert re.search(rf'^memtrace_info\{{pid="{t.pid}"', body.decode(), re.M), body
    status, _, _ = _http(port, "/report.json")
    assert status == 200
    m.stop()
    assert m.wait(20) == 0, m.err.text()


STEP = LEAK_BPS // 20	# sys_grow's leak_step() size


def deep_run(*extra, duration=5, deep_s=4):
    return lib.Memtrace("--system", "-f", "json", "-n", "0", "-i", "1", "-d", str(duration),
                        "--deep", "1", "--deep-duration", str(deep_s), *extra)


def test_deep_names_the_leaking_function():
    leak = grow(PFX + "deepl", "leak", LEAK_BPS)
    steady = grow(PFX + "deeps", "steady", 4 * MIB)
    m = deep_run("--comm", "^" + PFX + "deep", "--deep-sample-bytes", "0")
    m.err.expect(rf"^memtrace: deep trace of pid {leak.pid} \({PFX}deepl\) for 4 s, "
                 r"every allocation$", timeout=30, what="deep trace start")
    rc = m.wait(60)
    assert rc == 0, (rc, m.err.text())
    rep = m.final()
    assert [d["pid"] for d in rep["deep"]] == [leak.pid], [d["pid"] for d in rep["deep"]]
    d = rep["deep"][0]
    assert d["final"] is True and d["sample_bytes"] == 0, d["final"]
    st = lib.stack_at(d, "leak_step", "malloc")
    # exact: every allocation seen, each STEP bytes, none freed
    assert st["outstanding_bytes"] == st["outstanding_allocs"] * STEP, st
    assert st["free_calls"] == 0 and st["alloc_calls"] == st["outstanding_allocs"], st
    assert st["outstanding_allocs"] >= 20, st	# 4 s at 20 a second, on a loaded machine
    assert steady.pid not in [x["pid"] for x in rep["deep"]]
    lib.ProbeWatch().assert_clean(mine=[m.pid])


def test_deep_sampled_by_default_and_text():
    leak = grow(PFX + "deept", "leak", LEAK_BPS)
    m = lib.Memtrace("--system", "-n", "5", "-i", "1", "-d", "4", "--deep", "1",
                     "--deep-duration", "3", "--comm", "^" + PFX + "deept$")
    assert m.wait(60) == 0, m.err.text()
    out = m.out.text()
    assert re.search(rf"^--- deep trace of pid {leak.pid} \({PFX}deept\): [\d.]+s, ended, "
                     r"sampled ---$", out, re.M), out
    assert re.search(r"^\s+leak_step at .*sys_grow\.c:\d+", out, re.M), out


def test_deep_profile_per_pid():
    """Agent mode: a suspect is deep-traced as it appears; its profile is at
    /debug/pprof/heap?pid=N, and the JSON report carries the trace."""
    from test_outputs import _free_port, _http
    leak = grow(PFX + "deeph", "leak", LEAK_BPS)
    port = _free_port()
    m = lib.Memtrace("--system", "--comm", "^" + PFX + "deeph$", "-i", "1", "--deep", "1",
                     "--deep-duration", "60", "--deep-sample-bytes", "0",
                     "--http", f"127.0.0.1:{port}")
    m.err.expect(rf"^memtrace: deep trace of pid {leak.pid} ", timeout=30, what="deep start")
    status, _, body = _http(port, f"/debug/pprof/heap?pid={leak.pid}")
    deadline = time.monotonic() + 20
    while status != 200 and time.monotonic() < deadline:	# the next report publishes it
        time.sleep(0.5)
        status, _, body = _http(port, f"/debug/pprof/heap?pid={leak.pid}")
    assert status == 200 and body[:2] == b"\x1f\x8b", (status, body[:40])	# gzip'd pprof
    status, _, _ = _http(port, "/debug/pprof/heap?pid=1")
    assert status == 404
    want = (rf'^memtrace_stack_outstanding_bytes\{{pid="{leak.pid}",stack_id="0x[0-9a-f]+",'
            r'kind="malloc",.*stack="[^"]*leak_step[^"]*"\} [1-9]\d*$')
    deadline = time.monotonic() + 20	# the trace's first allocations, in a later report
    text = _http(port, "/metrics")[2].decode()
    while not re.search(want, text, re.M) and time.monotonic() < deadline:
        time.sleep(0.5)
        text = _http(port, "/metrics")[2].decode()
    assert re.search(want, text, re.M), text
    assert re.search(r'^memtrace_map_fill_ratio\{map="procs"\} ', text, re.M), text
    rep = json.loads(_http(port, "/report.json")[2])
    assert [d["pid"] for d in rep["deep"]] == [leak.pid]
    m.stop()
    assert m.wait(30) == 0, m.err.text()
    lib.ProbeWatch().assert_clean(mine=[m.pid])


def test_deep_suspect_exits_mid_trace():
    leak = grow(PFX + "deepx", "leak", LEAK_BPS)
    m = deep_run("--comm", "^" + PFX + "deepx$", "--deep-sample-bytes", "0", deep_s=30)
    m.err.expect(rf"^memtrace: deep trace of pid {leak.pid}", timeout=30, what="deep start")
    time.sleep(1.5)
    leak.proc.kill()
    leak.proc.wait()
    assert m.wait(30) == 0, m.err.text()	# ends well before --deep-duration
    rep = m.final()
    assert rep["elapsed_s"] < 20, rep["elapsed_s"]
    d = [x for x in rep["deep"] if x["pid"] == leak.pid]
    assert d and d[0]["final"] is True, rep["deep"]
    lib.ProbeWatch().assert_clean(mine=[m.pid])


def test_fault_stacks_find_where_pages_are_first_touched():
    leak = grow(PFX + "fault", "leak", LEAK_BPS)
    m = sweep("--comm", "^" + PFX + "fault$", "--fault-stacks", "--fault-sample", "4", duration=6)
    assert m.wait(40) == 0, m.err.text()
    rep = m.final()
    p = by_pid(rep)[leak.pid]
    fs = p["fault_stacks"]
    assert fs and fs == sorted(fs, key=lambda x: -x["samples"]), fs
    for st in fs:
        assert st["estimated_faults"] == st["samples"] * 4, st
        assert st["estimated_bytes"] == st["estimated_faults"] * os.sysconf("SC_PAGE_SIZE"), st
    at_leak = [st for st in fs if any(f["function"] == "leak_step" for f in st["frames"])]
    assert at_leak, [[f["function"] for f in st["frames"]] for st in fs]
    est = sum(st["estimated_bytes"] for st in at_leak)
    true = LEAK_BPS * rep["elapsed_s"]
    assert 0.6 * true <= est <= 1.4 * true, (est, true)	# 1 in 4 of ~3000 faults
    # off unless asked
    m = sweep("--comm", "^" + PFX + "fault$", duration=2)
    assert m.wait(30) == 0
    assert "fault_stacks" not in by_pid(m.final())[leak.pid]
