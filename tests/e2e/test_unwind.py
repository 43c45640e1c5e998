"""Issue 4 end to end: full stacks without frame pointers, through memtrace.

unwind_chain is built -O2 -fomit-frame-pointer and Debian's libc has no
frame pointers: only the .eh_frame tables walked inside BPF give whole
stacks. Debian's python3 is the same.
"""
import json
import os
import subprocess

import lib

THREAD_CHAIN = ["chain_d", "chain_c", "chain_b", "chain_a", "thread_main", "start_thread", "clone3"]
MAIN_CHAIN = ["chain_d", "chain_c", "chain_b", "chain_a", "main", "__libc_start_call_main",
              "__libc_start_main_impl", "_start"]


def run_json(args, stdin=None, timeout=60):
    """memtrace ARGS with -f json (reports to a file: the command's own
    output shares stdout); the final report, parsed."""
    out = os.path.join(lib.tmpdir(), "reports.json")
    p = subprocess.run([lib.memtrace_path(), "-f", "json", "-n", "0", "--output", out] + args,
                       input=stdin, capture_output=True, timeout=timeout)
    assert p.returncode == 0, p.stderr.decode()
    with open(out) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    assert lines and lines[-1]["final"], lines
    return lines[-1]


def names(stack):
    return [f["function"] for f in stack["frames"] if not f["inlined"]]


def chain_stacks(rep, kind):
    return {tuple(names(s)): s for s in rep["stacks"] if s["kind"] == kind and names(s)[:1] == ["chain_d"]}


def test_threads_full_chain_dwarf():
    """4 threads x 16 rounds (1 mmap + 15 mallocs of 100 B each) and the
    main thread the same: every stack is the whole chain down to the
    thread's start function, with exact bytes."""
    rep = run_json(["--", lib.target_path("unwind_chain"), "4", "16"], stdin=b"g")
    mallocs = chain_stacks(rep, "malloc")
    maps = chain_stacks(rep, "mmap")
    assert set(mallocs) == {tuple(THREAD_CHAIN), tuple(MAIN_CHAIN)}, list(mallocs)
    assert mallocs[tuple(THREAD_CHAIN)]["outstanding_bytes"] == 4 * 16 * 100
    assert mallocs[tuple(MAIN_CHAIN)]["outstanding_bytes"] == 16 * 100
    assert maps[tuple(THREAD_CHAIN)]["outstanding_bytes"] == 4 * 4096
    assert maps[tuple(MAIN_CHAIN)]["outstanding_bytes"] == 4096
    for s in list(mallocs.values()) + list(maps.values()):
        assert not s["unwind_error"] and not s["truncated"], s
    t = rep["totals"]
    assert rep["unwind"] == "dwarf"
    assert t["unwind_tables"] >= 3 and t["unwind_no_table"] == 0, t
    assert t["dropped_events"] == 0, t


def test_no_mmap_launch_keeps_libc_table():
    """--no-mmap in launch mode: libc is mapped after exec by the loader and
    learned from the mmap notification, which --no-mmap must not turn off:
    the stacks still run through libc to _start, and no mmap is counted."""
    rep = run_json(["--no-mmap", "--", lib.target_path("unwind_chain"), "4", "16"], stdin=b"g")
    mallocs = chain_stacks(rep, "malloc")
    assert set(mallocs) == {tuple(THREAD_CHAIN), tuple(MAIN_CHAIN)}, list(mallocs)
    for s in mallocs.values():
        assert not s["unwind_error"] and not s["truncated"], s
    assert not [s for s in rep["stacks"] if s["kind"] in ("mmap", "mremap")], rep["stacks"]
    t = rep["totals"]
    assert t["unwind_tables"] >= 3 and t["unwind_no_table"] == 0, t


def test_fp_mode_loses_frames():
    """The same program with --unwind fp cannot walk through frames that
    keep no frame pointer: the chain is not whole (this is what dwarf
    fixes, and why it is the default)."""
    rep = run_json(["--unwind", "fp", "--", lib.target_path("unwind_chain"), "4", "16"], stdin=b"g")
    assert rep["unwind"] == "fp"
    full = [s for s in rep["stacks"] if s["kind"] == "malloc" and names(s) == THREAD_CHAIN]
    assert not full, "fp unwinding unexpectedly walked the whole chain"
    # the bytes are still all there, at shorter stacks
    chained = sum(s["outstanding_bytes"] for s in rep["stacks"]
                  if s["kind"] == "malloc" and names(s)[:1] == ["chain_d"])
    assert chained == 5 * 16 * 100, chained


def test_deep_stack_truncated():
    """Deeper than 127 frames: the stack keeps 127 frames and is marked
    truncated, and the totals count it."""
    rep = run_json(["--", lib.target_path("unwind_chain"), "0", "4", "200"], stdin=b"g")
    deep = [s for s in rep["stacks"] if s["kind"] == "malloc" and names(s)[:1] == ["chain_d"]]
    assert deep, rep["stacks"]
    for s in deep:
        assert s["truncated"] and len([f for f in s["frames"] if not f["inlined"]]) == 127, s
    assert rep["totals"]["truncated_stacks"] >= 1


def test_python_reaches_eval_loop():
    """Debian's python3 (no frame pointers) holding 20 x 200001 B from a
    script: the stack of those blocks reaches the interpreter's evaluation
    loop and its entry point in libc."""
    if not os.path.exists("/usr/bin/python3"):
        raise lib.Skip("no /usr/bin/python3")
    script = ("import os\n"
              "def hold():\n"
              "    return [bytearray(200000) for _ in range(20)]\n"
              "x = hold()\n"
              "os._exit(0)\n")
    rep = run_json(["--", "/usr/bin/python3", "-c", script])
    held = [s for s in rep["stacks"] if s["kind"] == "malloc" and s["outstanding_allocs"] == 20
            and s["outstanding_bytes"] == 20 * 200001]
    assert len(held) == 1, [(s["kind"], s["outstanding_bytes"], s["outstanding_allocs"])
                            for s in rep["stacks"][:8]]
    fr = names(held[0])
    for want in ("_PyEval_EvalFrameDefault", "PyEval_EvalCode", "Py_BytesMain",
                 "__libc_start_main_impl"):
        assert want in fr, (want, fr)
    assert not held[0]["unwind_error"]


def test_memo_follows_the_caller():
    """The walker skips a walk that repeats the last one from the same call
    site (same registers, same stack words). via_x and via_y are the same
    code, so leaf's malloc returns with the same pc and sp under both and
    only one return address differs; outer_a/outer_b differ one frame
    further up. Every stack must keep its own exact bytes."""
    rounds = 50
    rep = run_json(["--", lib.target_path("memo_callers"), str(rounds)])
    got = {}
    for s in rep["stacks"]:
        n = names(s)
        if s["kind"] == "malloc" and n[:1] == ["leaf"]:
            key = tuple(n[:n.index("main") + 1])
            got[key] = got.get(key, 0) + s["outstanding_bytes"]
    assert got == {
        ("leaf", "via_x", "main"): rounds * 2 * 24,
        ("leaf", "via_y", "main"): rounds * 40,
        ("leaf", "via_x", "outer_a", "main"): rounds * 56,
        ("leaf", "via_x", "outer_b", "main"): rounds * 2 * 72,
    }, got
    assert rep["totals"]["dropped_events"] == 0, rep["totals"]
