// SPDX-License-Identifier: MIT
/*
 * test_http.c - the --http server on loopback: address parsing and bind
 * errors, the three endpoints with their content types, 404/405/503,
 * HEAD, publish never waiting for idle or slow clients (and responses in
 * flight surviving a publish), concurrent publish and GET, and a real
 * Prometheus scraping /metrics whose query API then returns the series.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <pthread.h>
#include "output/http.h"
#include "output/pprof.h"
#include "writers_fixture.h"
#include "writers_tools.h"

#define FX_JSON "{\"pid\":4242,\"stacks\":[]}"

static struct http_server *start(const char *addr)
{
	int err = 0;
	struct http_server *s = http__start(addr, &err);

	if (!s)
		fail_msg("http__start(%s): %s", addr, strerror(-err));
	return s;
}

static void publish_fixture(struct http_server *s)
{
	struct report *r = fx_report();
	struct tracer_self self;

	tracer_self__init(&self);
	self.map_fill[TRACER_MAP_ALLOCS] = 0.25;
	self.report_latency_s = 0.01;
	assert_int_equal(http__publish(s, r, FX_JSON, &self), 0);
	report__free(r);
}

static void test_addresses(void **state)
{
	static const char *const bad[] = {
		"", "abc", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:8x", "::1:80", "[::1",
		"[::1]80", "1.2.3.4.5:80", ":", "127.0.0.1:123456",
	};
	struct http_server *s, *s2;
	char addr[64];
	int err;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		assert_null(http__start(bad[i], &err));
		if (err != -EINVAL && err != -EADDRNOTAVAIL)
			fail_msg("%s: err %d", bad[i], err);
	}
	err = 0;
	assert_null(http__start(NULL, &err));
	assert_int_equal(err, -EINVAL);

	/* "PORT" and ":PORT" bind loopback, not every interface */
	s = start("0");
	assert_true(http__port(s) > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", http__port(s));
	assert_string_equal(http__address(s), addr);
	/* the same port again: EADDRINUSE, as a negative errno */
	snprintf(addr, sizeof(addr), ":%d", http__port(s));
	err = 0;
	assert_null(http__start(addr, &err));
	assert_int_equal(err, -EADDRINUSE);
	http__stop(s);

	s = start(":0");
	assert_non_null(strstr(http__address(s), "127.0.0.1:"));
	http__stop(s);
	s = start("127.0.0.2:0");	/* any loopback address given explicitly */
	assert_non_null(strstr(http__address(s), "127.0.0.2:"));
	s2 = http__start("[::1]:0", &err);	/* IPv6 loopback, where the host has it */
	if (s2) {
		assert_non_null(strstr(http__address(s2), "[::1]:"));
		http__stop(s2);
	}
	http__stop(s);
	http__stop(NULL);
}

