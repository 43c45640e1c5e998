// SPDX-License-Identifier: MIT
/*
 * test_metrics.c - Prometheus exposition: exact series for the fixture,
 * the bounded per-stack label set, label escaping and UTF-8, promtool's
 * linter on the output, promtool on the alert rules (syntax and a rule
 * unit test that fires each kind of alert), and that every memtrace_ name
 * the alert rules and the Grafana dashboard use is one we export.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <json-c/json.h>
#include "common/version.h"
#include "output/metrics.h"
#include "writers_fixture.h"
#include "writers_tools.h"

static char *render(const struct report *r, const struct tracer_self *self, size_t top)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(metrics__render(r, self, top, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void fx_self(struct tracer_self *s)
{
	tracer_self__init(s);
	s->probe_hits = 999;
	s->map_fill[TRACER_MAP_ALLOCS] = 0.25;
	s->map_fill[TRACER_MAP_STACKS] = 0.5;
	s->report_latency_s = 0.125;
	s->reports = 3;
}

static void assert_line(const char *text, const char *line)
{
	char *want;

	assert_true(asprintf(&want, "\n%s\n", line) > 0);
	if (!strstr(text, want))
		fail_msg("missing line: %s\n--- in ---\n%s", line, text);
	free(want);
}

static int count_prefix(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	return n;
}

static void test_fixture_series(void **state)
{
	struct report *r = fx_report();
	struct tracer_self self;
	char *m, build[128];
	(void)state;

	fx_self(&self);
	m = render(r, &self, 0);
	assert_line(m, "memtrace_info{pid=\"4242\",comm=\"leaky_app\",unwind=\"fp\",mode=\"full\"} 1");
	snprintf(build, sizeof(build), "memtrace_build_info{version=\"%s\"} 1", version__string());
	assert_line(m, build);
	assert_line(m, "# TYPE memtrace_build_info gauge");
	assert_line(m, "# TYPE memtrace_stack_outstanding_bytes gauge");
	assert_line(m, "memtrace_stack_outstanding_bytes{stack_id=\"0x1111\",kind=\"malloc\","
		       "stack=\"leak_inner@leaky_app\"} 3145728");
	assert_line(m, "memtrace_stack_outstanding_bytes{stack_id=\"0x2222\",kind=\"calloc\","
		       "stack=\"" FX_POOL_NAME "@leaky_app\"} 1048576");
	assert_line(m, "memtrace_stack_outstanding_bytes{stack_id=\"0x3333\",kind=\"mmap\","
		       "stack=\"libfoo.so+0x1234\"} 524288");
	assert_line(m, "memtrace_stack_outstanding_bytes{stack_id=\"0x5555\",kind=\"malloc\","
		       "stack=\"0xdead0000\"} 4096");
	assert_line(m, "memtrace_stack_outstanding_allocations{stack_id=\"0x1111\",kind=\"malloc\","
		       "stack=\"leak_inner@leaky_app\"} 3");
	assert_line(m, "memtrace_stack_growth_bytes_per_second{stack_id=\"0x1111\",kind=\"malloc\","
		       "stack=\"leak_inner@leaky_app\"} 102400");
	assert_line(m, "memtrace_stack_severity{stack_id=\"0x1111\",kind=\"malloc\","
		       "stack=\"leak_inner@leaky_app\"} 3");
	assert_int_equal(count_prefix(m, "memtrace_stack_growth_bytes_per_second{"), 2); /* analysed only */
	assert_line(m, "memtrace_outstanding_bytes 4722688");
	assert_line(m, "memtrace_outstanding_allocations 7");
	assert_line(m, "memtrace_allocations_total 21");
	assert_line(m, "memtrace_dropped_events_total{reason=\"stacks_full\"} 7");
	assert_line(m, "memtrace_dropped_events_total{reason=\"notify_full\"} 2");
	assert_line(m, "memtrace_dropped_events_total{reason=\"allocs_full\"} 0");
	/* the labels are public (dashboards, alerts): each one, exactly */
	assert_line(m, "memtrace_dropped_events_total{reason=\"aggs_full\"} 0");
	assert_line(m, "memtrace_dropped_events_total{reason=\"mmaps_full\"} 0");
	assert_line(m, "memtrace_dropped_events_total{reason=\"entries_full\"} 0");
	assert_line(m, "memtrace_dropped_events_total{reason=\"missed_entry\"} 0");
	assert_line(m, "memtrace_dropped_events_total{reason=\"munmap_overflow\"} 0");
	assert_line(m, "memtrace_dropped_events_total{reason=\"kernel_stack_failed\"} 0");
	assert_line(m, "memtrace_dropped_events_total{reason=\"kernel_events_missed\"} 0");
	assert_int_equal(count_prefix(m, "memtrace_dropped_events_total{"), DROP_MAX);
	assert_line(m, "memtrace_growth_bytes_per_second 104448");
	assert_line(m, "memtrace_severity 3");
	assert_line(m, "memtrace_rss_bytes 67108864");
	assert_line(m, "memtrace_probe_hits_total 999");
	assert_line(m, "memtrace_map_fill_ratio{map=\"allocs\"} 0.25");
	assert_line(m, "memtrace_map_fill_ratio{map=\"stacks\"} 0.5");
	assert_int_equal(count_prefix(m, "memtrace_map_fill_ratio{"), 2);	/* unknown left out */
	assert_line(m, "memtrace_report_latency_seconds 0.125");
	assert_line(m, "memtrace_stack_other_outstanding_bytes 0");
	assert_null(strstr(m, "memtrace_map_memory_bytes"));	/* unknown: left out */
	free(m);

	/* the maps' memory and table (issue 15) */
	r->maps = (struct map_usage){ .memory_bytes = 19 << 20, .allocs_capacity = 32768,
				      .allocs_max = 1572864, .allocs_grows = 3 };
	m = render(r, &self, 0);
	assert_line(m, "memtrace_map_memory_bytes 19922944");
	assert_line(m, "memtrace_allocs_table_slots 32768");
	assert_line(m, "memtrace_allocs_table_max_slots 1572864");
	assert_line(m, "memtrace_allocs_table_grows_total 3");
	free(m);
	r->maps = (struct map_usage){ 0 };

	/* no self: no self-metrics; probe hits then unknown too */
	m = render(r, NULL, 0);
	assert_null(strstr(m, "memtrace_map_fill_ratio"));
	assert_null(strstr(m, "memtrace_report_latency_seconds"));
	free(m);
	report__free(r);
}

