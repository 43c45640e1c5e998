// SPDX-License-Identifier: MIT
/*
 * alloc_kinds - allocates known amounts at known functions, for the e2e
 * tests (tests/e2e/test_deep_trace.py, which holds the expected numbers).
 *
 * Usage: alloc_kinds GROUP[,GROUP...] [MODE]
 *   GROUP: malloc calloc realloc reallocarray aligned churn big mmap threads
 *          prefree fork top many none
 *   MODE:  exit (default), exit=N, wait  (see alloc_common.h)
 *
 * Protocol (alloc_common.h): "ready PID", wait for SIGUSR1, run the groups,
 * "done key=value ...", then MODE. Every allocating function is NOIPA and
 * keeps its pointers in volatile globals, so each allocation is made from
 * the function named in the test, exactly once.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "alloc_common.h"

#define PAGE 4096UL

static void *volatile keep[64];		/* live blocks: never optimized away */
static unsigned int nkeep;
static char results[1024];

static void hold(void *p)
{
	keep[nkeep++ % 64] = p;
}

static void note(const char *key, long v)
{
	size_t n = strlen(results);

	snprintf(results + n, sizeof(results) - n, " %s=%ld", key, v);
}

/* ---- malloc, calloc ------------------------------------------------- */

/* volatile: no unrolling, one call site per loop (one stack) */
static volatile int three = 3, two = 2;
static volatile size_t pvalloc_sizes[2] = { 1000, 5000 };
/* volatile: sizes the compiler cannot see (or warn about) */
static volatile size_t calloc_huge_n = SIZE_MAX / 8 + 2;	/* x 16 overflows */
static volatile size_t realloc_huge = SIZE_MAX - 65536;
static volatile size_t array_huge_n = SIZE_MAX / 2;		/* x 4 overflows */
/* gcc turns realloc(NULL, n) into malloc(n) unless it cannot see the NULL */
static void *volatile null_ptr;

NOIPA void leak_malloc(void)
{
	for (int i = 0; i < three; i++) {
		hold(malloc(1000));
		KEEP_FRAME();
	}
}

NOIPA void churn_free(void *p)
{
	free(p);
	KEEP_FRAME();
}

NOIPA void churn_malloc(void)
{
	void *p = malloc(500);

	keep[63] = p;
	churn_free(p);
	KEEP_FRAME();
}

NOIPA void leak_calloc(void)
{
	hold(calloc(10, 100));
	KEEP_FRAME();
}

NOIPA void calloc_overflow(void)
{
	/* nmemb * size overflows 64 bits: calloc must fail. */
	void *p = calloc(calloc_huge_n, 16);

	keep[62] = p;
	note("calloc_overflow_null", p == NULL);
	KEEP_FRAME();
}

/* ---- realloc --------------------------------------------------------- */

NOIPA void *realloc_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void realloc_grow(void)
{
	void *p = realloc_base(100);

	hold(realloc(p, 5000));
	KEEP_FRAME();
}

NOIPA void *shrink_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void realloc_shrink(void)
{
	void *p = shrink_base(4000);

	hold(realloc(p, 100));
	KEEP_FRAME();
}

NOIPA void realloc_null(void)
{
	hold(realloc(null_ptr, 300));
	KEEP_FRAME();
}

NOIPA void *zero_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void realloc_zero(void)
{
	void *p = zero_base(700);

	/* glibc: frees p and returns NULL */
	note("realloc_zero_null", realloc(p, 0) == NULL);
	KEEP_FRAME();
}

NOIPA void *fail_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void realloc_fail(void)
{
	void *p = fail_base(800), *q;

	q = realloc(p, realloc_huge);	/* fails: p stays allocated */
	note("realloc_fail_null", q == NULL);
	hold(q ? q : p);
	KEEP_FRAME();
}

/* ---- reallocarray ---------------------------------------------------- */

NOIPA void reallocarray_new(void)
{
	hold(reallocarray(null_ptr, 20, 50));
	KEEP_FRAME();
}

NOIPA void *array_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void reallocarray_grow(void)
{
	void *p = array_base(100);

	hold(reallocarray(p, 30, 100));
	KEEP_FRAME();
}

NOIPA void *overflow_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void reallocarray_overflow(void)
{
	void *p = overflow_base(900), *q;

	q = reallocarray(p, array_huge_n, 4);	/* overflow: fails, p stays */
	note("reallocarray_overflow_null", q == NULL);
	hold(q ? q : p);
	KEEP_FRAME();
}

/* ---- aligned allocators --------------------------------------------- */

NOIPA void leak_posix_memalign(void)
{
	void *p = NULL;
	int rc = posix_memalign(&p, 64, 1000);

	note("posix_memalign_rc", rc);
	hold(p);
	KEEP_FRAME();
}

