/* SPDX-License-Identifier: MIT */
/*
 * csv.h - reports as CSV (RFC 4180): a header line, then one row per stack
 * per report, so a whole run appends to one file and a spreadsheet or
 * pandas can pivot it by time. Columns (CSV_COLUMNS): time (unix s),
 * elapsed_s, pid, comm, final (0/1), stack_id (hex), kind, the byte and
 * call counters, ages, growth, severity, flags, the leaf frame (function,
 * module, file, line) and the whole stack, caller-most first, frames joined
 * by ';' (as collapsed.h names them), then the stack's category (issue
 * 16; last, so that older readers keep their column numbers). Unknown
 * values are empty fields; growth and severity are empty for stacks the
 * analysis did not see, category for reports without categories.
 */
#ifndef MEMTRACE_CSV_H
#define MEMTRACE_CSV_H

#include <sys/types.h>
#include "common/report.h"

#define CSV_COLUMNS "time,elapsed_s,pid,comm,final,stack_id,kind," \
	"outstanding_bytes,outstanding_allocs,alloc_calls,alloc_bytes,free_calls,free_bytes," \
	"oldest_age_s,mean_age_s,growth_bytes_per_s,growth_r2,severity,flags," \
	"leaf_function,leaf_module,leaf_file,leaf_line,stack,category"

struct csv_writer;

/*
 * Create path as a new file of mode mode (common/outfile.h: renamed over
 * an existing file, a symbolic link refused with ELOOP) and write the
 * header line; "-" writes to stdout. Returns a writer the caller
 * releases with csv__close(), or NULL with errno set; nothing is created
 * then.
 */
struct csv_writer *csv__open(const char *path, mode_t mode);

/*
 * Append one row per stack of r (in the report's order) and flush.
 * Returns 0, -EINVAL for a NULL writer or -EIO on a write error.
 */
int csv__write(struct csv_writer *w, const struct report *r);

/* Flush and close; NULL is a no-op. Cannot fail (errors were reported by csv__write). */
void csv__close(struct csv_writer *w);

#endif /* MEMTRACE_CSV_H */
