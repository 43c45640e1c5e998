/* SPDX-License-Identifier: MIT */
/*
 * map_read.h - copy a whole BPF hash map (mmaps, aggs) with batch
 * lookups: O(entries) in few syscalls.
 */
#ifndef MEMTRACE_MAP_READ_H
#define MEMTRACE_MAP_READ_H

#include <stddef.h>

/*
 * Read every entry of the hash map fd (keys of ksz bytes, values of vsz).
 * Sets *keys and *vals (malloc'd, the caller frees; both may be set for
 * no entry) and *n. Returns 0 or -errno (then nothing is set).
 */
int map_read_all(int fd, size_t ksz, size_t vsz, void **keys, void **vals, size_t *n);

#endif /* MEMTRACE_MAP_READ_H */
