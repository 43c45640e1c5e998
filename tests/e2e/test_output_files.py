"""Output files (issue 19): memtrace runs as root and users name files in
shared directories. In a sticky, world-writable directory like /tmp a
symbolic link planted under an output name is refused (one stderr line,
exit 1, before anything is attached; the link and its target untouched),
a file planted there is replaced by memtrace's own, never written
through, and every file memtrace makes has mode 0600 unless
--output-mode says otherwise (README "Output files", memtrace(8) OUTPUT
FILES)."""
import gzip
import json
import os
import re
import subprocess
import stat

import lib

NOBODY = 65534
OUTPUTS = ("--output", "--csv", "--pprof", "--collapsed", "--flamegraph", "--save-baseline")


def _sticky_dir():
    """A fresh directory like /tmp: mode 1777, owned by root."""
    d = lib.tmpdir()
    os.chmod(d, 0o1777)
    return d


def _plant_link(d, name, target, owner):
    path = os.path.join(d, name)
    os.symlink(target, path)
    os.lchown(path, owner, owner)
    return path


def _sysctl(name):
    try:
        with open(f"/proc/sys/fs/{name}") as f:
            return f.read().strip()
    except OSError:
        return "?"


def test_planted_symlinks_refused():
    """For every output option: a link planted by nobody or by root, to a
    root file or dangling to a file that does not exist yet, is refused
    whatever fs.protected_symlinks says; nothing is written, created or
    replaced, and nothing is attached."""
    d = _sticky_dir()
    victim = os.path.join(lib.tmpdir(), "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.chmod(victim, 0o644)
    created = os.path.join(lib.tmpdir(), "created-by-memtrace")
    t = lib.Target("faults", "hold", "wait")
    failures = []
    for opt in OUTPUTS:
        for owner in (NOBODY, 0):
            for target in (victim, created):
                name = f"{opt[2:]}-{owner}-{os.path.basename(target)}"
                link = _plant_link(d, name, target, owner)
                try:
                    lib.refused(["-f", "json", opt, link, "-d", "1", "-p", str(t.pid)],
                                r"^memtrace: cannot write %s .*symbolic link" % opt,
                                status=1, mine=[t.pid])
                except AssertionError as e:
                    failures.append(f"{opt} -> {name}: {e}")
                if not os.path.islink(link) or os.readlink(link) != target:
                    failures.append(f"{opt}: the link {name} was replaced")
    assert not failures, (f"fs.protected_symlinks={_sysctl('protected_symlinks')}\n"
                          + "\n".join(failures))
    with open(victim) as f:
        assert f.read() == "precious\n", "the link's target was written"
    assert not os.path.exists(created), "a file was created through a dangling link"
    leftovers = [n for n in os.listdir(d) if not os.path.islink(os.path.join(d, n))]
    assert not leftovers, f"files left in the directory: {leftovers}"
    t.go()
    assert t.wait_done() == {"blocks": 5, "bytes": 20480}


def _trace_with_outputs(d, extra=()):
    """A short real trace writing every output file into d; the paths."""
    paths = {opt: os.path.join(d, opt[2:]) for opt in OUTPUTS}
    args = ["-f", "json", "-n", "0", *extra]
    for opt, p in paths.items():
        args += [opt, p]
    rep, _, m = lib.run_attach("faults", "hold", "wait", mt_args=args,
                               output=paths["--output"])
    lib.check_stack(rep, "hold_blocks", "malloc", outstanding_bytes=20480)
    return paths, m


def _check_contents(paths):
    with open(paths["--csv"]) as f:
        assert f.readline().startswith("time,elapsed_s,pid,"), "no CSV header"
    with gzip.open(paths["--pprof"]) as f:
        assert len(f.read()) > 50, "empty pprof profile"
    with open(paths["--collapsed"]) as f:
        assert "hold_blocks" in f.read()
    with open(paths["--flamegraph"]) as f:
        assert "<svg" in f.read()
    with open(paths["--save-baseline"]) as f:
        assert json.load(f)["memtrace_baseline"] == 1


def test_files_are_0600_and_planted_files_replaced():
    """Every output in a sticky directory: mode 0600 owned by root, whatever
    the umask; a file nobody planted under the --output and --csv names is
    replaced, not written through: nobody's open descriptor of it still
    reads what nobody wrote."""
    d = _sticky_dir()
    planted = {}
    for opt in ("--output", "--csv"):
        p = os.path.join(d, opt[2:])
        with open(p, "w") as f:
            f.write("nobody's\n")
        os.chown(p, NOBODY, NOBODY)
        os.chmod(p, 0o666)
        planted[opt] = open(p)	# the planter keeps it open
    old_umask = os.umask(0)
    try:
        paths, _ = _trace_with_outputs(d)
    finally:
        os.umask(old_umask)
    for opt, p in paths.items():
        st = os.lstat(p)
        assert stat.S_ISREG(st.st_mode), f"{opt}: not a regular file"
        assert stat.S_IMODE(st.st_mode) == 0o600, f"{opt}: mode {stat.S_IMODE(st.st_mode):o}"
        assert st.st_uid == os.geteuid(), f"{opt}: owned by {st.st_uid}"
    for opt, f in planted.items():
        assert f.read() == "nobody's\n", f"{opt}: the planted file was written through"
        f.close()
    _check_contents(paths)
    assert not [n for n in os.listdir(d) if n.startswith(".memtrace.")], os.listdir(d)


def test_output_mode_option():
    """--output-mode 0640: every file exactly 0640 (umask 077 not applied)."""
    d = lib.tmpdir()
    old_umask = os.umask(0o077)
    try:
        paths, _ = _trace_with_outputs(d, extra=("--output-mode", "0640"))
    finally:
        os.umask(old_umask)
    for opt, p in paths.items():
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode == 0o640, f"{opt}: mode {mode:o}"


def test_output_to_devices_in_place():
    """A character device is written in place: --output /dev/null works and
    /dev/null stays the device it was."""
    before = os.stat("/dev/null")
    t = lib.Target("faults", "hold", "wait")
    m = lib.Memtrace("-f", "json", "--output", "/dev/null", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    t.go()
    t.wait_done()
    m.stop()
    assert m.wait() == 0, m.err.text()
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)
    assert not m.out.text().strip(), "the report went to stdout"


def test_disk_full_mid_run():
    """--output and --pprof on a file system that fills up (an 8 KiB tmpfs):
    memtrace says which file and why on stderr, exits 1, leaves nothing
    attached and no temporary file; the target runs on."""
    d = lib.tmpdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k,mode=0755", "tmpfs", d],
                       capture_output=True, text=True, timeout=lib.WAIT_S)
    if r.returncode:
        raise lib.Skip(f"cannot mount a tmpfs: {r.stderr.strip()}")
    try:
        w = lib.ProbeWatch()
        t = lib.Target("alloc_kinds", "malloc,calloc,realloc,top,many", "wait")
        out, prof = os.path.join(d, "out.jsonl"), os.path.join(d, "heap.pb.gz")
        m = lib.Memtrace("-f", "json", "-n", "0", "-i", "0.3", "--output", out,
                         "--pprof", prof, "--pprof-every", "-p", str(t.pid))
        assert m.wait_tracing() == t.pid
        t.go()
        t.wait_done()
        rc = m.wait()
        err = m.err.text()
        assert rc == 1, f"memtrace exited {rc}; stderr:\n{err}"
        assert re.search(r"^memtrace: cannot write (report to --output %s|pprof profile %s): "
                         r"No space left on device$" % (re.escape(out), re.escape(prof)),
                         err, re.M), err
        w.assert_clean(mine=[m.pid, t.pid])
        assert not [n for n in os.listdir(d) if n.startswith(".memtrace.")], os.listdir(d)
        assert t.alive(), "the target died"
        t.release()
        assert t.wait() == 0
    finally:
        subprocess.run(["umount", "-l", d], check=False, timeout=lib.WAIT_S)
