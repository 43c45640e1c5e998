// SPDX-License-Identifier: MIT
/* answers_out.c - categories and recommendations as text and JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "analysis/analysis.h"
#include "output/json_out.h"
#include "output/answers_out.h"
#include "output/text.h"

#define MAX_CATEGORIES	12	/* rows of the text table */

const char *answers__category_name(const struct report *r, const struct stack_report *s)
{
	if (s->category < 0 || (size_t)s->category >= r->nr_categories)
		return NULL;
	return r->categories[s->category].name;
}

static void print_categories(const struct report *r, FILE *f)
{
	fprintf(f, "Categories:\n  %-20s %12s %9s %9s %9s %12s %-9s %10s %6s\n", "CATEGORY",
		"OUTSTANDING", "ALLOCS", "ALLOC/s", "FREE/s", "GROWTH B/s", "SEVERITY", "PEAK",
		"STACKS");
	for (size_t i = 0; i < r->nr_categories && i < MAX_CATEGORIES; i++) {
		const struct category_report *c = &r->categories[i];
		char out[32], peak[32], growth[32];

		if (c->growth_reason)
			snprintf(growth, sizeof(growth), "0*");
		else
			snprintf(growth, sizeof(growth), "%+.0f", c->growth_bytes_per_s);
		fprintf(f, "  %-20s %12s %9" PRId64 " %9.0f %9.0f %12s %-9s %10s %6zu\n", c->name,
			text__bytes(c->outstanding_bytes, out, sizeof(out)), c->outstanding_allocs,
			c->alloc_rate, c->free_rate, growth, severity_name(c->severity),
			text__bytes(c->peak_bytes, peak, sizeof(peak)), c->stacks);
	}
	if (r->nr_categories > MAX_CATEGORIES)
		fprintf(f, "  ... %zu more\n", r->nr_categories - MAX_CATEGORIES);
	for (size_t i = 0; i < r->nr_categories; i++) {
		if (r->categories[i].growth_reason) {
			fprintf(f, "  (0*: growth not rated: %s)\n", r->categories[i].growth_reason);
			break;
		}
	}
}

static void print_recs(const struct report *r, FILE *f)
{
	if (!r->nr_recs) {
		fputs("Recommendations: none\n", f);
		return;
	}
	fputs("Recommendations (first = most impact for the effort):\n", f);
	for (size_t i = 0; i < r->nr_recs; i++) {
		const struct recommendation *rec = &r->recs[i];

		fprintf(f, "  %d. [%s, %s] %s\n", rec->priority, rec_kind_name(rec->kind),
			difficulty_name(rec->difficulty), rec->description);
	}
}

int answers__print_text(const struct report *r, FILE *f)
{
	if (!r->nr_categories)
		return 0;
	print_categories(r, f);
	print_recs(r, f);
	return ferror(f) ? -EIO : 0;
}

void answers__stack_to_json(const struct report *r, const struct stack_report *s,
			    json_object *stack_obj)
{
	const char *name = answers__category_name(r, s);

	json__add(stack_obj, "category", name ? json_object_new_string(name) : NULL);
}

static json_object *category_obj(const struct category_report *c)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json__add(o, "name", json_object_new_string(c->name));
	json__add(o, "outstanding_bytes", json_object_new_int64(c->outstanding_bytes));
	json__add(o, "outstanding_allocs", json_object_new_int64(c->outstanding_allocs));
	json__add(o, "alloc_calls", json_object_new_uint64(c->alloc_calls));
	json__add(o, "free_calls", json_object_new_uint64(c->free_calls));
	json__add(o, "alloc_rate", json_object_new_double(c->alloc_rate));
	json__add(o, "free_rate", json_object_new_double(c->free_rate));
	json__add(o, "growth_bytes_per_s", json_object_new_double(c->growth_bytes_per_s));
	json__add(o, "growth_reason", c->growth_reason ? json_object_new_string(c->growth_reason) : NULL);
	json__add(o, "severity", json_object_new_string(severity_name(c->severity)));
	json__add(o, "peak_bytes", json_object_new_int64(c->peak_bytes));
	json__add(o, "stacks", json_object_new_uint64(c->stacks));
	return o;
}

static json_object *rec_obj(const struct report *r, const struct recommendation *rec)
{
	json_object *o = json_object_new_object();
	char id[24], label[512];

	if (!o)
		return NULL;
	json__add(o, "kind", json_object_new_string(rec_kind_name(rec->kind)));
	if (rec->stack >= 0 && (size_t)rec->stack < r->nr_stacks) {
		const struct stack_report *s = &r->stacks[rec->stack];

		/* the same hex string as stacks[].stack_id */
		snprintf(id, sizeof(id), "%016" PRIx64, s->stack_id);
		json__add(o, "stack_id", json_object_new_string(id));
		json__add(o, "label", json_object_new_string(
			analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label))));
	} else if (rec->category >= 0 && (size_t)rec->category < r->nr_categories) {
		json__add(o, "category", json_object_new_string(r->categories[rec->category].name));
	}
	json__add(o, "description", json_object_new_string(rec->description ? rec->description : ""));
	if (rec->savings_bytes >= 0)
		json__add(o, "estimated_savings_bytes", json_object_new_int64((int64_t)rec->savings_bytes));
	if (rec->savings_calls_per_s >= 0)
		json__add(o, "estimated_savings_calls_per_s",
		    json_object_new_double(rec->savings_calls_per_s));
	if (rec->savings_copy_bytes_per_s >= 0)
		json__add(o, "estimated_savings_bytes_copied_per_s",
		    json_object_new_double(rec->savings_copy_bytes_per_s));
	if (rec->held_after_24h_bytes >= 0)
		json__add(o, "held_after_24h_bytes", json_object_new_int64((int64_t)rec->held_after_24h_bytes));
	json__add(o, "difficulty", json_object_new_string(difficulty_name(rec->difficulty)));
	json__add(o, "priority", json_object_new_int(rec->priority));
	return o;
}

void answers__report_to_json(const struct report *r, json_object *root)
{
	json_object *cats, *recs;

	if (!root)
		return;
	cats = json_object_new_array();
	if (cats) {
		for (size_t i = 0; i < r->nr_categories; i++) {
			json_object *c = category_obj(&r->categories[i]);

			if (c && json_object_array_add(cats, c))
				json_object_put(c);
		}
		json__add(root, "categories", cats);
	}
	recs = json_object_new_array();
	if (recs) {
		for (size_t i = 0; i < r->nr_recs; i++) {
			json_object *o = rec_obj(r, &r->recs[i]);

			if (o && json_object_array_add(recs, o))
				json_object_put(o);
		}
		json__add(root, "recommendations", recs);
	}
}
