// SPDX-License-Identifier: MIT
/*
 * kernel_objs - known kernel allocations in this process's context, for
 * the --kernel e2e tests (tests/e2e/test_kernel.py).
 *
 *   kernel_objs pipes N	after SIGUSR1: N pipes opened and held
 *				("held n=N"); after the next SIGUSR1: all
 *				closed ("closed n=N"); then proto_finish(wait)
 *   kernel_objs pages N	after SIGUSR1: N anonymous pages mapped
 *				(no huge pages) and each touched once
 *				("touched n=N"); then proto_finish(wait)
 *
 * Each pipe makes the kernel allocate, in alloc_pipe_info(), a struct
 * pipe_inode_info and its buffer array (kmalloc), and two files, an inode
 * and a dentry (kmem_cache); each touched page is one order-0 page
 * allocation in the anonymous fault path.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "alloc_common.h"

static int (*fds)[2];

NOIPA int open_pipes(int n)
{
	for (int i = 0; i < n; i++) {
		if (pipe2(fds[i], O_CLOEXEC))
			return -1;
		KEEP_FRAME();
	}
	return 0;
}

NOIPA void close_pipes(int n)
{
	for (int i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

NOIPA int touch_pages(long n)
{
	long ps = sysconf(_SC_PAGESIZE);
	volatile char *p = mmap(NULL, (size_t)(n * ps), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	madvise((void *)p, (size_t)(n * ps), MADV_NOHUGEPAGE);	/* n faults, n pages */
	for (long i = 0; i < n; i++)
		p[i * ps] = 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "pipes";
	int n = argc > 2 ? atoi(argv[2]) : 2000;
	struct rlimit rl = { 2 * (rlim_t)n + 64, 2 * (rlim_t)n + 64 };

	proto_init();
	if (strcmp(what, "pipes") == 0) {
		fds = calloc((size_t)n, sizeof(*fds));
		if (!fds || setrlimit(RLIMIT_NOFILE, &rl)) {
			proto_say("error: cannot allow %d files", 2 * n);
			return 1;
		}
	}
	proto_ready();
	proto_wait_go();
	if (strcmp(what, "pipes") == 0) {
		if (open_pipes(n)) {
			proto_say("error: pipe2 failed");
			return 1;
		}
		proto_say("held n=%d", n);
		proto_wait_go();
		close_pipes(n);
		proto_say("closed n=%d", n);
	} else {
		if (touch_pages(n)) {
			proto_say("error: mmap failed");
			return 1;
		}
		proto_say("touched n=%d", n);
	}
	proto_finish("wait");
}
