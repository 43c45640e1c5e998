/* SPDX-License-Identifier: MIT */
/*
 * categories.h - which part of the program holds the memory (issue 16).
 *
 * A rule names a category and matches a stack's frames by function,
 * module or source file glob (fnmatch(3)):
 *
 *   NAME=fn:GLOB     the function (demangled, else its symbol name)
 *   NAME=mod:GLOB    the module's basename (its whole path if GLOB has '/')
 *   NAME=file:GLOB   the source file: its whole path, or the part after
 *                    any "/" (file:src/cache/... matches src/cache/x.c)
 *
 * Frames are looked at from the innermost outwards; at the first frame
 * some rule matches, the first such rule (in the order given) wins.
 * Stacks no rule matches are "other". Without any rule, built-in
 * categories by module: the module of the innermost frame that has one,
 * by basename ("leaky_demo", "libc.so.6"), an interpreter by its name
 * ("python", "ruby", "node", "perl", "php", "lua", "java"), "kernel" for
 * kernel addresses, "other" for a stack with no known module.
 *
 * Per category and report: outstanding bytes and allocations, alloc and
 * free rates, growth and severity by the stacks' own fit
 * (analysis__rate()), peak and the number of stacks.
 */
#ifndef MEMTRACE_CATEGORIES_H
#define MEMTRACE_CATEGORIES_H

#include <stddef.h>
#include "analysis/analysis.h"
#include "common/report.h"

/* Categories one analysis keeps at most; later ones count as "other"
 * (the /metrics label stays bounded). */
#define CATEGORIES_MAX		32
/* Longest category name kept (bytes, without the NUL). */
#define CATEGORY_NAME_MAX	63
#define CATEGORY_OTHER		"other"

struct category_rules;
struct categories;

/* An empty rule list (built-in categories). NULL with errno ENOMEM. */
struct category_rules *category_rules__new(void);

/*
 * Append a rule "NAME=KIND:GLOB" (KIND fn, mod or file; NAME 1..63 bytes
 * of letters, digits, '_', '-', '.', ':' or '/'; GLOB not empty).
 * Returns 0, -EINVAL (bad syntax: rules unchanged), -ENOMEM.
 */
int category_rules__add(struct category_rules *c, const char *spec);

/*
 * Append the rules of a file: one "NAME=KIND:GLOB" per line; blank lines
 * and lines starting with '#' are skipped, spaces around a rule ignored.
 * Returns 0, -errno of opening it, -EINVAL (then *bad_line, if given, is
 * the 1-based line number; rules from the file so far stay), -ENOMEM.
 */
int category_rules__load(struct category_rules *c, const char *path, int *bad_line);

/* Rules held. Cannot fail. */
size_t category_rules__count(const struct category_rules *c);

/*
 * The category of stack s under c (NULL or empty: built-in): a rule's
 * name, a built-in name written in buf, or CATEGORY_OTHER. Cannot fail.
 */
const char *category_rules__match(const struct category_rules *c,
				  const struct stack_report *s, char *buf, size_t len);

/* Release the rules. NULL is a no-op. */
void category_rules__free(struct category_rules *c);

/*
 * A tracker of categories across reports, taking ownership of rules
 * (NULL: built-in) and rating with a copy of o. NULL with errno set
 * (ENOMEM; rules are freed then too).
 */
struct categories *categories__new(struct category_rules *rules, const struct analysis_opts *o);

/*
 * Categorise r (after analysis__update(r), on the same time line): set
 * every stack's category, and r->categories (sorted by outstanding
 * bytes, descending) with their numbers. Returns 0, -EINVAL (NULL, time
 * going back) or -ENOMEM (r without categories then).
 */
int categories__update(struct categories *c, struct report *r);

/* Release the tracker and its rules. NULL is a no-op. */
void categories__free(struct categories *c);

#endif /* MEMTRACE_CATEGORIES_H */
