/* SPDX-License-Identifier: MIT */
/*
 * json_out.h - a report as one JSON object (the -f json schema, README).
 */
#ifndef MEMTRACE_JSON_OUT_H
#define MEMTRACE_JSON_OUT_H

#include <stdio.h>
#include <json-c/json.h>
#include "common/report.h"

/* o[k] = v; when json-c cannot add it, v is released and o stays without
 * the field (writers document that fields may be missing on allocation
 * failure). Cannot fail otherwise. */
void json__add(json_object *o, const char *k, json_object *v);

/* Hook that adds fields to each stack object (analysis); may be NULL. */
typedef void (*json_stack_hook)(const struct report *r, const struct stack_report *s,
				json_object *obj);

/*
 * Build the JSON object of r with at most top stacks (0 = all). Returns a
 * new object (caller json_object_put()s it) or NULL on allocation failure.
 */
json_object *json_report__build(const struct report *r, int top, json_stack_hook hook);

/*
 * One stack of r as in the report's "stacks" array (frames, or raw ips
 * when unsymbolized), hook adding fields. A new object, or NULL.
 */
json_object *json_stack__build(const struct report *r, const struct stack_report *s,
			       json_stack_hook hook);

/* Write r as one line of JSON to f. Returns 0 or -errno. */
int json_report__write(const struct report *r, int top, json_stack_hook hook, FILE *f);

#endif
