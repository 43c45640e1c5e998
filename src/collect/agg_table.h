/* SPDX-License-Identifier: MIT */
/*
 * agg_table.h - userspace side of the aggs map: a hash map of struct
 * agg_val by struct agg_key (stack_id, kind), not preallocated (see
 * bpf/memtrace.h). Read with batch lookups: only the aggregates there are.
 */
#ifndef MEMTRACE_AGG_TABLE_H
#define MEMTRACE_AGG_TABLE_H

#include <stddef.h>
#include "bpf/memtrace.h"

struct agg_table;

/*
 * A reader of the aggs map fd (a HASH of struct agg_key -> struct
 * agg_val). Returns the table, or NULL with errno set (EINVAL: not such a
 * map). The fd stays the caller's.
 */
struct agg_table *agg_table__open(int fd);

/*
 * Copy every aggregate: vals[i] for i < *n, malloc'ed (free it; NULL
 * when *n is 0); each carries its stack_id and kind. Returns 0 or -errno.
 * Aggregates made while it reads may show at the next read.
 */
int agg_table__read(const struct agg_table *t, struct agg_val **vals, size_t *n);

/* Free t (NULL is fine). */
void agg_table__close(struct agg_table *t);

/*
 * Put v at (stack_id, kind) in the aggs map fd: for tests and tools.
 * Returns 0, or -errno of the map update (-E2BIG: the map is full).
 */
int agg_table__put(int fd, __u64 stack_id, __u32 kind, const struct agg_val *v);

#endif /* MEMTRACE_AGG_TABLE_H */