static void test_bounded_labels(void **state)
{
	struct report *r = fx_big_report(1000, 6);
	int64_t rest = 0;
	char *m, line[128];
	(void)state;

	for (size_t i = 20; i < r->nr_stacks; i++)
		rest += r->stacks[i].outstanding_bytes;
	m = render(r, NULL, 0);
	assert_int_equal(count_prefix(m, "memtrace_stack_outstanding_bytes{"), METRICS_TOP_STACKS);
	assert_int_equal(count_prefix(m, "memtrace_stack_allocated_bytes_total{"), METRICS_TOP_STACKS);
	snprintf(line, sizeof(line), "memtrace_stack_other_outstanding_bytes %lld", (long long)rest);
	assert_line(m, line);
	assert_line(m, "memtrace_stack_other_stacks 980");
	assert_line(m, "memtrace_stacks 1000");
	free(m);
	m = render(r, NULL, 5);
	assert_int_equal(count_prefix(m, "memtrace_stack_outstanding_bytes{"), 5);
	free(m);
	report__free(r);
}

static void test_label_escaping(void **state)
{
	struct report *r = fx_report();
	char *m, sig[METRICS_LABEL_MAX], longname[600];
	(void)state;

	free(r->stacks[0].frames[0].function);
	r->stacks[0].frames[0].function = strdup("a\"b\\c\nd\xff");
	snprintf(r->comm, sizeof(r->comm), "x\"y");
	m = render(r, NULL, 0);
	assert_line(m, "memtrace_stack_outstanding_bytes{stack_id=\"0x1111\",kind=\"malloc\","
		       "stack=\"a\\\"b\\\\c\\nd?@leaky_app\"} 3145728");
	assert_non_null(strstr(m, "comm=\"x\\\"y\""));
	free(m);

	/* long names: cut on a character boundary, under the bound */
	memset(longname, 'x', sizeof(longname));
	for (size_t i = 1; i + 1 < sizeof(longname); i += 2)
		memcpy(&longname[i - 1], "\xc3\xa9", 2);	/* é */
	longname[sizeof(longname) - 1] = 0;
	free(r->stacks[0].frames[0].function);
	r->stacks[0].frames[0].function = strdup(longname);
	metrics__stack_signature(&r->stacks[0], sig, sizeof(sig));
	assert_true(strlen(sig) < METRICS_LABEL_MAX);
	assert_int_equal(strlen(sig) % 2, 0);
	assert_int_equal((unsigned char)sig[strlen(sig) - 1], 0xa9);
	report__free(r);
}

