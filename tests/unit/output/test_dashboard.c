// SPDX-License-Identifier: MIT
/*
 * test_dashboard.c - the dashboard behind --http: the embedded page and
 * its files, the state's size bounds with 1,000 (and 4,000) stacks (top K
 * stacks, history within the window, flame nodes under the cap), the cost
 * of a request (no rendering, a fraction of a publish: printed), fields
 * passed through from the report (system mode's processes cut to the
 * top), and the event stream: one event per publish, the stream ending
 * after the final report, a cap on streams, a stop with streams waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "output/dashboard.h"
#include "output/http.h"
#include "writers_fixture.h"
#include "writers_tools.h"

#define STATE_MAX_BYTES	(1 << 20)	/* what a state may weigh, asserted */

static struct http_server *start(void)
{
	int err = 0;
	struct http_server *s = http__start("127.0.0.1:0", &err);

	if (!s)
		fail_msg("http__start: %s", strerror(-err));
	return s;
}

/* n stacks of depth 16, analysed, growing with t; stack 0 the suspect. */
static struct report *big_at(size_t n, double t, bool final)
{
	struct report *r = fx_big_report(n, 16);

	r->elapsed_s = t;
	r->time = 1700000000 + t;
	r->final = final;
	for (size_t i = 0; i < n; i++) {
		struct stack_report *s = &r->stacks[i];

		s->outstanding_bytes += (int64_t)(t * (double)(n - i));
		s->analysed = true;
		s->growth_bytes_per_s = (double)(n - i);
		s->growth_r2 = 0.9;
		s->severity = i ? SEV_NONE : SEV_HIGH;
		r->totals.outstanding_bytes += s->outstanding_bytes;
	}
	r->totals.alloc_calls = (uint64_t)(1000 * t);
	r->suspect = 0;
	r->worst = SEV_HIGH;
	return r;
}

