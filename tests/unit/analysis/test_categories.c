// SPDX-License-Identifier: MIT
/* test_categories.c - rules, built-in categories, per-category numbers. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "analysis/categories.h"
#include "analysis_synth.h"

/* A stack of frames given innermost first as "function|module|file". */
static void set_frames(struct stack_report *s, const char *const *spec, size_t n)
{
	s->frames = calloc(n, sizeof(*s->frames));
	assert_non_null(s->frames);
	s->nr_frames = n;
	for (size_t i = 0; i < n; i++) {
		char *dup = strdup(spec[i]), *fn = dup, *mod = strchr(fn, '|'), *file;

		*mod++ = '\0';
		file = strchr(mod, '|');
		*file++ = '\0';
		s->frames[i].ip = 0x400000 + i;
		s->frames[i].function = *fn ? strdup(fn) : NULL;
		s->frames[i].module = *mod ? strdup(mod) : NULL;
		s->frames[i].file = *file ? strdup(file) : NULL;
		free(dup);
	}
}

static void clear_frames(struct stack_report *s)
{
	for (size_t i = 0; i < s->nr_frames; i++)
		frame__clear(&s->frames[i]);
	free(s->frames);
	s->frames = NULL;
	s->nr_frames = 0;
}

static void test_rule_syntax(void **state)
{
	struct category_rules *c = category_rules__new();

	(void)state;
	assert_non_null(c);
	assert_int_equal(category_rules__add(c, "cache=fn:lru_*"), 0);
	assert_int_equal(category_rules__add(c, "py=mod:libpython*"), 0);
	assert_int_equal(category_rules__add(c, "src=file:src/cache/*"), 0);
	assert_int_equal(category_rules__add(c, "x=fn:"), -EINVAL);
	assert_int_equal(category_rules__add(c, "=fn:a"), -EINVAL);
	assert_int_equal(category_rules__add(c, "x=func:a"), -EINVAL);
	assert_int_equal(category_rules__add(c, "bad name=fn:a"), -EINVAL);
	assert_int_equal(category_rules__add(c, "noequals"), -EINVAL);
	assert_int_equal(category_rules__count(c), 3);
	category_rules__free(c);
}

static void test_rule_file(void **state)
{
	char path[] = "/tmp/memtrace-cat-XXXXXX";
	int fd = mkstemp(path), line = 0;
	struct category_rules *c = category_rules__new();
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# rules\n\n  a=fn:x  \nb=mod:y\nnot a rule\nc=fn:z\n", f);
	fclose(f);
	assert_int_equal(category_rules__load(c, path, &line), -EINVAL);
	assert_int_equal(line, 5);
	assert_int_equal(category_rules__count(c), 2);	/* those before it stay */
	assert_int_equal(category_rules__load(c, "/nonexistent/rules", &line), -ENOENT);
	unlink(path);
	category_rules__free(c);
}

/* Innermost frame first; at the first frame any rule matches, the first
 * such rule wins; no match: other. */
static void test_rule_match(void **state)
{
	static const char *const py_stack[] = {
		"PyMem_Malloc|/usr/lib/libpython3.11.so.1.0|Objects/obmalloc.c",
		"lru_insert|/usr/bin/app|/home/u/app/src/cache/lru.c",
		"main|/usr/bin/app|/home/u/app/src/main.c",
	};
	static const char *const app_stack[] = {
		"lru_insert|/usr/bin/app|/home/u/app/src/cache/lru.c",
		"main|/usr/bin/app|/home/u/app/src/main.c",
	};
	struct category_rules *c = category_rules__new();
	struct stack_report s = { 0 };
	char buf[64];

	(void)state;
	assert_int_equal(category_rules__add(c, "cache=fn:lru_*"), 0);
	assert_int_equal(category_rules__add(c, "py=mod:libpython*"), 0);
	assert_int_equal(category_rules__add(c, "src=file:src/cache/*"), 0);
	set_frames(&s, py_stack, 3);
	assert_string_equal(category_rules__match(c, &s, buf, sizeof(buf)), "py");
	clear_frames(&s);
	set_frames(&s, app_stack, 2);	/* cache and src both match: cache first */
	assert_string_equal(category_rules__match(c, &s, buf, sizeof(buf)), "cache");
	category_rules__free(c);
	c = category_rules__new();
	assert_int_equal(category_rules__add(c, "src=file:src/cache/*"), 0);
	assert_string_equal(category_rules__match(c, &s, buf, sizeof(buf)), "src");
	category_rules__free(c);
	c = category_rules__new();
	assert_int_equal(category_rules__add(c, "full=mod:/usr/bin/*"), 0);
	assert_int_equal(category_rules__add(c, "none=fn:nothing"), 0);
	assert_string_equal(category_rules__match(c, &s, buf, sizeof(buf)), "full");
	category_rules__free(c);
	c = category_rules__new();
	assert_int_equal(category_rules__add(c, "none=fn:nothing"), 0);
	assert_string_equal(category_rules__match(c, &s, buf, sizeof(buf)), CATEGORY_OTHER);
	clear_frames(&s);
	category_rules__free(c);
}

