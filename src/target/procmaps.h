/* SPDX-License-Identifier: MIT */
/*
 * procmaps.h - parse /proc/PID/maps.
 */
#ifndef MEMTRACE_PROCMAPS_H
#define MEMTRACE_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct map_entry {
	uint64_t start, end;
	uint64_t offset;	/* file offset of start */
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	char perms[5];		/* "r-xp" */
	char *path;		/* NULL for anonymous; may end in " (deleted)" */
	bool deleted;		/* path ended in " (deleted)" (suffix removed) */
};

struct proc_maps {
	size_t nr;
	struct map_entry *e;	/* in address order */
};

/*
 * Parse the text of a maps file (from a FILE). Returns 0 and fills *out
 * (caller frees with proc_maps__free), or -errno (-EINVAL on a malformed
 * line, -ESRCH or -EIO when reading failed: the process died meanwhile).
 * An empty file gives nr == 0.
 */
int proc_maps__parse(FILE *f, struct proc_maps *out);

/* Read /proc/PID/maps. Returns 0 or -errno (-ESRCH if the process is gone). */
int proc_maps__read(int pid, struct proc_maps *out);

/* Release what parse/read filled; the struct may be reused. */
void proc_maps__free(struct proc_maps *m);

/* The entry containing addr, or NULL. */
const struct map_entry *proc_maps__find(const struct proc_maps *m, uint64_t addr);

/*
 * A path through which this process can open the target's file for e:
 * /proc/PID/map_files/START-END when it exists (deleted or replaced files,
 * containers), else /proc/PID/root/PATH. Writes into buf; returns buf, or
 * NULL for anonymous entries.
 */
const char *proc_maps__open_path(int pid, const struct map_entry *e, char *buf, size_t len);

/* True when path names a C library (basename libc.so* or libc-*). */
bool proc_maps__is_libc(const char *path);

#endif
