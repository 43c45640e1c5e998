// SPDX-License-Identifier: MIT
/* target.c - find, validate, launch and watch the traced process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gelf.h>
#include "target/elf_funcs.h"
#include "target/procmaps.h"
#include "target/target.h"

#define PF_KTHREAD 0x00200000

static void target_init(struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->hold_fd = -1;
	t->exec_err_fd = -1;
	t->pidfd = -1;
}

/* True when the ELF at path defines both malloc and free. */
static bool defines_allocator(const char *path)
{
	struct elf_funcs *e = elf_funcs__open(path);
	struct elf_func f;
	bool ok;

	if (!e)
		return false;
	ok = elf_funcs__find(e, "malloc", &f) == 0 && elf_funcs__find(e, "free", &f) == 0;
	elf_funcs__close(e);
	return ok;
}

static bool is_ldso(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld64.so", 7) == 0 ||
	       strncmp(base, "ld.so", 5) == 0;
}

/*
 * Pick the allocator among candidate modules (open paths and names, the
 * executable first): the executable if it defines malloc, else the first
 * other non-libc library defining it (jemalloc, tcmalloc...), else libc.
 */
static int choose_allocator(struct target *t, char **open_paths, char **names, size_t n)
{
	ssize_t pick = -1, libc = -1;

	for (size_t i = 0; i < n && pick < 0; i++) {
		if (is_ldso(names[i]))
			continue;
		if (proc_maps__is_libc(names[i])) {
			if (libc < 0 && defines_allocator(open_paths[i]))
				libc = i;
			continue;
		}
		if (defines_allocator(open_paths[i]))
			pick = i;
	}
	if (pick < 0)
		pick = libc;
	if (pick < 0)
		return -ENODATA;
	t->alloc_path = strdup(open_paths[pick]);
	t->alloc_name = strdup(names[pick]);
	return t->alloc_path && t->alloc_name ? 0 : -ENOMEM;
}

static int read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return 0;
}

/* State and flags of /proc/PID/stat (after the parenthesized comm). */
static int read_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* ") S ppid pgrp session tty tpgid flags" */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -EINVAL;
	return 0;
}

int target__tgid(pid_t pid)
{
	char path[64], line[256];
	int tgid = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid > 0 ? tgid : -ESRCH;
}

static int open_pidfd(struct target *t)
{
	t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	return t->pidfd < 0 ? -errno : 0;
}

int target__open_pid(struct target *t, pid_t pid)
{
	struct proc_maps maps;
	char **opens = NULL, **names = NULL, buf[PATH_MAX];
	unsigned long flags;
	size_t n = 0;
	char state;
	int err;

	target_init(t);
	t->pid = pid;
	if (pid == getpid())	/* its probes would fire on its own reads */
		return -ELOOP;
	if (kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	err = read_stat(pid, &state, &flags);
	if (err)
		return err;
	if (state == 'Z' || state == 'X')
		return -ECHILD;
	if (flags & PF_KTHREAD)
		return -EINVAL;
	err = read_comm(pid, t->comm, sizeof(t->comm));
	if (err)
		return err;
	err = proc_maps__read(pid, &maps);
	if (err)
		return err;
	opens = calloc(maps.nr + 1, sizeof(*opens));
	names = calloc(maps.nr + 1, sizeof(*names));
	if (!opens || !names) {
		err = -ENOMEM;
		goto free_lists;
	}
	/* The executable first, then each file with executable code, once. */
	for (size_t i = 0; i < maps.nr; i++) {
		const struct map_entry *e = &maps.e[i];
		bool seen = false;

		if (!e->path || e->path[0] != '/' || e->perms[2] != 'x')
			continue;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(names[j], e->path) == 0;
		if (seen)
			continue;
		if (!proc_maps__open_path(pid, e, buf, sizeof(buf)))
			continue;
		opens[n] = strdup(buf);
		names[n] = strdup(e->path);
		if (!opens[n] || !names[n]) {
			err = -ENOMEM;
			n++;
			goto free_lists;
		}
		n++;
	}
	{	/* move the executable to the front */
		char exe[PATH_MAX], link[64];
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/%d/exe", pid);
		len = readlink(link, exe, sizeof(exe) - 1);
		if (len > 0) {
			exe[len] = '\0';
			if (len > 10 && strcmp(exe + len - 10, " (deleted)") == 0)
				exe[len - 10] = '\0';
			for (size_t j = 1; j < n; j++) {
				if (strcmp(names[j], exe) == 0) {
					char *o = opens[j], *nm = names[j];

					memmove(&opens[1], &opens[0], j * sizeof(*opens));
					memmove(&names[1], &names[0], j * sizeof(*names));
					opens[0] = o;
					names[0] = nm;
					break;
				}
			}
		}
	}
	err = choose_allocator(t, opens, names, n);
	if (!err)
		err = open_pidfd(t);
free_lists:
	for (size_t i = 0; i < n; i++) {
		free(opens[i]);
		free(names[i]);
	}
	free(opens);
	free(names);
	proc_maps__free(&maps);
	if (err)
		target__close(t);
	return err;
}

/* execvp's search, without executing: the path of the command, or -errno. */
static int find_command(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");
	int last = -ENOENT;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		goto check;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t l = strcspn(path, ":");
		struct stat st;

		if (l)
			snprintf(out, len, "%.*s/%s", (int)l, path, cmd);
		else
			snprintf(out, len, "./%s", cmd);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			last = -EACCES;
		}
		path += l;
		if (*path == ':')
			path++;
	}
	return last;
