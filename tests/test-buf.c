/* Unit tests of the growable buffer (src/buf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void test_buf_append_and_take(void **state)
{
	struct buf b = BUF_INIT(1024);
	size_t n;
	char *s;

	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_puts(&b, "abc"), 0);
	assert_int_equal(buf_append(&b, "\0d", 2), 0);
	assert_int_equal(buf_printf(&b, "%d", 42), 0);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "abc\0d42", 8);
	s = buf_take(&b, &n);
	assert_int_equal(n, 7);
	assert_null(b.data);
	free(s);
}

static void test_buf_maximum_is_kept(void **state)
{
	_cleanup_buf_ struct buf b = BUF_INIT(8);

	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_putc(&b, '9'), -E2BIG);
	assert_int_equal(buf_printf(&b, "%s", "x"), -E2BIG);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_str(&b), "12345678");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
}

static void test_buf_take_of_empty_is_empty_string(void **state)
{
	struct buf b = BUF_INIT(8);
	char *s = buf_take(&b, NULL);

	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_append_and_take),
	    cmocka_unit_test(test_buf_maximum_is_kept),
	    cmocka_unit_test(test_buf_take_of_empty_is_empty_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
