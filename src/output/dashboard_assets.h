/* SPDX-License-Identifier: MIT */
/*
 * dashboard_assets.h - the dashboard's page, script and style
 * (src/output/dashboard/), embedded in the binary at build time.
 */
#ifndef MEMTRACE_DASHBOARD_ASSETS_H
#define MEMTRACE_DASHBOARD_ASSETS_H

#include <stddef.h>

struct dashboard_asset {
	const char *path;	/* URL path */
	const char *type;	/* Content-Type */
	const char *data;
	size_t len;
};

/* The asset served at path, or NULL; valid until the calling thread calls again. Cannot fail. */
const struct dashboard_asset *dashboard_asset__find(const char *path);

#endif /* MEMTRACE_DASHBOARD_ASSETS_H */