check:
	{
		struct stat st;

		if (stat(out, &st))
			return -errno;
		if (!S_ISREG(st.st_mode) || access(out, X_OK))
			return -EACCES;
	}
	return 0;
}

/* The ELF interpreter of path ("" for a static executable). */
static int read_interp(const char *path, char *interp, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = -ENOEXEC;
	size_t nph;
	Elf *elf;

	interp[0] = '\0';
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph))
		goto close_elf;
	err = 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		size_t sz;
		char *raw;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_INTERP)
			continue;
		raw = elf_rawfile(elf, &sz);
		if (!raw || ph.p_offset + ph.p_filesz > sz || ph.p_filesz >= len)
			break;
		memcpy(interp, raw + ph.p_offset, ph.p_filesz);
		interp[ph.p_filesz] = '\0';
	}
close_elf:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/*
 * The libraries the dynamic loader will map for exe, without running it:
 * "INTERP --list EXE", which loads and lists but runs no code of exe.
 * Appends paths to names[] (n in/out, cap entries).
 */
static int list_libraries(const char *interp, const char *exe, char **names,
			  size_t *n, size_t cap)
{
	int pfd[2], status;
	pid_t pid;
	FILE *f;
	char line[PATH_MAX + 64];

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(pfd[1], 1);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 2);
		}
		execl(interp, interp, "--list", exe, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f) {
		close(pfd[0]);
		waitpid(pid, &status, 0);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f) && *n < cap) {
		/* "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" */
		char *arrow = strstr(line, "=> "), *p, *end;

		p = arrow ? arrow + 3 : line + strspn(line, " \t");
		if (*p != '/')
			continue;
		end = strstr(p, " (");
		if (end)
			*end = '\0';
		p[strcspn(p, "\n")] = '\0';
		names[*n] = strdup(p);
		if (names[*n])
			(*n)++;
	}
	fclose(f);
	waitpid(pid, &status, 0);
	return 0;
}

static void set_status(struct target *t, int status);

