"""Outputs for other tools (issue 7) through the real tracer: --pprof,
--pprof-every, --collapsed, --flamegraph, --csv and --http, each read back
by the tool it is meant for (go tool pprof, xmllint, chromium, Python's csv
module, Prometheus), with exact bytes per function.

tests/unit/output/test_{pprof,collapsed,flamegraph,csv,metrics,http}.c check each
writer on synthetic reports; here the reports come from a real process
traced with BPF. The target (tests/targets/outputs_leaks.c), after SIGUSR1:

    main -> run_leaks -> leak_big	3 x 1 MiB kept	   3145728 B
                      -> leak_small	16 x 64 KiB kept   1048576 B
                      -> churn		100 x 4 KiB freed   409600 B allocated

In attach mode nothing else is allocated after tracing goes live, so the
outstanding total is exactly LEAKS; in launch mode ld.so's own mmaps come
on top. A tool that is missing skips its test (tools/install-deps.sh
installs them all); the writers' own checks never depend on one.
"""
import csv
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import lib
import promlib

TARGET = "outputs_leaks"
BIG, BIG_N = 3 << 20, 3
SMALL, SMALL_N = 1 << 20, 16
CHURN, CHURN_N = 100 * 4096, 100
LEAKS = BIG + SMALL
LEAF_SIG = f"leak_big@{TARGET}"		# the stack label of /metrics
CSV_COLUMNS = (
    "time,elapsed_s,pid,comm,final,stack_id,kind,outstanding_bytes,outstanding_allocs,"
    "alloc_calls,alloc_bytes,free_calls,free_bytes,oldest_age_s,mean_age_s,"
    "growth_bytes_per_s,growth_r2,severity,flags,leaf_function,leaf_module,leaf_file,"
    "leaf_line,stack,category").split(",")


# ---- helpers ------------------------------------------------------------------

def _tool(name):
    path = shutil.which(name)
    if not path:
        raise lib.Skip(f"{name} is not installed (tools/install-deps.sh installs it)")
    return path


def _check_done(done):
    want = {"big_b": BIG, "big_n": BIG_N, "small_b": SMALL, "small_n": SMALL_N,
            "churn_b": CHURN, "churn_n": CHURN_N}
    assert done == want, f"{TARGET} done line {done}, the test expects {want}"


def _check_leaks(report):
    """The target's stacks in a JSON report, exact (the reference the
    other outputs are compared with)."""
    lib.check_totals_sane(report)
    lib.check_stack(report, "leak_big", "malloc", outstanding_bytes=BIG, outstanding_allocs=BIG_N,
                    alloc_calls=BIG_N, alloc_bytes=BIG)
    lib.check_stack(report, "leak_small", "malloc", outstanding_bytes=SMALL,
                    outstanding_allocs=SMALL_N, alloc_calls=SMALL_N, alloc_bytes=SMALL)
    lib.check_stack(report, "churn", "malloc", outstanding_bytes=0, alloc_calls=CHURN_N,
                    alloc_bytes=CHURN, free_calls=CHURN_N, free_bytes=CHURN)


