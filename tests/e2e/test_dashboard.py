"""The live dashboard of --http (issue 17) in Debian's headless chromium,
driven over the DevTools protocol (cdp.py): memtrace -i 1 --http -p traces
tests/targets/dashboard_leak.c; the page at / must show the leak as the top
row, a chart total that rises between two pushed updates, a flame graph
whose search finds the leaking function, and, once the tracer has exited,
the final report (the same numbers memtrace printed) with a note saying so.
The screenshot is kept in the build folder (dashboard.png)."""
import os
import shutil
import struct
import zlib

import cdp
import lib

LEAK = "dashboard_leak_request"


def _png_pixels(path):
    """(width, height, channels, raw rows) of an 8-bit RGB or RGBA PNG, with
    the standard library: inflate IDAT, undo the per-row filters."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, w = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack("!I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack("!IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and not interlace, (depth, color, interlace)
            ch = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw, stride = zlib.decompress(b"".join(idat)), w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            for i in range(ch, stride):
                line[i] = (line[i] + line[i - ch]) & 0xff
        elif ftype == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - ch] if i >= ch else 0) + prev[i]) // 2) & 0xff
        elif ftype == 4:
            for i in range(stride):
                a = line[i - ch] if i >= ch else 0
                b, c = prev[i], prev[i - ch] if i >= ch else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
        rows.append(line)
        prev = line
    return w, h, ch, rows


def _variance(path):
    """Variance of the grey level of a PNG's pixels, and its (width, height)."""
    w, h, ch, rows = _png_pixels(path)
    hist = [0] * 766
    for line in rows:
        for x in range(0, len(line), ch):
            hist[line[x] + line[x + 1] + line[x + 2]] += 1
    n = w * h
    mean = sum(v * c for v, c in enumerate(hist)) / n
    return sum(c * (v - mean) ** 2 for v, c in enumerate(hist)) / n / 9, (w, h)


def _page_status(b):
    """What the page says, for failure messages."""
    try:
        return b.eval("[location.href, document.readyState, document.body && document.body.dataset.updates,"
                      " document.body && document.body.dataset.stream,"
                      " document.getElementById('status') && document.getElementById('status').textContent]")
    except AssertionError as e:
        return str(e)


def _stream_log(b):
    """What chromium saw of the event stream, for failure messages."""
    out = []
    for m, p in b.events:
        if m in ("Network.loadingFailed", "Network.responseReceived", "Network.loadingFinished",
                 "Network.eventSourceMessageReceived"):
            r = p.get("response", {})
            out.append(f"{p.get('timestamp', 0):.2f} {m} {p.get('requestId')} {r.get('url', '')} "
                       f"{r.get('status', '')} {p.get('errorText', '')} {p.get('eventId', '')}")
    return "\n".join(out[-40:])


def _wait(b, m, expr, what):
    """b.wait_for(expr), failing with the page's, memtrace's and chromium's view."""
    try:
        b.wait_for(expr, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; page: {_page_status(b)}; memtrace:\n{m.err.text()}\n"
                             f"stream:\n{_stream_log(b)}") from None


