// SPDX-License-Identifier: MIT
/* test_baseline.c - signatures, save/load round trip, comparison, output. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>
#include "analysis/baseline.h"
#include "output/baseline_out.h"
#include "analysis_synth.h"

struct ctx {
	char dir[64];
	char path[128];		/* dir/base.json */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	strcpy(c->dir, "/tmp/memtrace-baseline-XXXXXX");
	if (!mkdtemp(c->dir)) {
		free(c);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s/base.json", c->dir);
	*state = c;
	return 0;
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char path[384];
	DIR *d = opendir(c->dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(c->dir);
	free(c);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_signature(void **state)
{
	struct synth_stack st[2] = {
		{ .id = 1, .kind = KIND_CALLOC, .fn = "leak_fn", .fn2 = "main" },
		{ .id = 2, .fn = NULL },
	};
	struct report *r = synth_report(1, st, 2);
	struct stack_report *s = &r->stacks[0];
	char *sig;

	(void)state;
	sig = baseline__signature(s);
	assert_string_equal(sig, "calloc|leak_fn;main");
	free(sig);
	/* an unnamed frame: module basename and offset, never the address */
	free(s->frames[1].function);
	s->frames[1].function = NULL;
	sig = baseline__signature(s);
	assert_string_equal(sig, "calloc|leak_fn;synth+0x2000");
	free(sig);
	free(s->frames[1].module);
	s->frames[1].module = NULL;
	sig = baseline__signature(s);
	assert_string_equal(sig, "calloc|leak_fn;?");
	free(sig);
	/* unsymbolized: no address either */
	sig = baseline__signature(&r->stacks[1]);
	assert_string_equal(sig, "malloc|?;?");
	free(sig);
	report__free(r);
}

/* Baseline run: three stacks, two of them the same function at two call sites. */
static struct report *base_report(void)
{
	struct synth_stack st[4] = {
		{ .id = 1, .bytes = 1000000, .allocs = 10, .fn = "cache_put", .fn2 = "main" },
		{ .id = 2, .bytes = 2000000, .allocs = 20, .fn = "parse", .fn2 = "main" },
		{ .id = 3, .bytes = 500000, .allocs = 5, .fn = "old_path", .fn2 = "main" },
		{ .id = 4, .bytes = 250000, .allocs = 5, .fn = "parse", .fn2 = "main" },
	};
	struct report *r = synth_report(60, st, 4);

	r->stacks[0].severity = SEV_LOW;
	r->stacks[0].growth_bytes_per_s = 100;
	return r;
}

/* Later run: other addresses (ASLR), cache grew, old_path gone, new_path new. */
static struct report *cur_report(void)
{
	struct synth_stack st[3] = {
		{ .id = 71, .bytes = 1500000, .allocs = 15, .fn = "cache_put", .fn2 = "main" },
		{ .id = 72, .bytes = 2250000, .allocs = 25, .fn = "parse", .fn2 = "main" },
		{ .id = 73, .bytes = 300000, .allocs = 3, .fn = "new_path", .fn2 = "main" },
	};
	struct report *r = synth_report(60, st, 3);

	r->stacks[0].severity = SEV_MEDIUM;
	r->stacks[0].growth_bytes_per_s = 9000;
	return r;
}

static void test_save_load(void **state)
{
	struct ctx *c = *state;
	struct report *r = base_report();
	struct baseline *b;

	assert_int_equal(baseline__save(r, c->path, 0600), 0);
	assert_int_equal(count_files(c->dir), 1);	/* no temporary left */
	b = baseline__load(c->path);
	assert_non_null(b);
	assert_int_equal(b->pid, 4242);
	assert_string_equal(b->comm, "synth");
	assert_float_equal(b->elapsed_s, 60, 0);
	assert_int_equal(b->total_bytes, 3750000);
	assert_int_equal(b->nr, 3);	/* the two parse call sites merged */
	assert_string_equal(b->stacks[0].signature, "malloc|cache_put;main");
	assert_int_equal(b->stacks[0].severity, SEV_LOW);
	assert_float_equal(b->stacks[0].growth_bps, 100, 0);
	assert_string_equal(b->stacks[1].signature, "malloc|old_path;main");
	assert_string_equal(b->stacks[2].signature, "malloc|parse;main");
	assert_int_equal(b->stacks[2].bytes, 2250000);
	assert_int_equal(b->stacks[2].allocs, 25);
	assert_string_equal(b->stacks[2].label, "parse <- main [malloc]");
	baseline__free(b);
	/* saving again replaces the file */
	r->stacks[0].outstanding_bytes = 7;
	assert_int_equal(baseline__save(r, c->path, 0600), 0);
	b = baseline__load(c->path);
	assert_non_null(b);
	assert_int_equal(b->stacks[0].bytes, 7);
	baseline__free(b);
	assert_int_equal(baseline__save(r, "/nonexistent-dir/x.json", 0600), -ENOENT);
	report__free(r);
}

static void test_load_errors(void **state)
{
	static const char *const bad[] = {
		"this is not json",
		"{\"memtrace_baseline\": 1, \"stacks\": [",
		"{\"memtrace_baseline\": 2, \"stacks\": []}",
		"{\"memtrace_baseline\": 1, \"stacks\": [{\"outstanding_bytes\": 5}]}",
		"[1, 2]",
	};
	struct ctx *c = *state;
	struct baseline *b;

	errno = 0;
	assert_null(baseline__load("/nonexistent-dir/x.json"));
	assert_int_equal(errno, ENOENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(c->path, bad[i]);
		errno = 0;
		b = baseline__load(c->path);
		if (b || errno != EINVAL)
			fail_msg("%s: loaded %p, errno %d, want NULL and EINVAL", bad[i], (void *)b,
				 errno);
	}
	/* minimal valid file */
	write_file(c->path, "{\"memtrace_baseline\": 1, \"stacks\": [{\"signature\": \"malloc|f\", "
			    "\"outstanding_bytes\": 5}]}");
	b = baseline__load(c->path);
	assert_non_null(b);
	assert_int_equal(b->nr, 1);
	assert_string_equal(b->stacks[0].label, "malloc|f");
	baseline__free(b);
}

static const struct baseline_entry *find(const struct baseline_diff *d, const char *sig)
{
	for (size_t i = 0; i < d->nr; i++)
		if (strcmp(d->entries[i].signature, sig) == 0)
			return &d->entries[i];
	fail_msg("no entry %s", sig);
	return NULL;
}

static void test_compare(void **state)
{
	struct ctx *c = *state;
	struct report *base = base_report(), *cur = cur_report();
	const struct baseline_entry *e;
	struct baseline_diff *d;
	struct baseline *b;

	assert_int_equal(baseline__save(base, c->path, 0600), 0);
	b = baseline__load(c->path);
	assert_non_null(b);
	d = baseline__compare(b, cur);
	assert_non_null(d);
	assert_int_equal(d->nr_matched, 2);
	assert_int_equal(d->nr_new, 1);
	assert_int_equal(d->nr_vanished, 1);
	assert_int_equal(d->base_total, 3750000);
	assert_int_equal(d->cur_total, 4050000);
	assert_int_equal(d->drift_total, 300000);
	assert_float_equal(d->drift_pct, 8, 1e-9);

	e = find(d, "malloc|cache_put;main");
	assert_int_equal(e->status, BASELINE_MATCHED);
	assert_int_equal(e->drift_bytes, 500000);
	assert_float_equal(e->drift_pct, 50, 1e-9);
	assert_int_equal(e->severity, SEV_MEDIUM);
	assert_float_equal(e->growth_bps, 9000, 0);
	e = find(d, "malloc|parse;main");
	assert_int_equal(e->drift_bytes, 0);
	assert_float_equal(e->drift_pct, 0, 0);
	e = find(d, "malloc|new_path;main");
	assert_int_equal(e->status, BASELINE_NEW);
	assert_int_equal(e->drift_bytes, 300000);
	assert_true(isnan(e->drift_pct));
	e = find(d, "malloc|old_path;main");
	assert_int_equal(e->status, BASELINE_VANISHED);
	assert_int_equal(e->drift_bytes, -500000);
	assert_float_equal(e->drift_pct, -100, 1e-9);
	/* largest drift first; ties by signature */
	assert_string_equal(d->entries[0].signature, "malloc|cache_put;main");
	assert_string_equal(d->entries[1].signature, "malloc|old_path;main");
	assert_string_equal(d->entries[2].signature, "malloc|new_path;main");
	assert_string_equal(d->entries[3].signature, "malloc|parse;main");
	baseline_diff__free(d);
	report__free(base);
	report__free(cur);
}

static void test_output(void **state)
{
	struct ctx *c = *state;
	struct report *base = base_report(), *cur = cur_report();
	json_object *j, *v, *stacks;
	struct baseline_diff *d;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(baseline__save(base, c->path, 0600), 0);
	d = baseline__compare(baseline__load(c->path), cur);
	assert_non_null(d);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(baseline_diff__print_text(d, 0, f), 0);
	fclose(f);
	assert_non_null(strstr(text, "Baseline: synth (pid 4242, 60 s traced)\n"));
	assert_non_null(strstr(text, "total outstanding 3.6 MiB -> 3.9 MiB: +293.0 KiB (+8.0%)\n"));
	assert_non_null(strstr(text, "2 matched, 1 new, 1 vanished\n"));
	assert_non_null(strstr(text, "+488.3 KiB    +50.0%"));
	assert_non_null(strstr(text, "cache_put <- main [malloc]\n"));
	assert_non_null(strstr(text, "vanished"));
	assert_non_null(strstr(text, "new_path <- main [malloc]\n"));
	assert_null(strstr(text, "parse <- main"));	/* no drift: not listed */
	free(text);

	text = NULL;
	f = open_memstream(&text, &len);
	assert_int_equal(baseline_diff__print_text(d, 1, f), 0);
	fclose(f);
	assert_non_null(strstr(text, "... 2 more\n"));
	free(text);

	j = baseline_diff__to_json(d);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "new", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(json_object_object_get(j, "total"), "drift_pct", &v));
	assert_float_equal(json_object_get_double(v), 8, 1e-9);
	assert_true(json_object_object_get_ex(j, "stacks", &stacks));
	assert_int_equal(json_object_array_length(stacks), 4);
	v = json_object_array_get_idx(stacks, 2);	/* new_path */
	assert_string_equal(json_object_get_string(json_object_object_get(v, "status")), "new");
	assert_true(json_object_object_get_ex(v, "drift_pct", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(stacks, 1), "current_bytes", &v));
	assert_null(v);	/* vanished */
	json_object_put(j);
	baseline_diff__free(d);
	report__free(base);
	report__free(cur);
}

/* A report with no stacks: an empty baseline, everything new later. */
static void test_empty(void **state)
{
	struct ctx *c = *state;
	struct report *empty = synth_report(1, NULL, 0), *cur = cur_report();
	struct baseline_diff *d;

	assert_int_equal(baseline__save(empty, c->path, 0600), 0);
	d = baseline__compare(baseline__load(c->path), cur);
	assert_non_null(d);
	assert_int_equal(d->nr_new, 3);
	assert_int_equal(d->nr_matched, 0);
	assert_true(isnan(d->drift_pct));
	baseline_diff__free(d);
	report__free(empty);
	report__free(cur);
}

/*
 * Numbers at the ends of int64 (found by tests/fuzz/fuzz_baseline.c):
 * merged sums and drifts saturate at +-INT64_MAX instead of overflowing,
 * and INT64_MIN is read as -INT64_MAX (its magnitude must be printable);
 * rates stay finite (JSON output has no NaN or Infinity).
 */
static void test_huge_numbers(void **state)
{
	struct ctx *c = *state;
	struct report *cur = synth_report(1, NULL, 0);
	struct baseline_diff *d;
	struct baseline *b;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	write_file(c->path, "{\"memtrace_baseline\": 1, \"total_outstanding_bytes\": "
			    "-9223372036854775808, \"elapsed_s\": NaN, \"time\": -Infinity, \"stacks\": ["
			    "{\"signature\": \"a\", \"outstanding_bytes\": 9223372036854775807, "
			    "\"outstanding_allocs\": 9223372036854775807, \"growth_bytes_per_s\": 1e308},"
			    "{\"signature\": \"a\", \"outstanding_bytes\": 1, \"outstanding_allocs\": 1, "
			    "\"growth_bytes_per_s\": 1e308},"
			    "{\"signature\": \"b\", \"outstanding_bytes\": -9223372036854775808}]}");
	b = baseline__load(c->path);
	assert_non_null(b);
	assert_int_equal(b->nr, 2);
	assert_true(b->stacks[0].bytes == INT64_MAX && b->stacks[0].allocs == INT64_MAX);
	assert_true(b->stacks[1].bytes == -INT64_MAX);
	assert_true(b->total_bytes == -INT64_MAX);
	/* json-c reads NaN and Infinity: taken as absent; sums stay finite */
	assert_true(b->elapsed_s == 0 && b->time == 0);
	assert_true(b->stacks[0].growth_bps == DBL_MAX);
	d = baseline__compare(b, cur);
	assert_non_null(d);
	assert_int_equal(d->nr_vanished, 2);
	for (size_t i = 0; i < d->nr; i++)	/* 0 - INT64_MAX, 0 - -INT64_MAX */
		assert_true(d->entries[i].drift_bytes == -INT64_MAX ||
			    d->entries[i].drift_bytes == INT64_MAX);
	assert_true(d->drift_total == INT64_MAX);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(baseline_diff__print_text(d, 0, f), 0);
	fclose(f);
	free(text);
	baseline_diff__free(d);
	report__free(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature),
		cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_numbers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
