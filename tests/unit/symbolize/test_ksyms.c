// SPDX-License-Identifier: MIT
/* test_ksyms.c - kernel symbols from a fake kallsyms file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize/ksyms.h"

static char path[64];

static void write_file(const char *text)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/memtrace-kallsyms-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char kallsyms[] =
	"ffffffff81000000 T _text\n"
	"ffffffff81000100 t pipe_write\n"
	"ffffffff81000400 D some_data\n"
	"ffffffff81000500 T __kmalloc_noprof\n"
	"ffffffff81000800 T bpf_trace_run4\n"
	"ffffffffc0001000 t ext4_alloc_inode\t[ext4]\n"
	"ffffffffc0001200 T ext4_iget\t[ext4]\n"
	"ffffffffc0100000 t bpf_prog_1234_kmalloc\t[bpf]\n";

static void test_find(void **state)
{
	struct ksyms *k;
	const struct ksym *s;
	uint64_t off;

	(void)state;
	write_file(kallsyms);
	k = ksyms__load(path);
	unlink(path);
	assert_non_null(k);
	assert_int_equal(ksyms__count(k), 7);	/* D is not text */
	s = ksyms__find(k, 0xffffffff81000123ull, &off);
	assert_non_null(s);
	assert_string_equal(s->name, "pipe_write");
	assert_null(s->module);
	assert_int_equal(off, 0x23);
	/* past some_data (data): still the text symbol before it */
	s = ksyms__find(k, 0xffffffff81000450ull, &off);
	assert_string_equal(s->name, "pipe_write");
	s = ksyms__find(k, 0xffffffffc0001210ull, &off);
	assert_string_equal(s->name, "ext4_iget");
	assert_string_equal(s->module, "ext4");
	assert_int_equal(off, 0x10);
	assert_false(ksyms__is_tracing(s));
	assert_true(ksyms__is_tracing(ksyms__find(k, 0xffffffff81000810ull, &off)));
	assert_true(ksyms__is_tracing(ksyms__find(k, 0xffffffffc0100010ull, &off)));
	/* below every symbol, and far past the last one */
	assert_null(ksyms__find(k, 0xffffffff80000000ull, &off));
	assert_null(ksyms__find(k, 0xffffffffffff0000ull, &off));
	assert_int_equal(ksyms__addr(k, "pipe_write"), 0xffffffff81000100ull);
	assert_int_equal(ksyms__addr(k, "_text"), 0xffffffff81000000ull);
	assert_int_equal(ksyms__addr(k, "memtrace_none"), 0);
	assert_true(ksyms__is_kernel(0xffffffff81000000ull));
	assert_false(ksyms__is_kernel(0x7fffffffe000ull));
	ksyms__free(k);
}

/* kptr_restrict: every address reads 0. */
static void test_hidden(void **state)
{
	(void)state;
	write_file("0000000000000000 T _text\n0000000000000000 t pipe_write\n");
	errno = 0;
	assert_null(ksyms__load(path));
	assert_int_equal(errno, EACCES);
	unlink(path);
	errno = 0;
	assert_null(ksyms__load("/nonexistent/kallsyms"));
	assert_int_equal(errno, ENOENT);
}

/* The running kernel's, when readable with addresses (root). */
static void test_proc(void **state)
{
	struct ksyms *k = ksyms__load(NULL);
	const struct ksym *s;
	uint64_t off;

	(void)state;
	if (!k)
		skip();
	assert_true(ksyms__count(k) > 1000);
	s = ksyms__find(k, (uint64_t)-1 >> 1 | 1ull << 63, &off);	/* top address: none */
	assert_null(s);
	ksyms__free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_hidden),
		cmocka_unit_test(test_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