static void test_promtool_check_metrics(void **state)
{
	struct report *r = fx_report();
	struct tracer_self self;
	char *dir, path[512], cmd[1200], *m, *out = NULL;
	int rc;
	(void)state;

	if (!tool_exists("promtool")) {
		report__free(r);
		skip();	/* prometheus absent: tools/install-deps.sh installs it */
	}
	fx_self(&self);
	free(r->stacks[0].frames[0].function);
	r->stacks[0].frames[0].function = strdup("we\"ird\\name\n\xff");
	m = render(r, &self, 0);
	dir = make_tmpdir("promtool");
	snprintf(path, sizeof(path), "%s/metrics.txt", dir);
	assert_int_equal(write_file_all(path, m), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s'", path);
	rc = run_capture((char *[]){ "sh", "-c", cmd, NULL }, &out, 60);
	if (rc != 0)
		fail_msg("promtool check metrics exited %d:\n%s", rc, out);
	free(out);
	free(m);
	remove_tree(dir);
	free(dir);
	report__free(r);
}

static void test_promtool_check_rules(void **state)
{
	char path[512], *out = NULL;
	int rc;
	(void)state;

	if (!tool_exists("promtool"))
		skip();
	snprintf(path, sizeof(path), "%s/tools/prometheus-alerts.yml", repo_root());
	assert_int_equal(access(path, R_OK), 0);
	rc = run_capture((char *[]){ "promtool", "check", "rules", path, NULL }, &out, 60);
	if (rc != 0)
		fail_msg("promtool check rules exited %d:\n%s", rc, out);
	assert_non_null(strstr(out, "SUCCESS: 7 rules found"));
	free(out);
}

/* promtool rule unit tests: each alert fires on the series that should fire it. */
static const char rule_tests[] =
	"rule_files:\n"
	"  - %s\n"
	"evaluation_interval: 1m\n"
	"tests:\n"
	"  - interval: 1m\n"
	"    input_series:\n"
	"      - series: 'memtrace_severity{instance=\"a:1\",job=\"memtrace\"}'\n"
	"        values: '4x40'\n"
	"      - series: 'memtrace_stack_growth_bytes_per_second{instance=\"a:1\",job=\"memtrace\",stack_id=\"0x1111\",kind=\"malloc\",stack=\"leak_inner@leaky_app\"}'\n"
	"        values: '102400x40'\n"
	"      - series: 'memtrace_stack_severity{instance=\"a:1\",job=\"memtrace\",stack_id=\"0x1111\",kind=\"malloc\",stack=\"leak_inner@leaky_app\"}'\n"
	"        values: '3x40'\n"
	"      - series: 'memtrace_dropped_events_total{instance=\"a:1\",job=\"memtrace\",reason=\"stacks_full\"}'\n"
	"        values: '0+100x40'\n"
	"      - series: 'memtrace_dropped_events_total{instance=\"a:1\",job=\"memtrace\",reason=\"allocs_full\"}'\n"
	"        values: '0x40'\n"
	"      - series: 'memtrace_map_fill_ratio{instance=\"a:1\",job=\"memtrace\",map=\"stacks\"}'\n"
	"        values: '0.95x40'\n"
	"    alert_rule_test:\n"
	"      - eval_time: 20m\n"
	"        alertname: MemtraceLeakCritical\n"
	"        exp_alerts:\n"
	"          - exp_labels: {severity: critical, instance: 'a:1', job: memtrace}\n"
	"            exp_annotations:\n"
	"              summary: 'memtrace: critical memory leak in a:1'\n"
	"              description: 'A stack is rated critical: outstanding bytes grow steadily and are a large share of the process. Fetch /debug/pprof/heap now.'\n"
	"      - eval_time: 20m\n"
	"        alertname: MemtraceLeakSuspected\n"
	"        exp_alerts:\n"
	"          - exp_labels: {severity: warning, instance: 'a:1', job: memtrace}\n"
	"            exp_annotations:\n"
	"              summary: 'memtrace: likely memory leak in a:1'\n"
	"              description: 'The leak analysis rates the worst stack 4 on a 0-4 scale (3 high, 4 critical) for 5 minutes. See memtrace_stack_severity and /debug/pprof/heap on the same target for the stack.'\n"
	"      - eval_time: 10m\n"
	"        alertname: MemtraceStackGrowing\n"
	"        exp_alerts: []\n"
	"      - eval_time: 20m\n"
	"        alertname: MemtraceStackGrowing\n"
	"        exp_alerts:\n"
	"          - exp_labels: {severity: warning, instance: 'a:1', job: memtrace, stack_id: '0x1111', kind: malloc, stack: 'leak_inner@leaky_app'}\n"
	"            exp_annotations:\n"
	"              summary: 'memtrace: leak_inner@leaky_app grows 100kiB/s'\n"
	"              description: 'Outstanding bytes allocated at leak_inner@leaky_app (stack 0x1111, malloc) have grown faster than 64 KiB/s for 15 minutes.'\n"
	"      - eval_time: 20m\n"
	"        alertname: MemtraceDroppingEvents\n"
	"        exp_alerts:\n"
	"          - exp_labels: {severity: warning, instance: 'a:1', job: memtrace, reason: stacks_full}\n"
	"            exp_annotations:\n"
	"              summary: 'memtrace drops events (stacks_full) on a:1'\n"
	"              description: 'memtrace could not account some allocations for 10 minutes, so its byte counts are underestimates. For *_full reasons raise the map sizes; for notify_full the ring buffer.'\n"
	"      - eval_time: 20m\n"
	"        alertname: MemtraceMapNearlyFull\n"
	"        exp_alerts:\n"
	"          - exp_labels: {severity: warning, instance: 'a:1', job: memtrace, map: stacks}\n"
	"            exp_annotations:\n"
	"              summary: 'memtrace BPF map stacks is 95%% full'\n"
	"              description: 'When the map fills, events are dropped (memtrace_dropped_events_total).'\n";

static void test_promtool_rule_tests(void **state)
{
	char *dir, rules[512], path[600], *yaml, *out = NULL;
	int rc;
	(void)state;

	if (!tool_exists("promtool"))
		skip();
	dir = make_tmpdir("ruletest");
	assert_non_null(realpath(repo_root(), rules));
	strncat(rules, "/tools/prometheus-alerts.yml", sizeof(rules) - strlen(rules) - 1);
	assert_true(asprintf(&yaml, rule_tests, rules) > 0);
	snprintf(path, sizeof(path), "%s/alerts_test.yml", dir);
	assert_int_equal(write_file_all(path, yaml), 0);
	rc = run_capture((char *[]){ "promtool", "test", "rules", path, NULL }, &out, 60);
	if (rc != 0)
		fail_msg("promtool test rules exited %d:\n%s", rc, out);
	assert_non_null(strstr(out, "SUCCESS"));
	free(out);
	free(yaml);
	remove_tree(dir);
	free(dir);
}

/* Every memtrace_* token of text must be a family "# TYPE name" in m. */
static int check_names(const char *text, const char *m, const char *what)
{
	int n = 0;

	for (const char *p = strstr(text, "memtrace_"); p; p = strstr(p, "memtrace_")) {
		char name[128], type[160];
		size_t k = 0;

		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) {
			p++;
			continue;
		}
		while (k + 1 < sizeof(name) && (isalnum((unsigned char)p[k]) || p[k] == '_')) {
			name[k] = p[k];
			k++;
		}
		name[k] = 0;
		p += k;
		snprintf(type, sizeof(type), "# TYPE %s ", name);
		if (!strstr(m, type))
			fail_msg("%s uses %s, which /metrics does not export", what, name);
		n++;
	}
	return n;
}

