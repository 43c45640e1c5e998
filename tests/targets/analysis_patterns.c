/* SPDX-License-Identifier: MIT */
/*
 * analysis_patterns - allocation patterns of known growth for the leak
 * analysis tests (tests/e2e/test_analysis.py). Started by memtrace
 * (launch mode: traced from its first allocation), it runs the patterns
 * given on its command line side by side for SECONDS, then exits.
 *
 *   analysis_patterns SECONDS PATTERN...
 *
 *   leak=B/MS	  leak_fixed_rate(): B bytes every MS ms, never freed
 *		  (first at MS/2, so a report on a whole second never sits
 *		  on an allocation): B * 1000 / MS bytes per second exactly
 *   setup=B/N	  one_time_setup(): N blocks of B bytes right at start,
 *		  kept, nothing after
 *   churn=N/MS	  churn_alloc_free(): every MS ms, N x malloc(256) + free
 *		  at once: nothing outstanding, ever
 *   cache=B/MS/S cache_fill(): B bytes every MS ms (first at MS/2) until
 *		  S seconds, then nothing: a cache that grows, then plateaus
 *   first=B	  older_first(): B bytes at 50 ms, kept
 *   last=B/S	  older_last(): B bytes at S seconds, kept
 *   exit=N	  exit N instead of 0
 *
 * All times are from the target's start on CLOCK_MONOTONIC, slept to
 * with TIMER_ABSTIME: the n-th event of a pattern happens at its exact
 * time, without drift. At the end, "done" on stderr with what was made
 * (stderr: stdout is memtrace's report stream in launch mode). Nothing but
 * the patterns allocates: no stdio.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* As in alloc_common.h (whose waiting protocol launch mode does not need):
 * a frame named exactly like the function, kept after the call. */
#define NOIPA __attribute__((noipa, noinline, used))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

#define NS		1000000000LL
#define MAX_PATTERNS	8
#define CHURN_SIZE	256

enum kind { P_LEAK, P_SETUP, P_CHURN, P_CACHE, P_FIRST, P_LAST };

struct pattern {
	enum kind kind;
	long bytes;		/* per event */
	long count;		/* setup: blocks; churn: pairs per event */
	long long period_ns;	/* 0: one event */
	long long next_ns;	/* from start */
	long long until_ns;	/* no event at or after (0: run to the end) */
	long events;
	long long made;		/* bytes made (kept or freed) */
};

static struct pattern pats[MAX_PATTERNS];
static int nr_pats;
static void *volatile sink;	/* every block goes through it: none is optimized out */

