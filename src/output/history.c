// SPDX-License-Identifier: MIT
/* history.c - a bounded ring of reduced reports (history.h). */
#include <stdlib.h>
#include <string.h>
#include "output/history.h"

struct history {
	double window_s;
	size_t cap;		/* ring size */
	size_t first, len;	/* oldest point, points kept */
	struct history_point *p;
};

struct history *history__new(double window_s, size_t max_points)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (!max_points || max_points > HISTORY_MAX_POINTS)
		max_points = HISTORY_MAX_POINTS;
	if (max_points < 2)
		max_points = 2;
	h->p = calloc(max_points, sizeof(*h->p));
	if (!h->p) {
		free(h);
		return NULL;
	}
	h->window_s = window_s;
	h->cap = max_points;
	return h;
}

static struct history_point *slot(const struct history *h, size_t i)
{
	return &h->p[(h->first + i) % h->cap];
}

static void reduce(struct history_point *pt, const struct report *r)
{
	memset(pt, 0, sizeof(*pt));
	pt->time = r->time;
	pt->elapsed_s = r->elapsed_s;
	pt->outstanding_bytes = r->totals.outstanding_bytes;
	pt->alloc_calls = r->totals.alloc_calls;
	pt->free_calls = r->totals.free_calls;
	pt->dropped_events = r->totals.dropped_events;
	pt->unwind_failed = r->totals.unwind_failed;
	pt->worst = r->worst;
	pt->leak = r->suspect >= 0 && (size_t)r->suspect < r->nr_stacks;
	if (pt->leak) {
		pt->suspect_id = r->stacks[r->suspect].stack_id;
		pt->suspect_kind = r->stacks[r->suspect].kind;
	}
	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct stack_report *s = &r->stacks[i];

		pt->alloc_bytes += s->alloc_bytes;
		pt->free_bytes += s->free_bytes;
		if (pt->nr_top < HISTORY_TOP && s->outstanding_bytes > 0)
			pt->top[pt->nr_top++] = (struct history_stack){
				.stack_id = s->stack_id, .kind = s->kind,
				.bytes = s->outstanding_bytes,
			};
	}
}

void history__add(struct history *h, const struct report *r)
{
	struct history_point *pt;

	if (h->len && r->elapsed_s <= slot(h, h->len - 1)->elapsed_s) {
		pt = slot(h, h->len - 1);
	} else {
		if (h->len == h->cap) {
			h->first = (h->first + 1) % h->cap;
			h->len--;
		}
		pt = slot(h, h->len++);
	}
	reduce(pt, r);
	while (h->len > 2 && r->elapsed_s - slot(h, 0)->elapsed_s > h->window_s) {
		h->first = (h->first + 1) % h->cap;
		h->len--;
	}
}

size_t history__len(const struct history *h)
{
	return h->len;
}

const struct history_point *history__at(const struct history *h, size_t i)
{
	return slot(h, i);
}

double history__window(const struct history *h)
{
	return h->window_s;
}

void history__free(struct history *h)
{
	if (!h)
		return;
	free(h->p);
	free(h);
}
