/* Unit tests of HTML to text (parsers/html-text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "html-text.h"

/* Converts html with default limits and returns the text (caller frees). */
static char *convert(const char *html)
{
	char *text = NULL, *reason = NULL;
	size_t len = 0;

	assert_int_equal(html_to_text(html, strlen(html), NULL, &text, &len, &reason), 0);
	assert_null(reason);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void assert_converts(const char *html, const char *expected)
{
	char *text = convert(html);

	assert_string_equal(text, expected);
	free(text);
}

static void test_html_table_rows(void **state)
{
	assert_converts(
	    "<table><tr><th>Date</th><th>Site</th><th>Price</th></tr>"
	    "<tr><td>Sat 21/02</td><td>Blue Hole<br>(2 dives)</td><td>&euro;60</td></tr>"
	    "<tr><td>Sun</td><td></td><td>35</td></tr></table>",
	    "Date | Site | Price\nSat 21/02 | Blue Hole (2 dives) | €60\nSun | 35\n");
}

static void test_html_layout_table_is_not_one_line(void **state)
{
	/* rows that hold tables are blocks, the inner rows are lines */
	assert_converts("<table><tr><td>Header</td></tr><tr><td>"
			"<table><tr><td>09:00</td><td>Zenobia</td></tr></table>"
			"</td><td>side</td></tr></table>",
			"Header\n\n09:00 | Zenobia\n\nside\n");
}

static void test_html_entities_decoded(void **state)
{
	assert_converts("<p>45,50&euro; &amp; 25&nbsp;&deg;C &ndash; &#x39A;&#941;&alpha;</p>",
			"45,50€ & 25 °C – Κέα\n");
}

static void test_html_script_style_head_dropped(void **state)
{
	assert_converts("<html><head><title>T</title><style>p{color:red}</style></head>"
			"<body><script>var x = 1;</script><p>visible</p>"
			"<div style=\"display: none\">preheader</div></body></html>",
			"visible\n");
}

static void test_html_blocks_and_br(void **state)
{
	assert_converts("<div>one</div><div>two<br>three<br><br>four</div><p>five</p><h2>six</h2>"
			"seven",
			"one\ntwo\nthree\n\nfour\n\nfive\n\nsix\n\nseven\n");
}

static void test_html_whitespace_collapsed(void **state)
{
	assert_converts("<p>  a \n\t b   <b> c </b>\r\n d  </p>", "a b c d\n");
}

static void test_html_lists(void **state)
{
	assert_converts("<ul><li>Fleves</li><li>Passas</li></ul><ol><li>first<li>second</ol>",
			"- Fleves\n- Passas\n\n1. first\n2. second\n");
}

static void test_html_invisible_characters_dropped(void **state)
{
	assert_converts("<p>a\xC2\xAD"
			"b\xE2\x80\x8B"
			"c\xEF\xBB\xBF</p>",
			"abc\n");
}

static void test_html_meta_charset_ignored(void **state)
{
	/* input is UTF-8 already, whatever the document claims */
	assert_converts("<html><head><meta charset=\"windows-1253\"></head>"
			"<body>\xCE\x86\xCE\xBD\xCE\xBF\xCE\xB9\xCE\xBE\xCE\xB7</body></html>",
			"Άνοιξη\n");
}

static void test_html_empty(void **state)
{
	assert_converts("", "");
	assert_converts("<html><body>  </body></html>", "");
}

static void test_html_deep_nesting(void **state)
{
	const size_t depth = 100000;
	struct buf b = BUF_INIT(16u << 20);
	char *text = NULL, *reason = NULL;
	size_t len;

	for (size_t i = 0; i < depth; i++)
		assert_int_equal(buf_puts(&b, "<div><span>"), 0);
	assert_int_equal(buf_puts(&b, "deep"), 0);
	for (size_t i = 0; i < depth; i++)
		assert_int_equal(buf_puts(&b, "</span></div>"), 0);
	/* libxml2 stops building the tree at its own depth limit; no crash, a result */
	assert_int_equal(html_to_text(b.data, b.len, NULL, &text, &len, &reason), 0);
	assert_non_null(text);
	free(text);
	buf_done(&b);
}

static void test_html_depth_limit(void **state)
{
	struct html_limits lim = {.max_depth = 4};
	const char *html =
	    "<div>a<div>b<div>c<div>d<div>e<div>f</div></div></div></div></div></div>";
	char *text = NULL, *reason = NULL;
	size_t len;
	int truncated = 0;

	assert_int_equal(
	    html_text_convert(html, strlen(html), &lim, &text, &len, &truncated, &reason), 0);
	assert_non_null(strstr(text, "a"));
	assert_null(strstr(text, "f"));
	assert_true(truncated);
	free(text);
}

static void test_html_input_limit(void **state)
{
	struct html_limits lim = {.max_input = 10};
	char *text = NULL, *reason = NULL;
	size_t len;

	assert_int_equal(html_to_text("<p>0123456789</p>", 17, &lim, &text, &len, &reason), -E2BIG);
	assert_null(text);
	assert_non_null(reason);
	free(reason);
}

static void test_html_output_limit(void **state)
{
	struct html_limits lim = {.max_output = 16};
	const char *html = "<p>aaaaaaaaaa</p><p>bbbbbbbbbb</p><p>cccccccccc</p>";
	char *text = NULL, *reason = NULL;
	size_t len;
	int truncated = 0;

	assert_int_equal(
	    html_text_convert(html, strlen(html), &lim, &text, &len, &truncated, &reason), 0);
	assert_true(len <= 16);
	assert_true(truncated);
	assert_non_null(strstr(text, "aaaaaaaaaa"));
	free(text);
}

static void test_html_metadata_comment(void **state)
{
	const char *html =
	    "<html><body><!-- DIVEMAP_METADATA: diving_center_id=17 --><p>x</p></body>";

	assert_int_equal(html_text_find_metadata(html, strlen(html)), 17);
	assert_int_equal(html_text_find_metadata("DIVEMAP_METADATA: other=1", 25), 0);
	assert_int_equal(html_text_find_metadata("DIVEMAP_METADATA: diving_center_id=x", 36), 0);
	assert_int_equal(html_text_find_metadata("no marker", 9), 0);
	assert_int_equal(
	    html_text_find_metadata("DIVEMAP_METADATA: diving_center_id=99999999999999999999", 55),
	    0);
	/* the comment is not text */
	assert_converts(html, "x\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html_table_rows),
	    cmocka_unit_test(test_html_layout_table_is_not_one_line),
	    cmocka_unit_test(test_html_entities_decoded),
	    cmocka_unit_test(test_html_script_style_head_dropped),
	    cmocka_unit_test(test_html_blocks_and_br),
	    cmocka_unit_test(test_html_whitespace_collapsed),
	    cmocka_unit_test(test_html_lists),
	    cmocka_unit_test(test_html_invisible_characters_dropped),
	    cmocka_unit_test(test_html_meta_charset_ignored),
	    cmocka_unit_test(test_html_empty),
	    cmocka_unit_test(test_html_deep_nesting),
	    cmocka_unit_test(test_html_depth_limit),
	    cmocka_unit_test(test_html_input_limit),
	    cmocka_unit_test(test_html_output_limit),
	    cmocka_unit_test(test_html_metadata_comment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
