"""Shipping memtrace (issue 18): the split package sets of
tools/install-deps.sh, `make install`/`make uninstall`, the man page
(lint-clean, every --help option documented), the bash completion, the
version in --version, JSON reports and /metrics, and the Debian package
(dpkg-buildpackage from a clean copy, lintian, dpkg -c, shlibs Depends,
dpkg -x into a throwaway root)."""
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import lib

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPS = os.path.join(TOP, "tools", "deps")
# Packages only the tests or benchmarks use: never in the build set.
TEST_ONLY = {"libcmocka-dev", "golang-go", "prometheus", "chromium", "libxml2-utils",
             "libjemalloc2", "libgoogle-perftools4", "bpftrace", "redis-server",
             "redis-tools", "mandoc", "lintian", "debhelper", "python3", "g++"}
AGENT_UNIT = os.path.join(TOP, "tools", "memtrace-agent.service")


def _run(argv, timeout=120, **kw):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    return out


def _ok(argv, timeout=120, **kw):
    out = _run(argv, timeout=timeout, **kw)
    assert out.returncode == 0, f"{' '.join(argv)} exited {out.returncode}:\n{out.stdout}{out.stderr}"
    return out.stdout


def _set(name):
    """The packages of tools/deps/NAME, in order."""
    with open(os.path.join(DEPS, name)) as f:
        return [ln.split("#")[0].strip() for ln in f if ln.split("#")[0].strip()]


def _version():
    """The version the build embeds (build/gen_version.h, from
    tools/version.sh): VERSION_BASE, +gHASH in a git checkout without a
    vX.Y.Z tag, .dirty with local changes; or git describe's of a tag."""
    with open(os.path.join(TOP, lib.OUT, "gen_version.h")) as f:
        ver = re.fullmatch(r'#define MEMTRACE_VERSION "([^"]+)"\n', f.read()).group(1)
    with open(os.path.join(TOP, "mk", "version.mk")) as f:
        base = re.search(r"^VERSION_BASE := (\S+)$", f.read(), re.M).group(1)
    assert re.fullmatch(rf"{re.escape(base)}(\+g[0-9a-f]{{7,}}(\.dirty)?)?|"
                        r"\d+\.\d+\.\d+(-\d+-g[0-9a-f]+)?(-dirty)?", ver), \
        f"version {ver!r} (VERSION_BASE {base})"
    return ver


def _help_long_options(memtrace):
    """The long options `memtrace --help` lists (its option column)."""
    text = _ok([memtrace, "--help"])
    opts = set()
    for ln in text.splitlines():
        m = re.match(r"^ {1,8}(-\S.*?)(?:  |$)", ln)
        if m:
            opts.update(re.findall(r"--[a-z0-9][a-z0-9-]*", m.group(1)))
    assert len(opts) > 20, f"too few options parsed from --help:\n{text}"
    return opts


def _man_text(page):
    """The page rendered by mandoc as plain text."""
    return re.sub(r".\x08", "", _ok(["mandoc", "-T", "ascii", "-O", "width=200", page]))


# ---- dependency sets ---------------------------------------------------------------

def _make_dry(goal):
    """The install-deps.sh command line `make -n GOAL` runs (besides the kernel
    matrix's own set, which make test asks for apart: it may fail, the matrix
    is then skipped)."""
    out = _ok(["make", "-n", "--no-print-directory", goal], cwd=TOP)
    cmds = [ln.strip() for ln in out.splitlines() if "install-deps.sh" in ln]
    kernels = [c for c in cmds if c.startswith("tools/install-deps.sh kernels")]
    assert len(kernels) == (goal == "test"), f"make -n {goal}: kernel set calls {kernels}"
    cmds = [c for c in cmds if c not in kernels]
    assert len(cmds) == 1, f"make -n {goal}: install-deps.sh calls {cmds}:\n{out}"
    return cmds[0]


