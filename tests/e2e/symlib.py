"""Helpers of test_symbols.py on top of lib.py: run memtrace on a target
given by path (attach mode) or as a command (launch mode), find the line
of a source marker, list sections, check frames field by field.

Targets mark the lines the tests expect with a comment "@line:NAME"
(tests/targets/sym_*.c, .cpp), so an edit of a target never leaves a
stale number here.
"""
import os
import re
import signal
import subprocess

import lib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGETS_SRC = os.path.join(ROOT, "tests", "targets")


def src_line(src, name):
    """The line number of the one '@line:NAME' marker in tests/targets/SRC."""
    path = os.path.join(TARGETS_SRC, src)
    with open(path) as f:
        hits = [i for i, ln in enumerate(f, 1) if re.search(rf"@line:{re.escape(name)}\b", ln)]
    if len(hits) != 1:
        raise AssertionError(f"{path}: {len(hits)} markers @line:{name}, want 1")
    return hits[0]


def sections(path):
    """The section names of an ELF file (readelf -S)."""
    out = subprocess.run(["readelf", "-S", "--wide", path], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", out, re.M))


def addr2line(path, addr):
    """[(function, file basename, line), ...] of ELF address addr in path,
    innermost first (addr2line -f -i): what the frames of an ip must say."""
    out = subprocess.run(["addr2line", "-f", "-i", "-e", path, hex(addr)],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    got = []
    for fn, loc in zip(out[0:-1:2], out[1::2]):
        m = re.fullmatch(r"(.*):(\d+|\?)( \(discriminator \d+\))?", loc)
        assert m, f"addr2line: {loc!r}"
        got.append((fn, os.path.basename(m.group(1)),
                    int(m.group(2)) if m.group(2) != "?" else None))
    return got


def attach(t, *mt_args, before_go=None):
    """lib.run_attach for a started target t (mode 'wait'): memtrace -f
    json -n 0 MT_ARGS -p PID; before_go(t) runs once tracing is live.
    Returns (final report, done pairs)."""
    rep, done, _ = lib.attach_started(t, ("-f", "json", "-n", "0") + tuple(mt_args),
                                      before_go=before_go)
    lib.check_totals_sane(rep)
    return rep, done


def launch(argv, *mt_args):
    """Launch mode: memtrace -f json -n 0 MT_ARGS -- ARGV, where ARGV runs
    a protocol target in mode 'wait' (its lines share memtrace's stdout).
    Go once tracing is live; after "done", stop memtrace (SIGINT), which
    writes its final report then waits for the command; release the
    command, and memtrace exits with its status. The target outlives the
    report, as a long-running service would. Returns (final report, done
    pairs)."""
    w = lib.ProbeWatch()
    m = lib.Memtrace("-f", "json", "-n", "0", *mt_args, "--", *argv)
    pid = m.wait_tracing()
    m.out.expect(r"^ready \d+$", what="target readiness")
    os.kill(pid, signal.SIGUSR1)
    done = lib.parse_done(m.out.expect(r"^done\b.*", what="target done").group(0))
    m.stop()
    m.out.expect(r'^\{.*"final":true', what="final report")
    os.kill(pid, signal.SIGUSR1)
    rc = m.wait()
    assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    w.assert_clean(mine=[m.pid, pid])
    rep = m.final()
    lib.check_totals_sane(rep)
    return rep, done


def check_frame(stack, i, **want):
    """Assert exact fields of stack['frames'][i]; 'file' is compared by
    basename, 'module' by full path."""
    frames = stack["frames"]
    if i >= len(frames):
        raise AssertionError(f"frame {i} wanted, the stack has {len(frames)}:\n"
                             + describe_frames(stack))
    f = frames[i]
    got = dict(f)
    if got.get("file"):
        got["file"] = os.path.basename(got["file"])
    bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    if bad:
        raise AssertionError(f"frame {i}: " + ", ".join(f"{k}={g!r} (want {w!r})"
                                                        for k, (g, w) in bad.items())
                             + "\n" + describe_frames(stack))
    return f


def describe_frames(stack):
    """The frames of a stack, one line each, for failure messages."""
    return "\n".join(f"  #{i} {f.get('function')} {f.get('file')}:{f.get('line')}"
                     f"{' (inlined)' if f.get('inlined') else ''} [{f.get('module')}"
                     f" +{f.get('offset')}]" for i, f in enumerate(stack["frames"]))
