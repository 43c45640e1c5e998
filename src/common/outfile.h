/* SPDX-License-Identifier: MIT */
/*
 * outfile.h - every file memtrace writes (--output, --csv, --pprof,
 * --collapsed, --flamegraph, --save-baseline) is made here.
 *
 * memtrace runs as root and users name files in shared directories such
 * as /tmp. A regular file is written as a new file created with O_EXCL in
 * the same directory (mode exactly as asked, 0600 by default, the umask
 * not applied) and renamed over the name: a symbolic link, hard link or
 * file planted under that name is never written through, and a reader
 * never sees half a file. A symbolic link at the name is refused (never
 * followed, never replaced); so is a directory. A FIFO or a character
 * device (/dev/null, a terminal) is written in place.
 */
#ifndef MEMTRACE_OUTFILE_H
#define MEMTRACE_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* The mode of created files unless --output-mode says otherwise. */
#define OUTFILE_MODE_DEFAULT 0600

struct outfile {
	FILE *fp;		/* write here */
	char *path;		/* the name given (a copy) */
	char *tmp;		/* the new file's name until committed; NULL in place */
};

/*
 * Can path be written as an output file? Refuses a symbolic link
 * (-ELOOP), a directory (-EISDIR) and anything but a regular file, FIFO
 * or character device (-EINVAL); then creates and removes a temporary
 * file in path's directory (-ENOENT, -EACCES, -EROFS, ...). Returns 0 or
 * a negative errno; changes nothing else.
 */
int outfile__check(const char *path);

/*
 * Start writing path with mode: f->fp writes a new file (or the FIFO or
 * device itself) until outfile__commit() puts it in place. Returns 0, or
 * a negative errno as outfile__check() (f is then empty and needs no
 * outfile__close()).
 */
int outfile__open(struct outfile *f, const char *path, mode_t mode);

/*
 * Flush f (and sync a new file) and rename it over its name. f->fp stays
 * open for more writes (a stream: --output, --csv). Returns 0 or a
 * negative errno (the new file is then removed by outfile__close()).
 */
int outfile__commit(struct outfile *f);

/*
 * Close f->fp; a file never committed is removed. Returns 0 or the
 * negative errno of the last write or the close. Safe on an empty f.
 */
int outfile__close(struct outfile *f);

/* Open, write len bytes of buf, commit, close: the whole file at once.
 * Returns 0 or a negative errno (what was at path then stays as it was). */
int outfile__write(const char *path, mode_t mode, const void *buf, size_t len);

/* strerror(-err), with the refusals of this module said plainly. */
const char *outfile__strerror(int err);

#endif
