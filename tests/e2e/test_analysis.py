"""Leak analysis through the real tracer (issue 5): growth rate, severity,
lifetime, verdict, baselines, the CI gate and -o/--older, on allocation
patterns of known behaviour.

Target: tests/targets/analysis_patterns.c, started by memtrace (launch
mode: traced from its first allocation), running the patterns of its
command line side by side for a given time, each from its own noinline
function and paced with clock_nanosleep(TIMER_ABSTIME) from the target's
start, so every rate is exact:

  leak_fixed_rate   16 KiB every 25 ms, never freed: 655,360 B/s
                    (2,359 MB/h, critical), or every 125 ms: 131,072 B/s
                    (472 MB/h, high) for the gate
  one_time_setup    16 x 64 KiB right at start, kept, flat since
  churn_alloc_free  25 x malloc(256) + free at once every 25 ms
  cache_fill        16 KiB every 25 ms for 2.5 s, then a plateau
  older_first/last  one block at 50 ms, one near the end

memtrace runs with -i 1 -d D and the target for D + 0.5 s: the final report
is taken while the target runs, then memtrace waits for its exit. Leak
events fall on odd multiples of half their period, so a report on a whole
second (plus the few ms of the launch) never sits on an allocation.

Bounds: growth within 15% (the Theil-Sen slope of an exact staircase is
within a few % from the 2nd report); severities from the default
thresholds (medium 30 MB/h = 8,333 B/s, high 200 MB/h, critical 1000
MB/h), far from every rate here.

Cost: 10 memtrace runs, 19 s of tracing, ~800 leak and ~11,000 churn
malloc+free pairs in all; each run adds 1-3 s of attach and detach, so the
file takes 35-50 s (the gate's five runs are started together).
"""
import json
import math
import os
import re
import subprocess

import lib

TARGET = "analysis_patterns"
SEVERITIES = ("none", "low", "medium", "high", "critical")
RANK = {s: i for i, s in enumerate(SEVERITIES)}

CHUNK = 16384
LEAK = f"leak={CHUNK}/25"		# 16 KiB every 25 ms
LEAK_BPS = CHUNK * 1000 / 25		# 655,360 B/s: critical
LEAK_HIGH = f"leak={CHUNK}/125"		# 16 KiB every 125 ms
LEAK_HIGH_BPS = CHUNK * 1000 / 125	# 131,072 B/s: high (55.6..278 KB/s)
SETUP_BLOCKS, SETUP_SIZE = 16, 65536
SETUP = f"setup={SETUP_SIZE}/{SETUP_BLOCKS}"	# 1 MiB at start
CHURN_N, CHURN_MS = 25, 25
CHURN = f"churn={CHURN_N}/{CHURN_MS}"	# 1,000 malloc+free per second
GROWTH_TOL = 0.15


# ---- running --------------------------------------------------------------

def launch(duration, *patterns, args=("-f", "json"), merged=False):
    """memtrace ARGS -i 1 -d DURATION -n 0 -- analysis_patterns DURATION+0.5
    PATTERNS. merged: one stream for memtrace's stdout and stderr (and the
    target's stderr), in the order written; returns (Popen, Stream) then,
    else a lib.Memtrace."""
    argv = [*args, "-i", "1", "-d", str(duration), "-n", "0", "--",
            lib.target_path(TARGET), str(duration + 0.5), *patterns]
    if not merged:
        return lib.Memtrace(*argv)
    p = lib.spawn([lib.memtrace_path(), *argv], stderr=subprocess.STDOUT)
    return p, lib.Stream(p.stdout, "memtrace stdout+stderr")


def started(m):
    """Wait until tracing is live; returns the target's pid (tracked)."""
    if isinstance(m, lib.Memtrace):
        return m.wait_tracing()
    p, out = m
    pid = int(out.expect(r"^memtrace: tracing pid (\d+)", what="memtrace start").group(1))
    lib.track_pid(pid)
    return pid


def finish(m, duration, want_rc=0):
    """Wait for memtrace (and so the target) to exit; check the status
    (want_rc None: the caller does)."""
    if isinstance(m, lib.Memtrace):
        rc = m.wait(timeout=duration + 20)
        err = m.err.text()
    else:
        p, out = m
        try:
            rc = p.wait(timeout=duration + 20)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"memtrace still running after {duration + 20} s:\n"
                                 + out.text()[-3000:]) from None
        out.wait_closed()
        err = "\n".join(ln for ln in out.text().splitlines() if not ln.startswith("{"))
    assert want_rc is None or rc == want_rc, \
        f"memtrace exited {rc}, want {want_rc}; stderr:\n{err}"
    return rc