static void hold_child(int hold_rd, int err_wr, char *const argv[], const char *path)
{
	char c;
	int e;

	/* Wait until memtrace has attached (or gone away). */
	while (read(hold_rd, &c, 1) < 0 && errno == EINTR)
		;
	if (c != 'g')
		_exit(127);
	close(hold_rd);
	/* Stop right after exec so memtrace can read the new image before
	 * its first instruction runs; say so if that is impossible. */
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL)) {
		e = -1;
		if (write(err_wr, &e, sizeof(e)) < 0)
			_exit(127);
	}
	execv(path, argv);
	e = errno;
	if (write(err_wr, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int target__launch(struct target *t, char *const argv[])
{
	char path[PATH_MAX], interp[PATH_MAX];
	char *names[64];
	size_t n = 0;
	int hold[2] = { -1, -1 }, errp[2] = { -1, -1 }, err;

	target_init(t);
	t->launched = true;
	err = find_command(argv[0], path, sizeof(path));
	if (err)
		return err;
	err = read_interp(path, interp, sizeof(interp));
	if (err)
		return err;
	names[n++] = strdup(path);
	if (interp[0])
		list_libraries(interp, path, names, &n, sizeof(names) / sizeof(names[0]));
	err = choose_allocator(t, names, names, n);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (err)
		return err;
	if (pipe2(hold, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		goto close_pipes;
	}
	fflush(NULL);
	t->pid = fork();
	if (t->pid < 0) {
		err = -errno;
		goto close_pipes;
	}
	if (t->pid == 0) {
		close(hold[1]);
		close(errp[0]);
		hold_child(hold[0], errp[1], argv, path);
	}
	close(hold[0]);
	close(errp[1]);
	t->hold_fd = hold[1];
	t->exec_err_fd = errp[0];
	{
		const char *base = strrchr(path, '/');

		snprintf(t->comm, sizeof(t->comm), "%.15s", base ? base + 1 : path);
	}
	err = open_pidfd(t);
	if (err)
		target__close(t);
	return err;

close_pipes:
	for (int i = 0; i < 2; i++) {
		if (hold[i] >= 0)
			close(hold[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(t->alloc_path);
	free(t->alloc_name);
	t->alloc_path = t->alloc_name = NULL;
	return err;
}

int target__release(struct target *t)
{
	int e = 0;
	ssize_t n;

	if (!t->launched || t->hold_fd < 0)
		return 0;
	if (write(t->hold_fd, "g", 1) != 1)
		return -errno;
	close(t->hold_fd);
	t->hold_fd = -1;
	/* The error pipe closes on a successful exec (O_CLOEXEC); before
	 * that the child may say -1 (not stopping at exec) or an errno. */
	t->stopped = true;
	for (;;) {
		do
			n = read(t->exec_err_fd, &e, sizeof(e));
		while (n < 0 && errno == EINTR);
		if (n != sizeof(e) || e != -1)
			break;
		t->stopped = false;
	}
	close(t->exec_err_fd);
	t->exec_err_fd = -1;
	if (n == sizeof(e)) {
		t->stopped = false;
		target__wait(t);
		return -e;
	}
	if (t->stopped) {
		int status;

		while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFSTOPPED(status)) {	/* died on the way */
			t->stopped = false;
			set_status(t, status);
		}
	}
	return 0;
}

int target__resume(struct target *t)
{
	if (!t->stopped)
		return 0;
	t->stopped = false;
	return ptrace(PTRACE_DETACH, t->pid, NULL, NULL) ? -errno : 0;
}

static void set_status(struct target *t, int status)
{
	t->exited = true;
	if (WIFEXITED(status))
		t->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		t->exit_status = 128 + WTERMSIG(status);
}

bool target__poll_exit(struct target *t)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };
	int status;

	if (t->exited)
		return true;
	if (t->launched) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			set_status(t, status);
		return t->exited;
	}
	if (t->pidfd >= 0 && poll(&p, 1, 0) == 1)
		t->exited = true;
	else if (t->pidfd < 0 && kill(t->pid, 0) && errno == ESRCH)
		t->exited = true;
	return t->exited;
}

int target__wait(struct target *t)
{
	int status;

	if (!t->launched || t->exited)
		return t->exit_status;
	while (waitpid(t->pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 1;
	}
	set_status(t, status);
	return t->exit_status;
}

void target__close(struct target *t)
{
	if (t->stopped)
		target__resume(t);
	if (t->launched && t->pid > 0 && t->hold_fd >= 0) {
		/* never released: the command must not run untraced */
		kill(t->pid, SIGKILL);
		target__wait(t);
	}
	if (t->hold_fd >= 0)
		close(t->hold_fd);
	if (t->exec_err_fd >= 0)
		close(t->exec_err_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	free(t->alloc_path);
	free(t->alloc_name);
	t->hold_fd = t->exec_err_fd = t->pidfd = -1;
	t->alloc_path = t->alloc_name = NULL;
}

const char *target__strerror(int err)
{
	switch (err) {
	case -ESRCH: return "no such process";
	case -ECHILD: return "has exited (zombie)";
	case -EINVAL: return "is a kernel thread (no user-space allocator to trace)";
	case -ENOENT: return "command not found";
	case -ENODATA: return "no allocator found (no module defines malloc and free)";
	case -EACCES: return "permission denied";
	case -ENOEXEC: return "not an executable";
	case -ELOOP: return "is memtrace itself";
	default: return strerror(-err);
	}
}
