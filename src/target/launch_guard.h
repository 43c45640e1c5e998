/* SPDX-License-Identifier: MIT */
/*
 * launch_guard.h - a launched command is never left stopped by a dead
 * memtrace.
 *
 * In launch mode BPF stops the command (SIGSTOP) at each new code
 * mapping until memtrace has loaded its unwind tables, then memtrace
 * sends SIGCONT. If memtrace dies in between, even by SIGKILL, nobody
 * would: a guardian process forked here waits for memtrace's death
 * (PR_SET_PDEATHSIG) and then sends the command SIGCONT through a pidfd,
 * so never to a reused pid. It holds no descriptor of memtrace's but that
 * pidfd (stdio on /dev/null).
 *
 * Stage target. May call: common.
 */
#ifndef MEMTRACE_LAUNCH_GUARD_H
#define MEMTRACE_LAUNCH_GUARD_H

#include <sys/types.h>

/*
 * Fork the guardian of command cmd. Call from the thread that lives
 * until memtrace exits (the death signal follows the thread). Returns its
 * pid, or a negative errno (then there is no guardian, nothing else
 * changes).
 */
pid_t launch_guard__start(pid_t cmd);

/* memtrace ends normally: end the guardian quietly and reap it. <= 0 is a
 * no-op. Cannot fail. */
void launch_guard__stop(pid_t guard);

#endif
