// SPDX-License-Identifier: MIT
/*
 * sys_grow - a process whose memory behaves as told, for the --system e2e
 * tests (tests/e2e/test_system.py).
 *
 *   sys_grow NAME leak BYTES_PER_S	touch BYTES_PER_S of new heap a second,
 *					in 20 steps a second, never freed
 *   sys_grow NAME steady BYTES		touch BYTES once, then hold them
 *   sys_grow NAME churn BYTES		allocate, touch and free BYTES 20 times
 *					a second
 *
 * NAME becomes the process's comm. Prints "ready PID" once set up, then
 * runs until killed (or 300 s, so that a forgotten one goes away).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define STEPS_PER_S	20
#define MAX_S		300

/* Write every page of p (through volatile: the stores must happen even
 * though nothing reads the memory back). */
static void touch(char *p, size_t n)
{
	volatile char *v = p;

	for (size_t i = 0; i < n; i += 4096)
		v[i] = 1;
	if (n)
		v[n - 1] = 1;
}

/* One step of the leak: its own frame, so that deep traces name it. */
__attribute__((noinline)) static int leak_step(size_t n)
{
	char *p = malloc(n);

	if (!p)
		return -1;
	touch(p, n);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec next;
	size_t bytes;

	if (argc != 4) {
		fprintf(stderr, "usage: sys_grow NAME leak|steady|churn BYTES\n");
		return 2;
	}
	prctl(PR_SET_NAME, argv[1], 0, 0, 0);
	bytes = strtoull(argv[3], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[2], "steady")) {
		char *p = malloc(bytes);

		if (!p)
			return 1;
		touch(p, bytes);
	}
	printf("ready %d\n", getpid());
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long step = 0; step < (long)MAX_S * STEPS_PER_S; step++) {
		if (!strcmp(argv[2], "leak")) {
			if (leak_step(bytes / STEPS_PER_S))
				return 1;
		} else if (!strcmp(argv[2], "churn")) {
			char *p = malloc(bytes);

			if (!p)
				return 1;
			touch(p, bytes);
			free(p);
		}
		next.tv_nsec += 1000000000L / STEPS_PER_S;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return 0;
}
