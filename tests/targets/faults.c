// SPDX-License-Identifier: MIT
/*
 * faults - the target of the fault suite (tests/e2e/test_faults.py, which
 * holds the expected numbers).
 *
 * Usage: faults SCENARIO [MODE]
 *   fork      10 x malloc(1000) kept at parent_keep(), 10 x malloc(2000) at
 *             parent_shared(); then 3 children, each frees the 10 shared
 *             blocks of its copy, makes 5 x malloc(3333) at child_alloc()
 *             and frees 2 of them, then exits 0; the parent waits for them.
 *             "done children=3 statuses=0"
 *   threads   64 threads, each 2,000 malloc(64)+free pairs at
 *             thread_churn() and 1,000 x malloc(100 + 8 * (t % 4)) kept at
 *             thread_leak(). "done threads=64 leaked_bytes=N leaked=64000"
 *   realloc   one block grown by realloc 10,000 times at realloc_storm(),
 *             32 bytes a step (the last steps are beyond the mmap threshold:
 *             glibc moves the block with mremap), kept.
 *             "done steps=10000 bytes=320000"
 *   doublefree  3 x malloc(1000) kept at before_abort(), then one block
 *             freed twice: glibc aborts (SIGABRT). "done" comes before.
 *   mmaprace  two threads at once: one maps a page at map_churn(), grows it
 *             with mremap (moving it when it cannot grow in place) and
 *             unmaps it, 4,000 times; the main thread maps 2,000 pages at
 *             map_keep() and keeps them. Freed ranges are handed out again
 *             at once, to the other thread: a release seen late must not
 *             take the new mapping with it.
 *             "done kept=2000 bytes=N churned=4000"
 *   mmapspanN one mapping of N pages reserved at span_reserve(), each page
 *             mapped again (MAP_FIXED) at span_pages(), then the N pages
 *             unmapped by one munmap at span_unmap(): one release that
 *             touches N tracked mappings. "done pages=N bytes=B"
 *   hold      5 x malloc(4096) kept at hold_blocks(); "done", then MODE.
 *   MODE: exit (default), exit=N, wait (alloc_common.h)
 *
 * Protocol (alloc_common.h): "ready PID", wait for SIGUSR1, the scenario,
 * "done key=value ...", then MODE.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "alloc_common.h"

static void *volatile keep[20];
static volatile int ten = 10, five = 5;

/* ---- fork --------------------------------------------------------------- */

NOIPA void parent_keep(void)
{
	for (int i = 0; i < ten; i++) {
		keep[i] = malloc(1000);
		KEEP_FRAME();
	}
}

NOIPA void parent_shared(void)
{
	for (int i = 0; i < ten; i++) {
		keep[10 + i] = malloc(2000);
		KEEP_FRAME();
	}
}

NOIPA void child_free(void *p)
{
	free(p);
	KEEP_FRAME();
}

NOIPA void child_alloc(void)
{
	void *volatile mine[5];

	for (int i = 0; i < five; i++) {
		mine[i] = malloc(3333);
		KEEP_FRAME();
	}
	child_free(mine[0]);
	child_free(mine[1]);
}

static void run_fork(void)
{
	int statuses = 0, n = 0;

	parent_keep();
	parent_shared();
	for (int c = 0; c < 3; c++) {
		pid_t pid = fork();

		if (pid == 0) {
			for (int i = 0; i < 10; i++)	/* the parent's blocks, in the copy */
				child_free(keep[10 + i]);
			child_alloc();
			_exit(0);
		}
		if (pid > 0) {
			int st = -1;

			waitpid(pid, &st, 0);
			statuses |= st;
			n++;
		}
	}
	proto_say("done children=%d statuses=%d", n, statuses);
}

/* ---- threads -------------------------------------------------------------- */

#define NTHREADS 64
#define PAIRS 2000
#define LEAKS 1000

static pthread_barrier_t start_line;
static void *volatile *leaked[NTHREADS];

NOIPA void thread_churn(void)
{
	for (int i = 0; i < PAIRS; i++) {
		void *volatile p = malloc(64);

		free(p);
		KEEP_FRAME();
	}
}

NOIPA void thread_leak(int t)
{
	for (int i = 0; i < LEAKS; i++) {
		leaked[t][i] = malloc(100 + 8 * (size_t)(t % 4));
		KEEP_FRAME();
	}
}

static void *thread_main(void *arg)
{
	int t = (int)(intptr_t)arg;

	pthread_barrier_wait(&start_line);
	thread_churn();
	thread_leak(t);
	return NULL;
}