NOIPA void *einval_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void posix_memalign_einval(void)
{
	/* The out pointer holds a live tracked block: a tracer that reads it
	 * after the failure would record that block a second time. */
	void *p = einval_base(600);
	void *live = p;
	int rc = posix_memalign(&p, 3, 100);	/* not a power of two: EINVAL */

	note("posix_memalign_einval_rc", rc);
	note("posix_memalign_einval_untouched", p == live);
	hold(live);
	KEEP_FRAME();
}

NOIPA void leak_aligned_alloc(void)
{
	hold(aligned_alloc(64, 1024));
	KEEP_FRAME();
}

NOIPA void leak_memalign(void)
{
	hold(memalign(128, 1000));
	KEEP_FRAME();
}

NOIPA void leak_valloc(void)
{
	hold(valloc(1000));
	KEEP_FRAME();
}

NOIPA void leak_pvalloc(void)
{
	for (int i = 0; i < two; i++) {	/* one page, then two */
		hold(pvalloc(pvalloc_sizes[i]));
		KEEP_FRAME();
	}
}

/* ---- every kind allocated then freed -------------------------------- */

NOIPA void churn_every_kind(void)
{
	/* churn_free is NOIPA: gcc cannot drop a malloc/free pair it sees */
	void *p = NULL;

	churn_free(malloc(111));
	KEEP_FRAME();
	churn_free(calloc(3, 37));
	KEEP_FRAME();
	churn_free(realloc(null_ptr, 113));
	KEEP_FRAME();
	churn_free(reallocarray(null_ptr, 1, 117));
	KEEP_FRAME();
	if (posix_memalign(&p, 32, 119) == 0)
		churn_free(p);
	KEEP_FRAME();
	churn_free(aligned_alloc(32, 128));
	KEEP_FRAME();
	churn_free(memalign(32, 131));
	KEEP_FRAME();
	churn_free(valloc(137));
	KEEP_FRAME();
	churn_free(pvalloc(139));
	KEEP_FRAME();
}

/* ---- large mallocs (served by mmap inside malloc) ------------------- */

/* Chunks glibc serves with mmap right now. */
static long mmapped_chunks(void)
{
	return (long)mallinfo2().hblks;
}

NOIPA void big_malloc_leak(void)
{
	long before = mmapped_chunks();
	void *p = malloc(200000);

	note("big_leak_mmapped", mmapped_chunks() - before);
	hold(p);
	KEEP_FRAME();
}

NOIPA void big_malloc_freed(void)
{
	long before = mmapped_chunks();
	void *p = malloc(300000);

	note("big_freed_mmapped", mmapped_chunks() - before);
	keep[61] = p;
	churn_free(p);
	KEEP_FRAME();
}

NOIPA void *big_realloc_base(size_t n)
{
	void *p = malloc(n);

	KEEP_FRAME();
	return p;
}

NOIPA void big_realloc(void)
{
	/* glibc grows an mmapped chunk with mremap, inside realloc */
	void *p = big_realloc_base(300000);

	hold(realloc(p, 600000));
	KEEP_FRAME();
}

/* ---- mmap, munmap, mremap ------------------------------------------- */

/*
 * The mmap and mremap calls are made from these two helpers: a stack must
 * start at the helper, then the scenario function (tests find each
 * scenario's mapping by its function).
 */
NOIPA void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	KEEP_FRAME();
	return p == MAP_FAILED ? NULL : p;
}

NOIPA void *remap(void *p, size_t old_len, size_t new_len, int flags)
{
	void *q = mremap(p, old_len, new_len, flags);

	KEEP_FRAME();
	return q;
}

NOIPA void mmap_leak(void)
{
	hold(map_anon(10000));		/* page-rounded: 3 pages */
	KEEP_FRAME();
}

NOIPA void mmap_unmap_all(void)
{
	char *p = map_anon(3 * PAGE);

	note("unmap_all_rc", munmap(p, 3 * PAGE));
	KEEP_FRAME();
}

NOIPA void mmap_unmap_tail(void)
{
	char *p = map_anon(4 * PAGE);

	note("unmap_tail_rc", munmap(p + 3 * PAGE, PAGE));
	hold(p);
	KEEP_FRAME();
}

NOIPA void mmap_unmap_head(void)
{
	char *p = map_anon(4 * PAGE);

	note("unmap_head_rc", munmap(p, PAGE));
	hold(p + PAGE);
	KEEP_FRAME();
}

NOIPA void mmap_unmap_middle(void)
{
	char *p = map_anon(5 * PAGE);

	note("unmap_middle_rc", munmap(p + 2 * PAGE, PAGE));	/* two pieces */
	hold(p);
	KEEP_FRAME();
}