def traced(duration, *patterns, args=("-f", "json")):
    """One launch() run to its end: exit 0, no probe left behind. Returns
    (every report, the final one, the Memtrace)."""
    w = lib.ProbeWatch()
    m = launch(duration, *patterns, args=args)
    pid = started(m)
    finish(m, duration)
    w.assert_clean(mine=[m.pid, pid])
    return m.reports(), m.final(), m


def done_of(m):
    """The target's 'done p0_events=.. p0_bytes=..' line (its stderr is
    memtrace's): what each pattern made, in command line order."""
    return lib.parse_done(m.err.expect(r"^done\b.*", what=f"{TARGET} done").group(0))


# ---- reports --------------------------------------------------------------

def find(report, func, kind="malloc"):
    """The stack starting at func, or None."""
    got = lib.stacks_at(report, func, kind)
    assert len(got) <= 1, f"{len(got)} stacks at {func}():\n" + lib.describe(report)
    return got[0] if got else None


def show(report):
    """Every stack with its analysis fields, for failure messages."""
    lines = [f"report at {report['elapsed_s']:.2f} s{' (final)' if report['final'] else ''},"
             f" verdict {report.get('verdict')}:"]
    for s in report["stacks"]:
        lines.append(f"  {s.get('severity', '-'):>8} {s.get('growth_bytes_per_s', 0):>+11.0f} B/s"
                     f" r2 {s.get('growth_r2', 0):.2f} out={s['outstanding_bytes']}"
                     f"/{s['outstanding_allocs']} calls={s['alloc_calls']} free={s['free_calls']}"
                     f" oldest={s['oldest_age_s']}  {' < '.join(lib.frames_of(s)[:3])}")
    return "\n".join(lines)


def history(reports, func, kind="malloc"):
    """One line per report: that stack's severity and growth."""
    rows = []
    for r in reports:
        s = find(r, func, kind)
        rows.append(f"  {r['elapsed_s']:5.2f} s: " + (
            f"{s['severity']:>8} {s['growth_bytes_per_s']:+11.0f} B/s out={s['outstanding_bytes']}"
            if s else "absent"))
    return f"{func}() per report:\n" + "\n".join(rows)


def check_growth(s, rate, what):
    g = s["growth_bytes_per_s"]
    assert abs(g / rate - 1) <= GROWTH_TOL, \
        f"{what}: growth {g:.0f} B/s, want {rate:.0f} B/s +-{GROWTH_TOL:.0%} ({g / rate - 1:+.1%})"
    assert math.isclose(s["growth_mb_per_h"], g * 3600 / 1e6, rel_tol=1e-6), \
        f"{what}: growth_mb_per_h {s['growth_mb_per_h']} is not {g} B/s in MB/h"


def at_least(s, sev):
    return RANK[s["severity"]] >= RANK[sev]


def check_leak_stack(s, period_s, why):
    """A stack of leak_fixed_rate: everything kept, in CHUNK-byte blocks, one
    per period since the oldest (+-1 for the moments of the walk)."""
    assert s["free_calls"] == 0 and s["outstanding_bytes"] == CHUNK * s["alloc_calls"] \
        and s["outstanding_allocs"] == s["alloc_calls"], \
        f"leak_fixed_rate frees nothing: out={s['outstanding_bytes']}/" \
        f"{s['outstanding_allocs']} calls={s['alloc_calls']} free={s['free_calls']}" + why
    want = s["oldest_age_s"] / period_s + 1
    assert abs(s["alloc_calls"] - want) <= 1.5, \
        f"leak_fixed_rate: {s['alloc_calls']} allocations, but its oldest is " \
        f"{s['oldest_age_s']:.3f} s old: want {want:.1f} (one per {period_s} s)" + why


# ---- tests ----------------------------------------------------------------