def test_demo_installs_build_set_only():
    """make, make demo ask for the build set alone, make test for build, test
    and deb, make bench for build and bench; the build set names no package
    only tests or benchmarks use, and matches debian/control's Build-Depends
    (the package build proves it is enough)."""
    for goal, want in (("all", "build"), ("demo", "build"), ("test", "build test deb"),
                       ("bench", "build bench"), ("deb", "build deb")):
        cmd = _make_dry(goal)
        assert cmd == f"tools/install-deps.sh {want}", f"make {goal}: {cmd}"
    build = set(_set("build"))
    others = set(_set("test")) | set(_set("bench")) | set(_set("deb"))
    assert not build & TEST_ONLY, f"test-only packages in the build set: {build & TEST_ONLY}"
    assert not build & others, f"packages both in the build set and another: {build & others}"
    with open(os.path.join(TOP, "debian", "control")) as f:
        control = f.read()
    field = re.search(r"^Build-Depends:(.*?)^\S", control, re.M | re.S).group(1)
    bdeps = {re.sub(r"\s*\(.*", "", p.strip()) for p in field.split(",") if p.strip()}
    assert bdeps - {"debhelper-compat"} == build - {"make", "gcc", "libc6-dev"}, \
        f"Build-Depends {sorted(bdeps)} vs tools/deps/build {sorted(build)}"


def _fake_bin(d, dpkg_query_all_missing):
    """A PATH directory with an apt-get that logs its calls (and a
    dpkg-query that knows no package, when asked)."""
    bindir = os.path.join(d, "bin")
    os.makedirs(bindir)
    log = os.path.join(d, "apt.log")
    with open(os.path.join(bindir, "apt-get"), "w") as f:
        f.write(f'#!/bin/sh\necho "$*" >> {log}\n')
    if dpkg_query_all_missing:
        with open(os.path.join(bindir, "dpkg-query"), "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
    for n in os.listdir(bindir):
        os.chmod(os.path.join(bindir, n), 0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}")
    env.pop("MEMTRACE_APT_UPDATED", None)
    return env, log


def test_install_deps_prints_and_installs_the_set():
    """With nothing installed, the demo's set installs exactly tools/deps/build
    (after one apt-get update) and prints it; with everything installed
    (make test installed it), no apt call and no output."""
    d = lib.tmpdir()
    env, log = _fake_bin(os.path.join(d, "none"), True)
    out = _ok([os.path.join(TOP, "tools", "install-deps.sh"), "build"], env=env)
    build = _set("build")
    assert out.strip() == "install-deps (build): installing: " + " ".join(build), out
    with open(log) as f:
        calls = f.read().splitlines()
    assert calls[0] == "update -qq", calls
    assert calls[1].split()[:4] == ["install", "-y", "-qq", "--no-install-recommends"], calls
    assert calls[1].split()[4:] == build and len(calls) == 2, calls

    env, log = _fake_bin(os.path.join(d, "all"), False)
    for sets in (["build"], ["build", "test", "deb"]):
        out = _ok([os.path.join(TOP, "tools", "install-deps.sh"), *sets], env=env)
        assert out == "" and not os.path.exists(log), \
            f"install-deps.sh {sets} with every package present: {out!r}, apt: " \
            f"{open(log).read() if os.path.exists(log) else ''}"
    bad = _run([os.path.join(TOP, "tools", "install-deps.sh"), "nosuchset"], env=env)
    assert bad.returncode == 2 and "no package set 'nosuchset'" in bad.stderr, bad


# ---- make install -------------------------------------------------------------------

INSTALLED = ("sbin/memtrace", "share/man/man8/memtrace.8",
             "share/bash-completion/completions/memtrace", "share/doc/memtrace/README.md",
             "share/doc/memtrace/architecture.md", "share/memtrace/grafana-dashboard.json",
             "share/memtrace/prometheus-alerts.yml")


def _fleet_files():
    """share/memtrace/fleet/NAME for the fleet's dashboards, rules and configs."""
    d = os.path.join(TOP, "tools", "fleet")
    names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    return [f"share/memtrace/fleet/{n}" for n in names if re.search(r"\.(json|ya?ml)$", n)]


def _check_unit(path, exe):
    """The installed agent unit is tools/memtrace-agent.service with its
    ExecStart pointing at exe."""
    with open(path) as f:
        got = f.read()
    with open(AGENT_UNIT) as f:
        src = f.read()
    start = re.search(r"^ExecStart=(\S+)(.*)$", got, re.M)
    assert start and start.group(1) == exe, f"{path}: ExecStart {start and start.group(0)}"
    assert re.sub(r"^ExecStart=\S+", "", got, flags=re.M) == \
        re.sub(r"^ExecStart=\S+", "", src, flags=re.M), f"{path} differs from {AGENT_UNIT}"


def test_make_install_destdir():
    """make install DESTDIR=d (PREFIX /usr/local, then /usr) puts every file in
    place with its mode; the installed binary runs --version and --help;
    bash-completion loads the installed completion; make uninstall removes
    every file again."""
    d = lib.tmpdir()
    for prefix in ("/usr/local", "/usr"):
        dest = os.path.join(d, prefix.strip("/").replace("/", "_"))
        args = [f"DESTDIR={dest}"] + ([] if prefix == "/usr/local" else [f"PREFIX={prefix}"])
        _ok(["make", "--no-print-directory", "install", *args], cwd=TOP, timeout=300)
        root = dest + prefix
        want = list(INSTALLED) + _fleet_files()
        if os.path.exists(AGENT_UNIT):
            want.append("lib/systemd/system/memtrace-agent.service")
            _check_unit(os.path.join(root, want[-1]), f"{prefix}/sbin/memtrace")
        for rel in want:
            p = os.path.join(root, rel)
            assert os.path.isfile(p), f"make install {' '.join(args)}: no {p}"
            mode = os.stat(p).st_mode & 0o777
            assert mode == (0o755 if rel.startswith("sbin/") else 0o644), f"{p}: mode {mode:o}"
        exe = os.path.join(root, "sbin", "memtrace")
        assert _ok([exe, "--version"]).strip() == f"memtrace {_version()}"
        assert "--pid=PID" in _ok([exe, "--help"])
        # bash-completion's loader finds the completion where it was installed.
        loaded = _ok(["bash", "-c", "source /usr/share/bash-completion/bash_completion && "
                      "_completion_loader memtrace; complete -p memtrace"],
                     env=dict(os.environ, XDG_DATA_DIRS=os.path.join(root, "share")))
        assert loaded.strip() == "complete -F _memtrace memtrace", loaded
        _ok(["make", "--no-print-directory", "uninstall", *args], cwd=TOP)
        left = [os.path.join(r, f) for r, _, fs in os.walk(dest) for f in fs]
        assert not left, f"make uninstall left {left}"


# ---- man page -----------------------------------------------------------------------

def test_man_page_lints_clean():
    """build/memtrace.8: no message from `mandoc -T lint` (any level) nor
    from `groff -ww`; it has the sections the issue asks for and carries the
    build's version."""
    page = os.path.join(TOP, lib.OUT, "memtrace.8")
    lint = _run(["mandoc", "-T", "lint", page])
    assert lint.returncode == 0 and not lint.stdout and not lint.stderr, \
        f"mandoc -T lint:\n{lint.stdout}{lint.stderr}"
    groff = _run(["groff", "-ww", "-man", "-Tutf8", "-z", page])
    assert groff.returncode == 0 and not groff.stderr, f"groff -ww:\n{groff.stderr}"
    text = _man_text(page)
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "JSON OUTPUT",
                "ENVIRONMENT", "FILES", "SECURITY", "EXAMPLES", "SEE ALSO"):
        assert re.search(rf"^{sec}$", text, re.M), f"no section {sec} in the man page"
    assert f"memtrace {_version()}" in text, "the man page does not carry the version"


