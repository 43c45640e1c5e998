// SPDX-License-Identifier: MIT
/*
 * fuzz_baseline.c - the baseline loader (src/analysis/baseline.c) and
 * what --baseline FILE does with what it loaded: compare it with a report
 * and write the comparison as text and JSON. Baseline files are shared
 * between hosts and runs; none of their numbers can be trusted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/baseline.h"
#include "output/baseline_out.h"
#include "fuzz_file.h"

/* Every number the JSON comparison holds is finite: JSON has no NaN. */
static void check_finite(json_object *j)
{
	switch (json_object_get_type(j)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(j)))
			abort();
		break;
	case json_type_object: {
		json_object_object_foreach(j, k, v) {
			(void)k;
			check_finite(v);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(j); i++)
			check_finite(json_object_array_get_idx(j, i));
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file f;
	static FILE *null;
	/* one current stack, so the diff has matched, new and vanished rows */
	struct frame fr = { .ip = 0x1234, .function = "leak" };
	struct stack_report sr = { .kind = KIND_MALLOC, .nr_frames = 1, .frames = &fr,
				   .outstanding_bytes = 100, .outstanding_allocs = 1 };
	struct report r = { .nr_stacks = 1, .stacks = &sr, .totals.outstanding_bytes = 100 };
	struct baseline_diff *d;
	struct baseline *b;
	json_object *j;

	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	b = baseline__load(fuzz_file__set(&f, data, size));
	if (!b)
		return 0;
	for (size_t i = 1; i < b->nr; i++)	/* sorted and unique */
		if (strcmp(b->stacks[i - 1].signature, b->stacks[i].signature) >= 0)
			abort();
	d = baseline__compare(b, &r);
	if (!d) {
		baseline__free(b);
		return 0;
	}
	baseline_diff__print_text(d, 0, null);
	j = baseline_diff__to_json(d);
	if (j) {
		check_finite(j);
		json_object_to_json_string(j);
		json_object_put(j);
	}
	baseline_diff__free(d);
	return 0;
}
