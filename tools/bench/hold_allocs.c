// SPDX-License-Identifier: MIT
/*
 * hold_allocs - holds many small allocations, for the report cost bench
 * (tools/bench.sh): what one report, the tracer's memory and its BPF maps
 * cost when a million allocations are live.
 *
 *   hold_allocs [COUNT [SIZE]]		(default 1000000, 32)
 *
 * Prints "ready PID", waits for SIGUSR1 (the tracer is attached), makes
 * COUNT malloc(SIZE) calls and keeps every block, from 4 leaf functions
 * called 0..63 frames deep (256 distinct stacks), prints "done count=N
 * bytes=B", then waits for SIGUSR1 or SIGTERM and exits 0. Each wait
 * gives up after 10 minutes (exit 98).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NOIPA __attribute__((noipa, noinline))

static sigset_t set;

static void wait_signal(void)
{
	struct timespec ts = { 600, 0 };
	int sig;

	do
		sig = sigtimedwait(&set, NULL, &ts);
	while (sig < 0 && errno == EINTR);
	if (sig == SIGTERM)
		exit(0);
	if (sig < 0)
		exit(98);
}

/* After a call: keeps the caller's frame (no tail call). */
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")
#define LEAF(name) NOIPA static void *name(size_t n) { void *p = malloc(n); KEEP_FRAME(); return p; }
LEAF(leaf0)
LEAF(leaf1)
LEAF(leaf2)
LEAF(leaf3)

NOIPA static void *nest(int depth, int leaf, size_t n)
{
	void *p;

	if (depth > 0) {
		p = nest(depth - 1, leaf, n);
		KEEP_FRAME();
		return p;
	}
	switch (leaf) {
	case 0: p = leaf0(n); break;
	case 1: p = leaf1(n); break;
	case 2: p = leaf2(n); break;
	default: p = leaf3(n); break;
	}
	KEEP_FRAME();
	return p;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 1000000;
	long size = argc > 2 ? atol(argv[2]) : 32;
	void **blocks;

	if (count <= 0 || size <= 0) {
		fprintf(stderr, "usage: hold_allocs [COUNT [SIZE]]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	blocks = calloc(count, sizeof(*blocks));	/* before the tracer: not counted */
	if (!blocks)
		return 1;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	wait_signal();
	for (long i = 0; i < count; i++) {
		blocks[i] = nest((int)(i / 4 % 64), (int)(i % 4), (size_t)size);
		if (!blocks[i])
			return 1;
	}
	printf("done count=%ld bytes=%ld\n", count, count * size);
	fflush(stdout);
	wait_signal();
	return 0;
}
