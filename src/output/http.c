// SPDX-License-Identifier: MIT
/* http.c - /metrics, /debug/pprof/heap and /report.json (see http.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "output/dashboard.h"
#include "output/http.h"
#include "output/pprof.h"

/* What the server serves, shared by the responses in flight. */
struct snapshot {
	int refs;		/* atomic */
	char *metrics;
	size_t metrics_len;
	void *pprof;
	size_t pprof_len;
	char *json;		/* NULL: none published */
	size_t json_len;
	/* --system --deep: each deep trace's profile, /debug/pprof/heap?pid=N */
	struct pid_pprof {
		int pid;
		void *pprof;
		size_t len;
	} *pids;
	size_t nr_pids;
};

struct http_server {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	struct snapshot *cur;	/* NULL until the first publish */
	struct dashboard *dash;	/* "/" and /dashboard/... (dashboard.h) */
	int port;
	char address[80];
	size_t metrics_top;	/* series per report in /metrics; 0: METRICS_TOP_STACKS */
};

static void snapshot_put(struct snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(s->metrics);
	free(s->pprof);
	free(s->json);
	for (size_t i = 0; i < s->nr_pids; i++)
		free(s->pids[i].pprof);
	free(s->pids);
	free(s);
}

static struct snapshot *snapshot_get(struct http_server *s)
{
	struct snapshot *snap;

	pthread_mutex_lock(&s->lock);
	snap = s->cur;
	if (snap)
		__atomic_add_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&s->lock);
	return snap;
}

static void response_done(void *cls)
{
	snapshot_put(cls);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum resource { RES_NONE, RES_DASHBOARD, RES_METRICS, RES_PPROF, RES_JSON };

static enum resource resource_of(const char *url)
{
	if (dashboard__owns(url))
		return RES_DASHBOARD;
	if (strcmp(url, "/metrics") == 0)
		return RES_METRICS;
	if (strcmp(url, "/debug/pprof/heap") == 0 || strcmp(url, "/debug/pprof/allocs") == 0)
		return RES_PPROF;
	if (strcmp(url, "/report.json") == 0)
		return RES_JSON;
	return RES_NONE;
}

/* Serve one resource from a snapshot; the response holds the reference. */
static enum MHD_Result reply_snapshot(struct MHD_Connection *c, struct snapshot *snap,
				      enum resource res)
{
	const char *pid = res == RES_PPROF ?
			  MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pid") : NULL;
	struct MHD_Response *resp;
	const char *type;
	enum MHD_Result ret;
	void *data;
	size_t len;

	if (pid) {	/* a deep trace's profile */
		for (size_t i = 0; i < snap->nr_pids; i++) {
			if (snap->pids[i].pid != atoi(pid))
				continue;
			data = snap->pids[i].pprof;
			len = snap->pids[i].len;
			type = "application/octet-stream";
			goto respond;
		}
		snapshot_put(snap);
		return reply_text(c, MHD_HTTP_NOT_FOUND, "no deep trace of that pid\n");
	}
	switch (res) {
	case RES_METRICS:
		data = snap->metrics;
		len = snap->metrics_len;
		type = "text/plain; version=0.0.4; charset=utf-8";
		break;
	case RES_PPROF:
		data = snap->pprof;
		len = snap->pprof_len;
		type = "application/octet-stream";
		break;
	default:
		data = snap->json;
		len = snap->json_len;
		type = "application/json";
	}
respond:
	resp = MHD_create_response_from_buffer_with_free_callback_cls(len, data, response_done, snap);
	if (!resp) {
		snapshot_put(snap);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (res == RES_PPROF)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					"attachment; filename=\"heap.pb.gz\"");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);	/* the snapshot goes with the last reference */
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	enum resource res = resource_of(url);
	struct snapshot *snap;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;

	if (res == RES_NONE)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (res == RES_DASHBOARD)
		return dashboard__serve(s->dash, c, url);
	snap = snapshot_get(s);
	if (!snap || (res == RES_JSON && !snap->json)) {
		snapshot_put(snap);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no report yet\n");
	}
	return reply_snapshot(c, snap, res);
}

/* Split addr into host and port; 0 or -EINVAL. */
static int parse_addr(const char *addr, char *host, size_t host_size, char *port, size_t port_size)
{
	const char *p, *colon;
	size_t n;

	if (!addr || !*addr)
		return -EINVAL;
	if (addr[0] == '[') {
		p = strchr(addr, ']');
		if (!p || p[1] != ':')
			return -EINVAL;
		n = (size_t)(p - addr - 1);
		colon = p + 1;
		addr++;
	} else {
		colon = strrchr(addr, ':');
		if (colon && strchr(addr, ':') != colon)
			return -EINVAL;	/* bare IPv6 needs brackets */
		n = colon ? (size_t)(colon - addr) : 0;
	}
	if (n >= host_size)
		return -EINVAL;
	memcpy(host, addr, n);
	host[n] = 0;
	if (!n)
		snprintf(host, host_size, "%s", HTTP_DEFAULT_HOST);
	p = colon ? colon + 1 : addr;
	n = strlen(p);
	if (!n || n >= port_size || n > 5 || strspn(p, "0123456789") != n || atoi(p) > 65535)
		return -EINVAL;
	memcpy(port, p, n + 1);
	return 0;
}

