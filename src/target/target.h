/* SPDX-License-Identifier: MIT */
/*
 * target.h - the process being traced: an existing PID, or a command that
 * memtrace starts and holds until every probe is attached.
 *
 * Stage target: everything about the traced process before any BPF:
 * find, launch and watch it, /proc/PID/maps (procmaps.h), ELF function
 * lookup (elf_funcs.h), trap-aware probe offsets (probe_place.h), syscall
 * wrappers (wrappers.h). May call: common.
 */
#ifndef MEMTRACE_TARGET_H
#define MEMTRACE_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

struct target {
	pid_t pid;
	char comm[32];
	bool launched;		/* started by memtrace (-- CMD) */
	int hold_fd;		/* launched: write end of the hold pipe, -1 once released */
	int exec_err_fd;	/* launched: child reports exec failure here */
	int pidfd;		/* readable when the target exits */
	char *alloc_path;	/* allocator ELF, openable by memtrace (for attach) */
	char *alloc_name;	/* allocator path as the target sees it */
	int exit_status;	/* launched: shell-style exit status once reaped */
	bool exited;
	bool stopped;		/* launched: held stopped right after exec */
};

/*
 * Open a running process. Checks it exists, is not a kernel thread, and
 * maps an allocator (a module defining malloc and free: the executable if it
 * does, else a preloaded or linked allocator library, else libc). On error
 * prints nothing and returns -ESRCH (no such process), -ECHILD (a zombie),
 * -ELOOP (memtrace's own pid), -EPERM, -EINVAL
 * (kernel thread), or -ENODATA (no allocator); *t is then released.
 */
int target__open_pid(struct target *t, pid_t pid);

/*
 * The process (thread group) pid belongs to: pid itself for a process,
 * its process's pid for a thread id (as `top -H` or gettid() show).
 * Returns the tgid, or -ESRCH when there is no such task.
 */
int target__tgid(pid_t pid);

/*
 * Start argv[0] (PATH search) held before exec; find the allocator it will
 * use (through its ELF interpreter's --list). Returns 0, -ENOENT (command
 * not found), -ENODATA (no allocator), -EACCES (not executable) or -errno.
 */
int target__launch(struct target *t, char *const argv[]);

/*
 * Let a launched command exec. It stops right after exec (t->stopped),
 * before its first instruction, so its new image can be read: call
 * target__resume() then. Returns 0, or -errno if exec failed (the child
 * is reaped). No-op for an attached PID.
 */
int target__release(struct target *t);

/* Let a command stopped after exec run. Returns 0 or -errno. */
int target__resume(struct target *t);

/*
 * Check whether the target has exited (non-blocking). Returns true once it
 * has; for a launched command, reaps it and sets exit_status.
 */
bool target__poll_exit(struct target *t);

/* Launched command: wait for it to exit, return its exit status. */
int target__wait(struct target *t);

/* Kill a launched command that was never released; close descriptors. */
void target__close(struct target *t);

/* Human-readable message for an error returned above, for stderr. */
const char *target__strerror(int err);

#endif