def test_fixed_rate_leak_setup_and_churn():
    """(1) 640 KiB/s leak: growth within 15%, >= medium; (2) one-time setup:
    <= low at every report, ~0 growth at the end; (3) churn: none at every
    report, nothing outstanding, temporary lifetimes; (5) JSON verdict."""
    d = 8
    reps, final, _ = traced(d, LEAK, SETUP, CHURN)
    why = "\n" + show(final)
    lib.check_totals_sane(final)
    assert len(reps) >= d, f"{len(reps)} reports in {d} s at -i 1"

    # (1) the leak
    leak = lib.stack_at(final, "leak_fixed_rate", "malloc")
    check_leak_stack(leak, 0.025, why)
    check_growth(leak, LEAK_BPS, "leak_fixed_rate at the final report")
    assert at_least(leak, "medium"), \
        f"leak_fixed_rate grows {LEAK_BPS:.0f} B/s: severity {leak['severity']}, want " \
        f">= medium" + why
    # docs/analysis.md: >= medium from the 2nd report (3 samples with the zero)
    for r in reps[1:]:
        s = lib.stack_at(r, "leak_fixed_rate", "malloc")
        assert at_least(s, "medium"), \
            f"leak_fixed_rate {s['severity']} at {r['elapsed_s']:.2f} s, want >= medium " \
            "from the 2nd report\n" + history(reps, "leak_fixed_rate")

    # (2) the one-time setup: flat since the start
    setup = lib.check_stack(final, "one_time_setup", "malloc",
                            outstanding_bytes=SETUP_BLOCKS * SETUP_SIZE,
                            outstanding_allocs=SETUP_BLOCKS, alloc_calls=SETUP_BLOCKS,
                            why="(16 x 64 KiB at start, kept)")
    assert setup["severity"] in ("none", "low") and abs(setup["growth_bytes_per_s"]) < 1000, \
        f"one_time_setup, flat for {d} s: severity {setup['severity']}, growth " \
        f"{setup['growth_bytes_per_s']:.0f} B/s; want none or low, |growth| < 1000 B/s" + why
    for r in reps:
        s = find(r, "one_time_setup")
        assert s is None or s["severity"] in ("none", "low"), \
            f"one_time_setup rated {s['severity']} at {r['elapsed_s']:.2f} s: a one-time " \
            "allocation is at most low\n" + history(reps, "one_time_setup")

    # (3) churn: allocated and freed at once
    churn = lib.stack_at(final, "churn_alloc_free", "malloc")
    calls, life = churn["alloc_calls"], churn["lifetime"]
    assert churn["outstanding_bytes"] == 0 and churn["outstanding_allocs"] == 0 \
        and churn["free_calls"] == calls and churn["free_bytes"] == churn["alloc_bytes"], \
        "churn_alloc_free frees every block at once: " + lib.describe(final)
    assert calls >= CHURN_N * 1000 / CHURN_MS * (d - 0.5) and calls % CHURN_N == 0, \
        f"churn_alloc_free: {calls} calls in {d} s, want about {CHURN_N * 1000 // CHURN_MS}/s " \
        f"in whole rounds of {CHURN_N}"
    assert life["freed"] == calls and 0.9 * calls <= life["temporary"] <= calls, \
        f"churn_alloc_free: lifetime {life}: every block freed within microseconds, want " \
        f"temporary (< 1 ms) > 0 and >= 90% of {calls}"
    assert life["p50_s"] is not None and life["p50_s"] < 1e-3, \
        f"churn_alloc_free: median lifetime {life['p50_s']} s, want < 1 ms"
    for r in reps:
        s = find(r, "churn_alloc_free")
        assert s is None or s["severity"] == "none", \
            f"churn_alloc_free rated {s['severity']} at {r['elapsed_s']:.2f} s, want none\n" \
            + history(reps, "churn_alloc_free")

    # (5) the verdict names the leak
    v = final["verdict"]
    assert v["result"] == "possible_leak" and v["worst"] == leak["severity"], \
        f"verdict {v}, want possible_leak, worst {leak['severity']}" + why
    sus = v["suspect"]
    assert sus["label"].startswith("leak_fixed_rate <- ") and sus["kind"] == "malloc" \
        and sus["severity"] == leak["severity"], f"suspect {sus}, want leak_fixed_rate" + why
    assert 0 <= sus["index"] < len(final["stacks"]) \
        and lib.frames_of(final["stacks"][sus["index"]])[0] == "leak_fixed_rate", \
        f"suspect index {sus['index']} is not the leak's stack" + why
    assert sus["stack_id"] == leak["stack_id"], \
        f"suspect stack_id {sus['stack_id']} is not the leak's {leak['stack_id']}"
    assert math.isclose(sus["growth_bytes_per_s"], leak["growth_bytes_per_s"]), sus


