/* SPDX-License-Identifier: MIT */
/*
 * wrappers.h - where a process's mmap/mremap syscall wrappers live, so
 * that mmap stacks can start at the caller of mmap.
 */
#ifndef MEMTRACE_WRAPPERS_H
#define MEMTRACE_WRAPPERS_H

#include <stddef.h>
#include <stdint.h>

/* A range of the target's code, [lo, hi) in its address space. */
struct addr_range {
	uint64_t lo, hi;
};

/*
 * Find the code of mmap, mmap64 and mremap in pid's libc, dynamic loader
 * (its private copies, when its symbol table names them) and executable
 * (a static binary carries its own), as runtime address ranges. Returns
 * the number of ranges written to out (at most max), or -errno (-ESRCH
 * when the process is gone).
 */
int wrappers__find(int pid, struct addr_range *out, size_t max);

#endif