NOIPA void mmap_split_then_free(void)
{
	char *p = map_anon(5 * PAGE);

	note("split_rc", munmap(p + 2 * PAGE, PAGE));	/* [0,2) and [3,5) */
	note("split_free_rc", munmap(p, 2 * PAGE));	/* first piece, whole */
	hold(p + 3 * PAGE);
	KEEP_FRAME();
}

NOIPA void mmap_file(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	void *p = fd < 0 ? MAP_FAILED : mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);

	note("file_mapped", p != MAP_FAILED);
	if (fd >= 0)
		close(fd);
	hold(p);
	KEEP_FRAME();
}

NOIPA void *mremap_base(size_t len)
{
	void *p = map_anon(len);

	KEEP_FRAME();
	return p;
}

NOIPA void mremap_grow(void)
{
	void *p = mremap_base(2 * PAGE), *q;

	q = remap(p, 2 * PAGE, 6 * PAGE, MREMAP_MAYMOVE);
	note("mremap_grow_ok", q != MAP_FAILED);
	hold(q);
	KEEP_FRAME();
}

NOIPA void *mremap_shrink_base(size_t len)
{
	void *p = map_anon(len);

	KEEP_FRAME();
	return p;
}

NOIPA void mremap_shrink(void)
{
	void *p = mremap_shrink_base(4 * PAGE), *q;

	q = remap(p, 4 * PAGE, PAGE, 0);
	note("mremap_shrink_ok", q != MAP_FAILED);
	hold(q);
	KEEP_FRAME();
}

NOIPA void mmap_unmap_span(void)
{
	char *p = map_anon(6 * PAGE);

	note("span_split_rc", munmap(p + 2 * PAGE, 2 * PAGE));	/* [0,2) and [4,6) */
	note("span_rc", munmap(p, 6 * PAGE));			/* both pieces, and the hole */
	KEEP_FRAME();
}

NOIPA void *fixed_base(size_t len)
{
	void *p = map_anon(len);

	KEEP_FRAME();
	return p;
}

NOIPA void mmap_fixed_over(void)
{
	char *p = fixed_base(4 * PAGE), *q;

	/* A new mapping replaces page 1 of the old one. */
	q = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	note("fixed_ok", q == p + PAGE);
	hold(p);
	KEEP_FRAME();
}

NOIPA void *einval_map_base(size_t len)
{
	void *p = map_anon(len);

	KEEP_FRAME();
	return p;
}

