// SPDX-License-Identifier: MIT
/*
 * unwind_chain - leaks through a 4-deep call chain in every thread, for the
 * dwarf unwinder's end-to-end check (issue 4). Built -O2
 * -fomit-frame-pointer (mk/unwind.mk), so only .eh_frame can walk it, and
 * Debian's libc has no frame pointers either.
 *
 * Usage: unwind_chain [THREADS [ROUNDS [DEPTH]]]   (default 4, 16, 0)
 * Prints "ready" and waits for one byte on stdin (the tracer attaches
 * meanwhile), runs, prints "done", then exits at EOF on stdin.
 *
 * main and every thread call chain_a -> chain_b -> chain_c -> chain_d
 * ROUNDS times; chain_d mallocs 100 bytes (never freed), and once per
 * thread mmaps a page instead (never unmapped). With DEPTH > 0, main makes
 * its calls DEPTH frames of deep() down (stacks deeper than MAX_STACK_DEPTH).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* noipa: no inlining, cloning or tail calls that would hide a frame */
#define CHAIN __attribute__((noipa))

static volatile unsigned long sink;	/* work after each call: no sibling calls */
static int rounds = 16;

CHAIN void *chain_d(size_t n, int map)
{
	void *p = map ? mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		      : malloc(n);

	sink += (unsigned long)p & 1;
	return p;
}

CHAIN void *chain_c(size_t n, int map)
{
	void *p = chain_d(n, map);

	sink++;
	return p;
}

CHAIN void *chain_b(size_t n, int map)
{
	void *p = chain_c(n, map);

	sink++;
	return p;
}

CHAIN void *chain_a(size_t n, int map)
{
	void *p = chain_b(n, map);

	sink++;
	return p;
}

CHAIN void *thread_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < rounds; i++)
		chain_a(100, 0);
	chain_a(0, 1);
	sink++;
	return NULL;
}

CHAIN void *deep(int n)
{
	void *p = n > 0 ? deep(n - 1) : thread_main(NULL);

	sink++;
	return p;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	int depth = argc > 3 ? atoi(argv[3]) : 0;
	pthread_t *t;
	char c;

	if (argc > 2)
		rounds = atoi(argv[2]);
	if (nthreads < 0 || nthreads > 1024 || rounds < 0)
		return 2;
	t = calloc(nthreads + 1, sizeof(*t));
	if (!t)
		return 1;
	printf("ready\n");
	fflush(stdout);
	if (read(0, &c, 1) != 1)
		return 1;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, thread_main, NULL))
			return 1;
	if (depth > 0) {
		deep(depth);
	} else {
		for (int i = 0; i < rounds; i++)
			chain_a(100, 0);
		chain_a(0, 1);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("done\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	free(t);
	return 0;
}
