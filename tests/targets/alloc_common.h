/* SPDX-License-Identifier: MIT */
/*
 * alloc_common.h - the waiting protocol of the e2e targets (tests/e2e/lib.py).
 *
 *   target                                test
 *   ------                                ----
 *   proto_init(): block SIGUSR1
 *   proto_ready(): "ready PID" on stdout  reads it, starts memtrace -p PID,
 *   proto_wait_go(): sigtimedwait         waits for "memtrace: tracing pid",
 *                                         sends SIGUSR1
 *   allocates, "done k=v ..." on stdout   reads it: every event is in the maps
 *   proto_finish(): exit, or wait for     stops memtrace (SIGINT) or lets it
 *   SIGUSR1/SIGTERM then exit             see the exit
 *
 * Every wait has a timeout (PROTO_TIMEOUT_S): a target never outlives a
 * test that forgot it. Lines are written with write(2) from a stack buffer,
 * so the protocol itself never allocates.
 */
#ifndef ALLOC_COMMON_H
#define ALLOC_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROTO_TIMEOUT_S 60

/* Not inlined, not cloned, no assumptions across the call: keeps a frame
 * named exactly like the source function. */
#define NOIPA __attribute__((noipa, noinline, used))
/* After a call: the caller's frame stays (no tail call). */
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static sigset_t proto_set;

/* One protocol line on stdout, without allocating. */
static void __attribute__((format(printf, 1, 2))) proto_say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	for (int off = 0; off < n;) {
		ssize_t w = write(1, buf + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(97);
		off += (int)w;
	}
}

static void proto_init(void)
{
	sigemptyset(&proto_set);
	sigaddset(&proto_set, SIGUSR1);
	sigaddset(&proto_set, SIGTERM);
	sigprocmask(SIG_BLOCK, &proto_set, NULL);
}

/* Wait for SIGUSR1 (returns) or SIGTERM (exits 0); exits 98 on timeout. */
static void proto_wait_go(void)
{
	struct timespec ts = { PROTO_TIMEOUT_S, 0 };
	int sig;

	do
		sig = sigtimedwait(&proto_set, NULL, &ts);
	while (sig < 0 && errno == EINTR);
	if (sig == SIGTERM)
		_exit(0);
	if (sig < 0) {
		static const char msg[] = "target: timed out waiting for SIGUSR1\n";

		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(98);
		_exit(98);
	}
}

static void proto_ready(void)
{
	proto_say("ready %d", (int)getpid());
}

/*
 * mode "exit": exit 0 now; "exit=N": exit N; "wait": wait for SIGUSR1 or
 * SIGTERM, then exit 0.
 */
static void __attribute__((noreturn)) proto_finish(const char *mode)
{
	if (strncmp(mode, "exit=", 5) == 0)
		exit(atoi(mode + 5));
	if (strcmp(mode, "wait") == 0)
		proto_wait_go();
	exit(0);
}

#endif /* ALLOC_COMMON_H */