int http__check_addr(const char *addr)
{
	char host[256], port[8];

	return parse_addr(addr, host, sizeof(host), port, sizeof(port));
}

/* A listening socket on host:port; the fd or a negative errno. */
static int listen_on(const char *host, const char *port, struct http_server *s, bool *v6)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	int fd, one = 1, err;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err)
		return err == EAI_SYSTEM ? -errno : err == EAI_MEMORY ? -ENOMEM : -EADDRNOTAVAIL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		goto free_ai;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		err = -errno;
		goto close_fd;
	}
	*v6 = ss.ss_family == AF_INET6;
	if (*v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		s->port = ntohs(a->sin6_port);
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(s->address, sizeof(s->address), "[%s]:%d", ip, s->port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		s->port = ntohs(a->sin_port);
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(s->address, sizeof(s->address), "%s:%d", ip, s->port);
	}
	freeaddrinfo(ai);
	return fd;
close_fd:
	close(fd);
free_ai:
	freeaddrinfo(ai);
	return err;
}

/* HTTP_MAX_CONNECTIONS, within half the descriptors this process may open. */
static unsigned int connection_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 2 < HTTP_MAX_CONNECTIONS)
		return rl.rlim_cur / 2 > HTTP_PER_IP_CONNECTIONS ? (unsigned int)(rl.rlim_cur / 2) :
								HTTP_PER_IP_CONNECTIONS;
	return HTTP_MAX_CONNECTIONS;
}

struct http_server *http__start(const char *addr, int *err)
{
	char host[256], port[8];
	struct http_server *s;
	unsigned int flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_ALLOW_SUSPEND_RESUME;	/* the dashboard's event streams */
	bool v6 = false;
	int fd, e;

	e = parse_addr(addr, host, sizeof(host), port, sizeof(port));
	if (e)
		goto fail;
	s = calloc(1, sizeof(*s));
	if (!s) {
		e = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->dash = dashboard__new();
	if (!s->dash) {
		e = -ENOMEM;
		goto free_server;
	}
	fd = listen_on(host, port, s, &v6);
	if (fd < 0) {
		e = fd;
		goto free_dash;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				     (unsigned int)HTTP_PER_IP_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				     MHD_OPTION_END);
	if (!s->daemon) {
		e = -EIO;
		close(fd);
		goto free_dash;
	}
	return s;
free_dash:
	dashboard__free(s->dash);
free_server:
	pthread_mutex_destroy(&s->lock);
	free(s);
fail:
	if (err)
		*err = e;
	return NULL;
}

int http__publish(struct http_server *s, const struct report *r, const char *report_json,
		  const struct tracer_self *self)
{
	void *pprof;
	size_t len;
	int err;

	err = pprof__encode(r, true, &pprof, &len);
	if (err)
		return err;
	return http__publish_encoded(s, r, report_json, self, pprof, len);
}

int http__publish_encoded(struct http_server *s, const struct report *r,
			  const char *report_json, const struct tracer_self *self,
			  void *pprof, size_t pprof_len)
{
	struct snapshot *snap, *old;
	int err;

	snap = calloc(1, sizeof(*snap));
	if (!snap) {
		free(pprof);
		return -ENOMEM;
	}
	snap->refs = 1;
	snap->pprof = pprof;
	snap->pprof_len = pprof_len;
	err = metrics__render(r, self, s->metrics_top ? s->metrics_top : METRICS_TOP_STACKS,
			     &snap->metrics, &snap->metrics_len);
	if (err)
		goto put_snap;
	if (r->nr_deep) {
		snap->pids = calloc(r->nr_deep, sizeof(*snap->pids));
		if (!snap->pids) {
			err = -ENOMEM;
			goto put_snap;
		}
	}
	for (size_t i = 0; i < r->nr_deep; i++) {
		struct pid_pprof *pp = &snap->pids[snap->nr_pids];

		if (pprof__encode(r->deep[i], true, &pp->pprof, &pp->len))
			continue;	/* that one is not served; the rest are */
		pp->pid = r->deep[i]->pid;
		snap->nr_pids++;
	}
	if (report_json) {
		snap->json = strdup(report_json);
		if (!snap->json) {
			err = -ENOMEM;
			goto put_snap;
		}
		snap->json_len = strlen(report_json);
	}
	pthread_mutex_lock(&s->lock);
	old = s->cur;
	s->cur = snap;
	pthread_mutex_unlock(&s->lock);
	snapshot_put(old);
	return 0;
put_snap:
	snapshot_put(snap);
	return err;
}

void http__set_metrics_top(struct http_server *s, size_t top)
{
	s->metrics_top = top;
}

int http__port(const struct http_server *s)
{
	return s->port;
}

struct dashboard *http__dashboard(struct http_server *s)
{
	return s->dash;
}

const char *http__address(const struct http_server *s)
{
	return s->address;
}

void http__stop(struct http_server *s)
{
	if (!s)
		return;
	dashboard__shutdown(s->dash);	/* no suspended stream may outlive the daemon */
	MHD_stop_daemon(s->daemon);	/* joins its thread, closes the listen socket */
	dashboard__free(s->dash);
	snapshot_put(s->cur);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
