// SPDX-License-Identifier: MIT
/* flametree.c - stacks merged into one tree of bytes (flametree.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output/flametree.h"

static size_t node_add(struct flame_tree *t, size_t parent, const char *name, const char *module,
		       const char *file, int line, enum flame_type type)
{
	struct flame_node *p = &t->n[parent], *c;
	size_t i;

	for (i = p->child; i != FLAME_NONE; i = t->n[i].next) {
		c = &t->n[i];
		if (c->type == type && strcmp(c->name, name) == 0 &&
		    (c->module == module || (c->module && module && strcmp(c->module, module) == 0)))
			return i;
	}
	if (t->nr == t->cap)
		return FLAME_NONE;	/* cannot happen: cap is an upper bound */
	c = &t->n[t->nr];
	c->name = strdup(name);
	if (!c->name)
		return FLAME_NONE;
	c->module = module;
	c->file = file;
	c->line = line;
	c->type = type;
	c->bytes = 0;
	c->child = FLAME_NONE;
	c->next = t->n[parent].child;
	t->n[parent].child = t->nr;
	return t->nr++;
}

static int add_stack(struct flame_tree *t, const struct stack_report *s)
{
	char buf[256];
	size_t cur = 0;
	int depth = 0;

	t->n[0].bytes += s->outstanding_bytes;
	for (size_t j = s->nr_frames; j-- > 0; depth++) {
		const struct frame *f = &s->frames[j];
		enum flame_type type = !f->function ? FLAME_UNKNOWN : f->inlined ? FLAME_INLINE : FLAME_FRAME;

		cur = node_add(t, cur, frame__name(f, buf, sizeof(buf)), f->module,
			       f->file, f->line, type);
		if (cur == FLAME_NONE)
			return -ENOMEM;
		t->n[cur].bytes += s->outstanding_bytes;
	}
	for (size_t j = s->nr_frames ? 0 : s->nr_ips; j-- > 0; depth++) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, s->ips[j]);
		cur = node_add(t, cur, buf, NULL, NULL, 0, FLAME_UNKNOWN);
		if (cur == FLAME_NONE)
			return -ENOMEM;
		t->n[cur].bytes += s->outstanding_bytes;
	}
	snprintf(buf, sizeof(buf), "[%s]", alloc_kind_name(s->kind));
	cur = node_add(t, cur, buf, NULL, NULL, 0, FLAME_KIND);
	if (cur == FLAME_NONE)
		return -ENOMEM;
	t->n[cur].bytes += s->outstanding_bytes;
	if (depth + 1 > t->max_depth)
		t->max_depth = depth + 1;
	return 0;
}

/* Children by bytes, descending, then name: a stable, readable order. */
static void sort_children(struct flame_tree *t, size_t i)
{
	size_t sorted = FLAME_NONE;

	for (size_t c = t->n[i].child; c != FLAME_NONE;) {
		size_t next = t->n[c].next, *pp = &sorted;

		while (*pp != FLAME_NONE && (t->n[*pp].bytes > t->n[c].bytes ||
		       (t->n[*pp].bytes == t->n[c].bytes &&
			strcmp(t->n[*pp].name, t->n[c].name) <= 0)))
			pp = &t->n[*pp].next;
		t->n[c].next = *pp;
		*pp = c;
		c = next;
	}
	t->n[i].child = sorted;
	for (size_t c = sorted; c != FLAME_NONE; c = t->n[c].next)
		sort_children(t, c);
}

void flametree__free(struct flame_tree *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->n[i].name);
	free(t->n);
}

int flametree__build(struct flame_tree *t, const struct report *r)
{
	size_t cap = 1;
	int err;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < r->nr_stacks; i++)
		cap += (r->stacks[i].nr_frames ? r->stacks[i].nr_frames : r->stacks[i].nr_ips) + 1;
	t->n = calloc(cap, sizeof(*t->n));
	if (!t->n)
		return -ENOMEM;
	t->cap = cap;
	t->n[0].name = strdup("all");
	if (!t->n[0].name) {
		free(t->n);
		return -ENOMEM;
	}
	t->n[0].type = FLAME_ROOT;
	t->n[0].child = FLAME_NONE;
	t->n[0].next = FLAME_NONE;
	t->nr = 1;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		if (r->stacks[i].outstanding_bytes <= 0)
			continue;
		err = add_stack(t, &r->stacks[i]);
		if (err) {
			flametree__free(t);
			return err;
		}
	}
	sort_children(t, 0);
	return 0;
}