def test_man_page_documents_every_option():
    """Every long option `memtrace --help` prints is an entry of the man
    page's OPTIONS section, and every entry there is a real option."""
    page = os.path.join(TOP, lib.OUT, "memtrace.8")
    text = _man_text(page)
    opts = re.search(r"^OPTIONS$(.*?)^EXIT STATUS$", text, re.M | re.S).group(1)
    # Entry lines: option names at the entry indent (descriptions are deeper).
    terms = set()
    for ln in opts.splitlines():
        if re.match(r"^ {7}-", ln):
            terms.update(re.findall(r"--[a-z0-9][a-z0-9-]*", ln))
    helped = _help_long_options(lib.memtrace_path())
    assert not helped - terms, \
        f"options of --help missing from the man page OPTIONS: {sorted(helped - terms)}"
    assert not terms - helped, f"man page entries that are no option: {sorted(terms - helped)}"


# ---- bash completion ----------------------------------------------------------------

def _complete(words, path_dir):
    """COMPREPLY of the completion file for the command line words (the
    last one being completed), memtrace found in path_dir."""
    script = (f"source {TOP}/tools/memtrace-completion.bash\n"
              "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n"
              "_memtrace; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    env = dict(os.environ, PATH=f"{path_dir}:{os.environ['PATH']}")
    out = _ok(["bash", "-c", script, "complete", *words], env=env)
    return [ln for ln in out.splitlines() if ln]


def test_bash_completion():
    """Options complete from --help (all long ones for "--"), the values of
    --format and --unwind, and -p a pid: by comm (the one pid of a uniquely
    named process) and by pid prefix (listed as "PID (comm)"); --comm a
    process name, --cgroup a cgroup v2 path."""
    bindir = os.path.dirname(lib.memtrace_path())
    got = set(_complete(["memtrace", "--"], bindir))
    helped = _help_long_options(lib.memtrace_path())
    assert helped <= got, f"not completed: {sorted(helped - got)}"
    assert _complete(["memtrace", "--max-a"], bindir) == ["--max-allocs"]
    assert _complete(["memtrace", "-f", "j"], bindir) == ["json"]
    assert sorted(_complete(["memtrace", "--unwind", ""], bindir)) == ["dwarf", "fp"]
    assert _complete(["memtrace", "-d", ""], bindir) == []

    d = lib.tmpdir()
    name = f"mtcomp{os.getpid() % 100000}"
    exe = os.path.join(d, name)
    shutil.copy("/bin/sleep", exe)
    p = lib.spawn([exe, "30"])
    assert _complete(["memtrace", "-p", name[:-1]], bindir) == [str(p.pid)]
    assert _complete(["memtrace", f"--pid={name}"], bindir) == [str(p.pid)]
    full = _complete(["memtrace", "-p", str(p.pid)], bindir)
    assert full == [str(p.pid)] or f"{p.pid} ({name})" in full, full
    listed = _complete(["memtrace", "-p", ""], bindir)
    assert f"{p.pid} ({name})" in listed, listed
    assert not [c for c in listed if not re.match(r"^\d+ \(.*\)$", c)], listed
    assert _complete(["memtrace", "--system", "--comm", name[:-1]], bindir) == [name]

    # --cgroup: paths below the cgroup2 mount, as /proc/PID/cgroup names them.
    with open("/proc/self/mounts") as f:
        mnt = [ln.split()[1] for ln in f if ln.split()[2] == "cgroup2"]
    if mnt:
        cg = os.path.join(mnt[0], name)
        os.mkdir(cg)
        try:
            assert _complete(["memtrace", "--system", f"--cgroup=/{name[:-1]}"], bindir) == \
                [f"/{name}/"]
        finally:
            os.rmdir(cg)


# ---- version --------------------------------------------------------------------------

def test_version_in_reports_and_metrics():
    """--version prints "memtrace VERSION" (tools/version.sh's); every JSON
    report carries "version": VERSION and /metrics memtrace_build_info
    {version="VERSION"} 1. VERSION_BASE matches debian/changelog."""
    ver = _version()
    assert _ok([lib.memtrace_path(), "--version"]).strip() == f"memtrace {ver}"
    with open(os.path.join(TOP, "debian", "changelog")) as f:
        deb = re.match(r"^memtrace \(([^)-]+)", f.read()).group(1)
    assert ver == deb or ver.startswith(deb + "+") or ver.startswith(deb + "-"), \
        f"version {ver} vs debian/changelog {deb}: bump both"

    want = f'memtrace_build_info{{version="{ver}"}} 1'
    port = _free_port()
    t = lib.Target("outputs_leaks", "wait")
    m = lib.Memtrace("-f", "json", "-i", "0.2", "--http", f"127.0.0.1:{port}", "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    body = _get_metrics(port)
    assert want in body.splitlines(), f"no {want!r} in /metrics:\n{body[:3000]}"
    t.go()
    t.wait_done()
    m.stop()
    assert m.wait() == 0, m.err.text()
    t.release()
    assert t.wait() == 0, t.err.text()
    reps = m.reports()
    assert reps and all(r.get("version") == ver for r in reps), \
        [r.get("version") for r in reps]

    # The host-wide sweep (the agent's mode): the same in its reports and /metrics.
    port = _free_port()
    m = lib.Memtrace("--system", "--comm", "^memtrace-none$", "-f", "json", "-i", "0.3",
                     "-d", "3", "--http", f"127.0.0.1:{port}")
    body = _get_metrics(port)
    assert want in body.splitlines(), f"--system: no {want!r} in /metrics:\n{body[:3000]}"
    assert m.wait() == 0, m.err.text()
    reps = m.reports()
    assert reps and all(r.get("mode") == "system" and r.get("version") == ver for r in reps), \
        [(r.get("mode"), r.get("version")) for r in reps]


def _free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_metrics(port):
    """The body of /metrics on 127.0.0.1:port, once it answers 200."""
    deadline = time.monotonic() + lib.WAIT_S
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()
        except (urllib.error.URLError, ConnectionError) as e:
            assert time.monotonic() < deadline, f"/metrics: {e}"
            time.sleep(0.1)


# ---- Debian package -------------------------------------------------------------------

def test_deb_package():
    """tools/build-deb.sh (make deb): dpkg-buildpackage -us -uc -b from a clean
    copy builds memtrace_VERSION_ARCH.deb, lintian finds nothing; dpkg -c lists
    the binary, man page, completion, docs, dashboards (and the agent's unit
    when tools/ has it); Depends comes from shlibs (the libraries the binary
    links); dpkg -x into a throwaway root gives a memtrace whose --version is
    the package's."""
    d = lib.tmpdir()
    t0 = time.monotonic()
    out = _ok([os.path.join(TOP, "tools", "build-deb.sh"), d], timeout=600)
    took = time.monotonic() - t0
    assert "build-deb: lintian clean" in out, out
    debs = [f for f in os.listdir(d) if f.endswith(".deb")]
    assert len(debs) == 1, debs
    deb = os.path.join(d, debs[0])
    with open(os.path.join(TOP, "debian", "changelog")) as f:
        version = re.match(r"^memtrace \(([^)]+)\)", f.read()).group(1)
    assert debs[0].startswith(f"memtrace_{version}_"), debs

    listing = _ok(["dpkg", "-c", deb])
    files = {ln.split()[-1].lstrip(".") for ln in listing.splitlines()}
    want = {"/usr/sbin/memtrace", "/usr/share/man/man8/memtrace.8.gz",
            "/usr/share/bash-completion/completions/memtrace",
            "/usr/share/doc/memtrace/copyright", "/usr/share/memtrace/grafana-dashboard.json",
            "/usr/share/memtrace/prometheus-alerts.yml"}
    want |= {"/usr/" + f for f in _fleet_files()}
    if os.path.exists(AGENT_UNIT):
        want.add("/lib/systemd/system/memtrace-agent.service")
    assert want <= files, f"dpkg -c lacks {sorted(want - files)}:\n{listing}"

    with open(os.path.join(TOP, "debian", "control")) as f:
        control = f.read()
    assert re.search(r"^Depends: \$\{shlibs:Depends\}, \$\{misc:Depends\}$", control, re.M), \
        "debian/control's Depends must be the shlibs substitution, not a hand list"

    root = os.path.join(d, "root")
    _ok(["dpkg", "-x", deb, root])
    upstream = version.split("-")[0]
    depends = _ok(["dpkg-deb", "-f", deb, "Depends"]).strip()
    # The package of each library the packaged binary links (NEEDED), as the loader
    # resolves it.
    exe = os.path.join(root, "usr", "sbin", "memtrace")
    needed = re.findall(r"NEEDED\s+(\S+)", _ok(["objdump", "-p", exe]))
    where = dict(re.findall(r"^\s*(\S+) => (/\S+)", _ok(["ldd", exe]), re.M))
    assert len(needed) >= 8 and set(needed) <= set(where), (needed, where)
    for so in needed:
        path = where[so]
        owner = _run(["dpkg", "-S", path])
        if owner.returncode:
            owner = _run(["dpkg", "-S", os.path.realpath(path)])
        pkg = owner.stdout.split(":")[0]
        assert owner.returncode == 0 and re.search(rf"(^|, ){re.escape(pkg)}( |,|$)", depends), \
            f"{so} ({path}, package {pkg!r}) not in Depends: {depends}"
    if os.path.exists(AGENT_UNIT):
        _check_unit(os.path.join(root, "lib/systemd/system/memtrace-agent.service"),
                    "/usr/sbin/memtrace")
    assert _ok([os.path.join(root, "usr", "sbin", "memtrace"), "--version"]).strip() == \
        f"memtrace {upstream}"
    man = _ok(["man", "-l", os.path.join(root, "usr/share/man/man8/memtrace.8.gz")],
              env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
    assert "memtrace -p 1234" in man and upstream in man, man[:500]
    print(f"     .deb built and checked in {took:.0f} s")
