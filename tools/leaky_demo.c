// SPDX-License-Identifier: MIT
/*
 * leaky_demo - the program `make demo` traces. Every 100 ms it leaks a
 * request buffer (1 KiB, through a 3-deep call chain), churns a temporary
 * (allocated and freed), and grows a cache that stops growing after 3 s.
 * Runs for `argv[1]` seconds (default 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink;
static char *volatile cache[64];

NOINLINE static char *parse_request(int i)
{
	char *buf = malloc(1024);	/* leaked: nobody frees requests */

	snprintf(buf, 1024, "request %d", i);
	return buf;
}

NOINLINE static void handle_request(int i)
{
	sink = parse_request(i);
}

NOINLINE static void serve(int i)
{
	handle_request(i);
	__asm__ volatile("" ::: "memory");	/* keep this frame: no tail call */
}

NOINLINE static void scratch_work(void)
{
	char *tmp = malloc(4096);	/* temporary: freed at once */

	memset(tmp, 1, 4096);
	sink = tmp;
	free(tmp);
}

NOINLINE static void warm_cache(int i)
{
	if (i < 30)			/* grows for 3 s, then plateaus */
		cache[i] = calloc(16, 256);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	struct timespec tick = { 0, 100 * 1000 * 1000 };

	for (int i = 0; i < (int)(secs * 10); i++) {
		serve(i);
		scratch_work();
		warm_cache(i);
		nanosleep(&tick, NULL);
	}
	return 0;
}
