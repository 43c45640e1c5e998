/* SPDX-License-Identifier: MIT */
/*
 * agg_table.h - userspace side of the aggs map: an ARRAY of struct
 * agg_val used by the BPF programs as an open-addressing table keyed by
 * (stack_id, kind) (see struct agg_val in bpf/memtrace.h). Read through
 * a shared mapping, no copy of the empty slots.
 */
#ifndef MEMTRACE_AGG_TABLE_H
#define MEMTRACE_AGG_TABLE_H

#include <stddef.h>
#include "bpf/memtrace.h"

struct agg_table;

/*
 * Map the aggs map fd (an mmapable ARRAY of struct agg_val) read-only.
 * Returns the table, or NULL with errno set (EINVAL: not such a map).
 * The fd stays the caller's.
 */
struct agg_table *agg_table__open(int fd);

/*
 * Copy every ready slot: vals[i] for i < *n, malloc'ed (free it; NULL
 * when *n is 0); each carries its stack_id and kind. Returns 0 or
 * -ENOMEM. Slots being claimed while it reads show at the next read.
 */
int agg_table__read(const struct agg_table *t, struct agg_val **vals, size_t *n);

/* Unmap and free t (NULL is fine). */
void agg_table__close(struct agg_table *t);

/*
 * Put v at (stack_id, kind) in the aggs map fd the way the BPF programs
 * do (claim by probing, then fill): for tests and tools. Returns 0,
 * -ENOSPC when its probe slots are taken, or -errno of the map update.
 */
int agg_table__put(int fd, __u64 stack_id, __u32 kind, const struct agg_val *v);

#endif /* MEMTRACE_AGG_TABLE_H */
