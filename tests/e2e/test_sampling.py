"""Byte sampling (-s/--sample-bytes, issue 6): estimates per call site
against known totals.

The target (tests/targets/sample_sites.c) allocates, after memtrace is
attached, from five sites of known bytes and counts: four below the
sampling mean N = 65536 (sampled) and one at or above it (recorded
exactly), ~18,800 calls, ~410 MB, all kept until the final report.

Why the sites are that big (docs/benchmarks.md, "Sampling accuracy"):
sample points fall on the byte stream as a Poisson process of rate 1/N, so
a site holding B bytes in allocations below N gets k ~ Poisson(B/N)
samples and an estimate of k*N bytes: unbiased, relative standard error
sqrt(N/B). A 10% bound at 3.5 standard errors needs B/N >= 1225, 80 MB at
N = 64 KiB; "a few MB" would give ~50 samples and +-14% on the total
alone. The count estimate (a sample of an allocation of s bytes stands
for N/s allocations) has relative standard error sqrt(N * sum(1/s)) /
count (the target prints sum(2^30/s) per site), but one sample of a tiny
allocation moves it by N/s: it is checked only where every allocation is
>= N/16 and no single sample moves it by more than 0.3%.

Both ways of linking the malloc family give the same estimates: uprobe
session links (the entry draws the sample and skips the return of an
allocation sampled out: one trap instead of two, which the probe hit
counters show) and entry and return links (every return runs, the sample
is drawn there).

The sampling random numbers depend on the thread id as well as
--sample-seed, so runs differ: every bound here holds for any seed with a
probability of failure below ~1e-4 per run, none is tuned to one outcome.
"""
import math

import lib

N = 65536
SITES = ("small", "medium", "large", "mixed", "exact")
# Sites whose allocations are all >= N/16 (medium: 4096.., large: 32768..):
# their count estimate is close to normal.
COUNTED = ("medium", "large")
MT_ARGS = ("-f", "json", "-n", "0", "--sample-bytes", str(N), "--sample-seed", "42")


def _sites(done):
    """{site: (bytes, count, sum of 1/size)} from the target's done line."""
    return {s: (done[f"{s}_b"], done[f"{s}_n"], done[f"{s}_inv"] / 2**30) for s in SITES}


def _row(name, s, b, n):
    est_b, est_n = s["outstanding_bytes"], s["outstanding_allocs"]
    return (f"  site_{name:<7} bytes {est_b:>11} of {b:>11} ({est_b / b - 1:+7.2%})"
            f"  allocs {est_n:>6} of {n:>6} ({est_n / n - 1:+7.2%})")


def check_returns(report, links):
    """Sessions: every allocation sampled out skipped its return probe,
    every other one ran it (the target nests no allocator calls); entry and
    return links: every return ran."""
    t = report["totals"]
    entries, returns, out = t["alloc_entry_hits"], t["alloc_return_hits"], t["sampled_out"]
    assert entries >= 18000 and out >= entries // 2, t
    if links == "sessions":
        assert returns == entries - out, \
            f"{entries} entries, {out} sampled out: want {entries - out} returns, got {returns}"
    else:
        assert returns == entries, f"{entries} entries, {returns} returns"


def sampled_estimates_per_site(links):
    """The estimates per site, the malloc family linked as links says
    (lib.LINK_MODES)."""
    with lib.link_mode(links):
        report, done, _ = lib.run_attach("sample_sites", "wait", mt_args=MT_ARGS)
    lib.check_link_mode(report, links)
    check_returns(report, links)
    lib.check_totals_sane(report)
    assert report["sample_bytes"] == N, f"report sample_bytes {report['sample_bytes']}"
    truth = _sites(done)
    total = sum(b for b, _, _ in truth.values())
    stacks = {name: lib.stack_at(report, f"site_{name}", "malloc") for name in SITES}
    table = "\n".join(_row(name, stacks[name], *truth[name][:2]) for name in SITES)
    why = f"\nestimates (N = {N}):\n{table}\n" + lib.describe(report)

    # At or above N: every allocation recorded with its real size.
    b, n, _ = truth["exact"]
    s = stacks["exact"]
    assert (s["outstanding_bytes"], s["outstanding_allocs"], s["alloc_calls"]) == (b, n, n), \
        f"allocations >= N must be exact: site_exact {s['outstanding_bytes']} B in " \
        f"{s['outstanding_allocs']} ({s['alloc_calls']} calls), want {b} B in {n}" + why

    sampled_bytes = 0
    for name in SITES[:-1]:
        b, n, inv = truth[name]
        s = stacks[name]
        sampled_bytes += b
        se_b = math.sqrt(N / b)		# relative standard error of the bytes
        err_b = s["outstanding_bytes"] / b - 1
        if b >= 0.05 * total:
            # The bound; the target makes it >= 3.5 standard errors.
            assert 0.10 >= 3.5 * se_b, f"site_{name} too small for a 10% bound: se {se_b:.1%}"
            assert abs(err_b) <= 0.10, \
                f"site_{name} holds {b / total:.0%} of the bytes: estimate off by " \
                f"{err_b:+.1%}, want within 10% (standard error {se_b:.1%})" + why
        else:
            # Smaller sites: 4.5 standard errors.
            assert abs(err_b) <= 4.5 * se_b, \
                f"site_{name} ({b / total:.1%} of the bytes): estimate off by {err_b:+.1%}, " \
                f"want within 4.5 x {se_b:.1%}" + why
        if name in COUNTED:
            se_n = math.sqrt(N * inv) / n
            err_n = s["outstanding_allocs"] / n - 1
            assert abs(err_n) <= 4.5 * se_n, \
                f"site_{name}: count estimate off by {err_n:+.1%}, want within " \
                f"4.5 x {se_n:.1%}" + why

    # Totals: the exact site adds no error; 4 standard errors (~5%).
    se_t = math.sqrt(N * sampled_bytes) / total
    err_t = report["totals"]["outstanding_bytes"] / total - 1
    assert abs(err_t) <= 4 * se_t, \
        f"total outstanding bytes off by {err_t:+.2%}, want within 4 x {se_t:.2%}" + why


def test_sampled_estimates_per_site_sessions():
    sampled_estimates_per_site("sessions")


def test_sampled_estimates_per_site_entry_return():
    sampled_estimates_per_site("entry_return")
