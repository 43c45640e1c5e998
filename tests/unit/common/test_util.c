// SPDX-License-Identifier: MIT
/* test_util.c - array growth and UTF-8 sequence lengths. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "common/util.h"

static void test_grow(void **state)
{
	int *a = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array__grow((void **)&a, &cap, 1, sizeof(*a), 4), 0);
	assert_int_equal(cap, 4);
	assert_int_equal(array__grow((void **)&a, &cap, 4, sizeof(*a), 4), 0);
	assert_int_equal(cap, 4);	/* enough already: unchanged */
	assert_int_equal(array__grow((void **)&a, &cap, 9, sizeof(*a), 4), 0);
	assert_int_equal(cap, 16);
	a[15] = 7;
	assert_int_equal(array__grow((void **)&a, &cap, SIZE_MAX / 8, sizeof(*a), 4), -ENOMEM);
	assert_int_equal(cap, 16);	/* failure leaves the array as it was */
	assert_int_equal(a[15], 7);
	free(a);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_int_equal(utf8__seq_len((const unsigned char *)"a"), 1);
	assert_int_equal(utf8__seq_len((const unsigned char *)"\xc3\xa9"), 2);	/* é */
	assert_int_equal(utf8__seq_len((const unsigned char *)"\xe2\x82\xac"), 3);	/* € */
	assert_int_equal(utf8__seq_len((const unsigned char *)"\xf0\x9f\x98\x80"), 4);
	assert_int_equal(utf8__seq_len((const unsigned char *)"\xc0\xaf"), 0);	/* overlong lead */
	assert_int_equal(utf8__seq_len((const unsigned char *)"\xe2\x82"), 0);	/* cut short */
	assert_int_equal(utf8__seq_len((const unsigned char *)"\x80"), 0);	/* continuation */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