static void collect_exprs(json_object *o, char **acc)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			if ((strcmp(key, "expr") == 0 || strcmp(key, "definition") == 0) &&
			    json_object_is_type(val, json_type_string)) {
				char *next;

				assert_true(asprintf(&next, "%s\n%s", *acc, json_object_get_string(val)) > 0);
				free(*acc);
				*acc = next;
			} else {
				collect_exprs(val, acc);
			}
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			collect_exprs(json_object_array_get_idx(o, i), acc);
	}
}

static void test_tools_use_exported_names(void **state)
{
	struct report *r = fx_report();
	struct tracer_self self;
	char path[512], *m, *alerts, *exprs = strdup("");
	json_object *dash;
	(void)state;

	fx_self(&self);
	for (int i = 0; i < TRACER_MAP_MAX; i++)
		self.map_fill[i] = 0.1;
	m = render(r, &self, 0);

	snprintf(path, sizeof(path), "%s/tools/prometheus-alerts.yml", repo_root());
	alerts = read_file_all(path, NULL);
	assert_non_null(alerts);
	assert_true(check_names(alerts, m, "prometheus-alerts.yml") >= 7);

	snprintf(path, sizeof(path), "%s/tools/grafana-dashboard.json", repo_root());
	dash = json_object_from_file(path);
	assert_non_null(dash);
	assert_non_null(json_object_object_get(dash, "panels"));
	assert_true(json_object_array_length(json_object_object_get(dash, "panels")) >= 10);
	collect_exprs(dash, &exprs);
	assert_true(check_names(exprs, m, "grafana-dashboard.json") >= 15);
	/* the headline series are all on the dashboard */
	assert_non_null(strstr(exprs, "memtrace_stack_outstanding_bytes"));
	assert_non_null(strstr(exprs, "memtrace_dropped_events_total"));
	assert_non_null(strstr(exprs, "memtrace_map_fill_ratio"));
	assert_non_null(strstr(exprs, "memtrace_report_latency_seconds"));
	assert_non_null(strstr(exprs, "memtrace_severity"));

	json_object_put(dash);
	free(exprs);
	free(alerts);
	free(m);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_series),
		cmocka_unit_test(test_bounded_labels),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_promtool_check_metrics),
		cmocka_unit_test(test_promtool_check_rules),
		cmocka_unit_test(test_promtool_rule_tests),
		cmocka_unit_test(test_tools_use_exported_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
