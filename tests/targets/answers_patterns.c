/* SPDX-License-Identifier: MIT */
/*
 * answers_patterns - six allocation patterns, each from its own noinline
 * function, for the recommendation tests (tests/e2e/test_answers.py).
 * Started by memtrace (launch mode), it runs for SECONDS, then exits:
 *
 *   answers_patterns SECONDS
 *
 *   leak_steady       4 KiB every 20 ms, never freed: 204,800 B/s
 *   one_time_setup    1 MiB once, at 0.5 s, kept (its own thread)
 *   churn_same_size   every 10 ms, 20 x malloc(64) + free at once:
 *                     2,000 short-lived same-size allocations per second
 *   realloc_chain     every 10 ms, one realloc growing a block by 64 bytes;
 *                     at 16 KiB the block is freed and the chain restarts
 *   small_blocks      20,000 x malloc(16) at 0.5 s, kept (the same thread:
 *                     the loop of the others does not wait for it)
 *   big_temp          every 100 ms, malloc(1 MiB), written, freed at once
 *
 * Times are from the start on CLOCK_MONOTONIC (TIMER_ABSTIME sleeps: no
 * drift). At the end, "done leak=N chains=N once_ms=N" on stderr (once_ms:
 * how long the one-time thread took). No stdio before.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOIPA __attribute__((noipa, noinline, used))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

#define NS		1000000000LL
#define TICK_NS		10000000LL	/* 10 ms */
#define LEAK_SIZE	4096
#define CHURN_SIZE	64
#define CHURN_N		20
#define STEP		64
#define CHAIN_MAX	16384
#define SMALL_N		20000
#define SMALL_SIZE	16
#define BIG_SIZE	(1 << 20)

static void *volatile sink;
static void *volatile small[SMALL_N];	/* volatile: the stores (and mallocs) stay */

NOIPA void *leak_steady(void) { void *p = malloc(LEAK_SIZE); KEEP_FRAME(); return p; }
NOIPA void *one_time_setup(void) { void *p = malloc(BIG_SIZE); KEEP_FRAME(); return p; }

NOIPA void churn_same_size(void)
{
	for (int i = 0; i < CHURN_N; i++) {
		void *p = malloc(CHURN_SIZE);

		sink = p;
		free(p);
	}
	KEEP_FRAME();
}

/* One step of the chain: grow *p by STEP bytes (from nothing: realloc(NULL)). */
NOIPA void realloc_chain(void **p, size_t *size)
{
	void *n;

	if (*size >= CHAIN_MAX) {
		free(*p);
		*p = NULL;
		*size = 0;
	}
	n = realloc(*p, *size + STEP);
	if (n) {
		*p = n;
		*size += STEP;
	}
	KEEP_FRAME();
}

NOIPA void small_blocks(void)
{
	for (int i = 0; i < SMALL_N; i++)
		small[i] = malloc(SMALL_SIZE);
	KEEP_FRAME();
}

NOIPA void big_temp(void)
{
	char *p = malloc(BIG_SIZE);

	if (p) {
		memset(p, 1, 4096);
		p[BIG_SIZE - 1] = 2;
	}
	sink = p;
	free(p);
	KEEP_FRAME();
}

static struct timespec t0;
static void *setup;
static long long once_ns;

static long long now_ns(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * NS + (t.tv_nsec - t0->tv_nsec);
}

/* The one-time allocations, at 0.5 s, beside the steady patterns. */
static void *once_thread(void *arg)
{
	struct timespec at = { t0.tv_sec, t0.tv_nsec + NS / 2 };
	long long start;

	(void)arg;
	if (at.tv_nsec >= NS) {
		at.tv_sec++;
		at.tv_nsec -= NS;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
	start = now_ns(&t0);
	setup = one_time_setup();
	small_blocks();
	once_ns = now_ns(&t0) - start;
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	long long end = (long long)(secs * NS), tick = 0;
	long leaks = 0, chains = 0;
	void *chain = NULL;
	size_t chain_size = 0;
	pthread_t once;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&once, NULL, once_thread, NULL))
		return 1;
	while (now_ns(&t0) < end) {
		struct timespec at;
		long long next = (tick + 1) * TICK_NS;

		if (tick % 2 == 1) {	/* every 20 ms, at odd 10 ms ticks */
			sink = leak_steady();
			leaks++;
		}
		churn_same_size();
		if (chain_size >= CHAIN_MAX)
			chains++;
		realloc_chain(&chain, &chain_size);
		if (tick % 10 == 5)	/* every 100 ms */
			big_temp();
		tick++;
		at.tv_sec = t0.tv_sec + (t0.tv_nsec + next) / NS;
		at.tv_nsec = (t0.tv_nsec + next) % NS;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
	}
	pthread_join(once, NULL);
	sink = setup;
	fprintf(stderr, "done leak=%ld chains=%ld once_ms=%lld\n", leaks, chains,
		once_ns / 1000000);
	return 0;
}