def _go_pprof(workdir, profile, *opts):
    """`go tool pprof OPTS... profile`, its stdout; env as tests/unit/output/test_pprof.c."""
    go = _tool("go")
    env = dict(os.environ, GOCACHE=os.path.join(workdir, "gocache"), HOME=workdir,
               GOTOOLCHAIN="local", PPROF_TMPDIR=workdir,
               PPROF_BINARY_PATH=workdir)	# the profile has names: never re-symbolize
    out = subprocess.run([go, "tool", "pprof", *opts, profile], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, \
        f"go tool pprof {' '.join(opts)} exited {out.returncode}:\n{out.stderr}{out.stdout}"
    return out.stdout


_TOP_ROW = re.compile(r"^\s*(\d+)B?\s+\S+%\s+\S+%\s+(\d+)B?\s+\S+%\s+(.+?)\s*$")


def _pprof_top(workdir, profile, index):
    """-top of sample type index, exact numbers: ({function: (flat, cum)},
    whole output)."""
    unit = ["-unit=B"] if index.endswith("_space") else []
    out = _go_pprof(workdir, profile, "-top", "-nodefraction=0", "-nodecount=1000",
                    f"-sample_index={index}", *unit)
    assert f"Type: {index}" in out, f"pprof -sample_index={index}:\n{out}"
    rows = {}
    for line in out.splitlines():
        m = _TOP_ROW.match(line)
        if m:
            rows[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return rows, out


def _pprof_raw_samples(workdir, profile):
    """{stack_id label: (kind label, (alloc_objects, alloc_space,
    inuse_objects, inuse_space))} from `go tool pprof -raw`."""
    out = _go_pprof(workdir, profile, "-raw")
    head = "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]"
    assert head in out, f"pprof -raw sample types, want {head!r}:\n{out}"
    body = out.split("Samples:", 1)[1].split("\nLocations", 1)[0]
    samples, vals, labels = {}, None, {}

    def flush():
        if vals is not None:
            sid = int(labels["stack_id"])
            assert sid not in samples, f"stack_id {sid} twice:\n{body}"
            samples[sid] = (labels["kind"], vals)

    for line in body.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+):", line)
        if m:
            flush()
            vals, labels = tuple(int(x) for x in m.groups()), {}
            continue
        # one line of string labels, one of numeric ones: "k:[v] k2:[v2]"
        if vals is not None and re.match(r"^\s+\w+:\[", line):
            labels.update(re.findall(r"(\w+):\[([^\]]*)\]", line))
    flush()
    return samples


def _check_pprof_values(workdir, profile, total_inuse=None):
    """The four sample types of the target's profile, exact per function."""
    want = {
        "inuse_space": {"leak_big": BIG, "leak_small": SMALL},
        "inuse_objects": {"leak_big": BIG_N, "leak_small": SMALL_N},
        "alloc_space": {"leak_big": BIG, "leak_small": SMALL, "churn": CHURN},
        "alloc_objects": {"leak_big": BIG_N, "leak_small": SMALL_N, "churn": CHURN_N},
    }
    for index, funcs in want.items():
        rows, out = _pprof_top(workdir, profile, index)
        for func, v in funcs.items():
            assert rows.get(func, (None,))[0] == v, \
                f"pprof {index}: {func} flat {rows.get(func)}, want {v}:\n{out}"
        # the callers hold it all as cum, none as flat
        caller_cum = sum(funcs.values())
        for func in ("run_leaks", "main"):
            assert rows.get(func) == (0, caller_cum), \
                f"pprof {index}: {func} (flat, cum) {rows.get(func)}, " \
                f"want (0, {caller_cum}):\n{out}"
        assert "churn" not in rows or index.startswith("alloc"), \
            f"pprof {index}: churn freed everything:\n{out}"
        if index == "inuse_space" and total_inuse is not None:
            assert f"of {total_inuse}B total" in out, \
                f"pprof inuse_space total, want the report's {total_inuse} B:\n{out}"


def _stat(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


_free_port = lib.free_port	# test_system.py imports these two


def _http(port, path, method="GET", data=None):
    """(status, headers, body bytes) of one request to 127.0.0.1:port."""
    return lib.http(f"http://127.0.0.1:{port}{path}", method, data)


def _serve(port, *mt_args):
    """Attach mode with --http 127.0.0.1:port -i 1: (target, memtrace,
    probe watch), the leaks made and every report since carrying them."""
    t = lib.Target(TARGET, "wait")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "-i", "1", "--http", f"127.0.0.1:{port}",
                     *mt_args, "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    m.err.expect(rf"^memtrace: serving /metrics, /debug/pprof/heap, /report\.json on "
                 rf"http://127\.0\.0\.1:{port}$")
    t.go()
    _check_done(t.wait_done())
    return t, m, w


def _finish(t, m, w):
    m.stop()
    rc = m.wait()
    assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    t.release()
    assert t.wait() == 0, t.err.text()
    w.assert_clean(mine=[m.pid, t.pid])


def _metric(text, name, **labels):
    """The value of the one sample of name with (at least) labels in a
    Prometheus text exposition, or None."""
    got = []
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == str(v) for k, v in labels.items()):
            got.append(m.group(3))
    assert len(got) <= 1, f"{len(got)} samples of {name}{labels}"
    return got[0] if got else None


