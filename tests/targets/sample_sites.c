/* SPDX-License-Identifier: MIT */
/*
 * sample_sites - allocation sites of known totals for the byte sampling
 * test (tests/e2e/test_sampling.py, --sample-bytes 65536).
 *
 *   sample_sites MODE	(MODE as proto_finish(): exit, exit=N, wait)
 *
 * After SIGUSR1, five sites allocate and keep everything, interleaved
 * (one allocation of each site in turn while it has some left), with
 * sizes from a fixed pseudo-random sequence per site:
 *
 *   site_small	 6000 x 16..4096 B	~12 MB, a few % of the bytes
 *   site_medium 6000 x 4096..32767 B	~110 MB
 *   site_large	 2500 x 32768..65535 B	~123 MB (all below 64 KiB)
 *   site_mixed	 4000 x 16..65535 B	~131 MB
 *   site_exact	  300 x 65536..131071 B	~29 MB (at or above 64 KiB: exact)
 *
 * ~18,800 calls, ~410 MB of address space of which only the chunk headers
 * are touched. Then "done" with, per site, its bytes (NAME_b), its count
 * (NAME_n) and the sum of 2^30/size over its allocations (NAME_inv), from
 * which the test derives the standard error of the count estimate.
 */
#include "alloc_common.h"

#define NR_SITES 5

struct site {
	const char *name;
	long count;
	unsigned long lo, hi;	/* sizes in [lo, hi] */
	unsigned long long rng;
	long made;
	unsigned long long bytes, inv;
};

static struct site sites[NR_SITES] = {
	{ "small", 6000, 16, 4096, 1 },
	{ "medium", 6000, 4096, 32767, 2 },
	{ "large", 2500, 32768, 65535, 3 },
	{ "mixed", 4000, 16, 65535, 4 },
	{ "exact", 300, 65536, 131071, 5 },
};

/* The next size of a site: uniform in [lo, hi] (a 64-bit LCG's high bits). */
static unsigned long next_size(struct site *s)
{
	s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return s->lo + (unsigned long)((s->rng >> 33) % (s->hi - s->lo + 1));
}

/* One function per site: the first frame of its stacks. */
NOIPA void *site_small(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *site_medium(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *site_large(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *site_mixed(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *site_exact(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }

static void *(*const site_fn[NR_SITES])(size_t) = {
	site_small, site_medium, site_large, site_mixed, site_exact,
};

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";
	char line[512];
	int len = 0;
	int more = 1;

	proto_init();
	proto_ready();
	proto_wait_go();
	while (more) {
		more = 0;
		for (int i = 0; i < NR_SITES; i++) {
			struct site *s = &sites[i];
			unsigned long n;

			if (s->made == s->count)
				continue;
			n = next_size(s);
			if (!site_fn[i](n)) {
				proto_say("error site_%s: malloc(%lu) failed", s->name, n);
				return 1;
			}
			s->made++;
			s->bytes += n;
			s->inv += (1ULL << 30) / n;
			more = 1;
		}
	}
	for (int i = 0; i < NR_SITES; i++)
		len += snprintf(line + len, sizeof(line) - len, " %s_b=%llu %s_n=%ld %s_inv=%llu",
				sites[i].name, sites[i].bytes, sites[i].name, sites[i].count,
				sites[i].name, sites[i].inv);
	proto_say("done%s", line);
	proto_finish(mode);
}
