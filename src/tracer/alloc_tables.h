/* SPDX-License-Identifier: MIT */
/*
 * alloc_tables.h - the live allocations' tables over a trace: the allocs
 * map is an array of two tables (bpf/tables.bpf.h); this module creates the
 * first, small one, watches how full it is, and when it fills replaces it
 * with a larger one (x1.5, up to the table for max_allocs), moving the
 * records while the BPF programs run (alloc_table__move). A thread of its
 * own does it, so growth never waits for a report.
 */
#ifndef MEMTRACE_ALLOC_TABLES_H
#define MEMTRACE_ALLOC_TABLES_H

#include <stdbool.h>
#include <stdint.h>
#include "tracer/alloc_table.h"

/* Buckets of the first table (at most the max_allocs table's). */
#define ALLOC_TABLES_START_BUCKETS	4096

struct alloc_tables;

struct alloc_tables_usage {
	uint64_t live;		/* records in the tables (made - released) */
	uint64_t capacity;	/* slots of the current table */
	uint64_t max_capacity;	/* slots of the largest table it may grow to */
	uint64_t bytes;		/* memory of the current table (memlock) */
	uint64_t grows;		/* tables replaced by larger ones */
	uint64_t moved;		/* records moved by them */
};

/*
 * Create the first table and put it in the allocs map (outer_fd, an
 * ARRAY_OF_MAPS of tables); records_fd is the per-CPU alloc_records map.
 * Sized for max_allocs live allocations at most. Returns NULL with errno
 * set. The fds stay the caller's, open until alloc_tables__free.
 */
struct alloc_tables *alloc_tables__new(int outer_fd, int records_fd, uint64_t max_allocs);

/*
 * Start the thread that grows the table (once the probes are attached:
 * every 50 ms it reads the live count, every 5 ms once the table is half
 * way to its growth point). Returns 0 (also when started already) or
 * -errno of pthread_create.
 */
int alloc_tables__watch(struct alloc_tables *t);

/*
 * Replace the current table by one of nb buckets (> the current's, at
 * most the largest) and move the records. Called by the thread; tests
 * call it directly. Returns 0, -EINVAL (nb out of range), -ENOSPC (a
 * record had no room: the old table stays in use as ALLOC_TBL_OLD and
 * growth stops), or -errno of a map syscall.
 */
int alloc_tables__grow(struct alloc_tables *t, uint32_t nb);

/* Call fn for every complete record of the current table, as
 * alloc_table__walk; never during a move. */
int alloc_tables__walk(struct alloc_tables *t, alloc_table_fn fn, void *arg);

/* Fill *u. Cannot fail. */
void alloc_tables__usage(struct alloc_tables *t, struct alloc_tables_usage *u);

/* The fd of the current table (owned by t; for tests and tools). */
int alloc_tables__fd(struct alloc_tables *t);

/* Stop the thread, drop the tables (NULL is fine). */
void alloc_tables__free(struct alloc_tables *t);

#endif /* MEMTRACE_ALLOC_TABLES_H */