static void test_page_and_files(void **state)
{
	struct http_server *s = start();
	int port = http__port(s);
	struct http_reply rep;
	char path[4096], type[128];
	size_t len;
	char *js;
	(void)state;

	assert_int_equal(http_get(port, "/", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_string_equal(http_header(&rep, "Content-Type", type, sizeof(type)), "text/html; charset=utf-8");
	assert_non_null(strstr(rep.body, "<script src=\"/dashboard/app.js\"></script>"));
	assert_null(strstr(rep.body, "http://"));	/* nothing from elsewhere */
	assert_null(strstr(rep.body, "https://"));
	http_reply_free(&rep);

	/* the script served is the file in the tree, byte for byte */
	snprintf(path, sizeof(path), "%s/src/output/dashboard/app.js", repo_root());
	js = read_file_all(path, &len);
	assert_non_null(js);
	assert_int_equal(http_get(port, "/dashboard/app.js", &rep), 0);
	assert_int_equal(rep.status, 200);
	assert_string_equal(http_header(&rep, "Content-Type", type, sizeof(type)),
			    "text/javascript; charset=utf-8");
	assert_int_equal(rep.body_len, len);
	assert_memory_equal(rep.body, js, len);
	free(js);
	http_reply_free(&rep);
	assert_int_equal(http_get(port, "/dashboard/app.css", &rep), 0);
	assert_string_equal(http_header(&rep, "Content-Type", type, sizeof(type)), "text/css; charset=utf-8");
	http_reply_free(&rep);

	/* no state before the first report; no write actions */
	assert_int_equal(http_get(port, "/dashboard/state.json", &rep), 0);
	assert_int_equal(rep.status, 503);
	http_reply_free(&rep);
	assert_int_equal(http_raw(port, "POST /dashboard/state.json HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
				  &rep, 10), 0);
	assert_int_equal(rep.status, 405);
	http_reply_free(&rep);
	assert_int_equal(http_get(port, "/dashboard/nope", &rep), 0);
	assert_int_equal(rep.status, 404);
	http_reply_free(&rep);
	http__stop(s);
}

/* The state served now, parsed; its size in *len. */
static json_object *get_state(int port, size_t *len)
{
	struct http_reply rep;
	json_object *o;

	assert_int_equal(http_get(port, "/dashboard/state.json", &rep), 0);
	assert_int_equal(rep.status, 200);
	o = json_tokener_parse(rep.body);
	assert_non_null(o);
	*len = rep.body_len;
	http_reply_free(&rep);
	return o;
}

static size_t arr_len(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (a) {
		assert_true(json_object_object_get_ex(o, a, &o));
	}
	assert_true(json_object_object_get_ex(o, b, &v));
	assert_true(json_object_is_type(v, json_type_array));
	return json_object_array_length(v);
}

/*
 * A trace of n stacks published 40 times, 1 s apart, window 30 s: the
 * state's size and the mean time of a publish and of a request.
 */
static void bounded_state(size_t n, size_t *bytes, double *publish_s, double *request_s)
{
	struct http_server *s = start();
	struct dashboard *d = http__dashboard(s);
	int port = http__port(s);
	const int reports = 40, requests = 100;
	json_object *st, *series;
	uint64_t renders;
	double t0, spent = 0;
	size_t len, points;

	assert_int_equal(dashboard__configure(d, 1, 30), 0);
	for (int i = 0; i < reports; i++) {
		struct report *r = big_at(n, i, false);

		t0 = now_s();
		assert_int_equal(dashboard__publish(d, r, NULL, NULL), 0);
		spent += now_s() - t0;
		report__free(r);
	}
	*publish_s = spent / reports;

	st = get_state(port, &len);
	assert_int_equal(arr_len(st, NULL, "stacks"), DASHBOARD_TOP_STACKS);
	points = arr_len(st, "history", "elapsed_s");
	assert_int_equal(points, 31);		/* the window (30 s) at 1 s, both ends */
	assert_int_equal(arr_len(st, "history", "outstanding_bytes"), points);
	assert_true(json_object_object_get_ex(json_object_object_get(st, "history"), "series", &series));
	assert_int_equal(json_object_array_length(series), DASHBOARD_TOP_STACKS);
	for (size_t i = 0; i < json_object_array_length(series); i++)
		assert_int_equal(arr_len(json_object_array_get_idx(series, i), NULL, "bytes"), points);
	assert_true(arr_len(st, "flame", "name") <= DASHBOARD_FLAME_NODES);
	assert_true(arr_len(st, "flame", "name") >= 18);	/* a whole path: root, 16 frames, kind */
	assert_int_equal(json_object_get_int64(json_object_object_get(
		json_object_object_get(st, "totals"), "stacks")), (int64_t)n);
	json_object_put(st);
	assert_true(len <= STATE_MAX_BYTES);
	*bytes = len;

	/* requests only send what the publish rendered */
	renders = dashboard__renders(d);
	t0 = now_s();
	for (int i = 0; i < requests; i++) {
		struct http_reply rep;

		assert_int_equal(http_get(port, "/dashboard/state.json", &rep), 0);
		assert_int_equal(rep.status, 200);
		assert_int_equal(rep.body_len, len);
		http_reply_free(&rep);
	}
	*request_s = (now_s() - t0) / requests;
	assert_int_equal(dashboard__renders(d), renders);
	http__stop(s);
}

static void test_state_bounds_and_cost(void **state)
{
	size_t b1000, b4000;
	double p1000, r1000, p4000, r4000;
	(void)state;

	bounded_state(1000, &b1000, &p1000, &r1000);
	bounded_state(4000, &b4000, &p4000, &r4000);
	print_message("dashboard state, 1000 stacks: %zu bytes, publish %.2f ms, "
		      "GET /dashboard/state.json %.3f ms (loopback, new connection each)\n",
		      b1000, p1000 * 1e3, r1000 * 1e3);
	print_message("dashboard state, 4000 stacks: %zu bytes, publish %.2f ms, "
		      "GET /dashboard/state.json %.3f ms\n", b4000, p4000 * 1e3, r4000 * 1e3);
	/* bounded by K, the window and the node cap, not by the stacks */
	assert_true(b4000 < b1000 + b1000 / 2);
	/* a request costs less than the render it sends, measured in one run */
	assert_true(r1000 < p1000);
}

static void test_pass_through(void **state)
{
	struct http_server *s = start();
	struct report *r = big_at(30, 1, false);
	json_object *rep = json_object_new_object(), *procs = json_object_new_array(), *st, *v;
	char key[48];
	size_t len;
	(void)state;

	/* a host-wide sweep: 30 processes, each one of the report's stacks */
	r->system = true;
	r->nr_processes = 30;
	r->processes = calloc(r->nr_processes, sizeof(*r->processes));
	for (int i = 0; i < 30; i++) {
		json_object *p = json_object_new_object();

		r->processes[i].pid = 1000 + i;
		r->processes[i].stack = (size_t)(29 - i);	/* any order */
		json_object_object_add(p, "pid", json_object_new_int(1000 + i));
		json_object_array_add(procs, p);
	}
	json_object_object_add(rep, "mode", json_object_new_string("system"));
	json_object_object_add(rep, "processes", procs);
	json_object_object_add(rep, "totals", json_object_new_string("sweep totals"));
	json_object_object_add(rep, "recommendations", json_object_new_array_ext(1));
	json_object_array_add(json_object_object_get(rep, "recommendations"),
			      json_object_new_string("free the requests"));
	json_object_object_add(rep, "categories", json_object_new_object());
	json_object_object_add(rep, "baseline", json_object_new_string("not shown"));
	assert_int_equal(dashboard__publish(http__dashboard(s), r, rep, NULL), 0);
	json_object_put(rep);
	st = get_state(http__port(s), &len);
	assert_string_equal(json_object_get_string(json_object_object_get(st, "mode")), "system");
	assert_int_equal(arr_len(st, NULL, "processes"), DASHBOARD_TOP_STACKS);
	assert_int_equal(json_object_get_int(json_object_object_get(st, "processes_total")), 30);
	assert_int_equal(json_object_get_int(json_object_object_get(
		json_object_array_get_idx(json_object_object_get(st, "processes"), 0), "pid")), 1000);
	assert_string_equal(json_object_get_string(json_object_object_get(st, "sweep")), "sweep totals");
	/* the chart's series name their process: stack 0 is pid 1029's */
	assert_true(json_object_object_get_ex(st, "series_pid", &v));
	assert_int_equal(json_object_object_length(v), DASHBOARD_TOP_STACKS);
	snprintf(key, sizeof(key), "%016llx:%s", (unsigned long long)r->stacks[0].stack_id,
		 alloc_kind_name(r->stacks[0].kind));
	assert_int_equal(json_object_get_int(json_object_object_get(v, key)), 1029);
	assert_int_equal(arr_len(st, NULL, "recommendations"), 1);
	assert_true(json_object_object_get_ex(st, "categories", NULL));
	assert_false(json_object_object_get_ex(st, "baseline", NULL));
	json_object_put(st);
	report__free(r);

	/* a process report without those: mode "process", none of the rest */
	r = big_at(3, 2, false);
	assert_int_equal(dashboard__publish(http__dashboard(s), r, NULL, NULL), 0);
	st = get_state(http__port(s), &len);
	assert_string_equal(json_object_get_string(json_object_object_get(st, "mode")), "process");
	assert_false(json_object_object_get_ex(st, "processes", NULL));
	assert_false(json_object_object_get_ex(st, "series_pid", NULL));
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(st, "verdict"), "result")), "possible_leak");
	json_object_put(st);
	report__free(r);
	http__stop(s);
}

