// SPDX-License-Identifier: MIT
/*
 * alloc_badinterp - a program that defines its own malloc and free (so
 * memtrace picks it as the allocator and attaches its probes) but whose
 * ELF interpreter does not exist (mk/e2e_targets.mk), so exec fails only
 * after memtrace has loaded and attached everything: the error path must
 * detach it all again.
 */
#include <stddef.h>

static char heap[1 << 16];
static size_t used;

void *malloc(size_t n)
{
	void *p = heap + used;

	used += (n + 15) & ~(size_t)15;
	return used <= sizeof(heap) ? p : NULL;
}

void free(void *p)
{
	(void)p;
}

int main(void)
{
	return malloc(1) ? 0 : 1;
}
