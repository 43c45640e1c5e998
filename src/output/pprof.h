/* SPDX-License-Identifier: MIT */
/*
 * pprof.h - a report as a pprof heap profile (`go tool pprof`, Parca,
 * Pyroscope).
 *
 * Sample types, in this order: alloc_objects/count, alloc_space/bytes,
 * inuse_objects/count, inuse_space/bytes; the default is inuse_space.
 * One sample per (stack, kind) with labels "kind" (string), "stack_id"
 * (number) and, when the report has categories, "category" (string). Values are the report's, already unbiased when sampling; the
 * period is r->sample_bytes (period type space/bytes).
 *
 * One Mapping per module (filename, build id), one Location per distinct ip
 * with one Line per frame, inlined frames first (innermost first, the last
 * Line being the function the ip is in), one Function per distinct
 * (name, system_name, file). A frame with no function becomes a Location
 * with its address and mapping but no Line.
 */
#ifndef MEMTRACE_PPROF_H
#define MEMTRACE_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "common/report.h"

/*
 * Encode r as a pprof Profile, gzip'd when gzip is true. On success
 * returns 0 and sets *buf (malloc'd, the caller frees it) and *len. On
 * failure returns -ENOMEM (or -EIO from zlib) and leaves *buf and *len
 * unchanged. r is not modified.
 */
int pprof__encode(const struct report *r, bool gzip, void **buf, size_t *len);

/*
 * Write r as a gzip'd profile to path, atomically (common/outfile.h: a
 * new file of mode 0600 in the same directory renamed over path, a
 * symbolic link at path refused), so a reader sees the old profile or
 * the new one, never a partial one. Returns 0, or a negative errno and
 * leaves path untouched.
 */
int pprof__write(const struct report *r, const char *path);

/*
 * Write len bytes already encoded by pprof__encode() to path, atomically
 * as pprof__write() does (which is pprof__encode() then this), the file's
 * mode exactly mode. Returns 0, or a negative errno and leaves path
 * untouched. buf stays the caller's.
 */
int pprof__save(const void *buf, size_t len, const char *path, mode_t mode);

#endif /* MEMTRACE_PPROF_H */