/* A raw HTTP/1.0 connection to the event stream (no chunked encoding). */
static int open_stream(int port)
{
	static const char req[] = "GET /dashboard/events HTTP/1.0\r\n\r\n";
	int fd = connect_loopback(port);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	return fd;
}

/*
 * Read fd into *acc (grown) until it holds want, or EOF (*eof set), or
 * timeout_s. Returns whether want was found.
 */
static bool read_until(int fd, char **acc, size_t *n, const char *want, bool *eof,
		       double timeout_s)
{
	double deadline = now_s() + timeout_s;

	*eof = false;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - now_s()) * 1000);
		char buf[65536];
		ssize_t got;

		if (*acc && strstr(*acc, want))
			return true;
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		got = read(fd, buf, sizeof(buf));
		if (got <= 0) {
			*eof = true;
			return *acc && strstr(*acc, want);
		}
		*acc = realloc(*acc, *n + (size_t)got + 1);
		memcpy(*acc + *n, buf, (size_t)got);
		*n += (size_t)got;
		(*acc)[*n] = 0;
	}
}

static void publish_at(struct dashboard *d, double t, bool final)
{
	struct report *r = big_at(50, t, final);

	assert_int_equal(dashboard__publish(d, r, NULL, NULL), 0);
	report__free(r);
}

