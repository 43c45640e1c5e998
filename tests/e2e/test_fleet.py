"""Fleet tools and a real fleet (issue 13, sections 3 and 4).

The tools in tools/ and tools/fleet/ are checked by the programs they are
for: promtool (rules, their unit tests, scrape configs), systemd-analyze
(the unit), and the live agents and Prometheus of test_fleet (the
capabilities of the unit and the DaemonSet, the dashboard's queries).

test_fleet: three test hosts in network namespaces (tests/e2e/fleet.py),
each with a memtrace agent (memtrace --system --http, as the unit, the
DaemonSet and by hand) and sys_grow targets;
h0 runs a process leaking 2 MiB/s, the others steady and churning ones. A
real Prometheus on loopback scrapes the agents with the shipped scrape job
and evaluates the shipped fleet rules (their for: shortened). Assertions go
through Prometheus's HTTP API: the fleet's top leaker is h0's leaking
process, its growth within 25% of the true rate, the leak alert pending
then firing for it and for nothing else.
"""
import gzip
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time

import fleet
import lib
import promlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
FLEET = os.path.join(TOOLS, "fleet")
UNIT = os.path.join(TOOLS, "memtrace-agent.service")
DAEMONSET = os.path.join(FLEET, "memtrace-daemonset.yaml")
RULES = os.path.join(FLEET, "memtrace-fleet-rules.yml")
RULE_TESTS = os.path.join(FLEET, "memtrace-fleet-rules.test.yml")
PROM_CONFIG = os.path.join(FLEET, "prometheus.yml")
PROM_K8S = os.path.join(FLEET, "prometheus-kubernetes.yml")
DASHBOARD = os.path.join(FLEET, "grafana-fleet-dashboard.json")
PARCA = os.path.join(FLEET, "parca.yaml")
ALLOY = os.path.join(FLEET, "pyroscope.alloy")

MIB = 1 << 20
LEAK_BPS = 2 * MIB		# the leaker's true rate (sys_grow leak)
LEAK_LIMIT = 200e6 / 3600	# the shipped alert's threshold, 200 MB/h
AGENT_PORT = 9453
# The metric names the agent exports (issue 13, section 3; public).
PROCESS_METRICS = ("memtrace_process_rss_anon_bytes", "memtrace_process_swap_bytes",
                   "memtrace_process_heap_bytes", "memtrace_process_anon_map_bytes",
                   "memtrace_process_growth_bytes_per_second", "memtrace_process_severity")
AGENT_METRICS = PROCESS_METRICS + (
    "memtrace_processes", "memtrace_process_other_rss_anon_bytes",
    "memtrace_sweep_events_total", "memtrace_dropped_events_total",
    "memtrace_bpf_run_time_seconds_total", "memtrace_map_fill_ratio")


def _yaml():
    try:
        import yaml
    except ImportError:
        raise AssertionError("python3-yaml is missing: run tools/install-deps.sh") from None
    return yaml


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise lib.Skip(f"{name} is not installed")
    return path


def _run(argv, ok=True, cwd=None):
    """(status, stdout+stderr) of argv; with ok, a non-zero status fails."""
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd)
    text = out.stdout + out.stderr
    if ok and out.returncode:
        raise AssertionError(f"{' '.join(argv)} exited {out.returncode}:\n{text}")
    return out.returncode, text


# ---- the unit and the DaemonSet ----------------------------------------------

def unit_settings():
    """{key: [values]} of the [Service] section of the unit."""
    got, section = {}, None
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and line and not line.startswith("#"):
                k, _, v = line.partition("=")
                got.setdefault(k, []).append(v)
    return got


def unit_caps(key="AmbientCapabilities"):
    return {c.removeprefix("CAP_").lower() for v in unit_settings()[key] for c in v.split()}


