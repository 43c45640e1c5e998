/* SPDX-License-Identifier: MIT */
/*
 * uprobe_multi.h - uprobe_multi BPF links (Linux 6.6+): one bpf(2)
 * BPF_LINK_CREATE attaches a program to many offsets of one file, for one
 * process, and closing the link removes them all with one synchronization.
 *
 * Debian 12's libbpf (1.1) and uapi headers (6.1) predate them, so this
 * module carries its own copy of that kernel ABI and makes the raw
 * syscalls. It depends on nothing but libc and <linux/bpf.h>.
 *
 * A program attached this way must have been loaded with expected attach
 * type UPROBE_MULTI_ATTACH_TYPE (bpf_program__set_expected_attach_type()
 * before load); such a program cannot be attached through perf events.
 */
#ifndef MEMTRACE_UPROBE_MULTI_H
#define MEMTRACE_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* enum bpf_attach_type BPF_TRACE_UPROBE_MULTI (Linux 6.6+). */
#define UPROBE_MULTI_ATTACH_TYPE	48

/* enum bpf_attach_type BPF_TRACE_UPROBE_SESSION (Linux 6.13+): an
 * uprobe_multi link whose program runs at entry and at return, and whose
 * entry returning non-zero skips the return. */
#define UPROBE_SESSION_ATTACH_TYPE	57

/* The kernel's bound on offsets per link (MAX_UPROBE_MULTI_CNT). */
#define UPROBE_MULTI_MAX_CNT		(1U << 20)

/*
 * Whether this kernel creates uprobe_multi links. Loads a two-instruction
 * program with that expected attach type and asks for a link on "/" (a
 * directory): a kernel that knows the link type refuses it with EBADF,
 * one that does not with EINVAL. Attaches nothing, changes nothing, leaves
 * no descriptor open. Returns 1 (supported), 0 (not supported), or
 * -errno when it cannot tell (-EPERM: no CAP_BPF).
 */
int uprobe_multi__supported(void);

/*
 * Whether this kernel creates uprobe session links, probed as
 * uprobe_multi__supported() does, with the session attach type. Returns
 * 1, 0, or -errno when it cannot tell. Changes nothing.
 */
int uprobe_multi__session_supported(void);

/*
 * Load an empty program ("return 0") of the kprobe type, for uprobe_multi
 * links (multi) or for perf-event uprobes. Returns its fd (the caller
 * closes it) or -errno.
 */
int uprobe_multi__load_empty(bool multi);

/*
 * Load a program for uprobe session links that returns 1: at each entry
 * it skips the return (one trap a call; a benchmark floor). Returns its fd
 * (the caller closes it) or -errno.
 */
int uprobe_multi__load_session_skip(void);

/*
 * Attach the program prog_fd to cnt offsets of the ELF file at path (file
 * offsets, as uprobes take them), entry probes, or return probes if ret.
 * pid > 0: breakpoints only in that process (its thread group, also after
 * it execs); 0: every process mapping the file. The path is resolved once,
 * now (symlinks followed, so /proc/PID/map_files/... works). Returns the
 * link's file descriptor (close-on-exec; closing it detaches every probe
 * of the link), or -errno: -EINVAL (cnt 0, cnt above
 * UPROBE_MULTI_MAX_CNT, or a program not loaded for uprobe_multi), -ESRCH
 * (no such process), -ENOENT, -EBADF (path not a regular file)...; on
 * failure nothing stays attached.
 */
int uprobe_multi__attach(int prog_fd, const char *path, const uint64_t *offsets, size_t cnt,
			 pid_t pid, bool ret);

/*
 * Attach the program prog_fd, loaded with expected attach type
 * UPROBE_SESSION_ATTACH_TYPE, as a uprobe session at cnt offsets of the
 * file at path: it runs at entry and, unless that run returned non-zero,
 * at return of each call. cookies (cnt values, or NULL) are what
 * bpf_get_attach_cookie() returns at each offset. pid, the path and the
 * link's lifetime as uprobe_multi__attach(). Returns the link's file
 * descriptor or -errno; on failure nothing stays attached.
 */
int uprobe_multi__attach_session(int prog_fd, const char *path, const uint64_t *offsets,
				 const uint64_t *cookies, size_t cnt, pid_t pid);

#endif
