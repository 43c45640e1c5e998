/* SPDX-License-Identifier: MIT */
/*
 * writers_fixture.h - a synthetic struct report for the output writer
 * tests (pprof, collapsed, flamegraph, csv, metrics, http), built the way
 * collect.c and the symbolizer fill a real one. Header-only: each test
 * binary includes it once.
 *
 * Stacks (sorted by outstanding bytes, descending):
 *   0 0x1111 malloc  3 MiB in 3   leak_inner (inlined into) leak_outer <- main <- __libc_start_main
 *   1 0x2222 calloc  1 MiB in 2   Pool<Node, 64>::grow(unsigned long) <- main <- __libc_start_main
 *   2 0x3333 mmap  512 KiB in 1   [libfoo.so+0x1234, no symbol] <- main <- __libc_start_main
 *   3 0x5555 malloc  4 KiB in 1   raw ip 0xdead0000, not symbolized (no frames)
 *   4 0x4444 malloc     0         temp_buffer <- main (2 MiB allocated, all freed)
 */
#ifndef WRITERS_FIXTURE_H
#define WRITERS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/report.h"

#define FX_APP		"/usr/bin/leaky_app"
#define FX_APP_BUILD_ID	"abcdef0123456789abcdef0123456789abcdef01"
#define FX_LIBC		"/usr/lib/x86_64-linux-gnu/libc.so.6"
#define FX_LIBC_BUILD_ID "1234567890abcdef1234567890abcdef12345678"
#define FX_LIBFOO	"/opt/foo/lib/libfoo.so"
#define FX_APP_BIAS	0x555555554000ULL
#define FX_LIBC_BIAS	0x7ffff7c00000ULL
#define FX_LIBFOO_BIAS	0x7ffff7e00000ULL

#define FX_LEAK_BYTES	(3 << 20)
#define FX_POOL_BYTES	(1 << 20)
#define FX_MMAP_BYTES	(512 << 10)
#define FX_RAW_BYTES	4096
#define FX_TOTAL_BYTES	(FX_LEAK_BYTES + FX_POOL_BYTES + FX_MMAP_BYTES + FX_RAW_BYTES)
#define FX_POOL_NAME	"Pool<Node, 64>::grow(unsigned long)"
#define FX_POOL_MANGLED	"_ZN4PoolI4NodeLi64EE4growEm"

static inline char *fx_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static inline void fx_frame(struct frame *f, const char *module, uint64_t bias, uint64_t offset,
			    const char *build_id, const char *fn, const char *sys,
			    const char *file, int line, bool inlined)
{
	memset(f, 0, sizeof(*f));
	f->ip = module ? bias + offset : offset;
	f->module = fx_dup(module);
	f->offset = offset;
	f->build_id = fx_dup(build_id);
	f->function = fx_dup(fn);
	f->system_name = fx_dup(sys);
	f->file = fx_dup(file);
	f->line = line;
	f->inlined = inlined;
}

/* ips[] from frames: one per non-inlined frame. */
static inline void fx_ips(struct stack_report *s)
{
	s->ips = calloc(s->nr_frames + 1, sizeof(*s->ips));
	s->nr_ips = 0;
	for (size_t i = 0; i < s->nr_frames; i++)
		if (!s->frames[i].inlined)
			s->ips[s->nr_ips++] = s->frames[i].ip;
}

static inline void fx_main_frames(struct frame *f)
{
	fx_frame(&f[0], FX_APP, FX_APP_BIAS, 0x1200, FX_APP_BUILD_ID, "main", "main",
		 "/src/leaky/main.c", 42, false);
	fx_frame(&f[1], FX_LIBC, FX_LIBC_BIAS, 0x29d90, FX_LIBC_BUILD_ID, "__libc_start_main",
		 "__libc_start_main", NULL, 0, false);
}

static inline void fx_stack(struct stack_report *s, uint64_t id, enum alloc_kind kind,
			    int64_t bytes, int64_t allocs, size_t nr_frames)
{
	memset(s, 0, sizeof(*s));
	s->stack_id = id;
	s->kind = kind;
	s->outstanding_bytes = bytes;
	s->outstanding_allocs = allocs;
	s->alloc_calls = (uint64_t)allocs;
	s->alloc_bytes = (uint64_t)bytes;
	s->oldest_age_s = 9.5;
	s->mean_age_s = 4.25;
	s->nr_frames = nr_frames;
	s->frames = calloc(nr_frames + 1, sizeof(*s->frames));
}