static void test_builtin(void **state)
{
	static const char *const app[] = { "f|/usr/bin/app|", "main|/usr/bin/app|" };
	static const char *const py[] = { "|/usr/bin/python3.11|", "main|/usr/bin/python3.11|" };
	static const char *const ruby[] = { "x|/usr/lib/libruby-3.1.so.3.1|", "m|/usr/bin/ruby|" };
	static const char *const lib[] = { "|||", "g|/lib/libz.so.1|", "main|/usr/bin/app|" };
	static const char *const none[] = { "|||" };
	struct stack_report s = { 0 };
	uint64_t kip = 0xffffffff81000000ull;
	char buf[64];

	(void)state;
	set_frames(&s, app, 2);
	assert_string_equal(category_rules__match(NULL, &s, buf, sizeof(buf)), "app");
	clear_frames(&s);
	set_frames(&s, py, 2);
	assert_string_equal(category_rules__match(NULL, &s, buf, sizeof(buf)), "python");
	clear_frames(&s);
	set_frames(&s, ruby, 2);
	assert_string_equal(category_rules__match(NULL, &s, buf, sizeof(buf)), "ruby");
	clear_frames(&s);
	set_frames(&s, lib, 3);	/* the innermost frame with a module */
	assert_string_equal(category_rules__match(NULL, &s, buf, sizeof(buf)), "libz.so.1");
	clear_frames(&s);
	set_frames(&s, none, 1);
	assert_string_equal(category_rules__match(NULL, &s, buf, sizeof(buf)), CATEGORY_OTHER);
	clear_frames(&s);
	s.nr_ips = 1;	/* unsymbolized kernel address */
	s.ips = &kip;
	assert_string_equal(category_rules__match(NULL, &s, buf, sizeof(buf)), "kernel");
}

/* Two stacks in one category, one in another: bytes exact, the one-time
 * category not growing, the leaking one at its rate, rates from deltas. */
static void test_update_numbers(void **state)
{
	struct categories *c = categories__new(NULL, NULL);
	const double rate = 100e3;

	(void)state;
	assert_non_null(c);
	for (double t = 5; t <= 30; t += 5) {
		struct synth_stack st[3] = {
			{ .id = 1, .bytes = (int64_t)(rate * t), .allocs = (int64_t)t,
			  .oldest_age_s = t, .mean_age_s = t / 2, .alloc_calls = (uint64_t)(100 * t),
			  .free_calls = (uint64_t)(100 * t) - (uint64_t)t, .fn = "leak" },
			{ .id = 2, .bytes = 4096, .allocs = 1, .oldest_age_s = t - 1,
			  .mean_age_s = t - 1, .alloc_calls = 1, .fn = "setup" },
			{ .id = 3, .bytes = 1000000, .allocs = 1, .oldest_age_s = t - 1,
			  .mean_age_s = t - 1, .alloc_calls = 1, .fn = "other_setup" },
		};
		struct report *r = synth_report(t, st, 3);

		/* stack 3 lives in another module */
		free(r->stacks[2].frames[0].module);
		r->stacks[2].frames[0].module = strdup("/lib/libfoo.so");
		assert_int_equal(categories__update(c, r), 0);
		assert_int_equal(r->nr_categories, 2);
		/* sorted by bytes: libfoo (1 MB) first until the leak passes it */
		for (size_t i = 0; i < 2; i++) {
			const struct category_report *k = &r->categories[i];

			if (strcmp(k->name, "synth") == 0) {
				assert_int_equal(k->outstanding_bytes, (int64_t)(rate * t) + 4096);
				assert_int_equal(k->outstanding_allocs, (int64_t)t + 1);
				assert_int_equal(k->stacks, 2);
				/* the first interval from when tracing went live
				 * (the setup's one call included), then deltas */
				assert_float_equal(k->alloc_rate, t == 5 ? 100.2 : 100, 1e-6);
				assert_float_equal(k->free_rate, 99, 1e-6);
				if (t >= 15) {
					assert_float_equal(k->growth_bytes_per_s, rate, rate * 0.01);
					assert_true(k->severity >= SEV_HIGH);
				}
			} else {
				assert_string_equal(k->name, "libfoo.so");
				assert_int_equal(k->outstanding_bytes, 1000000);
				assert_int_equal(k->peak_bytes, 1000000);
				assert_float_equal(k->growth_bytes_per_s, 0, 0);
				assert_int_equal(k->severity, SEV_NONE);
				if (t >= 10)
					assert_non_null(k->growth_reason);
			}
		}
		assert_string_equal(r->categories[r->stacks[0].category].name, "synth");
		assert_string_equal(r->categories[r->stacks[1].category].name, "synth");
		assert_string_equal(r->categories[r->stacks[2].category].name, "libfoo.so");
		report__free(r);
	}
	categories__free(c);
}

/* More names than CATEGORIES_MAX: the rest count as "other". */
static void test_bounded(void **state)
{
	struct categories *c = categories__new(NULL, NULL);
	struct synth_stack st[CATEGORIES_MAX + 8];
	struct report *r;
	int64_t other = 0;

	(void)state;
	for (size_t i = 0; i < CATEGORIES_MAX + 8; i++)
		st[i] = (struct synth_stack){ .id = i + 1, .bytes = 100 + (int64_t)i, .allocs = 1,
					      .oldest_age_s = 1, .mean_age_s = 1, .fn = "f" };
	r = synth_report(5, st, CATEGORIES_MAX + 8);
	for (size_t i = 0; i < r->nr_stacks; i++) {
		char mod[32];

		snprintf(mod, sizeof(mod), "/lib/lib%zu.so", i);
		free(r->stacks[i].frames[0].module);
		r->stacks[i].frames[0].module = strdup(mod);
		if (i >= CATEGORIES_MAX)
			other += r->stacks[i].outstanding_bytes;
	}
	assert_int_equal(categories__update(c, r), 0);
	assert_int_equal(r->nr_categories, CATEGORIES_MAX + 1);
	for (size_t i = 0; i < r->nr_categories; i++)
		if (strcmp(r->categories[i].name, CATEGORY_OTHER) == 0)
			assert_int_equal(r->categories[i].outstanding_bytes, other);
	report__free(r);
	categories__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_syntax),
		cmocka_unit_test(test_rule_file),
		cmocka_unit_test(test_rule_match),
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_update_numbers),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
