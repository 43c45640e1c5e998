// SPDX-License-Identifier: MIT
/* test_json_out.c - the JSON and text writers on a synthetic report. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "common/version.h"
#include "output/json_out.h"
#include "output/text.h"

static struct report *make_report(void)
{
	struct report *r = calloc(1, sizeof(*r));
	struct stack_report *s;

	r->pid = 77;
	strcpy(r->comm, "shop");
	r->time = 1700000000.25;
	r->elapsed_s = 5;
	r->final = true;
	r->totals.outstanding_bytes = 4096 + 64;
	r->totals.outstanding_allocs = 3;
	r->totals.alloc_calls = 10;
	r->totals.free_calls = 7;
	r->totals.drops[DROP_STACKS_FULL] = 2;
	r->totals.dropped_events = 2;
	r->totals.unmatched_frees = 1;
	r->nr_stacks = 2;
	r->stacks = calloc(2, sizeof(*r->stacks));
	s = &r->stacks[0];
	s->stack_id = 0xabc;
	s->kind = KIND_MMAP;
	s->outstanding_bytes = 4096;
	s->outstanding_allocs = 1;
	s->alloc_calls = 1;
	s->alloc_bytes = 4096;
	s->oldest_age_s = 4.5;
	s->mean_age_s = 4.5;
	s->nr_ips = 1;
	s->ips = malloc(8);
	s->ips[0] = 0x401234;	/* not symbolized: raw frame */
	s = &r->stacks[1];
	s->kind = KIND_REALLOC;
	s->outstanding_bytes = 64;
	s->outstanding_allocs = 2;
	s->oldest_age_s = -1;
	s->mean_age_s = -1;
	s->flags = STACK_F_TRUNCATED;
	s->nr_frames = 2;
	s->frames = calloc(2, sizeof(*s->frames));
	s->frames[0] = (struct frame){ .ip = 0x10, .module = strdup("/bin/shop"), .offset = 0xf,
				       .function = strdup("inl"), .file = strdup("a.c"), .line = 3,
				       .inlined = true };
	s->frames[1] = (struct frame){ .ip = 0x10, .module = strdup("/bin/shop"), .offset = 0xf,
				       .function = strdup("outer"), .file = strdup("a.c"), .line = 9 };
	return r;
}

static void test_json(void **state)
{
	struct report *r = make_report();
	json_object *o = json_report__build(r, 0, NULL), *t, *st, *s0, *s1, *f, *v;

	(void)state;
	assert_non_null(o);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "pid")), 77);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "comm")), "shop");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "version")),
			    version__string());
	assert_true(json_object_get_boolean(json_object_object_get(o, "final")));
	assert_true(json_object_object_get_ex(o, "time", &v));
	assert_true(json_object_get_double(v) == 1700000000.25);
	t = json_object_object_get(o, "totals");
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "outstanding_bytes")), 4160);
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "dropped_events")), 2);
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "unmatched_frees")), 1);
	assert_int_equal(json_object_get_int64(json_object_object_get(
		json_object_object_get(t, "drops"), "stacks_map_full")), 2);
	st = json_object_object_get(o, "stacks");
	assert_int_equal(json_object_array_length(st), 2);
	s0 = json_object_array_get_idx(st, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(s0, "kind")), "mmap");
	f = json_object_array_get_idx(json_object_object_get(s0, "frames"), 0);
	assert_int_equal(json_object_get_int64(json_object_object_get(f, "ip")), 0x401234);
	/* unknown values are null, present */
	assert_true(json_object_object_get_ex(f, "function", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(f, "line", &v));
	assert_null(v);
	s1 = json_object_array_get_idx(st, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(s1, "kind")), "realloc");
	assert_true(json_object_object_get_ex(s1, "oldest_age_s", &v));
	assert_null(v);
	assert_true(json_object_get_boolean(json_object_object_get(s1, "truncated")));
	f = json_object_array_get_idx(json_object_object_get(s1, "frames"), 0);
	assert_true(json_object_get_boolean(json_object_object_get(f, "inlined")));
	assert_string_equal(json_object_get_string(json_object_object_get(f, "function")), "inl");
	assert_int_equal(json_object_get_int(json_object_object_get(f, "line")), 3);
	assert_int_equal(json_object_get_int64(json_object_object_get(f, "offset")), 0xf);
	json_object_put(o);

	o = json_report__build(r, 1, NULL);	/* -n 1 */
	assert_int_equal(json_object_array_length(json_object_object_get(o, "stacks")), 1);
	json_object_put(o);
	report__free(r);
}

static void test_json_line(void **state)
{
	struct report *r = make_report();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o;

	(void)state;
	assert_int_equal(json_report__write(r, 0, NULL, f), 0);
	fclose(f);
	/* exactly one line, parseable */
	assert_non_null(strchr(buf, '\n'));
	assert_int_equal(strchr(buf, '\n') - buf, (long)len - 1);
	o = json_tokener_parse(buf);
	assert_non_null(o);
	json_object_put(o);
	free(buf);
	report__free(r);
}