static void test_event_stream(void **state)
{
	struct http_server *s = start();
	struct dashboard *d = http__dashboard(s);
	int port = http__port(s), fd, more[DASHBOARD_MAX_STREAMS];
	char *acc = NULL;
	size_t n = 0;
	bool eof;
	struct http_reply rep;
	(void)state;

	fd = open_stream(port);
	/* nothing to send yet: the stream waits */
	assert_false(read_until(fd, &acc, &n, "id: ", &eof, 0.3));
	assert_false(eof);
	publish_at(d, 1, false);
	assert_true(read_until(fd, &acc, &n, "\nid: 1\nevent: report\ndata: {", &eof, 10));
	assert_non_null(strstr(acc, "Content-Type: text/event-stream"));
	assert_false(read_until(fd, &acc, &n, "id: 2", &eof, 0.3));	/* one event per publish */
	publish_at(d, 2, false);
	assert_true(read_until(fd, &acc, &n, "id: 2\n", &eof, 10));
	/* the final report goes out, then the stream ends */
	publish_at(d, 3, true);
	assert_true(read_until(fd, &acc, &n, "id: 3\n", &eof, 10));
	assert_false(read_until(fd, &acc, &n, "id: 4", &eof, 10));
	assert_true(eof);
	assert_non_null(strstr(acc, "\"final\":true"));
	assert_int_equal(acc[n - 1], '\n');
	assert_int_equal(acc[n - 2], '\n');
	close(fd);
	free(acc);
	http__stop(s);

	/* at most DASHBOARD_MAX_STREAMS streams; a stop with all of them waiting */
	s = start();
	port = http__port(s);
	for (int i = 0; i < DASHBOARD_MAX_STREAMS; i++) {
		acc = NULL;
		n = 0;
		more[i] = open_stream(port);
		read_until(more[i], &acc, &n, "never", &eof, 0.1);	/* accepted, waiting */
		assert_false(eof);
		free(acc);
	}
	assert_int_equal(http_raw(port, "GET /dashboard/events HTTP/1.0\r\n\r\n", &rep, 10), 0);
	assert_int_equal(rep.status, 503);
	http_reply_free(&rep);
	http__stop(s);
	for (int i = 0; i < DASHBOARD_MAX_STREAMS; i++) {
		acc = NULL;
		n = 0;
		read_until(more[i], &acc, &n, "never", &eof, 5);
		assert_true(eof);	/* ended by the stop */
		free(acc);
		close(more[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_and_files),
		cmocka_unit_test(test_state_bounds_and_cost),
		cmocka_unit_test(test_pass_through),
		cmocka_unit_test(test_event_stream),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
