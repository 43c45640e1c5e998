// SPDX-License-Identifier: MIT
/*
 * dashboard_leak - the target of tests/e2e/test_dashboard.py (attach mode and
 * --system): for argv[1] seconds (default 6) it leaks 16 KiB every 50 ms in
 * dashboard_leak_request() (called through dashboard_serve()), and churns
 * a 4 KiB temporary, then prints "done leaked=BYTES" on stderr and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* As in alloc_common.h (whose waiting protocol launch mode does not need). */
#define NOIPA __attribute__((noipa, noinline, used))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

#define LEAK_BYTES	(16 * 1024)

static void *volatile sink;

NOIPA static void *dashboard_leak_request(void)
{
	char *p = malloc(LEAK_BYTES);	/* never freed */

	if (p)
		memset(p, 0x5a, LEAK_BYTES);
	return p;
}

NOIPA static void dashboard_serve(void)
{
	sink = dashboard_leak_request();
	KEEP_FRAME();
}

NOIPA static void dashboard_scratch(void)
{
	char *tmp = malloc(4096);

	if (tmp)
		memset(tmp, 1, 4096);
	sink = tmp;
	free(tmp);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 6;
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	long long leaked = 0;

	for (int i = 0; i < (int)(secs * 20); i++) {
		dashboard_serve();
		dashboard_scratch();
		leaked += LEAK_BYTES;
		nanosleep(&tick, NULL);
	}
	fprintf(stderr, "done leaked=%lld\n", leaked);
	return 0;
}
