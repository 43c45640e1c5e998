"""Issue 19: the kernel paths memtrace takes are probed, shown and
consistent: -v and the report header ("kernel_paths") say which uprobe
links and which stack walker are in use, and which missing features fell
back; only the chosen walker's programs load (--unwind fp has none of the
dwarf walker's code). The kernel matrix (tools/kernels/) runs the same on
Debian's 6.1 and 6.12 kernels."""
import os
import re

import lib

DWARF_PROGS = {"mmap_exit", "mremap_exit"}
FP_PROGS = {"mmap_exit_fp", "mremap_exit_fp"}
# The walker's allocation return: a return program, or with uprobe session
# links (Linux 6.13+) the session program that also holds the entries.
# (without sessions, with sessions)
DWARF_RETURN = ("alloc_return", "alloc_sess")
FP_RETURN = ("alloc_return_fp", "alloc_sess_fp")


def walker_progs(names, k):
    """Which walker's programs names holds, as a set of 'dwarf'/'fp', each
    with exactly one return program, the one of the path k says."""
    walkers = set()
    for w, progs, rets in (("dwarf", DWARF_PROGS, DWARF_RETURN), ("fp", FP_PROGS, FP_RETURN)):
        if progs & names or set(rets) & names:
            assert progs <= names, (w, names)
            assert set(rets) & names == {rets[k["uprobe_session"]]}, (w, k, names)
            walkers.add(w)
    return walkers


def traced(*args, prefix=()):
    """Attach memtrace ARGS to alloc_kinds (malloc,mmap) and run it through:
    (final report, stderr text, names of the BPF programs memtrace held
    while tracing)."""
    t = lib.Target("alloc_kinds", "malloc,mmap", "wait")
    m = lib.Memtrace("-f", "json", "-n", "0", *args, "-p", str(t.pid), prefix=prefix)
    assert m.wait_tracing() == t.pid
    held = lib.prog_holders()
    names = {n for i, n in lib.memtrace_progs().items() if m.pid in held.get(i, ())}
    t.go()
    t.wait_done()
    m.stop()
    assert m.wait() == 0, m.err.text()
    t.release()
    assert t.wait() == 0
    return m.final(), m.err.text(), names


def test_report_says_the_paths_v_says():
    rep, err, names = traced("-v")
    k = rep["kernel_paths"]
    assert k["release"] == os.uname().release, k
    uprobes = re.search(r"^memtrace: uprobes through (uprobe_multi|perf-event) links(.*)$", err,
                        re.M)
    assert uprobes, err
    assert k["uprobes"] == ("uprobe_multi" if uprobes.group(1) == "uprobe_multi"
                            else "perf_event"), (k, uprobes.group(0))
    missing = [f for f in k["missing"].split(",") if f]
    assert k["fallbacks"] == len(missing), k
    # a perf-event fallback is counted as one, unless asked for by the knob
    if "this kernel has no uprobe_multi" in uprobes.group(2):
        assert "uprobe_multi" in missing, k
    assert re.search(r"^memtrace: stacks by the dwarf walker$", err, re.M), err
    assert rep["unwind"] == "dwarf" and "dwarf_walker" not in missing, (rep["unwind"], k)
    assert walker_progs(names, k) == {"dwarf"}, names


def test_fp_walker_loads_no_dwarf_program():
    rep, _, names = traced("--unwind", "fp")
    assert rep["unwind"] == "fp", rep["unwind"]
    assert "dwarf_walker" not in rep["kernel_paths"]["missing"], rep["kernel_paths"]
    assert walker_progs(names, rep["kernel_paths"]) == {"fp"}, names
    lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000, alloc_calls=3)


def test_dwarf_walker_fallback_is_said_and_counted():
    """Where the dwarf walker does not load, the fp walker does: one line on
    stderr, "unwind": "fp", dwarf_walker among the missing features.
    MEMTRACE_DWARF_WALKER=0 takes the same path on a kernel that has it."""
    rep, err, names = traced(prefix=("env", "MEMTRACE_DWARF_WALKER=0"))
    assert re.search(r"^memtrace: the dwarf stack walker does not load on this kernel "
                     r"\(MEMTRACE_DWARF_WALKER=0\); walking frame pointers", err, re.M), err
    k = rep["kernel_paths"]
    assert rep["unwind"] == "fp" and "dwarf_walker" in k["missing"].split(","), (rep["unwind"], k)
    assert k["fallbacks"] >= 1, k
    assert walker_progs(names, k) == {"fp"}, names
    lib.check_stack(rep, "leak_malloc", "malloc", outstanding_bytes=3000, alloc_calls=3)