# ---- pprof --------------------------------------------------------------------

def test_pprof_launch_exact_bytes():
    """memtrace --pprof P -d 2 -- target: go tool pprof reads P; the four
    sample types hold the exact bytes and counts per function, the total is
    the report's, the build id is the target's. -d ends tracing and writes P
    while the command still runs; memtrace then returns its exit status."""
    d = lib.tmpdir()
    prof, rep = os.path.join(d, "heap.pb.gz"), os.path.join(d, "report.json")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "--output", rep, "--pprof", prof, "-d", "2",
                     "--", lib.target_path(TARGET), "wait", output=rep)
    pid = m.wait_tracing()
    assert int(m.out.expect(r"^ready (\d+)$").group(1)) == pid
    os.kill(pid, signal.SIGUSR1)
    _check_done(lib.parse_done(m.out.expect(r"^done\b.*").group(0)))
    # the duration ends: final report, then the profile (the command lives on)
    lib.wait_for("final report after -d 2",
              lambda: any(r["final"] for r in m.reports()) and os.path.exists(prof), timeout=15)
    assert lib.alive(pid), f"{TARGET} exited before it was released"
    os.kill(pid, signal.SIGUSR1)
    assert m.wait() == 0, m.err.text()
    w.assert_clean(mine=[m.pid, pid])
    final = m.final()
    _check_leaks(final)

    with open(prof, "rb") as f:
        assert f.read(2) == b"\x1f\x8b", "the profile is not gzip'd"
    _check_pprof_values(d, prof, total_inuse=final["totals"]["outstanding_bytes"])
    out = _go_pprof(d, prof, "-top", "-unit=B")
    assert f"File: {TARGET}" in out, out
    bid = lib.build_id(lib.target_path(TARGET))
    assert f"Build ID: {bid}" in out, f"want the target's build id {bid}:\n{out}"
    # -traces: leak_big's whole stack, leaf first, as the JSON report has it
    traces = _go_pprof(d, prof, "-traces", "-sample_index=inuse_space")
    frames = lib.frames_of(lib.stack_at(final, "leak_big", "malloc"))
    assert re.search(r"\n\s+3MB\s+" + r"\n\s+".join(map(re.escape, frames)) + r"\n", traces), \
        f"pprof -traces has no stack {frames} of 3MB:\n{traces}"
    # -raw: one sample per stack of the report, its four values exact, labelled
    # with its kind and stack id
    samples = _pprof_raw_samples(d, prof)
    want = {}
    for s in final["stacks"]:
        sid = int(s["stack_id"], 16)
        sid = sid - (1 << 64) if sid >= 1 << 63 else sid	# an int64 label
        want[sid] = (s["kind"], (s["alloc_calls"], s["alloc_bytes"], s["outstanding_allocs"],
                                 s["outstanding_bytes"]))
    assert samples == want, f"pprof -raw samples {samples}\nJSON stacks {want}"


def test_pprof_every_rewrites_during_run():
    """--pprof-every -i 1: the profile exists and is replaced (atomically:
    a new inode) while memtrace still runs, each version readable by go
    tool pprof with the exact bytes; the final one too."""
    d = lib.tmpdir()
    prof = os.path.join(d, "heap.pb.gz")
    t = lib.Target(TARGET, "wait")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "-i", "1", "--pprof", prof, "--pprof-every",
                     "-p", str(t.pid))
    m.wait_tracing()
    t.go()
    _check_done(t.wait_done())
    # Two versions written after "done": the second one was built from a
    # snapshot taken after the first one was renamed, so after the leaks.
    s0 = _stat(prof)
    s1 = lib.wait_for("a profile written after the leaks", lambda: _stat(prof) != s0 and _stat(prof),
                   timeout=10)
    assert m.proc.poll() is None, "memtrace exited"
    s2 = lib.wait_for("the profile rewritten", lambda: _stat(prof) not in (None, s1) and _stat(prof),
                   timeout=10)
    snap = os.path.join(d, "during.pb.gz")
    shutil.copyfile(prof, snap)
    assert m.proc.poll() is None, "memtrace exited"
    assert s2[0] != s1[0], f"rewritten in place (inode {s1[0]}), not replaced by a rename"
    _check_pprof_values(d, snap, total_inuse=LEAKS)
    _finish(t, m, w)
    _check_leaks(m.final())
    assert _stat(prof) != s2, "no profile written with the final report"
    _check_pprof_values(d, prof, total_inuse=LEAKS)
    left = [n for n in os.listdir(d) if n.startswith("heap.pb.gz.")]
    assert not left, f"temporary files left: {left}"


