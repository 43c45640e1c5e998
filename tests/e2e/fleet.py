"""Test hosts in network namespaces of their own, for the fleet test
(tests/e2e/test_fleet.py).

A host is a network namespace PREFIX-PID-hN joined to this machine's root
namespace by a veth pair (mtfPIDhN here, eth0 there) with a /30 of the
RFC 2544 benchmark range 198.18.0.0/15 on it: addresses no real network
uses, on interfaces the test makes, so traffic only goes between the
namespaces and the root namespace. Processes join a host with nsenter --net
(not `ip netns exec`, which remounts /sys and would hide tracefs and the
cgroup tree from memtrace).

Everything is named after the pid of the test run: make_hosts() first removes
what an earlier run that died left behind (its pid gone), never what a live
run made; destroy() removes a host and every process in it, even when the
test failed.
"""
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import lib

PREFIX = "mtfleet"
NET = "198.18"			# 198.18.K.0/24 per run, a /30 per host in it
LOCK = "/tmp/memtrace-fleet.lock"


def _ip(*args, check=True):
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=lib.WAIT_S)
    if check and out.returncode:
        raise AssertionError(f"ip {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def _owner_gone(pid):
    return not os.path.exists(f"/proc/{pid}")


def _kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _netns_pids(name):
    out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True,
                         timeout=lib.WAIT_S)
    return [int(p) for p in out.stdout.split()] if out.returncode == 0 else []


def remove_netns(name):
    """Kill every process in namespace name, then delete it (its veth goes
    with it). Raises if processes stay."""
    deadline = time.monotonic() + 10
    while True:
        pids = [p for p in _netns_pids(name) if lib.alive(p)]
        if not pids:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"processes {pids} stay in namespace {name}")
        _kill_all(pids)
        time.sleep(0.05)
    _ip("netns", "del", name, check=False)


def leftover_processes(pattern):
    """pids of processes whose command line matches regex pattern, with the
    owner pid (group 1) gone: what a dead run left in the root namespace."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        m = re.search(pattern, cmd)
        if m and _owner_gone(int(m.group(1))):
            out.append(int(pid))
    return out


def clean_leftovers():
    """Remove the namespaces, veths and processes of runs that died."""
    for line in _ip("netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{PREFIX}-(\d+)-h\d+", name)
        if m and _owner_gone(int(m.group(1))):
            remove_netns(name)
    for line in _ip("-o", "link", "show").splitlines():
        m = re.match(r"\d+: (mtf(\d+)h\d+)[@:]", line)
        if m and _owner_gone(int(m.group(2))):
            _ip("link", "del", m.group(1), check=False)
    _kill_all(leftover_processes(rf"memtrace-{PREFIX}-(\d+)-"))
    tmp = tempfile.gettempdir()
    for d in os.listdir(tmp):
        m = re.fullmatch(rf"memtrace-{PREFIX}-(\d+)-\w+", d)
        if m and _owner_gone(int(m.group(1))):
            shutil.rmtree(os.path.join(tmp, d), ignore_errors=True)


def workdir():
    """A temporary directory named after this run (removed by the caller,
    or by clean_leftovers() of a later run if this one dies)."""
    return tempfile.mkdtemp(prefix=f"memtrace-{PREFIX}-{os.getpid()}-")


class Host:
    """One test host: network namespace, veth, address."""

    def __init__(self, idx, block):
        self.idx = idx
        self.name = f"{PREFIX}-{os.getpid()}-h{idx}"
        self.veth = f"mtf{os.getpid()}h{idx}"
        self.peer = f"{NET}.{block}.{4 * idx + 1}"	# root namespace side
        self.addr = f"{NET}.{block}.{4 * idx + 2}"	# inside
        self.made = False

    def create(self):
        _ip("netns", "add", self.name)
        self.made = True
        _ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0",
            "netns", self.name)
        _ip("addr", "add", f"{self.peer}/30", "dev", self.veth)
        _ip("link", "set", self.veth, "up")
        _ip("-n", self.name, "addr", "add", f"{self.addr}/30", "dev", "eth0")
        _ip("-n", self.name, "link", "set", "eth0", "up")
        _ip("-n", self.name, "link", "set", "lo", "up")

    def argv(self, *cmd):
        """cmd run in this host's network namespace (same pid: nsenter execs)."""
        return ["nsenter", f"--net=/run/netns/{self.name}", *cmd]

    def pids(self):
        return [p for p in _netns_pids(self.name) if lib.alive(p)]

    def destroy(self):
        if self.made:
            remove_netns(self.name)
            self.made = False
        _ip("link", "del", self.veth, check=False)


def _free_block():
    used = set()
    for line in _ip("-4", "-o", "addr", "show").splitlines():
        m = re.search(rf"inet {re.escape(NET)}\.(\d+)\.", line)
        if m:
            used.add(int(m.group(1)))
    for k in range(256):
        if k not in used:
            return k
    raise AssertionError(f"no free /24 in {NET}.0.0/16")


def make_hosts(n):
    """n hosts in a /24 of NET that no interface uses; leftovers of dead
    runs removed first. On failure, what was made is removed."""
    if os.geteuid() != 0:
        raise lib.Skip("needs root (network namespaces)")
    for tool in ("ip", "nsenter"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise lib.Skip(f"{tool} is not installed")
    hosts = []
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)	# two runs never pick one block
        clean_leftovers()
        block = _free_block()
        try:
            for i in range(n):
                hosts.append(Host(i, block))
                hosts[-1].create()
        except BaseException:
            destroy_hosts(hosts)
            raise
    return hosts


def destroy_hosts(hosts):
    """Remove every host; all are tried even if one fails."""
    errors = []
    for h in hosts:
        try:
            h.destroy()
        except Exception as e:  # noqa: BLE001 - the others still go
            errors.append(f"{h.name}: {e}")
    if errors:
        raise AssertionError("; ".join(errors))
