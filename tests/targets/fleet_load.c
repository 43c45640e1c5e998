// SPDX-License-Identifier: MIT
/*
 * fleet_load - one process of a test host in the fleet test
 * (tests/e2e/test_fleet.py): a known memory behaviour, paced by absolute
 * deadlines so that rates are exact on average.
 *
 *   fleet_load leak RATE SECS    touch RATE more bytes of anonymous memory
 *                                every second (64 KiB blocks, never freed)
 *   fleet_load steady MIB SECS   touch MIB MiB once, then rewrite it in place
 *   fleet_load churn MIB SECS    allocate, touch and free blocks of up to
 *                                256 KiB, at most MIB MiB live at a time
 *
 * Protocol (tests/targets/alloc_common.h): "ready PID", wait for SIGUSR1,
 * then "running MODE", and run for SECS seconds (or until SIGTERM); exit 0.
 * The test runs it under a name of its own (a symlink), which becomes the
 * process's comm, so each test host's agent can select its processes.
 */
#include <stdint.h>
#include "alloc_common.h"

#define TICKS_PER_S 32
#define LEAK_BLOCK (64 * 1024)
#define CHURN_SLOTS 64
#define CHURN_MAX (256 * 1024)

static void *volatile sink;

/* Touch every page of [p, p + n): what makes anonymous memory resident. */
static void touch(char *p, size_t n, int v)
{
	memset(p, v, n);
	sink = p;
}

/* Bytes to leak in tick i so that ticks 0..i add up to rate * (i + 1) / TICKS. */
NOIPA static void leak_request(uint64_t rate, uint64_t i)
{
	uint64_t want = rate * (i + 1) / TICKS_PER_S, have = rate * i / TICKS_PER_S;

	for (uint64_t n = want - have; n > 0;) {
		size_t len = n < LEAK_BLOCK ? n : LEAK_BLOCK;
		char *p = malloc(len);		/* leaked: never freed */

		if (!p)
			_exit(3);
		touch(p, len, 0x5a);
		n -= len;
	}
	KEEP_FRAME();
}

NOIPA static void steady_rewrite(char *buf, size_t len, uint64_t i)
{
	size_t page = 4096, pages = len / page;

	touch(buf + (i % pages) * page, page, (int)i);
	KEEP_FRAME();
}

/* Replace one slot with a block of a new size; sizes repeat with i. */
NOIPA static void churn_step(char **slots, size_t max_live, uint64_t i)
{
	size_t per = max_live / CHURN_SLOTS, k = i % CHURN_SLOTS;
	size_t len = 4096 + (i * 7919 % (per < CHURN_MAX ? per : CHURN_MAX));

	free(slots[k]);
	slots[k] = malloc(len);
	if (!slots[k])
		_exit(3);
	touch(slots[k], len, (int)i);
	KEEP_FRAME();
}

static int stop_requested(void)
{
	struct timespec zero = { 0, 0 };

	return sigtimedwait(&proto_set, NULL, &zero) == SIGTERM;
}

int main(int argc, char **argv)
{
	static char *slots[CHURN_SLOTS];
	struct timespec next;
	uint64_t arg, ticks;
	char *buf = NULL;
	const char *mode;

	if (argc != 4) {
		fprintf(stderr, "usage: fleet_load leak|steady|churn N SECS\n");
		return 2;
	}
	mode = argv[1];
	arg = strtoull(argv[2], NULL, 0);
	ticks = strtoull(argv[3], NULL, 0) * TICKS_PER_S;
	if (strcmp(mode, "leak") && strcmp(mode, "steady") && strcmp(mode, "churn")) {
		fprintf(stderr, "fleet_load: unknown mode %s\n", mode);
		return 2;
	}
	proto_init();
	proto_ready();
	proto_wait_go();
	if (strcmp(mode, "steady") == 0) {
		buf = malloc(arg << 20);
		if (!buf)
			return 3;
		touch(buf, arg << 20, 1);
	}
	proto_say("running %s", mode);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t i = 0; i < ticks && !stop_requested(); i++) {
		if (mode[0] == 'l')
			leak_request(arg, i);
		else if (mode[0] == 's')
			steady_rewrite(buf, arg << 20, i);
		else
			churn_step(slots, arg << 20, i);
		next.tv_nsec += 1000000000L / TICKS_PER_S;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	proto_finish("exit");
}
