/* SPDX-License-Identifier: MIT */
/*
 * flamegraph.h - a report as a self-contained interactive flame graph SVG
 * of outstanding bytes by stack: the root at the bottom, callers below
 * callees, inlined frames in their own colour, the allocator kind as the
 * topmost frame. Opens in any browser with no network: hover for details
 * (SVG titles), click to zoom, "Search" (or Ctrl-F) highlights a regexp
 * and shows the matched share, Esc resets. The URL fragment
 * "#search=REGEXP&zoom=NAME" applies both at load, for links and tests;
 * the script marks the root element data-ready="1" once it ran and sets
 * data-matched / data-zoom when it searched or zoomed.
 */
#ifndef MEMTRACE_FLAMEGRAPH_H
#define MEMTRACE_FLAMEGRAPH_H

#include <stdio.h>
#include "common/report.h"

#define FLAMEGRAPH_WIDTH	1200	/* pixels */
#define FLAMEGRAPH_FRAME_H	17	/* pixels per stack level */
#define FLAMEGRAPH_MIN_WIDTH	0.1	/* frames narrower than this are left out */

/*
 * Write r's stacks with outstanding bytes > 0 to f as an SVG document.
 * title may be NULL ("memtrace: outstanding bytes"). Names are escaped
 * for XML (invalid UTF-8 and control bytes become '?'). Returns 0,
 * -ENOMEM (nothing useful written) or -EIO if f reports a write error.
 */
int flamegraph__write(const struct report *r, FILE *f, const char *title);

#endif /* MEMTRACE_FLAMEGRAPH_H */
