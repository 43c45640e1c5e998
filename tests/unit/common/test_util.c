// SPDX-License-Identifier: MIT
/* test_util.c - array growth and UTF-8 sequence lengths. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
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

/* -d and -i go up to a year: the poll timeout must not overflow an int. */
static void test_poll_ms(void **state)
{
	(void)state;
	assert_int_equal(clock__poll_ms(0), 0);
	assert_int_equal(clock__poll_ms(-1), 0);
	assert_int_equal(clock__poll_ms(0.0101), 11);
	assert_int_equal(clock__poll_ms(2.5), 2501);
	assert_int_equal(clock__poll_ms(366.0 * 86400), 3600 * 1000);
	assert_int_equal(clock__poll_ms(1e300), 3600 * 1000);
	assert_int_equal(clock__poll_ms(NAN), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_poll_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
