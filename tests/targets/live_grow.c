// SPDX-License-Identifier: MIT
/*
 * live_grow.c - e2e target for the growing live allocations table (issue
 * 15): THREADS threads each make LIVE/THREADS live blocks in grow_live(),
 * freeing one of their oldest blocks after every third allocation, so
 * frees of old records race with the moves of a growing table.
 *
 *   live_grow LIVE THREADS MODE
 *
 * After SIGUSR1 the threads run together; then "done bytes=B blocks=N
 * allocs=A frees=F" (B: the bytes still live, all made in grow_live).
 * Usage: tests/e2e/test_footprint.py.
 */
#include <pthread.h>
#include "alloc_common.h"

struct worker {
	pthread_t th;
	long live;		/* blocks to keep */
	void **blocks;		/* every block made, in order */
	long made, freed;	/* blocks[freed..made) are live */
	unsigned long long bytes;
};

static pthread_barrier_t start;

static size_t size_of(long i)
{
	return 16 + (size_t)(i % 61) * 8;
}

NOIPA static void grow_live(struct worker *w)
{
	while (w->made - w->freed < w->live) {
		void *p = malloc(size_of(w->made));

		if (!p)
			_exit(3);
		w->blocks[w->made++] = p;
		if (w->made % 4 == 3 && w->freed < w->made - 1)
			free(w->blocks[w->freed++]);
		KEEP_FRAME();
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&start);
	grow_live(w);
	for (long i = w->freed; i < w->made; i++)
		w->bytes += size_of(i);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker *w;
	unsigned long long bytes = 0;
	long live, n, made = 0, freed = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: live_grow LIVE THREADS MODE\n");
		return 2;
	}
	live = atol(argv[1]);
	n = atol(argv[2]);
	if (live < 1 || n < 1 || n > 64)
		return 2;
	proto_init();
	w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return 3;
	for (long t = 0; t < n; t++) {
		w[t].live = live / n + (t < live % n);
		/* one free per three blocks kept, and one block more */
		w[t].blocks = calloc((size_t)(w[t].live * 4 / 3 + 8), sizeof(void *));
		if (!w[t].blocks)
			return 3;
	}
	pthread_barrier_init(&start, NULL, (unsigned)n);
	proto_ready();
	proto_wait_go();
	for (long t = 0; t < n; t++)
		if (pthread_create(&w[t].th, NULL, run, &w[t]))
			return 3;
	for (long t = 0; t < n; t++) {
		pthread_join(w[t].th, NULL);
		bytes += w[t].bytes;
		made += w[t].made;
		freed += w[t].freed;
	}
	proto_say("done bytes=%llu blocks=%ld allocs=%ld frees=%ld", bytes, made - freed, made,
		  freed);
	proto_finish(argv[3]);
}
