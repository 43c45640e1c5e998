// SPDX-License-Identifier: MIT
/* kernelview.c - Slab, SUnreclaim, Percpu from /proc/meminfo (kernelview.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "analysis/kernelview.h"

int kernel_view__read(const char *path, struct kernel_view *v)
{
	char line[256];
	FILE *f;

	memset(v, 0, sizeof(*v));
	v->slab_bytes = v->sunreclaim_bytes = v->percpu_bytes = -1;
	f = fopen(path ? path : "/proc/meminfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		long long kb;

		if (sscanf(line, "Slab: %lld kB", &kb) == 1)
			v->slab_bytes = kb * 1024;
		else if (sscanf(line, "SUnreclaim: %lld kB", &kb) == 1)
			v->sunreclaim_bytes = kb * 1024;
		else if (sscanf(line, "Percpu: %lld kB", &kb) == 1)
			v->percpu_bytes = kb * 1024;
	}
	fclose(f);
	return 0;
}

static void one(int64_t now, int64_t first, double elapsed_s, int64_t *delta, double *growth)
{
	*delta = 0;
	*growth = 0;
	if (now < 0 || first < 0)
		return;
	*delta = now - first;
	if (elapsed_s > 0)
		*growth = (double)*delta / elapsed_s;
}

void kernel_view__growth(struct kernel_view *v, const struct kernel_view *first,
			 double elapsed_s)
{
	one(v->slab_bytes, first->slab_bytes, elapsed_s, &v->slab_delta,
	    &v->slab_growth_bytes_per_s);
	one(v->sunreclaim_bytes, first->sunreclaim_bytes, elapsed_s, &v->sunreclaim_delta,
	    &v->sunreclaim_growth_bytes_per_s);
	one(v->percpu_bytes, first->percpu_bytes, elapsed_s, &v->percpu_delta,
	    &v->percpu_growth_bytes_per_s);
}