def unit_args():
    """memtrace's arguments in the unit's ExecStart."""
    argv = shlex.split(unit_settings()["ExecStart"][0])
    assert argv[0] == "/usr/local/bin/memtrace", argv
    return argv[1:]


def daemonset():
    docs = [d for d in _yaml().safe_load_all(open(DAEMONSET)) if d]
    ds = [d for d in docs if d.get("kind") == "DaemonSet"]
    assert len(ds) == 1, [d.get("kind") for d in docs]
    return docs, ds[0]


def ds_container():
    pod = daemonset()[1]["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1, pod["containers"]
    return pod, pod["containers"][0]


def ds_caps():
    return {c.lower() for c in ds_container()[1]["securityContext"]["capabilities"]["add"]}


def for_test(args, addr, comm_rx):
    """Agent arguments of a shipped file, for a test host: its address,
    reports every second, its own processes. No -d: an agent runs until
    stopped (the test ends it, or the next run if this one dies)."""
    out = list(args)
    out[out.index("--http") + 1] = f"{addr}:{AGENT_PORT}"
    out[out.index("-i") + 1] = "1"
    return out + ["--comm", comm_rx]


def _filter_set(tool, names):
    """The system calls a SystemCallFilter= list allows (groups expanded)."""
    out, todo, seen = set(), list(names), set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if not n.startswith("@"):
            out.add(n)
            continue
        _, text = _run([tool, "syscall-filter", n])
        body = text.split("\n\n")[0].splitlines()[1:]	# the group's own block
        todo += [w.strip() for w in body if w.strip() and not w.strip().startswith("#")]
    return out


def _agent_syscalls(workdir):
    """System calls of an agent run with the unit's arguments (a deep trace
    of a leaking process, each endpoint served once), by strace."""
    port, trace = lib.free_port(), os.path.join(workdir, "strace.out")
    comm = f"mtfl{os.getpid()}"[:15]
    leak = lib.Target("sys_grow", comm, "leak", str(LEAK_BPS))
    args = for_test(unit_args(), "127.0.0.1", f"^{comm}$")
    args[args.index("--http") + 1] = f"127.0.0.1:{port}"
    m = lib.Memtrace(*args, "--deep-duration", "2", prefix=["strace", "-f", "-qq", "-o", trace])
    m.err.expect(rf"^memtrace: deep trace of pid {leak.pid} ", timeout=60, what="deep trace")
    lib.wait_for("a deep report", lambda: json.loads(lib.http(
        f"http://127.0.0.1:{port}/report.json")[2]).get("deep"), timeout=30, every=0.5)
    for path in ("/metrics", "/report.json", "/debug/pprof/heap",
                 f"/debug/pprof/heap?pid={leak.pid}"):
        assert lib.http(f"http://127.0.0.1:{port}{path}")[0] == 200, path
    with open(f"/proc/{m.pid}/task/{m.pid}/children") as f:
        agent = int(f.read().split()[0])	# strace's child: the agent
    os.kill(agent, signal.SIGINT)
    assert m.wait(30) == 0, m.err.text()
    with open(trace) as f:
        return {m.group(1) for m in re.finditer(
            r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)(?:\(| resumed)", f.read(), re.M)}


def test_systemd_unit():
    tool = _tool("systemd-analyze")
    s = unit_settings()
    for key, want in (("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                      ("NoNewPrivileges", "yes"), ("DynamicUser", "yes"),
                      ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"),
                      ("ProtectControlGroups", "yes"), ("RestrictNamespaces", "yes"),
                      ("MemoryDenyWriteExecute", "yes"), ("ProtectProc", "default")):
        assert s.get(key) == [want], f"{key}={s.get(key)}, want {want}"
    assert "ProcSubset" not in s, "the agent reads every /proc/PID"
    caps = unit_caps()
    assert caps == unit_caps("CapabilityBoundingSet"), "bounding set != ambient capabilities"
    assert caps == {"bpf", "perfmon", "sys_ptrace", "dac_read_search"}, caps
    assert caps == ds_caps(), f"unit {caps} and DaemonSet {ds_caps()} differ"
    args = unit_args()
    assert args[0] == "--system" and "--http" in args, args
    d = fleet.workdir()
    try:
        unit = os.path.join(d, "memtrace-agent.service")
        with open(UNIT) as f:
            text = f.read().replace("/usr/local/bin/memtrace", lib.memtrace_path())
        with open(unit, "w") as f:
            f.write(text)
        rc, out = _run([tool, "verify", unit], ok=False)
        assert rc == 0 and not out.strip(), f"systemd-analyze verify: {rc}\n{out}"
        # every system call the agent makes passes the unit's filter
        if shutil.which("strace"):
            used = _agent_syscalls(d)
            assert len(used) > 20, used
            denied = used - _filter_set(tool, s["SystemCallFilter"][0].split())
            assert not denied, f"SystemCallFilter= denies {sorted(denied)}"
        else:
            print("  strace is not installed: SystemCallFilter= not checked")
        rc, out = _run([tool, "security", "--offline=true", unit], ok=False)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+)", out)
        if "--offline" in out and "unrecognized" in out:
            print("  systemd-analyze security --offline: not supported here")
        else:
            assert rc == 0 and m, out
            assert float(m.group(1)) <= 3.0, f"exposure {m.group(1)} > 3.0:\n{out}"
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_daemonset_manifest():
    docs, ds = daemonset()
    assert ds["apiVersion"] == "apps/v1", ds["apiVersion"]
    pod, c = ds_container()
    name = ds["metadata"]["labels"]["app.kubernetes.io/name"]
    assert ds["spec"]["selector"]["matchLabels"] == ds["spec"]["template"]["metadata"]["labels"]
    assert pod["hostPID"] is True, "the agent must see the node's processes"
    assert not pod.get("hostNetwork"), "not needed: Prometheus scrapes the pod"
    sc = c["securityContext"]
    assert sc["capabilities"]["drop"] == ["ALL"] and not sc.get("privileged"), sc
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True, sc
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind]), c["resources"]
    # every mount has its volume, and the host paths exist on a host like this one
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    for path in ("/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/cgroup"):
        assert path in mounts, f"no mount of {path}"
        v = vols[mounts[path]["name"]]
        assert v["hostPath"]["path"] == path and mounts[path]["readOnly"], (path, v)
        assert os.path.isdir(path), f"{path} missing on this host"
    assert all(m["name"] in vols for m in c["volumeMounts"])
    # the scrape job of prometheus-kubernetes.yml keeps this pod's port
    port = [p for p in c["ports"] if p["name"] == "metrics"]
    assert port and port[0]["containerPort"] == AGENT_PORT, c["ports"]
    job = _yaml().safe_load(open(PROM_K8S))["scrape_configs"][0]
    keeps = {tuple(r["source_labels"]): r["regex"] for r in job["relabel_configs"]
             if r.get("action") == "keep"}
    assert keeps[("__meta_kubernetes_pod_label_app_kubernetes_io_name",)] == name, keeps
    assert keeps[("__meta_kubernetes_pod_container_port_name",)] == "metrics", keeps
    assert c["args"][c["args"].index("--http") + 1] == f"0.0.0.0:{AGENT_PORT}", c["args"]


# ---- Prometheus files -----------------------------------------------------------

def test_fleet_rules_promtool():
    promtool = _tool("promtool")
    _, out = _run([promtool, "check", "rules", RULES])
    n = sum(len(g["rules"]) for g in _yaml().safe_load(open(RULES))["groups"])
    assert f"SUCCESS: {n} rules found" in out, out
    _, out = _run([promtool, "test", "rules", RULE_TESTS], cwd=FLEET)
    assert "SUCCESS" in out, out
    # The rule tests fail on a rule that fires below 200 MB/h or too soon.
    d = fleet.workdir()
    try:
        with open(RULES) as f:
            rules = f.read()
        with open(RULE_TESTS) as f:
            tests = f.read()
        for what, bad in (("threshold 150 MB/h", rules.replace("200e6 / 3600", "150e6 / 3600")),
                          ("for: 20m", rules.replace("for: 30m", "for: 20m"))):
            assert bad != rules
            with open(os.path.join(d, "memtrace-fleet-rules.yml"), "w") as f:
                f.write(bad)
            with open(os.path.join(d, "t.yml"), "w") as f:
                f.write(tests)
            rc, out = _run([promtool, "test", "rules", "t.yml"], ok=False, cwd=d)
            assert rc != 0 and "FAILED" in out, f"rule tests pass with {what}:\n{out}"
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_fleet_scrape_configs_promtool():
    promtool = _tool("promtool")
    _, out = _run([promtool, "check", "config", PROM_CONFIG])
    assert "SUCCESS: 2 rule files found" in out, out
    rc, out = _run([promtool, "check", "config", PROM_K8S], ok=False)
    if rc and "field kubernetes_sd_configs not found" in out:
        # This build has no Kubernetes discovery (Debian's): check the rest.
        yaml = _yaml()
        cfg = yaml.safe_load(open(PROM_K8S))
        cfg["rule_files"] = [os.path.join(FLEET, r) for r in cfg["rule_files"]]
        for job in cfg["scrape_configs"]:
            assert job.pop("kubernetes_sd_configs") == [{"role": "pod"}], job
            job["static_configs"] = [{"targets": [f"127.0.0.1:{AGENT_PORT}"]}]
        d = fleet.workdir()
        try:
            path = os.path.join(d, "prometheus-kubernetes.yml")
            with open(path, "w") as f:
                yaml.safe_dump(cfg, f)
            _, out = _run([promtool, "check", "config", path])
        finally:
            shutil.rmtree(d, ignore_errors=True)
        print("  prometheus-kubernetes.yml: checked with static targets "
              "(promtool here has no Kubernetes discovery)")
    assert "SUCCESS: 2 rule files found" in out, out


# ---- Parca and Pyroscope ------------------------------------------------------------

def profile_paths():
    """{scraper: path} of the heap profile each scraper config fetches from
    an agent; checks that nothing else is fetched (the agent serves only it)."""
    out = {}
    for job in _yaml().safe_load(open(PARCA))["scrape_configs"]:
        pc = job["profiling_config"]["pprof_config"]
        off = {"block", "mutex", "goroutine", "process_cpu"}	# Parca's other defaults
        assert all(pc[k]["enabled"] is False for k in off), (job["job_name"], pc)
        assert pc["memory"]["enabled"] is True, pc
        assert "scrape_timeout" not in job or job["scrape_timeout"] > job["scrape_interval"]
        out.setdefault("parca", set()).add(pc["memory"]["path"])
    with open(ALLOY) as f:
        alloy = f.read()
    blocks = dict(re.findall(r"profile\.(\w+) \{([^}]*)\}", alloy))
    assert set(blocks) == {"memory", "process_cpu", "block", "mutex", "goroutine"}, blocks
    for name, body in blocks.items():
        want = "true" if name == "memory" else "false"
        assert re.search(rf"^\s*enabled\s*=\s*{want}$", body, re.M), (name, body)
    out["pyroscope"] = set(re.findall(r'path\s*=\s*"([^"]+)"', blocks["memory"]))
    assert all(len(v) == 1 for v in out.values()), out
    return {k: v.pop() for k, v in out.items()}


def check_pprof(body, what):
    """body is a gzip'd pprof Profile with memtrace's four heap sample types."""
    try:
        raw = gzip.decompress(body)
    except OSError as e:
        raise AssertionError(f"{what}: not gzip ({e}): {body[:80]!r}") from None
    for t in (b"alloc_objects", b"alloc_space", b"inuse_objects", b"inuse_space", b"bytes"):
        assert t in raw, f"{what}: no sample type string {t!r}"


def test_profile_scrape_configs():
    assert profile_paths() == {"parca": "/debug/pprof/heap", "pyroscope": "/debug/pprof/heap"}


# ---- the Grafana dashboard ----------------------------------------------------------

def dashboard_exprs():
    """[(panel title, PromQL with the dashboard's variables set)]."""
    with open(DASHBOARD) as f:
        text = f.read()
    assert text.count("\n") < 800, "dashboard over 800 lines"
    dash = json.loads(text)
    out = []
    subst = {"$instance": ".*", "$job": "memtrace-agent", "$topk": "10",
             "$__rate_interval": "1m"}
    for p in dash["panels"]:
        for t in p.get("targets", []):
            e = t["expr"]
            for k, v in subst.items():
                e = e.replace(k, v)
            assert "$" not in e, f"unknown variable in {t['expr']}"
            out.append((p["title"], e))
    return dash, out


def test_grafana_fleet_dashboard():
    dash, exprs = dashboard_exprs()
    assert dash["uid"] and dash["title"] and len(dash["panels"]) >= 10
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    names = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "instance", "topk"} <= names, names
    # every metric it reads is one the agent exports or a shipped recording rule
    records = {r["record"] for g in _yaml().safe_load(open(RULES))["groups"]
               for r in g["rules"] if "record" in r}
    stack = {"memtrace_stack_outstanding_bytes", "memtrace_stack_growth_bytes_per_second"}
    used = set()
    for _, e in exprs:
        used |= set(re.findall(r"\b(memtrace[_:][a-z_:]*)", e))
    assert used <= set(AGENT_METRICS) | records | stack, used - set(AGENT_METRICS) - records - stack
    assert set(PROCESS_METRICS) <= used, set(PROCESS_METRICS) - used


