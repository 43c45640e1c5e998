// SPDX-License-Identifier: MIT
/*
 * sym_dlopen - dlopen()s a library only when told to, then has it allocate:
 * the library is mapped after memtrace attached (tests/e2e/test_symbols.py).
 *
 * Usage: sym_dlopen LIBRARY [MODE [unload]]
 *   MODE: exit (default), exit=N, wait (alloc_common.h)
 *
 * Protocol (alloc_common.h): "ready PID", wait for SIGUSR1, dlopen LIBRARY,
 * call its sym_plugin_alloc() (which mallocs 3333 bytes), "done loaded=1",
 * MODE. The library stays loaded until exit, or with "unload" is
 * dlclose()d right after the call.
 */
#include <dlfcn.h>
#include "alloc_common.h"

static void *volatile keep;

NOIPA void *load_and_call(const char *lib, int unload)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	void *(*fn)(void);

	if (!h) {
		proto_say("error %s", dlerror());
		exit(3);
	}
	*(void **)&fn = dlsym(h, "sym_plugin_alloc");
	if (!fn)
		exit(4);
	keep = fn();	/* @line:load_and_call */
	KEEP_FRAME();
	if (unload)
		dlclose(h);
	return keep;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	proto_init();
	proto_ready();
	proto_wait_go();
	load_and_call(argv[1], argc > 3 && !strcmp(argv[3], "unload"));
	KEEP_FRAME();
	proto_say("done loaded=1");
	proto_finish(argc > 2 ? argv[2] : "exit");
}
