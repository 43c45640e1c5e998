// SPDX-License-Identifier: MIT
/*
 * outputs_leaks - known leaks at known functions for the output writer
 * e2e tests (tests/e2e/test_outputs.py: --pprof, --collapsed,
 * --flamegraph, --csv, --http through the real tracer).
 *
 *   outputs_leaks MODE	(MODE as proto_finish(): exit, exit=N, wait)
 *
 * After SIGUSR1, main() calls run_leaks(), which calls, in order:
 *
 *   leak_big	3 x malloc(1 MiB), kept	3145728 B in 3 (mmapped chunks)
 *   leak_small	16 x malloc(64 KiB), kept	1048576 B in 16 (heap chunks)
 *   churn	100 x malloc(4096) + free	409600 B allocated, 0 kept
 *
 * so a leak's stack reads, root first, ...;main;run_leaks;leak_big. Then
 * "done big_b=.. big_n=.. small_b=.. small_n=.. churn_b=.. churn_n=..".
 */
#include "alloc_common.h"

#define BIG_N 3
#define BIG_SIZE (1UL << 20)
#define SMALL_N 16
#define SMALL_SIZE (64UL << 10)
#define CHURN_N 100
#define CHURN_SIZE 4096UL

static void *volatile kept[BIG_N + SMALL_N];	/* the leaks: never optimized away */
static void *volatile churn_last;
/* volatile: no unrolling, one call site per loop (one stack) */
static volatile int big_n = BIG_N, small_n = SMALL_N, churn_n = CHURN_N;

NOIPA int leak_big(void)
{
	for (int i = 0; i < big_n; i++) {
		kept[i] = malloc(BIG_SIZE);
		KEEP_FRAME();
		if (!kept[i])
			return -1;
	}
	return 0;
}

NOIPA int leak_small(void)
{
	for (int i = 0; i < small_n; i++) {
		kept[BIG_N + i] = malloc(SMALL_SIZE);
		KEEP_FRAME();
		if (!kept[BIG_N + i])
			return -1;
	}
	return 0;
}

NOIPA int churn(void)
{
	for (int i = 0; i < churn_n; i++) {
		churn_last = malloc(CHURN_SIZE);
		KEEP_FRAME();
		if (!churn_last)
			return -1;
		free(churn_last);
		KEEP_FRAME();
	}
	return 0;
}

NOIPA int run_leaks(void)
{
	int err = leak_big();

	KEEP_FRAME();
	if (!err)
		err = leak_small();
	KEEP_FRAME();
	if (!err)
		err = churn();
	KEEP_FRAME();
	return err;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";

	proto_init();
	proto_ready();
	proto_wait_go();
	if (run_leaks()) {
		proto_say("error: malloc failed");
		return 1;
	}
	proto_say("done big_b=%lu big_n=%d small_b=%lu small_n=%d churn_b=%lu churn_n=%d",
		  BIG_N * BIG_SIZE, BIG_N, SMALL_N * SMALL_SIZE, SMALL_N,
		  CHURN_N * CHURN_SIZE, CHURN_N);
	proto_finish(mode);
}
