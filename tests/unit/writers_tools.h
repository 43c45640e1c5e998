/* SPDX-License-Identifier: MIT */
/*
 * writers_tools.h - helpers for the output writer tests that run real
 * tools (go tool pprof, promtool, prometheus, xmllint, chromium): find a
 * tool on PATH, run it capturing its output, temporary directories, whole
 * file reads and a tiny loopback HTTP client. Header-only.
 */
#ifndef WRITERS_TOOLS_H
#define WRITERS_TOOLS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* True if an executable named name is on PATH. */
static inline bool tool_exists(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read a whole file; NUL-terminated, *len without the NUL. NULL on error. */
static inline char *read_file_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static inline int write_file_all(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/* A fresh directory under TMPDIR or /tmp; the caller frees the string. */
static inline char *make_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *dir;

	if (asprintf(&dir, "%s/memtrace-%s-XXXXXX", base, tag) < 0)
		return NULL;
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* rm -rf dir (test scratch only). */
static inline void remove_tree(const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/*
 * Run argv (PATH search) with stdout and stderr into *out (malloc'd,
 * NUL-terminated), killing it after timeout_s. Returns the exit status,
 * 128+signal if killed, or -1 if it could not run.
 */
static inline int run_capture(char *const argv[], char **out, double timeout_s)
{
	char tmpl[] = "/tmp/memtrace-run-XXXXXX";
	int fd = mkstemp(tmpl), status = 0;
	double deadline = now_s() + timeout_s;
	pid_t pid;

	if (fd < 0)
		return -1;
	unlink(tmpl);
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (now_s() > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(20000);
	}
	if (out) {
		off_t n = lseek(fd, 0, SEEK_END);

		*out = calloc(1, n + 1);
		if (*out && pread(fd, *out, n, 0) < 0)
			(*out)[0] = 0;
	}
	close(fd);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
static inline int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static inline int connect_loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct http_reply {
	int status;
	char *head;	/* status line and headers */
	char *body;
	size_t body_len;
};

static inline void http_reply_free(struct http_reply *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * Send a raw HTTP/1.0-style request (Connection: close) to 127.0.0.1:port
 * and read the whole reply within timeout_s. Returns 0 or -1.
 */
static inline int http_raw(int port, const char *request, struct http_reply *rep,
			   double timeout_s)
{
	double deadline = now_s() + timeout_s;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *sep;
	int fd = connect_loopback(port);

	memset(rep, 0, sizeof(*rep));
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (write(fd, request, strlen(request)) != (ssize_t)strlen(request))
		goto fail;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - now_s()) * 1000);
		ssize_t got;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			goto fail;
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = 0;
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &rep->status) != 1) {
		free(buf);
		return -1;
	}
	rep->head = strndup(buf, sep - buf);
	rep->body_len = n - (size_t)(sep + 4 - buf);
	rep->body = malloc(rep->body_len + 1);
	memcpy(rep->body, sep + 4, rep->body_len);
	rep->body[rep->body_len] = 0;
	free(buf);
	return 0;
fail:
	close(fd);
	free(buf);
	return -1;
}

/* GET path from 127.0.0.1:port. */
static inline int http_get(int port, const char *path, struct http_reply *rep)
{
	char req[2048];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Connection: close\r\n\r\n", path, port);
	return http_raw(port, req, rep, 10);
}

/* The value of header name in rep (copied into buf), or NULL. */
static inline const char *http_header(const struct http_reply *rep, const char *name,
				      char *buf, size_t size)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	p = strcasestr(rep->head, key);
	if (!p)
		return NULL;
	p += strlen(key);
	snprintf(buf, size, "%.*s", (int)strcspn(p, "\r\n"), p);
	return buf;
}

/* The repository root: $MEMTRACE_ROOT, else the current directory. */
static inline const char *repo_root(void)
{
	const char *r = getenv("MEMTRACE_ROOT");

	return r && *r ? r : ".";
}

#endif /* WRITERS_TOOLS_H */
