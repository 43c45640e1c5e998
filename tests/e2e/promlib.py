"""A real Prometheus (Debian's package) on loopback for the e2e tests, read
through its HTTP API (test_outputs.py, test_fleet.py)."""
import json
import shutil
import time
import urllib.parse

import lib


class Prometheus:
    """prometheus with config file config and its data under workdir, on a
    free port of 127.0.0.1, for at most limit_s seconds (so that one left by
    a test run that died goes away). Ready when the constructor returns."""

    def __init__(self, config, workdir, limit_s=300):
        prometheus = shutil.which("prometheus")
        if not prometheus:
            raise lib.Skip("prometheus is not installed")
        self.port = lib.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = lib.spawn(["timeout", "-s", "KILL", str(limit_s), prometheus,
                               f"--config.file={config}",
                               f"--storage.tsdb.path={workdir}/data",
                               f"--web.listen-address=127.0.0.1:{self.port}",
                               "--log.level=warn"])
        self.err = lib.Stream(self.proc.stderr, "prometheus stderr")
        lib.wait_for("prometheus ready", self._ready, timeout=lib.WAIT_S, every=0.2,
                     show=self.err.text)

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited {self.proc.returncode}:\n{self.err.text()}")
        try:
            return lib.http(self.url + "/-/ready", timeout=1)[0] == 200
        except OSError:		# not listening yet
            return False

    def api(self, path, **params):
        """data of GET /api/v1/PATH?PARAMS; raises unless status success."""
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, _, body = lib.http(url)
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise AssertionError(f"prometheus {path} {params}: {status} {body[:500]!r}")
        return doc["data"]

    def query(self, expr):
        """Instant query of PromQL expr: [(labels dict, float value)]."""
        data = self.api("query", query=expr)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def stop(self):
        """SIGTERM, wait for the exit (TSDB closed)."""
        self.proc.terminate()
        self.proc.wait(timeout=20)
