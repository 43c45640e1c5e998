"""Every option that takes a value, given bad values (issue 19): one line
on stderr, a non-zero exit (2 for a bad value, 1 for a file or address
that cannot be used), no report, nothing left attached, the target
untouched. The table must name every option `memtrace --help` shows with
an argument; README and memtrace(8) document the statuses."""
import os
import re
import socket
import subprocess

import lib

BIG = "99999999999999999999"	# beyond 64 bits


def _files():
    """Bad files of every kind, in a fresh directory: (dir, paths)."""
    d = lib.tmpdir()
    p = {k: os.path.join(d, k) for k in ("empty", "garbage", "huge", "badjson", "victim",
                                          "link", "rules")}
    open(p["empty"], "w").close()
    with open(p["garbage"], "w") as f:
        f.write("\x00\x01garbage{{{\n")
    with open(p["huge"], "w") as f:	# sparse, past the 256 MiB a baseline may have
        f.truncate(300 << 20)
    with open(p["badjson"], "w") as f:
        f.write('{"memtrace_baseline": 1, "stacks": "not an array"}\n')
    with open(p["victim"], "w") as f:
        f.write("precious\n")
    os.symlink(p["victim"], p["link"])
    with open(p["rules"], "w") as f:
        f.write("good=fn:x\nbad rule\n")
    return d, p


def _cases(d, p, busy_port):
    """(argv, regex of the stderr line, exit status)."""
    usage = []

    def bad(opt, values, why, pre=(), post=("-p", "{pid}"), status=2):
        for v in values:
            usage.append(([*pre, opt, v, *post], why, status))

    bad("-p", ["0", "-1", "abc", BIG, "", "1x"], r"invalid PID", post=())
    bad("-d", ["0", "-1", "abc", "inf", "nan", "1e20", ""], r"invalid duration")
    bad("-i", ["0", "0.01", "-5", "1e20", "inf", "x"], r"invalid interval")
    bad("-n", ["-1", "x", BIG], r"invalid top count")
    bad("-f", ["xml", ""], r"invalid format")
    bad("--max-allocs", ["0", "-1", "1e6", BIG, str((1 << 28) + 1)], r"invalid --max-allocs")
    bad("--max-stacks", ["0", "-1", BIG, str((1 << 24) + 1)], r"invalid --max-stacks")
    bad("--unwind", ["lbr", ""], r"invalid --unwind")
    bad("-s", ["-1", "x", BIG, str((1 << 40) + 1)], r"invalid sample bytes")
    bad("--sample-seed", ["-1", "x", BIG], r"invalid --sample-seed")
    bad("--debug-dir", ["/nonexistent-memtrace", "/etc/passwd", ""], r"invalid --debug-dir")
    bad("-o", ["-1", "inf", "nan", "1e20", "x"], r"invalid age")
    bad("--fail-on", ["none", "x", ""], r"invalid --fail-on")
    bad("--max-growth", ["-1", "x", "inf", "1e400", "", "5MB/day"], r"invalid --max-growth")
    bad("--window", ["0", "-1", "inf", "x"], r"invalid value for window")
    for sev in ("low", "medium", "high", "critical"):
        bad(f"--sev-{sev}", ["-1", "x", "1e400"], rf"invalid value for sev-{sev}")
    bad("--sev-low", ["1e300"], r"inconsistent analysis settings")
    bad("--temp", ["-1", "inf", "x"], r"invalid value for temp")
    bad("--analysis", ["x"], r"invalid --analysis")
    bad("--analysis", ["x=1"], r"unknown analysis setting")
    bad("--analysis", ["window=", "min-r2=2"], r"invalid value for|inconsistent")
    bad("--category", ["x", "=fn:a", "a=zz:b", ""], r"invalid --category")
    bad("--categories", ["/nonexistent-memtrace", d], r"cannot read --categories")
    bad("--categories", [p["rules"]], r"rules:2: invalid category rule")
    bad("--http", ["x", "127.0.0.1:65536", "127.0.0.1:-1", "::1:80", "[::1", "",
                   "127.0.0.1:abc", ":"], r"invalid --http address")
    bad("--http", ["192.0.2.1:9", f"127.0.0.1:{busy_port}"], r"cannot serve on", status=1)
    bad("--output-mode", ["8", "0888", "01000", "-1", "x", "", "+600"],
        r"invalid --output-mode")
    bad("--baseline", ["/nonexistent-memtrace", p["empty"], p["garbage"], p["badjson"],
                       p["huge"], d], r"cannot load baseline", status=1)
    # files that cannot be written: no such directory, a directory, a
    # symbolic link, a read-only file system, an empty name
    unwritable = ["/nonexistent-memtrace/x", d, p["link"], "/proc/version", ""]
    for opt in ("--output", "--csv", "--pprof", "--collapsed", "--flamegraph",
                "--save-baseline"):
        bad(opt, unwritable, rf"cannot write {opt} ", status=1)
    # --system's own
    sysw = ("--system", "-d", "1")
    bad("--comm", ["(", "["], r"invalid --comm regex", pre=sysw, post=())
    bad("--exclude-comm", ["(", "["], r"invalid --exclude-comm regex", pre=sysw, post=())
    bad("--cgroup", ["/nonexistent-memtrace", ""], r"cgroup", pre=sysw, post=())
    bad("--deep", ["0", "65", "x"], r"invalid --deep", pre=sysw, post=())
    deep = (*sysw, "--deep", "1")
    bad("--deep-min", ["none", "x"], r"invalid --deep-min", pre=deep, post=())
    bad("--deep-duration", ["0", "inf", "86401", "x"], r"invalid --deep-duration", pre=deep,
        post=())
    bad("--deep-sample-bytes", ["-1", "x", BIG], r"invalid --deep-sample-bytes", pre=deep,
        post=())
    bad("--fault-sample", ["0", "x", BIG], r"invalid --fault-sample",
        pre=(*sysw, "--fault-stacks"), post=())
    bad("--metrics-top", ["0", "10001", "x"], r"invalid --metrics-top", pre=sysw, post=())
    bad("--kernel-sample", ["0", "-1", "x", str((1 << 30) + 1)], r"invalid --kernel-sample",
        pre=("--kernel",))
    # options that do not go together
    usage.append((["--csv", p["empty"] + ".x", "--pprof", p["empty"] + ".x", "-p", "{pid}"],
                  r"--csv and --pprof name the same file", 2))
    usage.append((["--pprof-every", "-p", "{pid}"], r"--pprof-every needs --pprof", 2))
    usage.append((["--kernel-sample", "4", "-p", "{pid}"], r"--kernel-sample needs --kernel", 2))
    usage.append((["--deep-min", "high", "--system"], r"go with --deep N", 2))
    usage.append((["--comm", "x", "-p", "{pid}"], r"go with --system", 2))
    return usage