NOIPA void mremap_einval(void)
{
	char *p = einval_map_base(2 * PAGE);

	/* Unaligned address: EINVAL, the mapping stays as it is. */
	note("mremap_einval_failed", remap(p + 1, PAGE, 3 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED);
	hold(p);
	KEEP_FRAME();
}

/* ---- threads ---------------------------------------------------------- */
/*
 * NTHREADS threads allocate PER_THREAD blocks of 96 bytes each at
 * thread_alloc() and free every other one. NPRE_THREADS of them start
 * before attach (they wait at the barrier until after SIGUSR1), the others
 * after; SIGUSR1 and SIGTERM stay blocked in all of them (proto_init).
 */
#define NTHREADS 4
#define NPRE_THREADS 2
#define PER_THREAD 200

static pthread_barrier_t start_line;
static pthread_t threads[NTHREADS];
static int nthreads;
static void *volatile thread_blocks[NTHREADS][PER_THREAD];

NOIPA void thread_free(void *p)
{
	free(p);
	KEEP_FRAME();
}

NOIPA void thread_alloc(int t)
{
	for (int i = 0; i < PER_THREAD; i++) {
		thread_blocks[t][i] = malloc(96);
		KEEP_FRAME();
	}
}

static void *thread_main(void *arg)
{
	int t = (int)(intptr_t)arg;

	pthread_barrier_wait(&start_line);
	thread_alloc(t);
	for (int i = 0; i < PER_THREAD; i += 2)	/* half of them */
		thread_free(thread_blocks[t][i]);
	return NULL;
}

static void start_threads(int first, int last)
{
	for (int t = first; t < last; t++)
		if (pthread_create(&threads[nthreads], NULL, thread_main, (void *)(intptr_t)t) == 0)
			nthreads++;
}

/* Before attach: the first threads, waiting at the barrier. */
static void pre_threads(void)
{
	pthread_barrier_init(&start_line, NULL, NTHREADS + 1);
	start_threads(0, NPRE_THREADS);
}

static void run_threads(void)
{
	start_threads(NPRE_THREADS, NTHREADS);
	if (nthreads == NTHREADS)
		pthread_barrier_wait(&start_line);	/* all go at once */
	for (int t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	note("threads", nthreads);
}

/* ---- allocated before attach, freed after -------------------------- */

#define NPRE 5
static void *volatile pre_blocks[NPRE + 1];

NOIPA void pre_attach_alloc(void)
{
	for (int i = 0; i <= NPRE; i++) {
		pre_blocks[i] = malloc(111);
		KEEP_FRAME();
	}
}

NOIPA void free_pre_attach(void)
{
	for (int i = 0; i < NPRE; i++) {
		free(pre_blocks[i]);
		KEEP_FRAME();
	}
}

static char *pre_map;

NOIPA void pre_attach_map(void)
{
	pre_map = map_anon(4 * PAGE);
}

NOIPA void unmap_pre_attach(void)
{
	note("pre_unmap_rc", munmap(pre_map + 2 * PAGE, 2 * PAGE));	/* untracked */
	KEEP_FRAME();
}

/* A forked child's allocations are not the target's. */
NOIPA void child_alloc(void)
{
	hold(malloc(7777));
	KEEP_FRAME();
}

static void fork_child(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		child_alloc();
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	note("child_status", status);
}

NOIPA void realloc_pre_attach(void)
{
	hold(realloc(pre_blocks[NPRE], 2000));	/* old block: unmatched */
	KEEP_FRAME();
}

/* ---- several stacks of known sizes, for -n ------------------------- */

NOIPA void top_a(void) { hold(malloc(50000)); KEEP_FRAME(); }
NOIPA void top_b(void) { hold(malloc(40000)); KEEP_FRAME(); }
NOIPA void top_c(void) { hold(malloc(30000)); KEEP_FRAME(); }
NOIPA void top_d(void) { hold(malloc(20000)); KEEP_FRAME(); }
NOIPA void top_e(void) { hold(malloc(10000)); KEEP_FRAME(); }

/* ---- many live blocks at once, for --max-allocs ------------------------ */

#define MANY 5000
static void *volatile many[MANY];

NOIPA void hold_many(void)
{
	for (int i = 0; i < MANY; i++) {
		many[i] = malloc(48);
		KEEP_FRAME();
	}
	note("many", MANY);
}

NOIPA void free_many(void)
{
	for (int i = 0; i < MANY; i++) {
		free(many[i]);
		KEEP_FRAME();
	}
}

/* ---- main ------------------------------------------------------------ */

static int has_group(const char *list, const char *g)
{
	size_t n = strlen(g);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, g, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *groups = argc > 1 ? argv[1] : "none";
	const char *mode = argc > 2 ? argv[2] : "exit";

	/* A fixed threshold: every malloc above 128 KiB is an mmap. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	proto_init();
	if (has_group(groups, "prefree")) {
		pre_attach_alloc();
		pre_attach_map();
	}
	if (has_group(groups, "threads"))
		pre_threads();
	proto_ready();
	proto_wait_go();

	if (has_group(groups, "malloc")) {
		leak_malloc();
		churn_malloc();
	}
	if (has_group(groups, "calloc")) {
		leak_calloc();
		calloc_overflow();
	}
	if (has_group(groups, "realloc")) {
		realloc_grow();
		realloc_shrink();
		realloc_null();
		realloc_zero();
		realloc_fail();
	}
	if (has_group(groups, "reallocarray")) {
		reallocarray_new();
		reallocarray_grow();
		reallocarray_overflow();
	}
	if (has_group(groups, "aligned")) {
		leak_posix_memalign();
		posix_memalign_einval();
		leak_aligned_alloc();
		leak_memalign();
		leak_valloc();
		leak_pvalloc();
	}
	if (has_group(groups, "churn"))
		churn_every_kind();
	if (has_group(groups, "big")) {
		big_malloc_leak();
		big_malloc_freed();
		big_realloc();
	}
	if (has_group(groups, "mmap")) {
		mmap_leak();
		mmap_unmap_all();
		mmap_unmap_tail();
		mmap_unmap_head();
		mmap_unmap_middle();
		mmap_split_then_free();
		mmap_file();
		mremap_grow();
		mremap_shrink();
		mmap_unmap_span();
		mmap_fixed_over();
		mremap_einval();
	}
	if (has_group(groups, "threads"))
		run_threads();
	if (has_group(groups, "prefree")) {
		free_pre_attach();
		realloc_pre_attach();
		unmap_pre_attach();
	}
	if (has_group(groups, "fork"))
		fork_child();
	if (has_group(groups, "top")) {
		top_c();
		top_a();
		top_e();
		top_b();
		top_d();
	}
	for (int round = 0; round < two && has_group(groups, "many"); round++) {
		hold_many();		/* one call site: one stack */
		if (round == 0)
			free_many();
	}
	proto_say("done%s", results);
	proto_finish(mode);
}