def test_dashboard_in_chromium():
    """/ in chromium on a live leak, then after the tracer ended."""
    port = lib.free_port()
    with cdp.Browser() as b:       # first: chromium may take seconds to start
        b.call("Network.enable")
        leak = lib.spawn([lib.target_path("dashboard_leak"), "60"])
        lib.track_pid(leak.pid)
        m = lib.Memtrace("-f", "json", "-n", "5", "-i", "1", "--http", f"127.0.0.1:{port}",
                         "-p", str(leak.pid))
        m.wait_tracing()
        m.err.expect(rf"^memtrace: dashboard on http://127\.0\.0\.1:{port}/$")
        b.navigate(f"http://127.0.0.1:{port}/")
        # two updates pushed by the server, each with its chart total
        _wait(b, m, "+document.body.dataset.updates >= 1 && "
                    "+document.getElementById('chart').dataset.total > 0", "first update")
        first = b.eval("[+document.body.dataset.updates, +document.getElementById('chart').dataset.total,"
                       " memtrace.state().seq]")
        _wait(b, m, f"+document.body.dataset.updates >= {first[0] + 1}", "second update")
        second = b.eval("[+document.body.dataset.updates, +document.getElementById('chart').dataset.total,"
                        " memtrace.state().seq, +document.getElementById('chart').dataset.points]")
        assert second[2] > first[2], f"no newer report pushed: {first} then {second}"
        assert second[1] > first[1], f"chart total did not rise: {first[1]} then {second[1]}"
        assert second[3] >= 2, f"chart has {second[3]} points after two reports"
        assert b.eval("+document.body.dataset.sse") >= 2, \
            f"updates not pushed as Server-Sent Events: {_page_status(b)}"

        top = b.eval("document.querySelector('#rows tbody tr.row').dataset.function")
        assert top == LEAK, f"top row is {top!r}, not {LEAK}"
        # its frames one click away
        b.eval("document.querySelector('#rows tbody tr.row').click()")
        frames = b.eval("document.querySelector('#rows tbody tr.detail .frames').textContent")
        assert LEAK in frames and "dashboard_serve" in frames and "main" in frames, frames
        assert b.eval("document.querySelector('#chart .area.hl') !== null"), \
            "clicking the row did not highlight its series in the chart"

        # flame graph search through the input box, as a user types
        matched = b.eval(f"""(function () {{
            var s = document.getElementById('flame-search');
            s.value = '^{LEAK}$';
            s.dispatchEvent(new Event('input'));
            var hits = document.querySelectorAll('#flame .n.hit');
            return [+document.getElementById('flame').dataset.matched,
                    Array.prototype.map.call(hits, function (h) {{ return h.dataset.name; }}),
                    document.getElementById('flame-matched').textContent];
        }})()""")
        assert matched[0] >= 1 and set(matched[1]) == {LEAK}, f"flame search: {matched}"
        # zoom on it: the leak fills the width
        zoom = b.eval(f"""(function () {{
            document.querySelector('#flame .n.hit').click();
            var z = document.querySelector('#flame .n.hit');
            return [document.getElementById('flame').dataset.zoom, z.getBoundingClientRect().width,
                    document.getElementById('flame').getBoundingClientRect().width];
        }})()""")
        assert zoom[0] == LEAK and zoom[1] >= zoom[2] - 2, f"zoom: {zoom}"
        b.eval("document.getElementById('flame-reset').click()")

        shot = os.path.join(lib.OUT, "dashboard.png")
        b.screenshot(shot)
        var, size = _variance(shot)
        assert size[0] >= 800 and var > 500, f"{shot}: {size}, pixel variance {var:.0f}: blank?"

        # the tracer ends (Ctrl-C); the open page keeps the final report
        m.stop()
        rc = m.wait()
        assert rc == 0, f"memtrace exited {rc}: {m.err.text()}"
        final = m.final()
        b.wait_for("document.body.dataset.final === '1'", what="final report on the page")
        page = b.eval("""[document.getElementById('status').dataset.state,
                          document.getElementById('status').textContent,
                          memtrace.state().totals.outstanding_bytes,
                          document.querySelector('#rows tbody tr.row').dataset.function]""")
        assert page[0] == "ended" and "final report" in page[1], f"status after exit: {page}"
        assert page[2] == final["totals"]["outstanding_bytes"], \
            f"page shows {page[2]} bytes, memtrace's final report {final['totals']['outstanding_bytes']}"
        assert page[3] == LEAK, page
        # still interactive without the server: sorting and search work
        b.eval("document.querySelector('#rows th[data-key=\"alloc_calls\"]').click()")
        assert b.eval("document.querySelector('#rows th.sorted').dataset.key") == "alloc_calls"
        b.screenshot(os.path.join(lib.OUT, "dashboard-final.png"))
    leak.kill()
    leak.wait()


def test_dashboard_system_mode():
    """--system --http: the table lists processes (the leaking one on top,
    its series in the chart), the flame graph panel is hidden."""
    port = lib.free_port()
    with cdp.Browser() as b:       # first: chromium may take seconds to start
        b.call("Network.enable")
        # a name of its own: no other process matches the sweep's filter
        name = f"dleak{os.getpid() % 100000}"
        exe = os.path.join(lib.tmpdir(), name)
        shutil.copy(lib.target_path("dashboard_leak"), exe)
        leak = lib.spawn([exe, "60"])
        lib.track_pid(leak.pid)
        m = lib.Memtrace("--system", "-i", "1", "--comm", f"^{name}$",
                         "--http", f"127.0.0.1:{port}")
        m.err.expect(rf"^memtrace: dashboard on http://127\.0\.0\.1:{port}/$")
        b.navigate(f"http://127.0.0.1:{port}/")
        _wait(b, m, "+document.body.dataset.updates >= 2 && "
                    "document.querySelector('#rows tbody tr.row') !== null", "two updates")
        got = b.eval("""[document.getElementById('title').textContent,
                         document.getElementById('rows-title').textContent,
                         document.querySelector('#rows tbody tr.row').dataset.key,
                         document.querySelector('#rows tbody tr.row').dataset.function,
                         document.getElementById('flame-panel').classList.contains('hidden'),
                         document.querySelector('#legend .item') &&
                           document.querySelector('#legend .item').dataset.key]""")
        assert got[0] == "memtrace: host" and got[1] == "Top processes", got
        assert got[2] == f"pid:{leak.pid}" and got[3] == name, got
        assert got[4] is True, "flame graph shown in a sweep"
        assert got[5] == f"pid:{leak.pid}", f"chart series not named by process: {got}"
        b.eval("document.querySelector('#rows tbody tr.row').click()")
        detail = b.eval("document.querySelector('#rows tbody tr.detail').textContent")
        assert f"pid {leak.pid}" in detail and "anonymous RSS" in detail, detail
        b.screenshot(os.path.join(lib.OUT, "dashboard-system.png"))
    m.stop()
    assert m.wait() == 0, m.err.text()
    leak.kill()
    leak.wait()
