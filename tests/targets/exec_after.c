// SPDX-License-Identifier: MIT
/*
 * exec_after - allocates, then execs another program, for the e2e tests of
 * exec (tests/e2e/test_lifecycle.py).
 *
 * Usage: exec_after PROG [ARGS...]
 *   "ready PID", wait for SIGUSR1, 20 x malloc(1000) at before_exec(),
 *   "done allocs=20 bytes=20000", wait for SIGUSR1 again, then execv(PROG,
 *   ARGS) (exit 127 if that fails). The blocks are never freed: the exec
 *   releases them.
 */
#include "alloc_common.h"

static void *volatile keep[20];

NOIPA void before_exec(void)
{
	for (int i = 0; i < 20; i++) {
		keep[i] = malloc(1000);
		KEEP_FRAME();
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		static const char usage[] = "usage: exec_after PROG [ARGS...]\n";

		if (write(2, usage, sizeof(usage) - 1) < 0)
			return 2;
		return 2;
	}
	proto_init();
	proto_ready();
	proto_wait_go();
	before_exec();
	proto_say("done allocs=20 bytes=20000");
	proto_wait_go();
	sigprocmask(SIG_UNBLOCK, &proto_set, NULL);
	execv(argv[1], argv + 1);
	proto_finish("exit=127");
}
