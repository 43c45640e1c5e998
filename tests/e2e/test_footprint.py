"""Issue 15: BPF maps sized to what the target uses.

The live allocations table starts small and grows while a multithreaded
target makes 300,000 live blocks (frees of old blocks racing with the moves
of a growing table): the bytes stay exact and nothing is dropped. With a
table capped below the live count, the drops are counted and shown.
"""
import lib

START_LIMIT = 64 << 20     # map memory at the start, defaults (issue 15)


def _live_at(report, func):
    stacks = lib.stacks_at(report, func, "malloc")
    assert stacks, f"no malloc stack at {func}:\n" + lib.describe(report)
    return (sum(s["outstanding_bytes"] for s in stacks),
            sum(s["outstanding_allocs"] for s in stacks))


def _attach(t, *args, before_go=None):
    """memtrace ARGS -p on target t, through its protocol; returns the
    Memtrace after its final report (its text or JSON in m.out)."""
    w = lib.ProbeWatch()
    m = lib.Memtrace(*args, "-p", str(t.pid))
    assert m.wait_tracing() == t.pid
    if before_go:
        before_go(m)
    t.go()
    t.done = t.wait_done(timeout=120)
    m.stop()
    assert m.wait(timeout=60) == 0, m.err.text()
    t.release()
    assert t.wait() == 0, t.err.text()
    w.assert_clean(mine=[m.pid, t.pid])
    return m


def test_table_grows_exact():
    """10 -> 300,000 live blocks from 4 threads: exact bytes, no drops, the
    table grew, and the first report's maps were within 64 MiB."""
    t = lib.Target("live_grow", "300000", "4", "wait")
    first = {}

    def before_go(m):
        # a report with the maps of the start, before the target allocates
        first.update(lib.wait_for("first report", lambda: m.reports()[:1])[0]["maps"])

    m = _attach(t, "-f", "json", "-n", "0", "-i", "1", before_go=before_go)
    done = t.done
    assert 0 < first["memory_bytes"] <= START_LIMIT, first
    assert first["allocs_capacity"] < 300000, first
    final = m.final()
    maps = final["maps"]
    tot = final["totals"]
    assert tot["dropped_events"] == 0, tot["drops"]
    assert maps["allocs_grows"] >= 2, maps
    assert maps["allocs_capacity"] > done["blocks"], maps
    assert maps["allocs_live"] >= done["blocks"], maps
    print(f"first maps {first}; final maps {maps}")
    assert _live_at(final, "grow_live") == (done["bytes"], done["blocks"]), done


def test_max_allocs_drops_counted():
    """--max-allocs 1000 and 5,000 live blocks: the records that do not fit
    are dropped, counted and shown; bytes are never negative."""
    final, done, m = lib.run_attach(
        "live_grow", "5000", "1", "wait",
        mt_args=("-f", "json", "-n", "0", "--max-allocs", "1000"))
    tot = final["totals"]
    assert done["blocks"] == 5000
    assert tot["drops"]["allocs_map_full"] > 0, tot
    assert tot["dropped_events"] >= tot["drops"]["allocs_map_full"]
    assert final["maps"]["allocs_grows"] == 0
    assert final["maps"]["allocs_max"] == final["maps"]["allocs_capacity"]
    assert tot["outstanding_bytes"] >= 0
    for s in final["stacks"]:
        assert s["outstanding_bytes"] >= 0, s
        assert s["outstanding_allocs"] >= 0, s
    live_bytes, live_blocks = _live_at(final, "grow_live")
    assert 0 < live_bytes < done["bytes"]
    assert live_blocks <= 1000 * 3 // 2 + 8


def test_max_allocs_drops_in_text():
    """The text report's header shows the drops and the table that filled."""
    t = lib.Target("live_grow", "5000", "1", "wait")
    m = _attach(t, "-n", "3", "--max-allocs", "1000")
    text = m.out.text()
    drops = [ln for ln in text.splitlines() if ln.startswith("Dropped events: ")]
    assert drops and int(drops[-1].split()[2].rstrip(";")) > 0, text
    maps = [ln for ln in text.splitlines() if ln.startswith("BPF maps: ")]
    assert maps and "0 grows" in maps[-1], text
