/* Tests of the modified UTF-7 encoder for IMAP mailbox names (src/imap-utf7.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <cmocka.h>

#include "imap-utf7.h"

static void test_imap_utf7_names(void **state)
{
	static const struct {
		const char *utf8, *utf7;
	} cases[] = {
	    {"INBOX", "INBOX"},
	    {"", ""},
	    {"A&B", "A&-B"},
	    {"Ενημερωτικά", "&A5UDvQO3A7wDtQPBA8kDxAO5A7oDrA-"},
	    /* RFC 3501's own example */
	    {"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
	    {"Ναυάγια & Σπήλαια", "&A50DsQPFA6wDswO5A7E- &- &A6MDwAOuA7sDsQO5A7E-"},
	    {"Προσφορές.2026", "&A6ADwQO,A8MDxgO,A8EDrQPC-.2026"},
	    /* beyond the BMP: a surrogate pair */
	    {"x😀y", "x&2D3eAA-y"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;

		assert_int_equal(imap_utf7_encode(cases[i].utf8, &out), 0);
		assert_string_equal(out, cases[i].utf7);
		free(out);
	}
}

static void test_imap_utf7_invalid_utf8_is_refused(void **state)
{
	static const char *const bad[] = {
	    "\xff",             /* never in UTF-8 */
	    "a\xc0\xafz",       /* overlong '/' */
	    "\xed\xa0\x80",     /* a lone surrogate */
	    "\xce",             /* cut short */
	    "\xf4\x90\x80\x80", /* beyond U+10FFFF */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		assert_int_equal(imap_utf7_encode(bad[i], &out), -EINVAL);
		assert_null(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_imap_utf7_names),
	    cmocka_unit_test(test_imap_utf7_invalid_utf8_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
