/* SPDX-License-Identifier: MIT */
/*
 * alloc_table.h - userspace side of the allocs map: an mmapable ARRAY of
 * struct alloc_bucket used by the BPF programs as a two-choice hash table
 * of the live allocations (see struct alloc_bucket in bpf/memtrace.h).
 * Read through a shared mapping while the BPF programs write it: only
 * complete records are seen, none is copied to a buffer first.
 */
#ifndef MEMTRACE_ALLOC_TABLE_H
#define MEMTRACE_ALLOC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "bpf/memtrace.h"

struct alloc_table;

/* Called with every complete record of a walk; a is a copy, valid for the
 * call only. A non-zero return stops the walk and is returned by it. */
typedef int (*alloc_table_fn)(void *arg, __u64 addr, const struct alloc_info *a);

/*
 * Map the allocs table fd (an mmapable ARRAY of struct alloc_bucket),
 * read-only unless writable (alloc_table__move). Returns the table, or
 * NULL with errno set (EINVAL: not such a map). The fd stays the caller's.
 */
struct alloc_table *alloc_table__open(int fd, bool writable);

/* Buckets of the table (the map's max_entries). Cannot fail. */
size_t alloc_table__buckets(const struct alloc_table *t);

/*
 * Call fn(arg, addr, record) for every complete record: addr not free nor
 * ALLOC_BUSY, ts set, and addr and ts the same before and after the other
 * fields were read. Records claimed or released while it walks may or may
 * not be seen; a record being written or released is never seen half.
 * Returns 0, or the first non-zero value fn returned (the walk stops).
 */
int alloc_table__walk(const struct alloc_table *t, alloc_table_fn fn, void *arg);

/*
 * Move every record of from into to (both opened writable) while the BPF
 * programs release records in from and make and release records in to
 * (alloc_table.bpf.h: they look in from first, then to): each record is
 * copied as a shadow, released from from, then published, so it is never
 * absent from both nor counted twice; a record freed meanwhile is not
 * moved. No record may be made in from any more. Sets *moved to the
 * records moved. Returns 0, -ENOSPC when to has no room for one (the
 * rest stay in from), -EBUSY when slots stayed busy, -EINVAL when a table
 * is not writable.
 */
int alloc_table__move(struct alloc_table *from, struct alloc_table *to, size_t *moved);

/* Unmap and free t (NULL is fine). */
void alloc_table__close(struct alloc_table *t);

/*
 * Put a at addr (> ALLOC_BUSY) in the allocs map fd the way the BPF
 * programs do: over addr's slot if it is in one of its two buckets, else
 * in the first free slot of the first bucket, then of the second. Whole
 * buckets are read and written with map syscalls: for tests and tools,
 * one thread, no BPF program writing the map. a->ts should be non-zero
 * (else the record is not complete). Returns 0, -EINVAL (addr 0 or
 * ALLOC_BUSY, or not such a map), -ENOSPC when both buckets are full, or
 * -errno of a map syscall.
 */
int alloc_table__put(int fd, __u64 addr, const struct alloc_info *a);

/*
 * Free addr's slot in the allocs map fd (same use as alloc_table__put).
 * Returns 0, -ENOENT when addr is not in the table, -EINVAL, or -errno
 * of a map syscall.
 */
int alloc_table__delete(int fd, __u64 addr);

#endif /* MEMTRACE_ALLOC_TABLE_H */