def _help_value_options():
    """The long options `memtrace --help` shows with an argument (=ARG)."""
    out = subprocess.run([lib.memtrace_path(), "--help"], capture_output=True, text=True,
                         timeout=lib.WAIT_S).stdout
    return set(re.findall(r"(--[a-z][a-z-]*)=", out))


SHORT = {"-p": "--pid", "-d": "--duration", "-i": "--interval", "-n": "--top",
         "-f": "--format", "-s": "--sample-bytes", "-o": "--older"}


def test_every_bad_option_value():
    """The whole table, against one live target: each case refused with
    one stderr line and its status, nothing attached; every value option
    of --help is in the table; the planted symbolic link's target and the
    target process are untouched."""
    d, p = _files()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        cases = _cases(d, p, busy.getsockname()[1])
        tested = {SHORT.get(a[0], a[0]) for a, _, _ in cases} | \
            {SHORT.get(x, x) for a, _, _ in cases for x in a if x.startswith("-")}
        missing = _help_value_options() - tested
        assert not missing, f"options with a value the table does not try: {sorted(missing)}"
        t = lib.Target("faults", "hold", "wait")
        failures = []
        for argv, why, status in cases:
            argv = [a.replace("{pid}", str(t.pid)) for a in argv]
            try:
                lib.refused(argv, r"^memtrace: .*(" + why + ")", status=status, mine=[t.pid])
            except AssertionError as e:
                failures.append(f"memtrace {' '.join(repr(a) for a in argv)}: {e}")
        assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)
    with open(p["victim"]) as f:
        assert f.read() == "precious\n", "the symbolic link's target was written"
    assert os.path.islink(p["link"]), "the symbolic link was replaced"
    assert sorted(os.listdir(d)) == sorted(p), f"files left in {d}: {os.listdir(d)}"
    t.go()
    assert t.wait_done() == {"blocks": 5, "bytes": 20480}
    t.release()
    assert t.wait() == 0


def test_statuses_documented():
    """README and memtrace(8) give the statuses these tests hold memtrace to."""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    for doc in ("README.md", "docs/memtrace.8.scd"):
        with open(os.path.join(root, doc)) as f:
            text = " ".join(f.read().split())
        for want in (r"\b2\b[^.]*usage", r"\b1\b[^.]*error", r"\b3\b[^.]*--fail-on",
                     r"\b4\b[^.]*--max-growth", r"127", r"126", "--output-mode"):
            assert re.search(want, text, re.I), f"{doc} does not say {want!r}"