# ---- collapsed stacks, flame graph ----------------------------------------------

def test_collapsed_exact_root_first():
    """--collapsed: one line per stack with outstanding bytes, frames root
    first ending ...;main;run_leaks;leak_big, exact bytes; the same stacks
    and frames as the JSON report; churn (all freed) absent."""
    path = os.path.join(lib.tmpdir(), "stacks.folded")
    final, done, _ = lib.run_attach(TARGET, "wait",
                                    mt_args=("-f", "json", "-n", "0", "--collapsed", path))
    _check_done(done)
    _check_leaks(final)
    with open(path) as f:
        text = f.read()
    lines = {}
    for line in text.splitlines():
        m = re.fullmatch(r"(\S(?:.*\S)?) (\d+)", line)
        assert m, f"not 'frames bytes': {line!r}\n{text}"
        assert m.group(1) not in lines, f"stack twice: {line!r}\n{text}"
        lines[m.group(1)] = int(m.group(2))
    by_leaf = {}
    for stack, b in lines.items():
        by_leaf.setdefault(stack.split(";")[-1], []).append((stack, b))
    for func, want in (("leak_big", BIG), ("leak_small", SMALL)):
        got = by_leaf.get(func, [])
        assert len(got) == 1, f"{len(got)} lines ending in {func}:\n{text}"
        stack, b = got[0]
        assert b == want, f"{func}: {b} bytes, want {want}:\n{text}"
        frames = stack.split(";")
        assert frames[-3:] == ["main", "run_leaks", func], \
            f"{func}: frames {frames}, want root first ending main;run_leaks;{func}"
        json_frames = lib.frames_of(lib.stack_at(final, func, "malloc"))
        assert frames == json_frames[::-1], \
            f"{func}: collapsed frames {frames}, JSON (leaf first) {json_frames}"
    assert "churn" not in by_leaf, f"churn freed everything:\n{text}"
    assert len(lines) == sum(1 for s in final["stacks"] if s["outstanding_bytes"] > 0), \
        f"one line per stack with bytes:\n{text}\n" + lib.describe(final)
    assert sum(lines.values()) == final["totals"]["outstanding_bytes"] == LEAKS, \
        f"total {sum(lines.values())}, report {final['totals']['outstanding_bytes']}, want {LEAKS}"


def _flamegraph_run():
    d = lib.tmpdir()
    path = os.path.join(d, "flame.svg")
    final, done, _ = lib.run_attach(TARGET, "wait",
                                    mt_args=("-f", "json", "-n", "0", "--flamegraph", path))
    _check_done(done)
    _check_leaks(final)
    return d, path, final


