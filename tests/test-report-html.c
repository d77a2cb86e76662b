/* Unit tests of the HTML report (src/report-html.c): mail text is shown as
 * text (a <script> in subject and body never becomes markup), spans link to
 * the trip rows they fed and back, the page is self-contained and
 * well-formed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <libxml/parser.h>

#include "report-html.h"

#define BODY "Hi <script>alert('x')</script> & Sat 23/8 at 09:00: Pothitos!"

static char *render(const struct report *r, size_t *ret_len)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(report_html_write(f, r), 0);
	fclose(f);
	*ret_len = len;
	return out;
}

static json_t *details(void)
{
	json_t *d = json_pack("{s:s, s:[{s:s, s:s, s:{s:[i,i,s], s:[i,i,s]},"
			      "          s:[{s:i, s:s, s:i, s:{s:[i,i,s]}}]}], s:[s], s:{s:[i]}}",
			      "text", BODY, "trips", "trip_date", "2025-08-23", "trip_time",
			      "09:00", "spans", "trip_date", 37, 41, "en-<date>", "trip_time", 45,
			      50, "en-time", "dives", "dive_number", 1, "dive_site_name",
			      "Pothitos", "dive_site_id", 1, "spans", "dive_site_name", 52, 60,
			      "en-site", "warnings", "<b>warned</b>", "writer", "trip_ids", 17);

	assert_non_null(d);
	return d;
}

static void test_report_escapes_mail(void **state)
{
	json_t *d = details();
	const struct report_newsletter n = {.newsletter_id = 7,
					    .message_id = 9,
					    .subject = "<script>alert(\"subject\")</script>",
					    .sender = "\"Evil\" <a@b.example>",
					    .sent_at = "2025-08-20 15:42:10",
					    .parsed_at = "2025-08-20 15:43:00",
					    .status = "ok",
					    .details = d};
	const struct report r = {.generated_at = "now", .newsletters = &n, .n_newsletters = 1};
	size_t len;
	char *html = render(&r, &len);

	assert_null(strcasestr(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt;"));
	assert_non_null(strstr(html, "Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "));
	assert_non_null(strstr(html, "&lt;b&gt;warned&lt;/b&gt;"));
	assert_non_null(strstr(html, "&quot;Evil&quot; &lt;a@b.example&gt;"));
	assert_null(strstr(html, "<b>warned"));
	json_decref(d);
	free(html);
}

static void test_report_lists_unresolved_names(void **state)
{
	json_t *d = json_pack("{s:s, s:[], s:[{s:s, s:s, s:[{s:i, s:s, s:f}]}]}", "text", "x",
			      "trips", "unresolved", "kind", "site", "name", "Bour<nelli",
			      "candidates", "id", 3, "name", "Kou&dounia", "score", 0.5);
	const struct report_newsletter n = {.newsletter_id = 2, .status = "partial", .details = d};
	const struct report r = {.newsletters = &n, .n_newsletters = 1};
	size_t len;
	char *html = render(&r, &len);

	assert_non_null(
	    strstr(html, "<li>site <b>Bour&lt;nelli</b>: Kou&amp;dounia (id 3, 0.50)</li>"));
	json_decref(d);
	free(html);
}

static void test_report_spans_link_to_trips(void **state)
{
	json_t *d = details();
	const struct report_newsletter n = {
	    .newsletter_id = 7, .message_id = 9, .subject = "s", .status = "partial", .details = d};
	const struct report r = {.generated_at = "now", .newsletters = &n, .n_newsletters = 1};
	size_t len;
	char *html = render(&r, &len);

	/* the trip row, the span linking to it with field and rule, and back */
	assert_non_null(strstr(html, "<tr id=\"n7-t1\">"));
	assert_non_null(strstr(html,
			       "<span id=\"n7-s0\"></span><a class=\"hl f-date\" href=\"#n7-t1\" "
			       "title=\"trip 1: trip_date (rule en-&lt;date&gt;)\">23/8</a>"));
	assert_non_null(strstr(html, "title=\"trip 1, dive 1: dive_site_name (rule en-site)\">"
				     "Pothitos</a>"));
	assert_non_null(strstr(html, "<td><a href=\"#n7-s0\">2025-08-23</a></td>"));
	assert_non_null(strstr(html, "<td>17</td>"));
	/* self-contained: nothing fetched, nothing run */
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "http"));
	json_decref(d);
	free(html);
}

