// SPDX-License-Identifier: MIT
/*
 * unwind_dump - what the dwarf unwinder would load for ELF files: rows,
 * bytes in the rows map, build time (best of 5), and with -r the rows.
 *
 * Usage: unwind_dump [-r] FILE...      (make $(OUT)/unwind_dump)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "unwind/unwind_table.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *const rules[] = { "sp", "fp", "plt", "undef", "unsup" };

static void dump_rows(const struct unwind_table *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		const struct unwind_row *r = &t->rows[i];

		printf("  %#10llx cfa=%s%+d", (unsigned long long)(t->base + r->pc),
		       r->cfa_rule < 5 ? rules[r->cfa_rule] : "?", r->cfa_off);
		if (r->cfa_rule == CFA_PLT)
			printf(" split=%u", r->plt_split);
		if (r->cfa_rule <= CFA_PLT)
			printf(" ra=c%+d fp=%s", r->ra_off,
			       r->fp_rule == REG_AT_CFA ? "c" : r->fp_rule == REG_SAME ? "same" : "undef");
		if (r->fp_rule == REG_AT_CFA)
			printf("%+d", r->fp_off);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	int rows = argc > 1 && !strcmp(argv[1], "-r");
	int status = 0;

	if (argc < 2 + rows) {
		fprintf(stderr, "usage: unwind_dump [-r] FILE...\n");
		return 2;
	}
	for (int i = 1 + rows; i < argc; i++) {
		struct unwind_table *t = NULL;
		double best = 1e18;
		int err = 0;

		for (int k = 0; k < 5 && !err; k++) {
			double t0 = now_ms();

			unwind_table__free(t);
			t = NULL;
			err = unwind_table__build_file(argv[i], &t);
			if (now_ms() - t0 < best)
				best = now_ms() - t0;
		}
		if (err) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(-err));
			status = 1;
			continue;
		}
		printf("%s: %zu rows, %zu KiB, %u FDEs, %u unsupported, %u PLT, %u synthesized, "
		       "built in %.1f ms\n", argv[i], t->nr, t->nr * sizeof(*t->rows) / 1024,
		       t->fdes, t->unsupported, t->plt_rows, t->synthesized, best);
		if (rows)
			dump_rows(t);
		unwind_table__free(t);
	}
	return status;
}