def test_cache_grows_then_plateaus():
    """(4) A cache filled for 2.5 s at 640 KiB/s, then flat (--window 4, so
    the final report at 7 s fits its line through 5 flat samples, 3..7 s):
    >= medium and the right rate while it grows, none at the end with growth
    0 and every block still held; the verdict is then ok."""
    d, grow_s = 7, 2.5
    reps, final, m = traced(d, f"cache={CHUNK}/25/{grow_s}", args=("-f", "json", "--window", "4"))
    done = done_of(m)
    hist = "\n" + history(reps, "cache_fill")

    assert done["p0_events"] == grow_s * 1000 // 25, done
    # from the 2nd report (3 samples with the zero) until the plateau
    growing = [r for r in reps if 1.5 <= r["elapsed_s"] <= grow_s]
    assert growing, f"no report between 1.5 s and {grow_s} s (while the cache grows)" + hist
    worst = 0
    for r in growing:
        s = lib.stack_at(r, "cache_fill", "malloc")
        assert at_least(s, "medium"), \
            f"cache_fill while growing {LEAK_BPS:.0f} B/s: {s['severity']} at " \
            f"{r['elapsed_s']:.2f} s, want >= medium" + hist
        check_growth(s, LEAK_BPS, f"cache_fill at {r['elapsed_s']:.2f} s (growing)")
        worst = max(worst, RANK[s["severity"]])

    s = lib.check_stack(final, "cache_fill", "malloc", outstanding_bytes=done["p0_bytes"],
                        outstanding_allocs=done["p0_events"], free_calls=0,
                        why="(every block of the cache is kept)")
    assert s["severity"] == "none" and RANK[s["severity"]] < worst, \
        f"cache_fill flat for {d - grow_s} s (window 4 s): {s['severity']} at the end, want " \
        f"none, below {SEVERITIES[worst]} while growing" + hist
    assert abs(s["growth_bytes_per_s"]) <= 0.01 * LEAK_BPS, \
        f"cache_fill flat since {grow_s} s: growth {s['growth_bytes_per_s']:.0f} B/s at the " \
        "end, want ~0" + hist
    v = final["verdict"]
    assert v["result"] == "ok" and v["suspect"] is None and v["worst"] in ("none", "low"), \
        f"a plateaued cache is no leak: verdict {v}, want ok\n" + show(final)


def baseline_entry(diff, prefix):
    got = [e for e in diff["stacks"] if e["signature"].startswith(prefix)]
    assert len(got) == 1, f"{len(got)} baseline entries with signature {prefix}...: " \
        + json.dumps(diff["stacks"], indent=1)[:3000]
    return got[0]