def test_flamegraph_valid_svg():
    """--flamegraph: xmllint accepts the SVG; leak_big is a frame whose
    title has its exact bytes, above run_leaks above main (root at the
    bottom); churn (all freed) is not drawn."""
    xmllint = _tool("xmllint")
    _, path, _ = _flamegraph_run()
    out = subprocess.run([xmllint, "--noout", path], capture_output=True, text=True,
                         timeout=lib.WAIT_S)
    assert out.returncode == 0, f"xmllint --noout {path}: {out.stderr}"
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    frames = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("data-n"):
            frames.setdefault(g.get("data-n"), []).append(g)
    for func, want in (("leak_big", BIG), ("leak_small", SMALL)):
        assert len(frames.get(func, [])) == 1, f"{len(frames.get(func, []))} frames {func}"
        title = frames[func][0].find("s:title", ns).text
        assert f"({want} bytes," in title, f"{func} title {title!r}, want {want} bytes"
    assert "churn" not in frames, "churn freed everything, yet it is drawn"
    ys = [float(frames[f][0].find("s:rect", ns).get("y"))
          for f in ("leak_big", "run_leaks", "main")]
    assert ys[0] < ys[1] < ys[2], f"y of leak_big, run_leaks, main: {ys} (root at the bottom)"


def test_flamegraph_search_in_chromium():
    """The real flame graph in headless chromium: its script runs and
    searching ^leak_big$ matches 75.0% (3 MiB of the 4 MiB kept)."""
    chromium = _tool("chromium")
    d, path, _ = _flamegraph_run()
    profile = os.path.join(d, "chromium-profile")
    url = "file://" + urllib.parse.quote(path) + "#search=%5Eleak_big%24"
    out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking", "--disable-component-update",
                          "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                          "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, HOME=d))
    assert out.returncode == 0, f"chromium exited {out.returncode}: {out.stderr[-2000:]}"
    dom = out.stdout
    assert 'data-ready="1"' in dom, f"the flame graph script did not run:\n{dom[:2000]}"
    m = re.search(r'data-matched="([^"]*)"', dom)
    assert m and m.group(1) == f"{100 * BIG / LEAKS:.1f}", \
        f"search ^leak_big$ matched {m and m.group(1)}, want {100 * BIG / LEAKS:.1f}"


# ---- CSV ----------------------------------------------------------------------------

def test_csv_one_row_per_stack_per_report():
    """--csv with -i 1: Python's csv module parses it; the header has the
    documented columns; each report's rows are exactly its stacks (same
    ids, kinds and counters as the JSON report of the same moment); the
    final rows of leak_big and leak_small hold their exact bytes."""
    path = os.path.join(lib.tmpdir(), "report.csv")
    t = lib.Target(TARGET, "wait")
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", "-i", "1", "--csv", path, "-p", str(t.pid))
    m.wait_tracing()
    t.go()
    _check_done(t.wait_done())
    seen = len(m.reports())
    m.out.expect_count(r"^\{", seen + 2, timeout=10)	# two reports after the leaks
    _finish(t, m, w)
    reports = m.reports()
    _check_leaks(reports[-1])

    with open(path, newline="") as f:
        raw = f.read()
    assert raw.endswith("\r\n"), "rows end with CRLF (RFC 4180)"
    rows = list(csv.reader(raw.splitlines()))
    assert rows[0] == CSV_COLUMNS, f"header {rows[0]}"
    rows = [dict(zip(CSV_COLUMNS, r)) for r in rows[1:]]
    assert all(len(r) == len(CSV_COLUMNS) for r in rows), "a row with a wrong field count"

    groups = {}		# (elapsed_s, final) -> rows, in file order
    for r in rows:
        groups.setdefault((r["elapsed_s"], r["final"]), []).append(r)
    counters = ("outstanding_bytes", "outstanding_allocs", "alloc_calls", "alloc_bytes",
                "free_calls", "free_bytes")
    with_rows = 0
    rows_of = []	# the rows of each JSON report
    for rep in reports:
        key = (f"{rep['elapsed_s']:.3f}", "1" if rep["final"] else "0")
        got = groups.pop(key, [])
        rows_of.append(got)
        want = {(int(s["stack_id"], 16), s["kind"]): tuple(s[c] for c in counters)
                for s in rep["stacks"]}
        have = {}
        for r in got:
            k = (int(r["stack_id"], 16), r["kind"])
            assert k not in have, f"stack {r['stack_id']} {r['kind']} twice in report {key}"
            assert (int(r["pid"]), r["comm"]) == (t.pid, TARGET), (r["pid"], r["comm"])
            have[k] = tuple(int(r[c]) for c in counters)
        assert have == want, f"report at {key}: CSV rows {have}\nJSON stacks {want}"
        with_rows += bool(got)
    assert not groups, f"CSV rows of no JSON report: {sorted(groups)}"
    assert with_rows >= 3, f"{with_rows} reports with rows, want >= 3 (2 after the leaks + final)"
    times = [float(r["time"]) for r in rows]
    assert times == sorted(times), "rows out of time order"

    final = [r for r in rows if r["final"] == "1"]
    for func, want, n in (("leak_big", BIG, BIG_N), ("leak_small", SMALL, SMALL_N)):
        mine = [r for r in final if r["leaf_function"] == func]
        assert len(mine) == 1, f"{len(mine)} final rows at {func}"
        r = mine[0]
        assert (int(r["outstanding_bytes"]), int(r["outstanding_allocs"])) == (want, n), \
            f"final {func} row: {r['outstanding_bytes']} B in {r['outstanding_allocs']}, " \
            f"want {want} in {n}"
        assert r["kind"] == "malloc" and r["stack"].endswith(f";main;run_leaks;{func}"), r
        assert r["leaf_module"] == lib.target_path(TARGET) and \
            r["leaf_file"].endswith("outputs_leaks.c") and int(r["leaf_line"]) > 0, r
        # the reports taken surely after the leaks (the one in flight at
        # "done" aside) have the row too
        later = [x for got in rows_of[seen + 1:-1] for x in got if x["leaf_function"] == func]
        assert len(later) >= 1 and all(int(x["outstanding_bytes"]) == want for x in later), \
            [(x["elapsed_s"], x["outstanding_bytes"]) for x in later]
    churn = [r for r in final if r["leaf_function"] == "churn"]
    assert len(churn) == 1 and int(churn[0]["outstanding_bytes"]) == 0 and \
        int(churn[0]["free_bytes"]) == CHURN, churn


