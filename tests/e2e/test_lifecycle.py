"""The target's life beyond allocations (issue 20): exec ends the trace of
its image with a final report and one stderr line (the new image is never
mixed in); forked children are not traced, and the report says how many
there were."""
import os
import signal

import lib

# A dynamic program that allocates (malloc, and anonymous mmaps in its
# loader) as soon as it starts, then waits: what the old image's probes
# would count if exec did not end the trace.
NEW_IMAGE = ["/bin/sh", "-c", "x=$(echo allocate); exec sleep 60"]


def old_image_only(rep, why):
    """The report holds the old image's 20 x 1000 B at before_exec and
    nothing else: no stack of the new image, no mapping made after exec."""
    s = lib.check_stack(rep, "before_exec", "malloc", outstanding_bytes=20000,
                        outstanding_allocs=20, alloc_calls=20, free_calls=0)
    others = [x for x in rep["stacks"] if x is not s]
    assert not others, f"{why}: stacks besides before_exec:\n{lib.describe(rep)}"
    assert rep["totals"]["outstanding_bytes"] == 20000, rep["totals"]


def test_exec_ends_attach():
    """-p of a process that execs: memtrace writes the final report of the
    old image and exits 0 by itself (the new image still runs), one line
    on stderr says why, exec_count is 1, and nothing stays attached."""
    w = lib.ProbeWatch()
    t = lib.Target("exec_after", *NEW_IMAGE)
    m = lib.Memtrace("-f", "json", "-n", "0", "-i", "30", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    t.go()
    assert t.wait_done() == {"allocs": 20, "bytes": 20000}
    t.go()				# exec
    rc = m.wait()
    assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    assert t.alive(), "the new image should still run: memtrace must end at exec"
    lines = [ln for ln in m.stderr_lines() if "executed a new program" in ln]
    assert len(lines) == 1, m.err.text()
    assert f"pid {t.pid} (exec_after)" in lines[0] and "not traced" in lines[0], lines[0]
    rep = m.final()
    assert rep["exec_count"] == 1, rep.get("exec_count")
    assert rep["comm"] == "exec_after", rep["comm"]
    old_image_only(rep, "attach")
    w.assert_clean(mine=[m.pid, t.pid])


def test_exec_ends_launch_text():
    """-- CMD that execs after its own start: the command's own exec is
    traced as usual, its second exec ends the trace (text report says so);
    memtrace still waits for the command and exits with its status."""
    w = lib.ProbeWatch()
    m = lib.Memtrace("--", lib.target_path("exec_after"), "/bin/sh", "-c",
                     "x=$(echo allocate); exit 7")
    pid = m.wait_tracing()
    m.out.expect(r"^ready \d+$", what="target readiness")
    os.kill(pid, signal.SIGUSR1)
    m.out.expect(r"^done allocs=20 bytes=20000$", what="target done")
    os.kill(pid, signal.SIGUSR1)	# exec
    rc = m.wait()
    assert rc == 7, f"memtrace exited {rc}, want the command's 7; stderr:\n{m.err.text()}"
    text = m.out.text()
    assert "executed a new program" in m.err.text(), m.err.text()
    assert "tracing ended at exec" in text, text
    assert text.count("final report") == 1, text
    assert "before_exec" in text, text
    # the new image (dash) allocated at once: none of it may be in the report
    assert "[dash]" not in text and "/usr/bin/dash" not in text, text
    w.assert_clean(mine=[m.pid, pid])


def test_forks_are_counted():
    """A child of the target is not traced (its malloc is not in the
    report) and the report says the target forked one."""
    rep, done, _ = lib.run_attach("alloc_kinds", "fork", "wait")
    assert done["child_status"] == 0, done
    lib.check_no_stack(rep, "child_alloc", anywhere=True, why="(made in a forked child)")
    assert rep["forked_children"] == 1, rep.get("forked_children")
    assert rep["exec_count"] == 0, rep.get("exec_count")


def test_forks_text_line():
    """The text report says so too; threads are not forks."""
    t = lib.Target("alloc_kinds", "fork,threads", "wait")
    m = lib.Memtrace("-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    t.go()
    t.wait_done()
    m.stop()
    assert m.wait() == 0, m.err.text()
    t.release()
    assert "The target forked 1 child process: children are not traced." in m.out.text(), \
        m.out.text()