static void test_text(void **state)
{
	struct report *r = make_report();
	char *buf = NULL, b[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(text_report__write(r, 0, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "pid 77 (shop)"));
	assert_non_null(strstr(buf, "final report"));
	assert_non_null(strstr(buf, "Dropped events: 2"));
	assert_non_null(strstr(buf, "#1  4.0 KiB outstanding in 1 allocation (mmap)"));
	assert_non_null(strstr(buf, "0x401234"));
	assert_non_null(strstr(buf, "(inlined) inl at a.c:3"));
	assert_non_null(strstr(buf, "outer at a.c:9"));
	assert_non_null(strstr(buf, "(truncated)"));
	free(buf);
	report__free(r);
	assert_string_equal(text__bytes(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(text__bytes(1536, b, sizeof(b)), "1.5 KiB");
	assert_string_equal(text__bytes(-2048, b, sizeof(b)), "-2.0 KiB");
}

/* Issue 15: the maps' memory and fill, in both formats; left out unknown. */
static void test_map_usage(void **state)
{
	struct report *r = make_report();
	json_object *o, *m, *v;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	o = json_report__build(r, 0, NULL);
	assert_false(json_object_object_get_ex(o, "maps", &m));
	json_object_put(o);
	r->maps = (struct map_usage){ .memory_bytes = 20 << 20, .allocs_memory_bytes = 1839104,
				      .allocs_capacity = 32768, .allocs_max = 1572864,
				      .allocs_live = 1234, .allocs_grows = 1,
				      .stacks_memory_bytes = 5 << 20, .aggs_memory_bytes = 2 << 20,
				      .aggs_capacity = 81920 };
	o = json_report__build(r, 0, NULL);
	assert_true(json_object_object_get_ex(o, "maps", &m));
	assert_true(json_object_object_get_ex(m, "memory_bytes", &v));
	assert_int_equal(json_object_get_int64(v), 20 << 20);
	assert_true(json_object_object_get_ex(m, "allocs_capacity", &v));
	assert_int_equal(json_object_get_int64(v), 32768);
	assert_true(json_object_object_get_ex(m, "allocs_live", &v));
	assert_int_equal(json_object_get_int64(v), 1234);
	assert_true(json_object_object_get_ex(m, "allocs_max", &v));
	assert_int_equal(json_object_get_int64(v), 1572864);
	assert_true(json_object_object_get_ex(m, "allocs_grows", &v));
	assert_int_equal(json_object_get_int64(v), 1);
	assert_true(json_object_object_get_ex(m, "aggs_capacity", &v));
	assert_int_equal(json_object_get_int64(v), 81920);
	json_object_put(o);
	f = open_memstream(&buf, &len);
	assert_int_equal(text_report__write(r, 0, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "BPF maps: 20.0 MiB; live allocations table 1234 of 32768 "
				    "slots (1.8 MiB, grows to 1572864, 1 grow); stacks 5.0 MiB; "
				    "aggregates 2.0 MiB"));
	free(buf);
	report__free(r);
}

/* Issue 20: exec, forks and binaries without an unwind table, in both formats. */
static void test_lifecycle_fields(void **state)
{
	struct report *r = make_report();
	json_object *o, *t, *a, *e, *v;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	o = json_report__build(r, 0, NULL);	/* nothing happened: zeros, empty list */
	assert_true(json_object_object_get_ex(o, "exec_count", &v));
	assert_int_equal(json_object_get_int(v), 0);
	assert_true(json_object_object_get_ex(o, "forked_children", &v));
	assert_int_equal(json_object_get_int(v), 0);
	assert_true(json_object_object_get_ex(o, "totals", &t));
	assert_true(json_object_object_get_ex(t, "unwind_table_failures", &a));
	assert_int_equal(json_object_array_length(a), 0);
	json_object_put(o);

	r->exec_count = 1;
	r->totals.counters[CNT_FORKS] = 3;
	r->unwind = UNWIND_DWARF;
	r->nr_unwind_failures = 2;
	snprintf(r->unwind_failures[0].module, sizeof(r->unwind_failures[0].module), "/x/libc.so.6");
	snprintf(r->unwind_failures[0].build_id, sizeof(r->unwind_failures[0].build_id), "ab12");
	r->unwind_failures[0].err = -ENODATA;
	snprintf(r->unwind_failures[1].module, sizeof(r->unwind_failures[1].module), "/x/blob");
	r->unwind_failures[1].err = -ENOSPC;
	o = json_report__build(r, 0, NULL);
	assert_true(json_object_object_get_ex(o, "exec_count", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(o, "forked_children", &v));
	assert_int_equal(json_object_get_int(v), 3);
	assert_true(json_object_object_get_ex(o, "totals", &t));
	assert_true(json_object_object_get_ex(t, "unwind_table_failures", &a));
	assert_int_equal(json_object_array_length(a), 2);
	e = json_object_array_get_idx(a, 0);
	assert_true(json_object_object_get_ex(e, "module", &v));
	assert_string_equal(json_object_get_string(v), "/x/libc.so.6");
	assert_true(json_object_object_get_ex(e, "build_id", &v));
	assert_string_equal(json_object_get_string(v), "ab12");
	assert_true(json_object_object_get_ex(e, "error", &v));
	assert_string_equal(json_object_get_string(v), strerror(ENODATA));
	e = json_object_array_get_idx(a, 1);
	assert_true(json_object_object_get_ex(e, "build_id", &v));
	assert_null(v);
	json_object_put(o);

	f = open_memstream(&buf, &len);
	assert_int_equal(text_report__write(r, 0, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "tracing ended at exec"));
	assert_non_null(strstr(buf, "The target forked 3 child processes: children are not traced."));
	assert_non_null(strstr(buf, "no unwind table for /x/libc.so.6 build-id ab12: "));
	assert_non_null(strstr(buf, "no unwind table for /x/blob: "));
	free(buf);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_lifecycle_fields),
		cmocka_unit_test(test_map_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
