/* SPDX-License-Identifier: MIT */
/*
 * kernelview.h - kernel memory from /proc/meminfo (issue 14): Slab,
 * SUnreclaim and Percpu, with their change since the first report, shown
 * next to what a --kernel run traced.
 *
 * Stage analysis. May call: common.
 */
#ifndef MEMTRACE_KERNELVIEW_H
#define MEMTRACE_KERNELVIEW_H

#include "common/report.h"

/*
 * Read Slab, SUnreclaim and Percpu (kB) from a meminfo file (path NULL:
 * /proc/meminfo) into v's byte fields, -1 for a field not found; deltas
 * and growth are set to 0. Returns 0 or -errno of opening the file (v's
 * byte fields are then -1).
 */
int kernel_view__read(const char *path, struct kernel_view *v);

/*
 * Set v's deltas and growth against first, read elapsed_s seconds before
 * (no growth when elapsed_s <= 0 or a value is unknown). Cannot fail.
 */
void kernel_view__growth(struct kernel_view *v, const struct kernel_view *first,
			 double elapsed_s);

#endif