# ---- the fleet -----------------------------------------------------------------------

def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _rss_anon(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^RssAnon:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024


def _caps_prefix(caps, user):
    """setpriv: exactly caps (and with user, as that user)."""
    c = ",".join(f"+{x}" for x in sorted(caps))
    argv = ["setpriv", "--no-new-privs", f"--inh-caps=-all,{c}", f"--bounding-set=-all,{c}"]
    if user:
        argv[1:1] = ["--reuid=65534", "--regid=65534", "--clear-groups",
                     f"--ambient-caps=-all,{c}"]
    return argv


def _agents(hosts, tag):
    """h0 (the leak): the unit's arguments, as nobody with the unit's
    capabilities only, its deep trace unsampled and long. h1: the
    DaemonSet's arguments, as root bounded to the DaemonSet's capabilities.
    h2: memtrace --system --http as root."""
    agents = []
    for h in hosts:
        rx = f"^f{tag}h{h.idx}_"
        if h.idx == 0:
            args = for_test(unit_args(), h.addr, rx) + ["--deep-duration", "60",
                                                        "--deep-sample-bytes", "0"]
            prefix = h.argv(*_caps_prefix(unit_caps(), 1))
        elif h.idx == 1:
            args, prefix = (for_test(ds_container()[1]["args"], h.addr, rx),
                            h.argv(*_caps_prefix(ds_caps(), 0)))
        else:
            args, prefix = ["--system", "--http", f"{h.addr}:{AGENT_PORT}", "-i", "1",
                            "--comm", rx], h.argv()
        agents.append(lib.Memtrace(*args, prefix=prefix))
    for h, m in zip(hosts, agents):
        m.err.expect(rf"^memtrace: serving .* on http://{re.escape(h.addr)}:{AGENT_PORT}",
                     what=f"agent of h{h.idx}")
        m.err.expect(r"^memtrace: sweeping the host", what=f"agent of h{h.idx}")
    return agents


def _prometheus_config(hosts, wd):
    """The shipped scrape job (file discovery pointed at the test hosts) and
    the shipped rule files (fleet rules, the single-process alerts) with
    every for: at 5 s; scrapes and evaluations every second."""
    yaml = _yaml()
    cfg = yaml.safe_load(open(PROM_CONFIG))
    job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "memtrace-agent")
    sd = os.path.join(wd, "agents.json")
    with open(sd, "w") as f:
        json.dump([{"targets": [f"{h.addr}:{AGENT_PORT}"], "labels": {"host": f"h{h.idx}"}}
                   for h in hosts], f)
    job.update(scrape_interval="1s", scrape_timeout="1s", file_sd_configs=[{"files": [sd]}])
    files = []
    for i, name in enumerate(cfg["rule_files"]):
        rules = yaml.safe_load(open(os.path.join(FLEET, name)))
        for g in rules["groups"]:
            for r in g["rules"]:
                if "for" in r:
                    r["for"] = "5s"
        files.append(os.path.join(wd, f"rules{i}.yml"))
        with open(files[-1], "w") as f:
            yaml.safe_dump(rules, f)
    cfg.update({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": files, "scrape_configs": [job]})
    path = os.path.join(wd, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    return path


def _by(rows, key):
    return {r[0].get(key): r[1] for r in rows}


def _check_fleet(hosts, wd, tag, result):
    roles = [[("leak", "leak", LEAK_BPS), ("steady", "steady", 24 * MIB),
              ("churn", "churn", 256 * 1024)],
             [("steady", "steady", 16 * MIB), ("churn", "churn", 512 * 1024)],
             [("steady", "steady", 8 * MIB), ("churn", "churn", 256 * 1024)]]
    nsenter, grow = _tool("nsenter"), lib.target_path("sys_grow")
    procs = {}
    for h, rs in zip(hosts, roles):
        for role, mode, n in rs:
            comm = f"f{tag}h{h.idx}_{role}"
            procs[comm] = lib.Target("sys_grow", f"--net=/run/netns/{h.name}", grow, comm,
                                     mode, str(n), path=nsenter)
    leak_comm = f"f{tag}h0_leak"
    leak = procs[leak_comm]
    t0, rss0 = time.monotonic(), _rss_anon(leak.pid)
    watch = lib.ProbeWatch()
    agents = _agents(hosts, tag)
    result["watch"] = (watch, [m.pid for m in agents])
    result["pids"] = [t.pid for t in procs.values()] + [m.pid for m in agents]
    prom = promlib.Prometheus(_prometheus_config(hosts, wd), wd)
    result["pids"].append(prom.proc.pid)

    q = prom.query

    def show():
        """What the agents and Prometheus said, for a failed wait."""
        return "\n".join(f"h{h.idx} agent {m.proc.poll() or 'running'}: {m.err.text()[-800:]}"
                         for h, m in zip(hosts, agents)) + \
            f"\ntargets: {prom.api('targets')['activeTargets']}\n{prom.err.text()[-800:]}"

    lib.wait_for("three agents scraped", lambda: [v for _, v in q(
        'up{job="memtrace-agent"}')] == [1, 1, 1], timeout=20, every=0.5, show=show)
    # each agent reports its own host's processes, and the self-metrics
    want = {f"h{h.idx}": len(rs) for h, rs in zip(hosts, roles)}
    lib.wait_for("every host's processes", lambda: _by(
        q("count by (host) (memtrace_process_rss_anon_bytes)"), "host") == want,
        timeout=20, every=0.5, show=show)
    for h in hosts:
        status, _, body = lib.http(f"http://{h.addr}:{AGENT_PORT}/metrics")
        assert status == 200, (h.name, status, body[:300])
        names = set(re.findall(r"^# TYPE (\S+) ", body.decode(), re.M))
        missing = set(AGENT_METRICS) - names
        assert not missing, f"h{h.idx}'s agent does not export {sorted(missing)}"
        for name in PROCESS_METRICS:
            for m in re.finditer(rf"^{name}\{{([^}}]*)\}}", body.decode(), re.M):
                assert re.search(r'\bpid="\d+"', m.group(1)) and 'comm="' in m.group(1) \
                    and 'cgroup="' in m.group(1), m.group(0)

    # h0's agent (the unit's capabilities) deep-traces its suspect (probes
    # live when it says so)
    agents[0].err.expect(rf"^memtrace: deep trace of pid {leak.pid} \({leak_comm}\) for 60 s, "
                         r"every allocation$", timeout=60, what="deep trace of the leak")
    t_deep = time.monotonic()

    # the leak alert: pending, then firing, for the leaker only
    firing = lib.wait_for("MemtraceProcessLeaking firing", lambda: q(
        'ALERTS{alertname="MemtraceProcessLeaking",alertstate="firing"}'), timeout=60, every=0.5,
        show=show)
    elapsed = time.monotonic() - t0
    true_bps = (_rss_anon(leak.pid) - rss0) / elapsed
    assert [(a["host"], a["comm"], a["pid"]) for a, _ in firing] == \
        [("h0", leak_comm, str(leak.pid))], firing
    pending = q('max_over_time(ALERTS{alertname="MemtraceProcessLeaking",'
                'alertstate="pending"}[5m])')
    assert [a["pid"] for a, _ in pending] == [str(leak.pid)], pending

    # the fleet's top leaker, at the true rate
    top = q("topk(1, memtrace_process_growth_bytes_per_second)")
    assert len(top) == 1, top
    labels, growth = top[0]
    assert (labels["host"], labels["comm"], labels["pid"]) == ("h0", leak_comm, str(leak.pid)), top
    assert labels["instance"] == hosts[0].addr, labels	# the shipped relabeling
    assert abs(growth - LEAK_BPS) <= 0.25 * LEAK_BPS, f"growth {growth:.0f} B/s, true {LEAK_BPS}"
    ranked = sorted(q("memtrace:fleet_top_leakers:growth_bytes_per_second"),
                    key=lambda r: -r[1])
    assert ranked and ranked[0][0]["pid"] == str(leak.pid), ranked
    # Prometheus's own rate of the leak's RSS, over 20 s after the deep trace
    # attached (the agent's reports pause while it attaches; the kernel's RSS
    # counter moves in steps of a few MiB)
    rss = f'memtrace_process_rss_anon_bytes{{comm="{leak_comm}"}}'
    lib.wait_for("20 s of RSS samples since the deep trace attached", lambda:
                 time.monotonic() > t_deep + 21 and q(f"changes({rss}[20s]) >= 5"),
                 timeout=60, every=0.5, show=show)
    deriv = q(f"deriv({rss}[20s])")
    assert len(deriv) == 1 and abs(deriv[0][1] - LEAK_BPS) <= 0.25 * LEAK_BPS, deriv
    sev = _by(q("memtrace_process_severity"), "comm")
    assert sev.pop(leak_comm) >= 3 and max(sev.values()) <= 1, sev

    # nothing else ever alerted (but the host-level alerts of h0's agent, whose
    # worst process leaks); no failed scrape since the start (no 503)
    others = q(f'max_over_time(ALERTS{{pid!="{leak.pid}",host!="h0"}}[5m]) or '
               f'max_over_time(ALERTS{{pid!="{leak.pid}",alertname=~".*Process.*|.*Fleet.*"}}[5m])')
    assert not others, f"alerts for other processes or agents: {others}"
    h0 = {a["alertname"] for a, _ in q('ALERTS{host="h0",pid=""}')}
    assert h0 <= {"MemtraceLeakSuspected", "MemtraceLeakCritical"}, h0
    fast = q(f'memtrace_process_growth_bytes_per_second{{pid!="{leak.pid}"}} > {LEAK_LIMIT}')
    assert not fast, fast
    assert [v for _, v in q('min_over_time(up{job="memtrace-agent"}[5m])')] == [1, 1, 1]
    events = _by(q("sum by (host) (rate(memtrace_sweep_events_total[30s]))"), "host")
    assert set(events) == set(want) and all(v > 0 for v in events.values()), events

    # h0's agent deep-traces its suspect: every allocation at leak_step, exact
    status, _, body = lib.http(f"http://{hosts[0].addr}:{AGENT_PORT}/report.json")
    assert status == 200, (status, body[:300])
    doc = json.loads(body)
    deep = [d for d in doc.get("deep", []) if d["pid"] == leak.pid]
    assert len(deep) == 1, (sorted(doc), doc.get("deep"), agents[0].err.text())
    st = lib.stack_at(deep[0], "leak_step", "malloc")
    assert st["outstanding_bytes"] == st["outstanding_allocs"] * (LEAK_BPS // 20) > 0, st
    # ... and serves its stacks as a pprof (404 for a process it does not trace)
    url = f"http://{hosts[0].addr}:{AGENT_PORT}/debug/pprof/heap?pid="
    status, _, body = lib.http(url + str(leak.pid))
    assert status == 200, (status, body[:300])
    check_pprof(body, f"/debug/pprof/heap?pid={leak.pid}")
    assert b"leak_step" in gzip.decompress(body), "the leak's pprof has no leak_step"
    assert lib.http(url + str(procs[f"f{tag}h0_steady"].pid))[0] == 404

    # every query of the dashboard evaluates and has data; those of the
    # deep-traced stacks only if the agents export stack series
    _, exprs = dashboard_exprs()
    empty = sorted({title for title, e in exprs if not q(e)})
    if not q("count(memtrace_stack_outstanding_bytes)"):
        empty = [t for t in empty if "memtrace_stack_" not in dict(exprs)[t]]
        result["no_stack_series"] = True
    assert not empty, f"dashboard panels without data: {empty}"

    # what Parca and Pyroscope fetch from an agent is a heap profile
    for scraper, path in profile_paths().items():
        status, _, body = lib.http(f"http://{hosts[0].addr}:{AGENT_PORT}{path}")
        assert status == 200, (scraper, path, status, body[:200])
        check_pprof(body, f"{scraper} scrape of {path}")
        assert f"{leak_comm}[{leak.pid}]".encode() in gzip.decompress(body), \
            f"{scraper}: the leaking process is not in the profile"

    result.update(growth=growth, true=true_bps, deriv=deriv[0][1], elapsed=elapsed)


def test_fleet():
    _tool("prometheus")
    hosts = fleet.make_hosts(3)
    wd = fleet.workdir()
    result = {"pids": []}
    t0 = time.monotonic()
    try:
        _check_fleet(hosts, wd, _base36(os.getpid())[-3:], result)
    finally:
        lib.cleanup()
        try:
            fleet.destroy_hosts(hosts)
        finally:
            shutil.rmtree(wd, ignore_errors=True)
    # nothing of the fleet is left: namespaces, veths, processes
    names = [h.name for h in hosts]
    left = [ln for ln in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                        text=True).stdout.splitlines()
            if ln.split()[0] in names]
    assert not left, left
    assert not [p for p in result["pids"] if lib.alive(p)], "processes left behind"
    assert not os.path.exists(wd)
    watch, agent_pids = result["watch"]
    watch.assert_clean(mine=agent_pids)
    print(f"  fleet: top leaker growth {result['growth']:.0f} B/s (true {LEAK_BPS}, "
          f"/proc {result['true']:.0f}), Prometheus deriv {result['deriv']:.0f} B/s, "
          f"alert firing after {result['elapsed']:.1f} s, test {time.monotonic() - t0:.1f} s"
          + ("; no stack series from the agents (deep-traced stacks' panels empty)"
             if result.get("no_stack_series") else ""))
