// SPDX-License-Identifier: MIT
/* bench_libc.c - the libc a benchmarked process mapped (src/procmaps). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "target/procmaps.h"
#include "bench_libc.h"

int bench__libc_path(int pid, char *path, size_t cap)
{
	struct proc_maps m;
	int err = proc_maps__read(pid, &m);

	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < m.nr && err; i++) {
		const char *p = m.e[i].path;

		if (p && p[0] == '/' && proc_maps__is_libc(p)) {
			snprintf(path, cap, "%s", p);
			err = 0;
		}
	}
	proc_maps__free(&m);
	return err;
}
