// SPDX-License-Identifier: MIT
/*
 * fuzz_procmaps.c - the /proc/PID/maps parser (src/target/procmaps.c).
 * A target controls the paths in its maps (file names with spaces, new
 * lines, " (deleted)" suffixes); the kernel controls the rest, but the
 * parser must not trust either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "target/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_maps m;
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (proc_maps__parse(f, &m) == 0) {
		for (size_t i = 0; i < m.nr; i++) {
			const struct map_entry *e = &m.e[i];

			if (strnlen(e->perms, sizeof(e->perms)) >= sizeof(e->perms))
				abort();
			proc_maps__find(&m, e->start);
			if (e->path) {
				proc_maps__is_libc(e->path);
			}
		}
		proc_maps__find(&m, 0);
		proc_maps__find(&m, UINT64_MAX);
		proc_maps__free(&m);
	}
	fclose(f);
	return 0;
}
