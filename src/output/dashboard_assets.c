// SPDX-License-Identifier: MIT
/*
 * dashboard_assets.c - src/output/dashboard/{index.html,app.js,app.css}
 * as read-only bytes (the assembler's .incbin, paths from the top of the
 * tree, where make runs; mk/dashboard.mk rebuilds this file when they
 * change).
 */
#include <string.h>
#include "output/dashboard_assets.h"

#define EMBED(sym, file)						\
	__asm__(".section .rodata\n"					\
		".balign 16\n"						\
		".type " #sym ", @object\n"				\
		#sym ":\n"						\
		".incbin \"" file "\"\n"				\
		#sym "_end:\n"						\
		".byte 0\n"						\
		".previous\n");						\
	extern const char sym[], sym##_end[]

EMBED(dash_index_html, "src/output/dashboard/index.html");
EMBED(dash_app_js, "src/output/dashboard/app.js");
EMBED(dash_app_css, "src/output/dashboard/app.css");

const struct dashboard_asset *dashboard_asset__find(const char *path)
{
	/* thread-local: the lengths are link-time values, not C constants */
	static __thread struct dashboard_asset a;

	if (strcmp(path, "/") == 0)
		a = (struct dashboard_asset){ "/", "text/html; charset=utf-8", dash_index_html,
			(size_t)(dash_index_html_end - dash_index_html) };
	else if (strcmp(path, "/dashboard/app.js") == 0)
		a = (struct dashboard_asset){ "/dashboard/app.js", "text/javascript; charset=utf-8",
			dash_app_js, (size_t)(dash_app_js_end - dash_app_js) };
	else if (strcmp(path, "/dashboard/app.css") == 0)
		a = (struct dashboard_asset){ "/dashboard/app.css", "text/css; charset=utf-8",
			dash_app_css, (size_t)(dash_app_css_end - dash_app_css) };
	else
		return NULL;
	return &a;
}
