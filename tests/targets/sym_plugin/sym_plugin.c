// SPDX-License-Identifier: MIT
/*
 * sym_plugin.c - libsym_plugin.so, dlopen()ed by sym_dlopen after memtrace
 * attached. Not in tests/targets/ itself: every .c there is a program.
 */
#include <stdlib.h>

#define PLUGIN_BYTES 3333

static volatile size_t plugin_bytes = PLUGIN_BYTES;

__attribute__((noipa, noinline)) void *sym_plugin_alloc(void)
{
	void *p = malloc(plugin_bytes);	/* @line:sym_plugin_alloc */

	__asm__ volatile("" ::: "memory");
	return p;
}