static void test_endpoints(void **state)
{
	struct http_server *s = start("127.0.0.1:0");
	struct http_reply rep;
	struct report *r = fx_report();
	int port = http__port(s);
	char buf[256];
	void *gz;
	size_t gz_len;
	(void)state;

	/* before any report */
	assert_int_equal(http_get(port, "/metrics", &rep), 0);
	assert_int_equal(rep.status, 503);
	assert_non_null(http_header(&rep, "Retry-After", buf, sizeof(buf)));
	http_reply_free(&rep);
	assert_int_equal(http_get(port, "/", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_non_null(strstr(rep.body, "/debug/pprof/heap"));
	http_reply_free(&rep);

	publish_fixture(s);

	assert_int_equal(http_get(port, "/metrics", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_string_equal(http_header(&rep, "Content-Type", buf, sizeof(buf)),
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(rep.body, "\nmemtrace_stack_outstanding_bytes{stack_id=\"0x1111\","
					 "kind=\"malloc\",stack=\"leak_inner@leaky_app\"} 3145728\n"));
	assert_non_null(strstr(rep.body, "\nmemtrace_map_fill_ratio{map=\"allocs\"} 0.25\n"));
	http_reply_free(&rep);

	/* the profile as Parca/Pyroscope fetch it: exactly pprof__encode(gzip) */
	assert_int_equal(pprof__encode(r, true, &gz, &gz_len), 0);
	assert_int_equal(http_get(port, "/debug/pprof/heap?seconds=30&gc=1", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_string_equal(http_header(&rep, "Content-Type", buf, sizeof(buf)), "application/octet-stream");
	assert_null(http_header(&rep, "Content-Encoding", buf, sizeof(buf)));
	assert_int_equal(rep.body_len, gz_len);
	assert_memory_equal(rep.body, gz, gz_len);
	http_reply_free(&rep);
	assert_int_equal(http_get(port, "/debug/pprof/allocs", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_memory_equal(rep.body, gz, gz_len);
	http_reply_free(&rep);
	free(gz);

	assert_int_equal(http_get(port, "/report.json", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_string_equal(http_header(&rep, "Content-Type", buf, sizeof(buf)), "application/json");
	assert_string_equal(rep.body, FX_JSON);
	http_reply_free(&rep);

	/* HEAD: headers only */
	assert_int_equal(http_raw(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
				  &rep, 10), 0);
	assert_int_equal(rep.status, 200);
	assert_int_equal(rep.body_len, 0);
	http_reply_free(&rep);

	/* errors */
	assert_int_equal(http_get(port, "/nope", &rep), 0);
	assert_int_equal(rep.status, 404);
	http_reply_free(&rep);
	assert_int_equal(http_get(port, "/metrics/extra", &rep), 0);
	assert_int_equal(rep.status, 404);
	http_reply_free(&rep);
	assert_int_equal(http_raw(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				  "Content-Length: 3\r\n\r\nabc", &rep, 10), 0);
	assert_int_equal(rep.status, 405);
	assert_string_equal(http_header(&rep, "Allow", buf, sizeof(buf)), "GET, HEAD");
	http_reply_free(&rep);
	assert_int_equal(http_raw(port, "DELETE /report.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
				  &rep, 10), 0);
	assert_int_equal(rep.status, 405);
	http_reply_free(&rep);
	assert_int_equal(http_raw(port, "GET /metrics\r\n\r\n", &rep, 10), 0);	/* no version */
	assert_int_equal(rep.status, 400);
	http_reply_free(&rep);
	assert_int_equal(http_raw(port, "GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", &rep, 10), 0);
	assert_int_equal(rep.status, 505);
	http_reply_free(&rep);
	/* no request line at all: libmicrohttpd just closes; the server lives on */
	assert_int_equal(http_raw(port, "GARBAGE\r\n\r\n", &rep, 10), -1);
	assert_int_equal(http_get(port, "/", &rep), 0);
	assert_int_equal(rep.status, 200);
	http_reply_free(&rep);

	/* a publish without JSON: /report.json is unavailable, the rest serves */
	assert_int_equal(http__publish(s, r, NULL, NULL), 0);
	assert_int_equal(http_get(port, "/report.json", &rep), 0);
	assert_int_equal(rep.status, 503);
	http_reply_free(&rep);
	assert_int_equal(http_get(port, "/metrics", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_null(strstr(rep.body, "memtrace_map_fill_ratio"));
	http_reply_free(&rep);

	report__free(r);
	http__stop(s);
}

/* A client socket with a tiny receive buffer, so the server stalls on it. */
static int connect_small_window(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void test_publish_never_waits(void **state)
{
	struct http_server *s = start("127.0.0.1:0");
	int port = http__port(s), idle[20], slow;
	size_t big_len = 4 << 20, got = 0, cap = big_len + 65536;
	char *big = malloc(big_len + 1), *in = malloc(cap), *body;
	struct report *r = fx_report();
	struct http_reply rep;
	double worst = 0, t0;
	(void)state;

	/* a 4 MiB report.json, far more than the socket buffers hold */
	memset(big, 'x', big_len);
	memcpy(big, "{\"pad\":\"", 8);
	memcpy(big + big_len - 2, "\"}", 2);
	big[big_len] = 0;
	assert_int_equal(http__publish(s, r, big, NULL), 0);
	/* idle clients: connected, request never finished */
	for (int i = 0; i < 20; i++) {
		idle[i] = connect_loopback(port);
		assert_true(idle[i] >= 0);
		assert_int_equal(write(idle[i], "GET /metr", 9), 9);
	}
	/* a stalled reader: asks for the big document and reads nothing yet */
	slow = connect_small_window(port);
	assert_true(write(slow, "GET /report.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 58) == 58);
	usleep(200000);

	for (int i = 0; i < 30; i++) {
		r->stacks[0].outstanding_bytes++;
		t0 = now_s();
		assert_int_equal(http__publish(s, r, FX_JSON, NULL), 0);
		t0 = now_s() - t0;
		if (t0 > worst)
			worst = t0;
	}
	print_message("http__publish with 20 idle clients and 1 stalled: worst %.2f ms\n", worst * 1e3);
	assert_true(worst < 0.25);

	/* others are still served meanwhile, from the newest snapshot */
	assert_int_equal(http_get(port, "/metrics", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_non_null(strstr(rep.body, "stack=\"leak_inner@leaky_app\"} 3145758\n"));
	http_reply_free(&rep);
	assert_int_equal(http_get(port, "/report.json", &rep), 0);
	assert_string_equal(rep.body, FX_JSON);
	http_reply_free(&rep);

	/* the stalled response still comes from its own snapshot, whole */
	for (;;) {
		struct pollfd pfd = { .fd = slow, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0 || got == cap)
			break;
		n = read(slow, in + got, cap - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	body = memmem(in, got, "\r\n\r\n", 4);
	assert_non_null(body);
	body += 4;
	assert_int_equal(got - (size_t)(body - in), big_len);
	assert_memory_equal(body, big, big_len);

	close(slow);
	for (int i = 0; i < 20; i++)
		close(idle[i]);
	free(in);
	free(big);
	report__free(r);
	http__stop(s);
}

/* Readable (data, EOF or reset) within ms: the server closed it or wrote. */
static bool closed_by_server(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * 200 clients that send a request line and nothing more (slowloris) must
 * not keep a scrape waiting: it is answered while all 200 are still open
 * (none timed out to make room), and each incomplete request is then
 * closed by the server's timeout.
 */
static void test_idle_connections(void **state)
{
	enum { IDLE = 200 };
	struct http_server *s = start("127.0.0.1:0");
	int port = http__port(s), idle[IDLE];
	struct http_reply rep;
	char req[128];
	double t0;
	(void)state;

	publish_fixture(s);
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Connection: close\r\n\r\n", port);
	for (int i = 0; i < IDLE; i++) {
		idle[i] = connect_loopback(port);
		assert_true(idle[i] >= 0);
		assert_int_equal(write(idle[i], "GET /metrics HTTP/1.1\r\n", 23), 23);
	}
	t0 = now_s();
	assert_int_equal(http_raw(port, req, &rep, HTTP_TIMEOUT_S), 0);
	print_message("/metrics with %d idle connections open: %.0f ms\n", IDLE,
		      (now_s() - t0) * 1e3);
	assert_int_equal(rep.status, 200);
	assert_non_null(strstr(rep.body, "memtrace_outstanding_bytes"));
	http_reply_free(&rep);
	for (int i = 0; i < IDLE; i++)	/* still open: the scrape did not wait for them */
		assert_false(closed_by_server(idle[i], 0));
	for (int i = 0; i < IDLE; i++) {	/* the timeout ends them all */
		assert_true(closed_by_server(idle[i], 3 * HTTP_TIMEOUT_S * 1000));
		close(idle[i]);
	}
	http__stop(s);
}

struct publisher {
	struct http_server *s;
	volatile int stop;
	int published;
};

static void *publish_loop(void *arg)
{
	struct publisher *p = arg;

	while (!p->stop) {
		struct report *r = fx_report();

		if (http__publish(p->s, r, FX_JSON, NULL) == 0)
			p->published++;
		report__free(r);
	}
	return NULL;
}

static void test_concurrent_publish_and_get(void **state)
{
	struct publisher p = { .s = start("127.0.0.1:0") };
	int port = http__port(p.s);
	struct http_reply rep;
	pthread_t th;
	(void)state;

	publish_fixture(p.s);
	assert_int_equal(pthread_create(&th, NULL, publish_loop, &p), 0);
	for (int i = 0; i < 150; i++) {
		static const char *const paths[] = { "/metrics", "/debug/pprof/heap", "/report.json" };

		assert_int_equal(http_get(port, paths[i % 3], &rep), 0);
		assert_int_equal(rep.status, 200);
		if (i % 3 == 0)
			assert_non_null(strstr(rep.body, "memtrace_stack_other_stacks 0\n"));
		if (i % 3 == 1)
			assert_int_equal((unsigned char)rep.body[0], 0x1f);
		if (i % 3 == 2)
			assert_string_equal(rep.body, FX_JSON);
		http_reply_free(&rep);
	}
	p.stop = 1;
	pthread_join(th, NULL);
	print_message("150 GETs during %d publishes\n", p.published);
	assert_true(p.published > 0);
	http__stop(p.s);
}

static void url_encode(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in && o + 4 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
	}
	out[o] = 0;
}

/* Query Prometheus's HTTP API; the result array (owned by *doc) or NULL. */
static json_object *prom_query(int port, const char *query, json_object **doc)
{
	char enc[1024], path[1200];
	struct http_reply rep;
	json_object *data, *result, *status;

	*doc = NULL;
	url_encode(query, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", enc);
	if (http_get(port, path, &rep) != 0)
		return NULL;
	if (rep.status == 200)
		*doc = json_tokener_parse(rep.body);
	http_reply_free(&rep);
	if (!*doc || !json_object_object_get_ex(*doc, "status", &status) ||
	    strcmp(json_object_get_string(status), "success") != 0 ||
	    !json_object_object_get_ex(*doc, "data", &data) ||
	    !json_object_object_get_ex(data, "result", &result) ||
	    json_object_array_length(result) == 0)
		return NULL;
	return result;
}

static const char *metric_label(json_object *series, const char *name)
{
	json_object *metric, *v;

	if (!json_object_object_get_ex(series, "metric", &metric) ||
	    !json_object_object_get_ex(metric, name, &v))
		return NULL;
	return json_object_get_string(v);
}

static const char *series_value(json_object *series)
{
	json_object *v;

	if (!json_object_object_get_ex(series, "value", &v))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(v, 1));
}

static void test_prometheus_scrapes(void **state)
{
	struct http_server *s;
	char *dir, cfg[600], data[600], flag_cfg[700], flag_data[700], flag_listen[64], *yaml;
	char *log = NULL;
	json_object *doc = NULL, *res = NULL;
	int prom_port, status;
	double deadline;
	pid_t pid;
	(void)state;

	if (!tool_exists("prometheus"))
		skip();	/* prometheus absent: tools/install-deps.sh installs it */
	s = start("127.0.0.1:0");
	publish_fixture(s);
	dir = make_tmpdir("prometheus");
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	assert_true(asprintf(&yaml,
		"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
		"scrape_configs:\n  - job_name: memtrace\n    static_configs:\n"
		"      - targets: ['127.0.0.1:%d']\n", http__port(s)) > 0);
	assert_int_equal(write_file_all(cfg, yaml), 0);
	free(yaml);
	prom_port = free_port();
	assert_true(prom_port > 0);
	snprintf(flag_cfg, sizeof(flag_cfg), "--config.file=%s", cfg);
	snprintf(flag_data, sizeof(flag_data), "--storage.tsdb.path=%s", data);
	snprintf(flag_listen, sizeof(flag_listen), "--web.listen-address=127.0.0.1:%d", prom_port);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char logpath[700];
		int fd;

		snprintf(logpath, sizeof(logpath), "%s/prometheus.log", dir);
		fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("prometheus", "prometheus", flag_cfg, flag_data, flag_listen,
		       "--log.level=warn", (char *)NULL);
		_exit(127);
	}

	/* scraped within a few seconds of start; give a slow CI a minute */
	deadline = now_s() + 60;
	while (now_s() < deadline) {
		res = prom_query(prom_port,
				 "memtrace_stack_outstanding_bytes{job=\"memtrace\",stack_id=\"0x1111\"}", &doc);
		if (res)
			break;
		json_object_put(doc);
		doc = NULL;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			snprintf(cfg, sizeof(cfg), "%s/prometheus.log", dir);
			log = read_file_all(cfg, NULL);
			fail_msg("prometheus exited: %s", log ? log : "?");
		}
		usleep(250000);
	}
	if (!res) {
		snprintf(cfg, sizeof(cfg), "%s/prometheus.log", dir);
		log = read_file_all(cfg, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("prometheus never returned the series; log:\n%s", log ? log : "?");
	}
	assert_int_equal(json_object_array_length(res), 1);
	assert_string_equal(series_value(json_object_array_get_idx(res, 0)), "3145728");
	assert_string_equal(metric_label(json_object_array_get_idx(res, 0), "stack"), "leak_inner@leaky_app");
	assert_string_equal(metric_label(json_object_array_get_idx(res, 0), "kind"), "malloc");
	json_object_put(doc);

	/* the target is healthy and the other families arrived too */
	res = prom_query(prom_port, "up{job=\"memtrace\"}", &doc);
	assert_non_null(res);
	assert_string_equal(series_value(json_object_array_get_idx(res, 0)), "1");
	json_object_put(doc);
	res = prom_query(prom_port, "sum(memtrace_dropped_events_total)", &doc);
	assert_non_null(res);
	assert_string_equal(series_value(json_object_array_get_idx(res, 0)), "9");
	json_object_put(doc);
	res = prom_query(prom_port, "memtrace_stack_outstanding_bytes{stack_id=\"0x2222\"}", &doc);
	assert_non_null(res);
	assert_string_equal(metric_label(json_object_array_get_idx(res, 0), "stack"),
			    FX_POOL_NAME "@leaky_app");
	json_object_put(doc);
	res = prom_query(prom_port, "memtrace_severity", &doc);
	assert_non_null(res);
	assert_string_equal(series_value(json_object_array_get_idx(res, 0)), "3");
	json_object_put(doc);

	kill(pid, SIGTERM);
	deadline = now_s() + 20;
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (now_s() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(100000);
	}
	free(log);
	remove_tree(dir);
	free(dir);
	http__stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_publish_never_waits),
		cmocka_unit_test(test_concurrent_publish_and_get),
		cmocka_unit_test(test_prometheus_scrapes),
		cmocka_unit_test(test_idle_connections),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