static void test_report_is_well_formed(void **state)
{
	json_t *d = details();
	const struct report_count counts[] = {{"ok", 3}, {"failed", 1}};
	json_t *cands = json_pack("[{s:i, s:s, s:f}]", "id", 3, "name", "K<>", "score", 0.5);
	const struct report_unresolved u = {
	    .kind = "site", .name = "Bour<nelli", .seen = 4, .candidates = cands};
	const struct report_newsletter n[] = {
	    {.newsletter_id = 7,
	     .message_id = 9,
	     .subject = "a\x01\xff\xc3(b",
	     .status = "ok",
	     .details = d},
	    {.newsletter_id = 8, .message_id = 10, .status = "failed", .reason = "worker <died>"},
	};
	const struct report r = {.generated_at = "now",
				 .counts = counts,
				 .n_counts = 2,
				 .unresolved = &u,
				 .n_unresolved = 1,
				 .newsletters = n,
				 .n_newsletters = 2};
	size_t len;
	char *html = render(&r, &len);
	xmlDocPtr doc = xmlReadMemory(html, (int)len, "report.html", "UTF-8",
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	if (!doc)
		fprintf(stderr, "%s\n", html);
	assert_non_null(doc);
	xmlFreeDoc(doc);
	/* control characters and bytes that are not UTF-8 became U+FFFD */
	assert_non_null(strstr(html, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD(b"));
	assert_non_null(strstr(html, "Bour&lt;nelli"));
	assert_non_null(strstr(html, "<tr><th>all</th><th>4</th></tr>"));
	assert_non_null(strstr(html, "worker &lt;died&gt;"));
	json_decref(d);
	json_decref(cands);
	free(html);
}

/* Spans out of range, reversed or inside a UTF-8 sequence are tamed. */
static void test_report_bad_spans(void **state)
{
	json_t *d = json_pack("{s:s, s:[{s:s, s:{s:[i,i,s], s:[i,i,s], s:[i,i]}}]}", "text",
			      "Κυρά Λένη", "trips", "trip_date", "2025-01-01", "spans", "trip_date",
			      1, 3, "r", "trip_time", 9, 2, "r", "trip_price", -5, 1000);
	const struct report_newsletter n = {.newsletter_id = 1, .status = "ok", .details = d};
	const struct report r = {.newsletters = &n, .n_newsletters = 1};
	size_t len;
	char *html = render(&r, &len);
	xmlDocPtr doc = xmlReadMemory(html, (int)len, "report.html", "UTF-8",
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	assert_non_null(doc);
	xmlFreeDoc(doc);
	assert_null(strstr(html, "\xEF\xBF\xBD"));
	json_decref(d);
	free(html);
}

/* A site read from the subject carries offsets into the subject: it has no
 * span in the text, and nothing of the text is marked for it. */
static void test_report_subject_span_is_not_in_text(void **state)
{
	json_t *dive =
	    json_pack("{s:s, s:{s:{s:i, s:i, s:s, s:s}}}", "dive_site_name", "Pothitos", "source",
		      "site", "start", 3, "end", 11, "rule", "r", "in", "subject");
	json_t *text_dive =
	    json_pack("{s:s, s:{s:{s:i, s:i, s:s, s:s}}}", "dive_site_name", "Pothitos", "source",
		      "site", "start", 52, "end", 60, "rule", "r", "in", "text");
	long long a = -1, b = -1;

	assert_false(report_span(dive, "dive_site_name", &a, &b, NULL));
	assert_true(report_span(text_dive, "dive_site_name", &a, &b, NULL));
	assert_int_equal(a, 52);
	assert_int_equal(b, 60);
	json_decref(dive);
	json_decref(text_dive);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_escapes_mail),
	    cmocka_unit_test(test_report_spans_link_to_trips),
	    cmocka_unit_test(test_report_is_well_formed),
	    cmocka_unit_test(test_report_bad_spans),
	    cmocka_unit_test(test_report_lists_unresolved_names),
	    cmocka_unit_test(test_report_subject_span_is_not_in_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
