"""A small Chrome DevTools Protocol client on the standard library: Debian's
headless chromium with --remote-debugging-port, one page, commands over a
WebSocket (RFC 6455 client framing, text frames only).

    with cdp.Browser() as b:
        b.navigate("http://127.0.0.1:PORT/")
        b.eval("document.title")
        b.screenshot("build/page.png")
"""
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

import lib


class WebSocket:
    """A client WebSocket over a plain TCP socket (ws:// on loopback)."""

    def __init__(self, url, timeout=30):
        m = re.fullmatch(r"ws://([^/:]+):(\d+)(/.*)", url)
        assert m, url
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "websocket: closed during the handshake"
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head[:200]

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            assert chunk, "websocket: closed"
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + masked)

    def recv(self):
        """The next text message (fragments joined; pings answered)."""
        parts = []
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            payload = self._recv_exact(n)
            op = b0 & 0x0f
            if op == 0x9:           # ping: pong with the same payload
                mask = os.urandom(4)
                self.sock.sendall(struct.pack("!BB", 0x8a, 0x80 | n) + mask +
                                  bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
                continue
            if op == 0x8:
                raise AssertionError("websocket: closed by the browser")
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()

    def close(self):
        self.sock.close()


class Browser:
    """chromium --headless with a fresh profile, and its first page."""

    def __init__(self, width=1280, height=1600):
        exe = shutil.which("chromium")
        if not exe:
            raise lib.Skip("chromium is not installed (tools/install-deps.sh installs it)")
        self.profile = tempfile.mkdtemp(prefix="memtrace-chromium-")
        env = dict(os.environ, HOME=os.environ.get("HOME") or self.profile)
        self.proc = lib.spawn([exe, "--headless", "--no-sandbox", "--disable-gpu",
                               "--no-first-run", "--disable-extensions",
                               "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                               f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                               "about:blank"], env=env, stdout=subprocess.DEVNULL)
        err = lib.Stream(self.proc.stderr, "chromium stderr")
        m = err.expect(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", 60)
        port = int(m.group(1))
        page = None
        for _ in range(100):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                page = pages[0]
                break
            time.sleep(0.1)
        assert page, "chromium: no page target"
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events = []        # (method, params) received while waiting for replies
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        """Send one command; return its result (events in between are kept)."""
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append((msg["method"], msg.get("params", {})))

    def navigate(self, url):
        """Load url and wait for its load event."""
        self.events.clear()
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise AssertionError(f"chromium cannot load {url}: {r['errorText']}")
        while not any(m == "Page.loadEventFired" for m, _ in self.events):
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append((msg["method"], msg.get("params", {})))

    def eval(self, expr):
        """The value of a JavaScript expression (promises awaited)."""
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"page script failed: {expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expr, timeout=30, what=None):
        """Poll expr until it is truthy; return its value (a script error
        counts as false until the timeout, then is reported)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                v, err = self.eval(expr), None
            except AssertionError as e:
                v, err = None, e
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError(f"{what or expr}: still false after {timeout} s"
                                     + (f" ({err})" if err else ""))
            time.sleep(0.1)

    def screenshot(self, path):
        """The page as a PNG file at path."""
        r = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
