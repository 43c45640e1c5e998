/* SPDX-License-Identifier: MIT */
/*
 * collapsed.h - a report as "collapsed stacks", the input of flamegraph.pl,
 * inferno, speedscope and friends: one line per stack with outstanding
 * bytes, "root;caller;...;leaf BYTES", caller-most frame first, inlined
 * frames as frames of their own (innermost last).
 */
#ifndef MEMTRACE_COLLAPSED_H
#define MEMTRACE_COLLAPSED_H

#include <stdio.h>
#include "common/report.h"

/*
 * Write r to f, one line per stack whose outstanding bytes are > 0, in the
 * report's order. Frame names are frame__name() with ';' turned
 * into ':' and line breaks into spaces, so a line always splits back into
 * its frames. Returns 0, or -EIO if f reports a write error.
 */
int collapsed__write(const struct report *r, FILE *f);

#endif /* MEMTRACE_COLLAPSED_H */