static void run_threads(void)
{
	static void *table[NTHREADS][LEAKS];
	pthread_t th[NTHREADS];
	long bytes = 0;
	int n = 0;

	pthread_barrier_init(&start_line, NULL, NTHREADS);
	for (int t = 0; t < NTHREADS; t++) {
		leaked[t] = table[t];
		bytes += LEAKS * (100 + 8 * (long)(t % 4));
	}
	/* The threads are made after attach (SIGUSR1): they start at once. */
	for (int t = 0; t < NTHREADS; t++)
		if (pthread_create(&th[t], NULL, thread_main, (void *)(intptr_t)t) == 0)
			n++;
	if (n != NTHREADS)
		_exit(3);	/* the barrier would wait for ever */
	for (int t = 0; t < n; t++)
		pthread_join(th[t], NULL);
	proto_say("done threads=%d leaked_bytes=%ld leaked=%d", n, bytes, n * LEAKS);
}

/* ---- mmap race -------------------------------------------------------------- */

#define CHURNS 4000
#define KEPT 2000

static pthread_barrier_t map_line;
static void *kept_maps[KEPT];

NOIPA void map_churn(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < CHURNS; i++) {
		void *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(5);
		p = mremap(p, pg, 3 * pg, MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			_exit(6);
		munmap(p, 3 * pg);
		KEEP_FRAME();
	}
}

static void *churn_main(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&map_line);
	map_churn();
	return NULL;
}

NOIPA void map_keep(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < KEPT; i++) {
		kept_maps[i] = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				    -1, 0);
		if (kept_maps[i] == MAP_FAILED)
			_exit(7);
		KEEP_FRAME();
	}
}

static void run_mmap_race(void)
{
	pthread_t th;

	pthread_barrier_init(&map_line, NULL, 2);
	if (pthread_create(&th, NULL, churn_main, NULL) != 0)
		_exit(3);
	pthread_barrier_wait(&map_line);
	map_keep();
	pthread_join(th, NULL);
	proto_say("done kept=%d bytes=%ld churned=%d", KEPT, KEPT * sysconf(_SC_PAGESIZE), CHURNS);
}

/* ---- one munmap over many mappings -------------------------------------------- */

NOIPA char *span_reserve(long bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	KEEP_FRAME();
	return p;
}

NOIPA void span_pages(char *p, int n, long pg)
{
	for (int i = 0; i < n; i++) {
		if (mmap(p + i * pg, pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			_exit(9);
		KEEP_FRAME();
	}
}

NOIPA void span_unmap(char *p, long bytes)
{
	munmap(p, bytes);
	KEEP_FRAME();
}

static void run_mmap_span(int n)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = span_reserve(n * pg);

	if (p == MAP_FAILED)
		_exit(8);
	span_pages(p, n, pg);
	span_unmap(p, n * pg);
	proto_say("done pages=%d bytes=%ld", n, n * pg);
}

/* ---- realloc storm ------------------------------------------------------- */

#define STEPS 10000
#define STEP 32

NOIPA void realloc_storm(void)
{
	void *p = NULL;

	for (int i = 1; i <= STEPS; i++) {
		void *q = realloc(p, (size_t)i * STEP);

		if (!q)
			_exit(4);
		p = q;
		KEEP_FRAME();
	}
	keep[0] = p;
	proto_say("done steps=%d bytes=%d", STEPS, STEPS * STEP);
}

/* ---- double free ---------------------------------------------------------- */

static void *volatile twice;

NOIPA void before_abort(void)
{
	for (int i = 0; i < 3; i++) {
		keep[i] = malloc(1000);
		KEEP_FRAME();
	}
}

NOIPA void double_free(void)
{
	twice = malloc(100);
	free(twice);
	free(twice);	/* glibc: "free(): double free detected": abort */
	KEEP_FRAME();
}

/* ---- hold ------------------------------------------------------------------ */

NOIPA void hold_blocks(void)
{
	for (int i = 0; i < five; i++) {
		keep[i] = malloc(4096);
		KEEP_FRAME();
	}
	proto_say("done blocks=5 bytes=20480");
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "hold";
	const char *mode = argc > 2 ? argv[2] : "exit";

	/* A fixed threshold: blocks above 128 KiB are mmaps (and realloc
	 * moves them with mremap). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	proto_init();
	proto_ready();
	proto_wait_go();
	if (strcmp(what, "fork") == 0) {
		run_fork();
	} else if (strcmp(what, "threads") == 0) {
		run_threads();
	} else if (strcmp(what, "mmaprace") == 0) {
		run_mmap_race();
	} else if (strncmp(what, "mmapspan", 8) == 0 && atoi(what + 8) > 0) {
		run_mmap_span(atoi(what + 8));
	} else if (strcmp(what, "realloc") == 0) {
		realloc_storm();
	} else if (strcmp(what, "doublefree") == 0) {
		before_abort();
		proto_say("done blocks=3 bytes=3000");
		double_free();
		proto_say("survived");	/* not reached with glibc's checks */
	} else {
		hold_blocks();
	}
	proto_finish(mode);
}