# ---- HTTP ---------------------------------------------------------------------------

def test_http_endpoints():
    """--http 127.0.0.1:PORT -i 1 on a live target: /metrics (Prometheus
    text, leak_big's series with its exact bytes; promtool's linter if
    installed), /debug/pprof/heap (a gzip'd profile go tool pprof reads,
    exact bytes), /report.json (the JSON report schema, exact bytes), 404
    for an unknown path, 405 for POST; the port is closed after exit."""
    port = _free_port()
    t, m, w = _serve(port)

    last = [""]

    def after_leaks():
        """/metrics of a report taken after the whole run of the target
        (churn's last free is its last call)."""
        status, _, body = _http(port, "/metrics")
        last[0] = f"{status}\n{body.decode()}"
        text = body.decode()
        if status == 200 and _metric(text, "memtrace_stack_allocated_bytes_total",
                                     stack=f"churn@{TARGET}") == str(CHURN) and \
                _metric(text, "memtrace_stack_outstanding_bytes", stack=f"churn@{TARGET}") == "0":
            return text
        return None

    text = lib.wait_for("/metrics after the leaks", after_leaks, timeout=10, every=0.2,
                     show=lambda: last[0])
    status, headers, _ = _http(port, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"), \
        (status, headers["Content-Type"])
    for name, labels, want in (
            ("memtrace_stack_outstanding_bytes", {"stack": LEAF_SIG, "kind": "malloc"}, BIG),
            ("memtrace_stack_outstanding_allocations", {"stack": LEAF_SIG}, BIG_N),
            ("memtrace_stack_allocated_bytes_total", {"stack": LEAF_SIG}, BIG),
            ("memtrace_stack_outstanding_bytes", {"stack": f"leak_small@{TARGET}"}, SMALL),
            ("memtrace_stack_outstanding_bytes", {"stack": f"churn@{TARGET}"}, 0),
            ("memtrace_outstanding_bytes", {}, LEAKS),
            ("memtrace_info", {"pid": t.pid, "comm": TARGET}, 1)):
        got = _metric(text, name, **labels)
        assert got == str(want), f"{name}{labels} = {got}, want {want}\n{text}"
    # the maps' memory (issue 15): a small target, the defaults
    mem = float(_metric(text, "memtrace_map_memory_bytes"))
    assert 0 < mem <= 64 << 20, f"memtrace_map_memory_bytes {mem}\n{text}"
    assert float(_metric(text, "memtrace_allocs_table_slots")) >= 4096 * 8, text
    assert _metric(text, "memtrace_allocs_table_grows_total") == "0", text
    sid = re.search(r'^memtrace_stack_outstanding_bytes\{stack_id="0x([0-9a-f]+)",kind="malloc",'
                    rf'category="{TARGET}",stack="{re.escape(LEAF_SIG)}"\}} {BIG}$', text, re.M)
    assert sid, f"leak_big's series has not the label set stack_id, kind, category, stack:\n{text}"
    if shutil.which("promtool"):
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                              text=True, timeout=60)
        assert lint.returncode == 0, f"promtool check metrics:\n{lint.stdout}{lint.stderr}"

    status, headers, body = _http(port, "/debug/pprof/heap")
    assert status == 200 and body[:2] == b"\x1f\x8b", (status, body[:16])
    gzip.decompress(body)	# whole and valid
    d = lib.tmpdir()
    prof = os.path.join(d, "heap.pb.gz")
    with open(prof, "wb") as f:
        f.write(body)
    rows, out = _pprof_top(d, prof, "inuse_space")
    assert (rows.get("leak_big", (None,))[0], rows.get("leak_small", (None,))[0]) == \
        (BIG, SMALL), f"/debug/pprof/heap in go tool pprof:\n{out}"
    assert f"of {LEAKS}B total" in out, out

    status, headers, body = _http(port, "/report.json")
    assert status == 200 and headers["Content-Type"] == "application/json", \
        (status, headers["Content-Type"])
    doc = json.loads(body)
    for key in ("pid", "comm", "time", "elapsed_s", "final", "totals", "stacks"):
        assert key in doc, f"/report.json has no {key}: {sorted(doc)}"
    assert (doc["pid"], doc["comm"], doc["final"]) == (t.pid, TARGET, False), \
        (doc["pid"], doc["comm"], doc["final"])
    _check_leaks(doc)
    big = lib.stack_at(doc, "leak_big", "malloc")
    assert int(big["stack_id"], 16) == int(sid.group(1), 16), \
        f"stack id {big['stack_id']} in /report.json, 0x{sid.group(1)} in /metrics"

    status, _, _ = _http(port, "/no/such/path")
    assert status == 404, f"GET /no/such/path: {status}, want 404"
    status, headers, _ = _http(port, "/metrics", method="POST", data=b"abc")
    assert status == 405, f"POST /metrics: {status}, want 405"
    assert headers["Allow"] == "GET, HEAD", headers["Allow"]
    assert m.proc.poll() is None and t.alive()

    _finish(t, m, w)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after exit"


def test_http_prometheus_scrape():
    """A real Prometheus on loopback scrapes memtrace's /metrics: its query
    API returns leak_big's series with the exact bytes and up == 1."""
    port = _free_port()
    t, m, w = _serve(port)
    d = lib.tmpdir()
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: memtrace\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{port}']\n")
    prom = promlib.Prometheus(cfg, d)
    query = f'memtrace_stack_outstanding_bytes{{job="memtrace",stack="{LEAF_SIG}"}}'
    last = [None]

    def scraped():
        last[0] = prom.query(query)
        return last[0] if [v for _, v in last[0]] == [BIG] else None

    res = lib.wait_for(f"prometheus: {query} == {BIG}", scraped, timeout=40, every=0.25,
                       show=lambda: f"{last[0]}\n{prom.err.text()}")
    assert res[0][0]["kind"] == "malloc", res[0][0]
    up = prom.query('up{job="memtrace"}')
    assert [v for _, v in up] == [1], up
    info = prom.query(f'memtrace_info{{pid="{t.pid}",comm="{TARGET}"}}')
    assert len(info) == 1, info
    prom.stop()
    _finish(t, m, w)
