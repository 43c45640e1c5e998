// SPDX-License-Identifier: MIT
/*
 * test_csv.c - CSV writer: exact header, one row per stack per report,
 * fields that need quoting (commas, quotes, line breaks) survive a real
 * CSV parser (Python's csv module), unknown values are empty, and open
 * and write failures are reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "output/csv.h"
#include "writers_fixture.h"
#include "writers_tools.h"

/* Python reads the file with csv.DictReader and prints it as JSON. */
static const char parse_py[] =
	"import csv, json, sys\n"
	"with open(sys.argv[1], newline='') as f:\n"
	"    r = csv.DictReader(f)\n"
	"    rows = list(r)\n"
	"print(json.dumps({'columns': r.fieldnames, 'rows': rows}))\n";

static const char *field(json_object *row, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(row, name, &v))
		fail_msg("no column %s", name);
	return json_object_get_string(v);
}

static void test_rows_parse(void **state)
{
	struct report *r = fx_report();
	char *dir = make_tmpdir("csv"), path[512], script[512], *text, *out = NULL;
	struct csv_writer *w;
	json_object *doc, *rows, *cols, *row;
	(void)state;

	/* a leaf name that needs quoting */
	free(r->stacks[0].frames[0].function);
	r->stacks[0].frames[0].function = strdup("say(\"hi\", 2)\nbye");
	snprintf(path, sizeof(path), "%s/stacks.csv", dir);
	w = csv__open(path, 0600);
	assert_non_null(w);
	assert_int_equal(csv__write(w, r), 0);
	r->time += 10;
	r->final = true;
	assert_int_equal(csv__write(w, r), 0);
	csv__close(w);

	text = read_file_all(path, NULL);
	assert_non_null(text);
	assert_memory_equal(text, CSV_COLUMNS "\r\n", strlen(CSV_COLUMNS) + 2);
	assert_non_null(strstr(text, "\"say(\"\"hi\"\", 2)\nbye\""));
	free(text);

	if (!tool_exists("python3")) {
		remove_tree(dir);
		free(dir);
		report__free(r);
		skip();
	}
	snprintf(script, sizeof(script), "%s/parse.py", dir);
	assert_int_equal(write_file_all(script, parse_py), 0);
	assert_int_equal(run_capture((char *[]){ "python3", script, path, NULL }, &out, 60), 0);
	doc = json_tokener_parse(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "columns", &cols));
	assert_int_equal(json_object_array_length(cols), 25);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(cols, 0)), "time");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(cols, 23)), "stack");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(cols, 24)), "category");
	assert_true(json_object_object_get_ex(doc, "rows", &rows));
	assert_int_equal(json_object_array_length(rows), 2 * r->nr_stacks);

	row = json_object_array_get_idx(rows, 0);
	assert_string_equal(field(row, "time"), "1700000000.500");
	assert_string_equal(field(row, "pid"), "4242");
	assert_string_equal(field(row, "comm"), "leaky_app");
	assert_string_equal(field(row, "final"), "0");
	assert_string_equal(field(row, "stack_id"), "0x1111");
	assert_string_equal(field(row, "kind"), "malloc");
	assert_string_equal(field(row, "outstanding_bytes"), "3145728");
	assert_string_equal(field(row, "alloc_bytes"), "10485760");
	assert_string_equal(field(row, "free_calls"), "7");
	assert_string_equal(field(row, "oldest_age_s"), "9.5");
	assert_string_equal(field(row, "growth_bytes_per_s"), "102400");
	assert_string_equal(field(row, "severity"), "high");
	assert_string_equal(field(row, "leaf_function"), "say(\"hi\", 2)\nbye");
	assert_string_equal(field(row, "leaf_module"), FX_APP);
	assert_string_equal(field(row, "leaf_line"), "12");
	assert_string_equal(field(row, "stack"),
			    "__libc_start_main;main;leak_outer;say(\"hi\", 2)\nbye");

	row = json_object_array_get_idx(rows, 1);
	assert_string_equal(field(row, "leaf_function"), FX_POOL_NAME);
	assert_string_equal(field(row, "kind"), "calloc");

	row = json_object_array_get_idx(rows, 2);	/* unsymbolized leaf */
	assert_string_equal(field(row, "leaf_function"), "libfoo.so+0x1234");
	assert_string_equal(field(row, "leaf_file"), "");
	assert_string_equal(field(row, "leaf_line"), "");
	assert_string_equal(field(row, "growth_bytes_per_s"), "");	/* not analysed */
	assert_string_equal(field(row, "severity"), "");

	row = json_object_array_get_idx(rows, 3);	/* raw ips only */
	assert_string_equal(field(row, "leaf_function"), "0xdead0000");
	assert_string_equal(field(row, "oldest_age_s"), "");
	assert_string_equal(field(row, "stack"), "0xdead0000");

	row = json_object_array_get_idx(rows, 5);	/* second report */
	assert_string_equal(field(row, "time"), "1700000010.500");
	assert_string_equal(field(row, "final"), "1");
	assert_string_equal(field(row, "stack_id"), "0x1111");

	json_object_put(doc);
	free(out);
	remove_tree(dir);
	free(dir);
	report__free(r);
}

static void test_failures(void **state)
{
	struct report *r = fx_report();
	struct csv_writer *w;
	(void)state;

	errno = 0;
	assert_null(csv__open("/nonexistent-dir/x.csv", 0600));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(csv__write(NULL, r), -EINVAL);
	csv__close(NULL);
	w = csv__open("/dev/full", 0600);	/* the header write fails */
	assert_null(w);
	assert_int_equal(errno, ENOSPC);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_parse),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