def test_baseline_round_trip():
    """(6) --save-baseline after 2 s of leak and setup, --baseline on a 3 s
    run of the leak and another stack: in the final report's "baseline",
    the leak's stack matched by signature (across ASLR) with its drift, the
    setup stack vanished, the other one new, counts and totals consistent;
    memtrace exits 0."""
    tmp = lib.tmpdir()
    path = os.path.join(tmp, "base.json")
    w = lib.ProbeWatch()
    m1 = launch(2, LEAK, SETUP, args=("-f", "json", "--save-baseline", path))
    pid1 = started(m1)
    finish(m1, 2)
    first = m1.final()
    leak1 = lib.stack_at(first, "leak_fixed_rate", "malloc")
    assert "baseline" not in first, "a baseline comparison without --baseline"

    with open(path) as f:
        base = json.load(f)
    assert base["memtrace_baseline"] == 1 and base["pid"] == pid1 \
        and base["total_outstanding_bytes"] == first["totals"]["outstanding_bytes"], \
        f"baseline file header: { {k: v for k, v in base.items() if k != 'stacks'} }"
    sig = "malloc|leak_fixed_rate;"
    saved = [s for s in base["stacks"] if s["signature"].startswith(sig)]
    assert len(saved) == 1 and saved[0]["outstanding_bytes"] == leak1["outstanding_bytes"] \
        and saved[0]["severity"] == leak1["severity"] and saved[0]["kind"] == "malloc", \
        f"baseline stacks of leak_fixed_rate: {saved}, want one with " \
        f"{leak1['outstanding_bytes']} B, {leak1['severity']}"
    assert not any(re.search(r"0x[0-9a-f]{8,}", s["signature"]) for s in base["stacks"]), \
        "raw addresses in baseline signatures: " + ", ".join(s["signature"] for s in base["stacks"])

    d = 3
    m2 = launch(d, LEAK, "first=100000", args=("-f", "json", "--baseline", path))
    pid2 = started(m2)
    rc = finish(m2, d, want_rc=None)
    w.assert_clean(mine=[m1.pid, m2.pid, pid1, pid2])
    reps = m2.reports()
    final = m2.final()
    assert not any("baseline" in r for r in reps[:-1]), "a comparison in a non-final report"
    diff = final.get("baseline")
    assert diff, "no 'baseline' in the final report:\n" + show(final)
    leak2 = lib.stack_at(final, "leak_fixed_rate", "malloc")
    why = "\n" + json.dumps(diff, indent=1)[:4000]

    e = baseline_entry(diff, sig)
    b1, b2 = leak1["outstanding_bytes"], leak2["outstanding_bytes"]
    assert e["status"] == "matched", f"leak_fixed_rate is {e['status']}, want matched" + why
    assert (e["baseline_bytes"], e["current_bytes"], e["drift_bytes"]) == (b1, b2, b2 - b1), \
        f"leak_fixed_rate entry {e}, want baseline {b1}, current {b2}, drift {b2 - b1}" + why
    assert math.isclose(e["drift_pct"], 100 * (b2 - b1) / b1, rel_tol=1e-6), e
    assert b2 > 1.25 * b1, f"3 s of leak ({b2} B) vs 2 s ({b1} B)"
    assert e["severity"] == leak2["severity"] \
        and math.isclose(e["growth_bytes_per_s"], leak2["growth_bytes_per_s"]), e
    assert e["label"].startswith("leak_fixed_rate <- "), e

    gone = baseline_entry(diff, "malloc|one_time_setup;")
    assert gone["status"] == "vanished" and gone["current_bytes"] is None \
        and gone["baseline_bytes"] == SETUP_BLOCKS * SETUP_SIZE \
        and gone["drift_bytes"] == -SETUP_BLOCKS * SETUP_SIZE, \
        f"one_time_setup (first run only): {gone}, want vanished" + why
    new = baseline_entry(diff, "malloc|older_first;")
    assert new["status"] == "new" and new["baseline_bytes"] is None \
        and new["current_bytes"] == 100000 and new["drift_pct"] is None, \
        f"older_first (second run only): {new}, want new" + why
    counts = {k: sum(1 for x in diff["stacks"] if x["status"] == k)
              for k in ("matched", "new", "vanished")}
    assert counts == {k: diff[k] for k in counts} and counts["new"] == 1 \
        and counts["vanished"] == 1, f"counts {counts} vs {[diff[k] for k in counts]}" + why
    cur = final["totals"]["outstanding_bytes"]
    old = base["total_outstanding_bytes"]
    assert diff["baseline"]["pid"] == pid1 and (
        diff["total"]["baseline_bytes"], diff["total"]["current_bytes"],
        diff["total"]["drift_bytes"]) == (old, cur, cur - old), f"totals {diff['total']}" + why

    assert rc == 0, \
        f"memtrace --baseline exited {rc} after a correct final report (a negative status " \
        f"is a signal: it crashed on the way out); stderr:\n{m2.err.text()}"


def gate_lines(lines):
    return [ln for ln in lines if ln.startswith("memtrace: --")]


