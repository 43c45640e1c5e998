/* SPDX-License-Identifier: MIT */
/*
 * map_mmap.h - the BPF tables userspace reads in place: mmapable ARRAY
 * maps (aggs, allocs) checked and mapped, read-only or (the allocs tables,
 * whose records userspace moves) read-write.
 */
#ifndef MEMTRACE_MAP_MMAP_H
#define MEMTRACE_MAP_MMAP_H

#include <stdbool.h>
#include <stddef.h>

/* One mapping of an ARRAY map's values. */
struct map_mmap {
	void *mem;	/* max_entries values of value_size bytes */
	size_t entries;		/* the map's max_entries */
	size_t len;		/* bytes mapped */
	bool writable;
};

/*
 * Check that fd is an mmapable BPF_MAP_TYPE_ARRAY whose values are
 * value_size bytes, with at least min_entries entries. Returns its
 * max_entries (> 0), or -EINVAL when it is not such a map, or -errno.
 */
long map_mmap__check(int fd, size_t value_size, size_t min_entries);

/*
 * Map such a map (see map_mmap__check) into *m, read-only unless
 * writable (then shared writes reach the map). Returns 0,
 * -EINVAL, or -errno of the map info or of mmap. The fd stays the
 * caller's; the mapping outlives it until map_mmap__close.
 */
int map_mmap__open(int fd, size_t value_size, size_t min_entries, bool writable,
		   struct map_mmap *m);

/* Unmap m (a zeroed m is fine). */
void map_mmap__close(struct map_mmap *m);

#endif /* MEMTRACE_MAP_MMAP_H */