NOIPA void *leak_fixed_rate(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *one_time_setup(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *cache_fill(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *older_first(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
NOIPA void *older_last(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }

NOIPA void churn_alloc_free(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(CHURN_SIZE);

		if (!p)
			return;
		sink = p;
		free(p);
	}
	KEEP_FRAME();
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	if (n > 0) {
		buf[n++] = '\n';
		if (write(2, buf, n) < 0)
			_exit(2);
	}
	_exit(2);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void sleep_until(long long t_ns)
{
	struct timespec ts = { t_ns / NS, t_ns % NS };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *alloc_or_die(void *(*fn)(size_t), long n, const char *what)
{
	void *p = fn((size_t)n);

	if (!p)
		die("analysis_patterns: %s(%ld) failed", what, n);
	sink = p;
	return p;
}

/* One event of p. */
static void fire(struct pattern *p)
{
	switch (p->kind) {
	case P_LEAK:
		alloc_or_die(leak_fixed_rate, p->bytes, "leak_fixed_rate");
		break;
	case P_SETUP:
		for (long i = 0; i < p->count; i++)
			alloc_or_die(one_time_setup, p->bytes, "one_time_setup");
		break;
	case P_CHURN:
		churn_alloc_free(p->count);
		break;
	case P_CACHE:
		alloc_or_die(cache_fill, p->bytes, "cache_fill");
		break;
	case P_FIRST:
		alloc_or_die(older_first, p->bytes, "older_first");
		break;
	case P_LAST:
		alloc_or_die(older_last, p->bytes, "older_last");
		break;
	}
	p->events++;
	p->made += p->kind == P_SETUP ? p->bytes * p->count :
		   p->kind == P_CHURN ? (long long)CHURN_SIZE * p->count : p->bytes;
}

static double parse_num(const char **s, const char *arg)
{
	char *end;
	double v = strtod(*s, &end);

	if (end == *s || v < 0)
		die("analysis_patterns: bad pattern %s", arg);
	*s = *end == '/' ? end + 1 : end;
	return v;
}

static void parse_pattern(const char *arg, int *status)
{
	static const struct { const char *name; enum kind kind; } names[] = {
		{ "leak=", P_LEAK }, { "setup=", P_SETUP }, { "churn=", P_CHURN },
		{ "cache=", P_CACHE }, { "first=", P_FIRST }, { "last=", P_LAST },
	};
	struct pattern *p = &pats[nr_pats];
	const char *s = NULL;
	size_t i;

	if (strncmp(arg, "exit=", 5) == 0) {
		*status = atoi(arg + 5);
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(arg, names[i].name, strlen(names[i].name)) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0]) || nr_pats == MAX_PATTERNS)
		die("analysis_patterns: unknown pattern %s", arg);
	s = arg + strlen(names[i].name);
	memset(p, 0, sizeof(*p));
	p->kind = names[i].kind;
	switch (p->kind) {
	case P_LEAK:
	case P_CACHE:
		p->bytes = (long)parse_num(&s, arg);
		p->period_ns = (long long)(parse_num(&s, arg) * 1e6);
		p->next_ns = p->period_ns / 2;
		if (p->kind == P_CACHE)
			p->until_ns = (long long)(parse_num(&s, arg) * 1e9);
		break;
	case P_SETUP:
		p->bytes = (long)parse_num(&s, arg);
		p->count = (long)parse_num(&s, arg);
		break;
	case P_CHURN:
		p->count = (long)parse_num(&s, arg);
		p->period_ns = (long long)(parse_num(&s, arg) * 1e6);
		break;
	case P_FIRST:
		p->bytes = (long)parse_num(&s, arg);
		p->next_ns = NS / 20;
		break;
	case P_LAST:
		p->bytes = (long)parse_num(&s, arg);
		p->next_ns = (long long)(parse_num(&s, arg) * 1e9);
		break;
	}
	if (*s || ((p->kind == P_LEAK || p->kind == P_CACHE || p->kind == P_CHURN) &&
		   p->period_ns <= 0))
		die("analysis_patterns: bad pattern %s", arg);
	nr_pats++;
}

int main(int argc, char **argv)
{
	long long start, end;
	int status = 0;
	char line[512] = "done";
	int len = 4;

	if (argc < 3)
		die("usage: analysis_patterns SECONDS PATTERN...");
	start = now_ns();
	end = start + (long long)(atof(argv[1]) * 1e9);
	for (int i = 2; i < argc; i++)
		parse_pattern(argv[i], &status);

	for (;;) {
		long long next = end - start;

		for (int i = 0; i < nr_pats; i++) {
			struct pattern *p = &pats[i];

			if (p->next_ns >= 0 && p->next_ns < next)
				next = p->next_ns;
		}
		sleep_until(start + next);
		if (next >= end - start)
			break;
		for (int i = 0; i < nr_pats; i++) {
			struct pattern *p = &pats[i];

			if (p->next_ns != next)
				continue;
			fire(p);
			p->next_ns = p->period_ns ? p->next_ns + p->period_ns : -1;
			if (p->until_ns && p->next_ns >= p->until_ns)
				p->next_ns = -1;
		}
	}
	for (int i = 0; i < nr_pats && len < (int)sizeof(line) - 64; i++)
		len += snprintf(line + len, sizeof(line) - len, " p%d_events=%ld p%d_bytes=%lld",
				i, pats[i].events, i, pats[i].made);
	len += snprintf(line + len, sizeof(line) - len, "\n");
	if (write(2, line, len) < 0)
		return 97;
	return status;
}
