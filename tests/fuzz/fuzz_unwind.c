// SPDX-License-Identifier: MIT
/*
 * fuzz_unwind.c - the unwind table builder (src/unwind/) on any file a
 * target could map: ELF header and sections, .eh_frame CIEs/FDEs and
 * their augmentations, .eh_frame_hdr, PLT sections.
 *
 * Every table built must be sorted and answer lookups inside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include "unwind/unwind_table.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file f;
	struct unwind_table *t = NULL;
	const char *path = fuzz_file__set(&f, data, size);

	if (unwind_table__build_file(path, &t))
		return 0;
	if (t->nr < 2)
		abort();
	for (size_t i = 1; i < t->nr; i++) {
		if (t->rows[i - 1].pc >= t->rows[i].pc) {
			fprintf(stderr, "rows %zu/%zu out of order\n", i - 1, i);
			abort();
		}
		if (unwind_table__find(t, t->base + t->rows[i].pc) != &t->rows[i])
			abort();
	}
	unwind_table__find(t, t->base + t->rows[t->nr - 1].pc + 1);
	unwind_table__find(t, 0);
	unwind_table__find(t, UINT64_MAX);
	unwind_table__free(t);
	return 0;
}