/* The report described above; report__free() releases it. */
static inline struct report *fx_report(void)
{
	struct report *r = calloc(1, sizeof(*r));
	struct stack_report *s;

	r->pid = 4242;
	snprintf(r->comm, sizeof(r->comm), "leaky_app");
	r->time = 1700000000.5;
	r->elapsed_s = 30;
	r->sample_bytes = 0;
	r->nr_stacks = 5;
	r->stacks = calloc(r->nr_stacks, sizeof(*r->stacks));

	s = &r->stacks[0];
	fx_stack(s, 0x1111, KIND_MALLOC, FX_LEAK_BYTES, 3, 4);
	s->alloc_calls = 10;
	s->alloc_bytes = 10 << 20;
	s->free_calls = 7;
	s->free_bytes = 7 << 20;
	fx_frame(&s->frames[0], FX_APP, FX_APP_BIAS, 0x1100, FX_APP_BUILD_ID, "leak_inner",
		 "leak_inner", "/src/leaky/leak.c", 12, true);
	fx_frame(&s->frames[1], FX_APP, FX_APP_BIAS, 0x1100, FX_APP_BUILD_ID, "leak_outer",
		 "leak_outer", "/src/leaky/leak.c", 30, false);
	fx_main_frames(&s->frames[2]);
	s->analysed = true;
	s->growth_bytes_per_s = 102400;
	s->growth_r2 = 0.97;
	s->severity = SEV_HIGH;

	s = &r->stacks[1];
	fx_stack(s, 0x2222, KIND_CALLOC, FX_POOL_BYTES, 2, 3);
	fx_frame(&s->frames[0], FX_APP, FX_APP_BIAS, 0x1500, FX_APP_BUILD_ID, FX_POOL_NAME,
		 FX_POOL_MANGLED, "/src/leaky/pool.hpp", 77, false);
	fx_main_frames(&s->frames[1]);
	s->analysed = true;
	s->growth_bytes_per_s = 2048;
	s->growth_r2 = 0.5;
	s->severity = SEV_LOW;

	s = &r->stacks[2];
	fx_stack(s, 0x3333, KIND_MMAP, FX_MMAP_BYTES, 1, 3);
	fx_frame(&s->frames[0], FX_LIBFOO, FX_LIBFOO_BIAS, 0x1234, NULL, NULL, NULL, NULL, 0, false);
	fx_main_frames(&s->frames[1]);

	s = &r->stacks[3];
	fx_stack(s, 0x5555, KIND_MALLOC, FX_RAW_BYTES, 1, 0);
	s->nr_ips = 1;
	s->ips = calloc(1, sizeof(*s->ips));
	s->ips[0] = 0xdead0000;
	s->oldest_age_s = -1;
	s->mean_age_s = -1;

	s = &r->stacks[4];
	fx_stack(s, 0x4444, KIND_MALLOC, 0, 0, 3);
	s->alloc_calls = 4;
	s->alloc_bytes = 2 << 20;
	s->free_calls = 4;
	s->free_bytes = 2 << 20;
	fx_frame(&s->frames[0], FX_APP, FX_APP_BIAS, 0x1700, FX_APP_BUILD_ID, "temp_buffer",
		 "temp_buffer", "/src/leaky/tmp.c", 3, false);
	fx_main_frames(&s->frames[1]);

	for (size_t i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].nr_frames)
			fx_ips(&r->stacks[i]);

	r->totals.outstanding_bytes = FX_TOTAL_BYTES;
	r->totals.outstanding_allocs = 7;
	r->totals.alloc_calls = 21;
	r->totals.free_calls = 11;
	r->totals.drops[DROP_STACKS_FULL] = 7;
	r->totals.drops[DROP_NOTIFY_FULL] = 2;
	r->totals.dropped_events = 9;
	r->totals.unmatched_frees = 5;
	r->totals.counters[CNT_PROBE_HITS] = 123456;
	r->proc.rss_bytes = 64 << 20;
	r->proc.heap_bytes = 8 << 20;
	r->proc.rss_growth_bytes_per_s = 4096;
	r->proc.heap_growth_bytes_per_s = 2048;
	r->worst = SEV_HIGH;
	r->suspect = 0;
	return r;
}

/*
 * A large report: n stacks of depth frames over a few modules, with an
 * inlined frame every fourth level, for timing and bounds tests.
 */
static inline struct report *fx_big_report(size_t n, size_t depth)
{
	struct report *r = calloc(1, sizeof(*r));
	char name[64], sys[64];

	r->pid = 1;
	snprintf(r->comm, sizeof(r->comm), "big");
	r->time = 1700000000;
	r->nr_stacks = n;
	r->stacks = calloc(n, sizeof(*r->stacks));
	for (size_t i = 0; i < n; i++) {
		struct stack_report *s = &r->stacks[i];

		fx_stack(s, 0x100000 + i, (enum alloc_kind)(i % KIND_MAX),
			 (int64_t)((n - i) * 4096), (int64_t)(n - i), depth);
		for (size_t d = depth; d-- > 0;) {
			/* the leaf level is distinct per stack, callers are shared */
			uint64_t fn = d == 0 ? 100000 + i : d * 7 + i % 5;
			bool inl = d % 4 == 0 && d + 1 < depth;
			bool app = d % 3 != 0;
			uint64_t off = 0x1000 + fn * 16;

			if (inl) {	/* same ip as the frame it is inlined into */
				app = strcmp(s->frames[d + 1].module, FX_APP) == 0;
				off = s->frames[d + 1].offset;
			}
			snprintf(name, sizeof(name), "fn_%llu(int)", (unsigned long long)fn);
			snprintf(sys, sizeof(sys), "_Z4fn_%lluI", (unsigned long long)fn);
			fx_frame(&s->frames[d], app ? FX_APP : FX_LIBC, app ? FX_APP_BIAS : FX_LIBC_BIAS,
				 off, app ? FX_APP_BUILD_ID : FX_LIBC_BUILD_ID, name, sys,
				 "/src/big.c", (int)d + 1, inl);
		}
		fx_ips(s);
	}
	return r;
}

#endif /* WRITERS_FIXTURE_H */