def test_ci_gate_and_text_verdict():
    """(7) --fail-on / --max-growth on a 131 KB/s leak (high) in a command
    exiting 7: 3, 4, 3 when both trip, the command's own 7 under
    --fail-on critical; with no leak, the strictest gate passes. The gate
    is explained on stderr after the final report. (5) Text mode: the
    report ends with 'Verdict: POSSIBLE LEAK: leak_fixed_rate ...' or
    'Verdict: OK'."""
    d = 3
    leaky = (LEAK_HIGH, "exit=7")
    json_ = ("-f", "json")
    cases = [
        # (name, memtrace options, patterns, exit status, gate lines)
        ("fail-on medium", (*json_, "--fail-on", "medium"), leaky, 3,
         [r"--fail-on medium: high stack leak_fixed_rate <- .* \[malloc\] growing "
          r"\+[\d.]+ MB/h \(\+\d+ B/s\), exit 3"]),
        ("max-growth 1000", (*json_, "--max-growth", "1000"), leaky, 4,
         [r"--max-growth 1000 B/s: stack leak_fixed_rate <- .* \[malloc\] grows "
          r"\+\d+ B/s \(\+[\d.]+ MB/h\), exit 4"]),
        ("both", (*json_, "--fail-on", "medium", "--max-growth", "64KiB/s"), leaky, 3,
         [r"--fail-on medium: high stack leak_fixed_rate <- .*, exit 3",
          r"--max-growth 65536 B/s: stack leak_fixed_rate <- .*, exit 3"]),
        ("fail-on critical, text", ("--fail-on", "critical"), leaky, 7, []),
        ("no leak, text", ("--fail-on", "low", "--max-growth", "1000"),
         (SETUP, CHURN, "exit=7"), 7, []),
    ]
    runs = [launch(d, *pats, args=opts, merged=True) for _, opts, pats, _, _ in cases]
    for r in runs:
        started(r)
    for (name, opts, pats, rc, want), (p, out) in zip(cases, runs):
        finish((p, out), d, want_rc=rc)
        lines = out.text().splitlines()
        got = gate_lines(lines)
        ctx = f"\n{name} (memtrace {' '.join(opts)}), output:\n" + "\n".join(
            ln for ln in lines if not ln.startswith("{"))[-4000:]
        if "json" in opts:
            reps = [(i, json.loads(ln)) for i, ln in enumerate(lines) if ln.startswith("{")]
            assert reps and reps[-1][1]["final"], f"{name}: no final report" + ctx
            at, final = reps[-1]
            s = lib.stack_at(final, "leak_fixed_rate", "malloc")
            check_growth(s, LEAK_HIGH_BPS, f"{name}: leak_fixed_rate")
            assert s["severity"] == "high", \
                f"{name}: {LEAK_HIGH_BPS:.0f} B/s rated {s['severity']}, want high\n" + show(final)
        else:
            heads = [i for i, ln in enumerate(lines) if ln.startswith("=== memtrace:")]
            assert heads and lines[heads[-1]].endswith(", final report ==="), \
                f"{name}: no final report" + ctx
            at = heads[-1]
            # the report's last line; after it only memtrace's and the target's stderr
            last = [ln for ln in lines[at:] if ln.strip() and
                    not ln.startswith(("memtrace: ", "done "))][-1]
            if pats is leaky:
                m = re.fullmatch(r"Verdict: POSSIBLE LEAK: leak_fixed_rate <- .*\[malloc\]: "
                                 r"high, \+[\d.]+ MB/h \(\+(\d+) B/s\), fit r2 [\d.]+, "
                                 r".* outstanding", last)
                assert m, f"{name}: last line {last!r}, want the verdict naming " \
                    "leak_fixed_rate, high" + ctx
                rate = float(m.group(1))
                assert abs(rate / LEAK_HIGH_BPS - 1) <= GROWTH_TOL, \
                    f"{name}: verdict rate {rate:.0f} B/s, want {LEAK_HIGH_BPS:.0f} +-15%" + ctx
            else:
                assert last == "Verdict: OK", \
                    f"{name}: last line {last!r}, want 'Verdict: OK' (setup and churn)" + ctx
        assert len(got) == len(want) and all(
            re.fullmatch(f"memtrace: {w}", g) for w, g in zip(want, got)), \
            f"{name}: gate lines {got}, want {want}" + ctx
        for g in got:
            assert lines.index(g) > at, f"{name}: {g!r} before the final report" + ctx


def test_older():
    """(8) -o 2: a block allocated at 50 ms counts at the final report (3 s),
    one allocated at 2 s does not (its stack shows it traced, 0
    outstanding); before 2 s nothing counts."""
    d = 3
    reps, final, _ = traced(d, "first=100000", "last=70000/2", args=("-f", "json", "--older", "2"))
    why = "\n" + show(final)

    lib.check_stack(final, "older_first", "malloc", outstanding_bytes=100000,
                    outstanding_allocs=1, alloc_calls=1,
                    why="(allocated ~3 s before the final report: old enough for -o 2)")
    s = lib.check_stack(final, "older_last", "malloc", outstanding_bytes=0,
                        outstanding_allocs=0, alloc_calls=1, alloc_bytes=70000, free_calls=0,
                        why="(allocated ~1 s before the final report: too young for -o 2)")
    assert 0 <= s["oldest_age_s"] < 2, f"older_last {s['oldest_age_s']} s old at the end" + why
    assert final["totals"]["outstanding_bytes"] == sum(
        x["outstanding_bytes"] for x in final["stacks"]), "totals count older_last" + why
    early = [r for r in reps if r["elapsed_s"] < 2]
    assert early, "no report before 2 s"
    for r in early:
        assert r["totals"]["outstanding_bytes"] == 0, \
            f"{r['totals']['outstanding_bytes']} bytes counted at {r['elapsed_s']:.2f} s: " \
            "nothing is 2 s old yet\n" + show(r)
