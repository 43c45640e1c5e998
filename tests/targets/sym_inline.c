// SPDX-License-Identifier: MIT
/*
 * sym_inline - one allocation through an always_inline helper, at lines
 * tests/e2e/test_symbols.py finds by their "@line:" markers.
 *
 * Usage: sym_inline [MODE]   (MODE: exit (default), exit=N, wait; alloc_common.h)
 *
 * Protocol (alloc_common.h): "ready PID", wait for SIGUSR1, allocate
 * INLINE_BYTES at grab() inlined into fill_cache(), "done inline=N", MODE.
 * Built as is (mk/targets.mk) and stripped with a separate debug file
 * (mk/sym_targets.mk); the e2e test also runs a deleted copy of it.
 */
#include "alloc_common.h"

#define INLINE_BYTES 1111

static void *volatile keep;
static volatile size_t inline_bytes = INLINE_BYTES;	/* no constant folding */

static inline __attribute__((always_inline)) void *grab(size_t n)
{
	return malloc(n);	/* @line:grab */
}

NOIPA void fill_cache(void)
{
	keep = grab(inline_bytes);	/* @line:fill_cache */
	KEEP_FRAME();
}

int main(int argc, char **argv)
{
	proto_init();
	proto_ready();
	proto_wait_go();
	fill_cache();	/* @line:main */
	KEEP_FRAME();
	proto_say("done inline=%d", INLINE_BYTES);
	proto_finish(argc > 1 ? argv[1] : "exit");
}
