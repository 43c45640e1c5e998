/* SPDX-License-Identifier: MIT */
/*
 * flametree.h - the stacks of a report merged into one tree of outstanding
 * bytes (root -> caller-most frame -> ... -> leaf -> allocator kind),
 * children ordered by bytes, descending, then name. The flame graph SVG
 * (flamegraph.h) and the dashboard's icicle (dashboard.h) draw it.
 */
#ifndef MEMTRACE_FLAMETREE_H
#define MEMTRACE_FLAMETREE_H

#include <stddef.h>
#include <stdint.h>
#include "common/report.h"

#define FLAME_NONE	((size_t)-1)	/* no child, no next sibling */

enum flame_type { FLAME_ROOT, FLAME_FRAME, FLAME_INLINE, FLAME_UNKNOWN, FLAME_KIND };

struct flame_node {
	char *name;		/* owned */
	const char *module;	/* borrowed from the report */
	const char *file;
	int line;
	enum flame_type type;
	int64_t bytes;
	size_t child, next;	/* first child, next sibling; FLAME_NONE ends */
};

struct flame_tree {
	struct flame_node *n;
	size_t nr, cap;
	int max_depth;
};

/*
 * Merge r's stacks with outstanding bytes > 0 into t (node 0 is the root,
 * "all"). Module and file strings are borrowed from r, which must outlive
 * t; names are owned. Returns 0, or -ENOMEM with nothing to free.
 */
int flametree__build(struct flame_tree *t, const struct report *r);

/* Release what flametree__build() allocated (not t itself). */
void flametree__free(struct flame_tree *t);

#endif /* MEMTRACE_FLAMETREE_H */
