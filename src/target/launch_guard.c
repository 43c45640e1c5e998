// SPDX-License-Identifier: MIT
/* launch_guard.c - SIGCONT to a launched command when memtrace dies (launch_guard.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "target/launch_guard.h"

/* The guardian: wait for the death signal (memtrace died: SIGCONT the
 * command) or SIGTERM (memtrace ends normally: nothing to do). */
static void __attribute__((noreturn)) guard(pid_t parent, int pidfd)
{
	sigset_t set;
	int sig = 0, null;

	/* Ctrl-C and a hangup reach the whole process group: not ours to end on */
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {	/* never hold memtrace's stdout or stderr open */
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (dup2(pidfd, 3) == 3)
		pidfd = 3;
	close_range((unsigned int)pidfd + 1, ~0U, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) == 0 && getppid() == parent)
		while (sigwait(&set, &sig) != 0)
			;
	if (sig != SIGTERM)	/* memtrace is gone (or was before prctl) */
		syscall(SYS_pidfd_send_signal, pidfd, SIGCONT, NULL, 0);
	_exit(0);
}

pid_t launch_guard__start(pid_t cmd)
{
	pid_t parent = getpid(), pid;
	int pidfd = (int)syscall(SYS_pidfd_open, cmd, 0), err;

	if (pidfd < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		guard(parent, pidfd);
	err = pid < 0 ? -errno : 0;
	close(pidfd);
	return err ? err : pid;
}

void launch_guard__stop(pid_t guard)
{
	if (guard <= 0)
		return;
	kill(guard, SIGTERM);
	while (waitpid(guard, NULL, 0) < 0 && errno == EINTR)
		;
}
