/* Unit tests of the MIME decoder (parsers/mime-decode.c, parsers/charset.c):
 * the corpus, each charset and encoding, and hostile input built here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "buf.h"
#include "charset.h"
#include "cleanup.h"
#include "mime-decode.h"

static char *read_corpus(const char *name, size_t *ret_len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct buf b = BUF_INIT(BUF_MAX_MESSAGE);
	char chunk[65536];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/corpus/messages/%s", top ? top : ".", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_take(&b, ret_len);
}

/* Invariants of every decoded message. */
static void assert_message_sane(const struct message *m)
{
	assert_non_null(m->text);
	assert_int_equal(strlen(m->text), m->text_len);
	assert_true(charset_utf8_valid(m->text, m->text_len));
	assert_true(m->text_type && (strcmp(m->text_type, "text/plain") == 0 ||
				     strcmp(m->text_type, "text/html") == 0));
	if (m->subject)
		assert_true(charset_utf8_valid(m->subject, strlen(m->subject)));
	if (m->from_name)
		assert_true(charset_utf8_valid(m->from_name, strlen(m->from_name)));
}

static struct message *decode_ok(const char *raw, size_t len, const struct decode_limits *lim)
{
	struct message *m = NULL;
	char *reason = NULL;
	int r = mime_decode(raw, len, lim, &m, &reason);

	if (r < 0)
		fail_msg("mime_decode: %d %s", r, reason ? reason : "(no reason)");
	assert_null(reason);
	assert_message_sane(m);
	return m;
}

static struct message *decode_str(const char *raw)
{
	return decode_ok(raw, strlen(raw), NULL);
}

static struct message *decode_file(const char *name)
{
	size_t len;
	_cleanup_free_ char *raw = read_corpus(name, &len);

	return decode_ok(raw, len, NULL);
}

static void assert_decode_fails(const char *raw, size_t len, const struct decode_limits *lim,
				int expected)
{
	struct message *m = NULL;
	char *reason = NULL;

	assert_int_equal(mime_decode(raw, len, lim, &m, &reason), expected);
	assert_null(m);
	assert_non_null(reason);
	assert_true(strlen(reason) > 10);
	free(reason);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' not found in:\n%s", needle, haystack);
}

/* ---- the corpus ---- */

static const struct corpus_case {
	const char *file;
	const char *type;
	const char *phrase1, *phrase2;
} corpus[] = {
    {"001-aqualavrio-weekend-program.eml", "text/plain", "9:00 ν. Ποθητός",
     "Διαθεσιμότητα: 3 θέσεις"},
    {"002-odyssey-makronisos-double.eml", "text/plain", "Ποντικονήσι",
     "χρειάζεται τουλάχιστον Advanced"},
    {"003-poseidon-june-iso88597.eml", "text/plain", "Κυριακή 8/6 - Διπλή βουτιά",
     "Ναυάγιο Oria, βόρεια του Πατρόκλου"},
    {"004-bluedolphin-july-mailchimp.eml", "text/plain", "1η βουτιά: ν. Φλέβες",
     "Αεροπλάνο Beaufighter"},
    {"005-gozodeepblue-june-trips.eml", "text/plain", "Sunday 22 June – Cathedral Cave",
     "Um El Faroud"},
    {"006-cyclades-kea-poster.eml", "text/plain", "ΣΑΒΒΑΤΟ 11/10 – Ναυάγιο Burdigala",
     "Κόστος 60€"},
    {"007-odyssey-patris-technical.eml", "text/plain", "Κυριακή 26 Απριλίου", "Κόστος: 70€"},
    {"008-forward-cyclades-november.eml", "text/plain", "Σάββατο 8 Νοεμβρίου – Κούνδουρος",
     "ΝΑΥΑΓΙΟ ΚΥΡΑ ΛΕΝΗ"},
    {"009-bluedolphin-sale-course.eml", "text/plain", "ΝΕΟ ΤΜΗΜΑ ADVANCED OPEN WATER",
     "Shearwater Peregrine"},
    {"010-instructor-dekapentavgoustos.eml", "text/plain", "ΠΑΡ, 15 Αυγ στις 8:30",
     "Ναυάγιο Avantis (36μ)"},
    {"011-club-christmas-newyear.eml", "text/plain", "Σαββατο 3 Ιανουαριου", "ραντεβου 10:00"},
    {"012-poseidon-cancel-postpone.eml", "text/plain", "ΑΚΥΡΩΝΕΤΑΙ",
     "Κυριακή 14/9, ίδια ώρα (09:00)"},
    {"013-gozodeepblue-winter-html.eml", "text/html",
     "Sat 21/02 | 09:30 | Cathedral Cave + Blue Hole (2 dives) | Open Water | €60",
     "Sat 14/03 | 08:00 | Um El Faroud"},
    {"014-larnaca-zenobia-season.eml", "text/plain", "14.03.2026 – Zenobia wreck",
     "Kimon Bay reef & Liberty Wreck"},
    {"015-larnaca-weekend-recap.eml", "text/plain", "Saturday 18 October",
     "Kimon Bay in the morning"},
    {"016-sliema-charters-unknown.eml", "text/plain", "1st dive 09:00 - HMS Maori", "Ghar Lapsi"},
    {"017-aqualavrio-iouli-numbered.eml", "text/plain", "1) Σάββατο 5 & Κυριακή 6 Ιουλίου",
     "Retriever (58μ)"},
    {"018-bluedolphin-html-day-tables.eml", "text/html",
     "09:15 | 1η βουτιά | νησίδα Φλέβες (νότια πλευρά)",
     "10:00 | Βουτιά | Αεροπλάνο Beaufighter Τιμή 35€"},
    {"019-odyssey-win1253-assembly.eml", "text/plain", "Κυρ. 26/10 – ναυάγιο Όρια (14μ)",
     "«Φάρος»"},
    {"020-gozo-tomorrow-12h.eml", "text/plain", "TOMORROW (Saturday) - double boat dive",
     "1st dive: Xlendi Reef"},
    {"021-larnaca-waiting-list-capegreco.eml", "text/plain", "FULLY BOOKED", "Cape Greco caves"},
    {"022-cyclades-kea-weekend-range.eml", "text/plain", "ΣΑΒΒΑΤΟΚΥΡΙΑΚΟ 6-7/9 ΣΤΗΝ ΚΕΑ",
     "Full Trimix"},
    {"023-poseidon-iso88597-tabs-cancel.eml", "text/plain",
     "ΣΑΒ 18/4\t08:00\tΠετροκάραβο\tAOWD\t55 ευρώ", "ΑΚΥΡΩΣΗ"},
    {"024-whatsapp-forward-tomorrow.eml", "text/plain", "αυριο παμε ποθητο κ ποντικονησι",
     "μεχρι 8 ατομα"},
    {"025-facebook-event-club.eml", "text/plain", "ΚΥΡ, 19 ΟΚΤ 2025 ΣΤΙΣ 09:30", "Beufighter"},
    {"026-odyssey-markdown-caps-newyear.eml", "text/plain", "**Κυρ. 28 Δεκέμβρη** – ΑΚΡΑ ΚΑΤΑΦΥΓΗ",
     "ΝΑΥΑΓΙΟ AVANTIS"},
    {"027-bluedolphin-latin-typos-cavern.eml", "text/plain", "Κυριακή 1 Μάρτη – Fleves & Passas",
     "Heinkell He 111"},
    {"028-poseidon-ioulios-heading-flowed.eml", "text/plain", "ΙΟΥΛΙΟΣ 2026",
     "Σαβ. 4 – Πετροκάραβο, διπλή βουτιά"},
    {"029-aqualavrio-site-in-subject.eml", "text/plain", "Ραντεβού στο λιμάνι 8:15",
     "Έχουν μείνει 3 θέσεις"},
    {"030-larnaca-night-dive-ics.eml", "text/plain", "Friday 24 July", "Kimon Bay"},
    {"031-cyclades-iouni-minus0400.eml", "text/plain", "Σάβ. 13 Ιούνη: Κούνδουρος",
     "Ναυάγιο Burdigala (έως 75μ)"},
    {"032-gozo-cancel-and-sunday.eml", "text/plain", "Comino is cancelled",
     "Double shore dive at Dwejra"},
};

static void test_mime_corpus_key_phrases(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(corpus); i++) {
		struct message *m = decode_file(corpus[i].file);

		assert_string_equal(m->text_type, corpus[i].type);
		assert_contains(m->text, corpus[i].phrase1);
		assert_contains(m->text, corpus[i].phrase2);
		assert_non_null(m->message_id);
		assert_non_null(m->subject);
		assert_non_null(m->from_addr);
		assert_true(m->has_date);
		assert_int_equal(m->warnings & ~MESSAGE_WARN_HTML_ONLY, 0);
		message_free(m);
	}
}

/* Every message file, listed or not, decodes. */
static void test_mime_corpus_every_file_decodes(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/tests/corpus/messages", top ? top : ".");
	assert_non_null(d = opendir(path));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		message_free(decode_file(e->d_name));
		n++;
	}
	closedir(d);
	assert_true(n >= ELEMENTSOF(corpus));
}

static void test_mime_forward_decodes_inner_newsletter(void **state)
{
	struct message *m = decode_file("008-forward-cyclades-november.eml");

	assert_true(m->forwarded);
	/* the delivered message's identity, the newsletter's author, subject and date */
	assert_string_equal(m->message_id, "d41f7b2c-88e0-4b6a-9a51-0c7e3f29b1d4@mailbox.example");
	assert_string_equal(m->from_addr, "team@cycladesdive.example");
	assert_string_equal(m->from_name, "Κυκλάδες Dive Team");
	assert_string_equal(m->sender_addr, "maria.p@mailbox.example");
	assert_string_equal(m->subject, "Πρόγραμμα Νοεμβρίου – Κυκλάδες Dive Team");
	assert_int_equal(m->date.year, 2025);
	assert_int_equal(m->date.month, 10);
	assert_int_equal(m->date.day, 31);
	assert_int_equal(m->date.tz_offset_min, 120);
	assert_true(m->has_sent_date);
	assert_int_equal(m->sent_date.month, 11);
	assert_int_equal(m->sent_date.day, 2);
	assert_null(strstr(m->text, "Sent from my Galaxy"));
	message_free(m);
}

static void test_mime_forward_inner_without_date_keeps_outer(void **state)
{
	struct message *m =
	    decode_str("From: Fwd <me@example.org>\r\nDate: Tue, 3 Mar 2026 08:00:00 +0200\r\n"
		       "Subject: Fwd: trips\r\nMIME-Version: 1.0\r\n"
		       "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
		       "--outer\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
		       "--outer\r\nContent-Type: message/rfc822\r\n\r\n"
		       "Subject: Trips\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		       "Saturday 7 March: Zenobia\r\n--outer--\r\n");

	assert_true(m->forwarded);
	assert_string_equal(m->subject, "Trips");
	assert_string_equal(m->from_addr, "me@example.org"); /* the inner has none */
	assert_true(m->has_date);
	assert_int_equal(m->date.day, 3);
	assert_contains(m->text, "Saturday 7 March: Zenobia");
	assert_null(strstr(m->text, "see below"));
	message_free(m);
}

static void test_mime_forward_empty_inner_uses_outer(void **state)
{
	struct message *m = decode_str("From: me@example.org\r\nSubject: outer\r\n"
				       "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
				       "--o\r\nContent-Type: text/plain\r\n\r\nouter text\r\n"
				       "--o\r\nContent-Type: message/rfc822\r\n\r\n"
				       "From: inner@example.org\r\nSubject: inner\r\n"
				       "Content-Type: image/png\r\n\r\nxx\r\n--o--\r\n");

	assert_false(m->forwarded);
	assert_string_equal(m->text, "outer text");
	assert_string_equal(m->subject, "outer");
	assert_string_equal(m->from_addr, "me@example.org");
	message_free(m);
}

static void test_mime_inline_forward_is_plain_text(void **state)
{
	struct message *m = decode_file("024-whatsapp-forward-tomorrow.eml");

	assert_false(m->forwarded);
	assert_int_equal(m->date.day, 12);
	assert_int_equal(m->date.tz_offset_min, 180);
	assert_string_equal(m->from_name, "Γιάννης Κ.");
	message_free(m);
}

/* ---- charsets and transfer encodings ---- */

static void test_mime_charset_iso88597_qp(void **state)
{
	struct message *m = decode_file("003-poseidon-june-iso88597.eml");

	assert_contains(m->text, "Απαιτείται πιστοποίηση Advanced Open Water");
	message_free(m);
}

static void test_mime_charset_iso88597_base64(void **state)
{
	struct message *m = decode_file("023-poseidon-iso88597-tabs-cancel.eml");

	assert_contains(m->text, "ΣΕΜΙΝΑΡΙΟ ΠΡΩΤΩΝ ΒΟΗΘΕΙΩΝ");
	message_free(m);
}

static void test_mime_charset_windows1253(void **state)
{
	struct message *m = decode_file("007-odyssey-patris-technical.eml"); /* base64 */

	assert_contains(m->text, "Βάθος: 45-60 μ.");
	message_free(m);
	m = decode_file("019-odyssey-win1253-assembly.eml"); /* quoted-printable */
	assert_contains(m->text, "ΓΕΝΙΚΗ ΣΥΝΕΛΕΥΣΗ");
	message_free(m);
}

static void test_mime_charset_greek_mislabel(void **state)
{
	/* windows-1253 bytes labelled ISO-8859-7: 0xA2 is Ά and 0x80 is € */
	struct message *m = decode_str("Content-Type: text/plain; charset=iso-8859-7\r\n"
				       "Content-Transfer-Encoding: 8bit\r\n\r\n"
				       "\xA2\xED\xEF\xE9\xEE\xE7 \x80"
				       "5\r\n");

	assert_string_equal(m->text, "Άνοιξη €5\n");
	assert_int_equal(m->warnings & MESSAGE_WARN_BAD_UTF8, 0);
	message_free(m);
	/* the real ISO-8859-7 Ά is 0xB6 */
	m = decode_str(
	    "Content-Type: text/plain; charset=iso-8859-7\r\n\r\n\xB6\xED\xEF\xE9\xEE\xE7\r\n");
	assert_string_equal(m->text, "Άνοιξη\n");
	message_free(m);
}

static void test_mime_charset_aliases(void **state)
{
	static const char *const names[] = {"CP-1253", "win-1253", "x-cp1253", "windows1253",
					    "\"Windows-1253\""};

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		char raw[256];
		struct message *m;

		snprintf(raw, sizeof(raw),
			 "Content-Type: text/plain; charset=%s\r\n\r\n\xA2\xED\xEF\xE9\xEE\xE7\r\n",
			 names[i]);
		m = decode_str(raw);
		assert_string_equal(m->text, "Άνοιξη\n");
		assert_int_equal(m->warnings & MESSAGE_WARN_UNKNOWN_CHARSET, 0);
		message_free(m);
	}
}

static void test_mime_charset_latin(void **state)
{
	struct message *m = decode_str("Content-Type: text/plain; charset=iso-8859-15\r\n\r\n"
				       "Caf\xE9 \xA4"
				       "5\r\n");

	assert_string_equal(m->text, "Café €5\n");
	message_free(m);
	m = decode_str("Content-Type: text/plain; charset=iso-8859-1\r\n\r\nCaf\xE9\r\n");
	assert_string_equal(m->text, "Café\n");
	message_free(m);
	/* us-ascii that is really UTF-8 */
	m = decode_str("Content-Type: text/plain; charset=us-ascii\r\n\r\nCaf\xC3\xA9\r\n");
	assert_string_equal(m->text, "Café\n");
	message_free(m);
}

static void test_mime_charset_unknown(void **state)
{
	struct message *m = decode_str("Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
				       "plain words \xC3\xA9\r\n");

	assert_true(m->warnings & MESSAGE_WARN_UNKNOWN_CHARSET);
	assert_string_equal(m->text, "plain words é\n");
	message_free(m);
}

static void test_mime_qp_soft_break_inside_word(void **state)
{
	struct message *m = decode_str(
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "news=\r\nletter =CE=9A=CF=85=\r\n=CE=BA=CE=BB=CE=AC=CE=B4=CE=B5=CF=82 a=3Db\r\n");

	assert_string_equal(m->text, "newsletter Κυκλάδες a=b\n");
	message_free(m);
}

static void test_mime_base64_truncated(void **state)
{
	/* "Καλημέρα" in base64, cut in the middle of a character */
	struct message *m =
	    decode_str("Content-Type: text/plain; charset=utf-8\r\n"
		       "Content-Transfer-Encoding: base64\r\n\r\nzprOsc67zrfOvM6tz4HOsQ\r\n");

	assert_contains(m->text, "Καλημέρ");
	message_free(m);
}

static void test_mime_invalid_utf8_repaired(void **state)
{
	struct message *m =
	    decode_str("Subject: =?utf-8?B?/8OpYQ==?=\r\n"
		       "Content-Type: text/plain; charset=utf-8\r\n\r\n"
		       "ok \xFF\xFE bad \xED\xA0\x80 surrogate \xC0\xAF overlong\r\n");

	assert_true(m->warnings & MESSAGE_WARN_BAD_UTF8);
	assert_string_equal(m->subject, "\xEF\xBF\xBD"
					"éa");
	assert_contains(m->text, "ok \xEF\xBF\xBD\xEF\xBF\xBD bad");
	message_free(m);
}

static void test_mime_flowed_unwrapped(void **state)
{
	struct message *m = decode_file("028-poseidon-ioulios-heading-flowed.eml");

	assert_contains(m->text, "νερό στους 25 βαθμούς");
	assert_contains(m->text, "\n-- \n"); /* the signature line stays */
	message_free(m);
}

/* ---- headers ---- */

static void test_mime_rfc2047_b_and_q(void **state)
{
	struct message *m = decode_str(
	    "From: =?iso-8859-7?B?0+Hx+e3p6vzy?= =?utf-8?Q?_Dive?= <info@example.org>\r\n"
	    "Subject: =?utf-8?B?zpzOsc+BzqwgzrrOsQ==?=\r\n =?UTF-8?B?zrvPjA==?=\r\n"
	    "\t=?windows-1253?Q?=80_5?= tail\r\n"
	    "Message-ID: <abc@example.org>\r\n\r\nbody\r\n");

	assert_string_equal(m->from_name, "Σαρωνικός Dive");
	assert_string_equal(m->from_addr, "info@example.org");
	/* adjacent words joined (the split UTF-8 character too), raw text kept */
	assert_string_equal(m->subject, "Μαρά καλό€ 5 tail");
	assert_string_equal(m->message_id, "abc@example.org");
	message_free(m);
}

static void test_mime_rfc2047_split_character(void **state)
{
	/* "Κέα" whose second character is split across two B words */
	struct message *m = decode_str("Subject: =?utf-8?B?zprO?= =?utf-8?B?rc6x?=\r\n\r\nx\r\n");

	assert_string_equal(m->subject, "Κέα");
	assert_int_equal(m->warnings & MESSAGE_WARN_BAD_UTF8, 0);
	message_free(m);
}

static void test_mime_raw_8bit_header(void **state)
{
	struct message *m = decode_str("Subject: \xCE\x9A\xCE\xAD\xCE\xB1 raw utf-8\r\n"
				       "From: \"Caf\xE9\" <a@b.example>\r\n\r\nx\r\n");

	assert_string_equal(m->subject, "Κέα raw utf-8");
	assert_string_equal(m->from_name, "Café");
	message_free(m);
}

static void test_mime_date_with_zone(void **state)
{
	struct message *m = decode_file("031-cyclades-iouni-minus0400.eml");

	assert_int_equal(m->date.year, 2026);
	assert_int_equal(m->date.month, 5);
	assert_int_equal(m->date.day, 28);
	assert_int_equal(m->date.hour, 6);
	assert_int_equal(m->date.minute, 15);
	assert_int_equal(m->date.second, 22);
	assert_int_equal(m->date.tz_offset_min, -240);
	message_free(m);
	m = decode_str("Date: Mon, 1 Jun 26 09:12:03 +0530\r\n\r\nx\r\n");
	assert_int_equal(m->date.year, 2026);
	assert_int_equal(m->date.tz_offset_min, 330);
	message_free(m);
}

static void test_mime_date_formats_libetpan_refuses(void **state)
{
	static const struct {
		const char *value;
		int year, month, day, hour, minute, zone;
	} cases[] = {
	    {"2026-06-01T10:05:00+03:00", 2026, 6, 1, 10, 5, 180},
	    {"2026-06-01 10:05", 2026, 6, 1, 10, 5, 0},
	    {"Monday, 1 June 2026 10:05:00 +0300", 2026, 6, 1, 10, 5, 180},
	    {"Mon, 1 Sept 2026 10:05 EEST", 2026, 9, 1, 10, 5, 180},
	    {"\xCE\x94\xCE\xB5\xCF\x85, 1 Jun 2026 10:05 -04:30", 2026, 6, 1, 10, 5, -270},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char raw[256];
		struct message *m;

		snprintf(raw, sizeof(raw), "Date: %s\r\n\r\nx\r\n", cases[i].value);
		m = decode_str(raw);
		assert_true(m->has_date);
		assert_int_equal(m->date.year, cases[i].year);
		assert_int_equal(m->date.month, cases[i].month);
		assert_int_equal(m->date.day, cases[i].day);
		assert_int_equal(m->date.hour, cases[i].hour);
		assert_int_equal(m->date.minute, cases[i].minute);
		assert_int_equal(m->date.tz_offset_min, cases[i].zone);
		message_free(m);
	}
}

static void test_mime_missing_date(void **state)
{
	struct message *m = decode_str("Subject: no date\r\n\r\nbody\r\n");

	assert_false(m->has_date);
	assert_true(m->warnings & MESSAGE_WARN_NO_DATE);
	message_free(m);
	m = decode_str("Date: next Saturday\r\n\r\nbody\r\n");
	assert_false(m->has_date);
	assert_true(m->warnings & MESSAGE_WARN_NO_DATE);
	message_free(m);
}

/* ---- body choice ---- */

static const char alt_head[] = "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
			       "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
static const char alt_html[] = "\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
			       "<p>Saturday 5 July</p><table><tr><td>09:00</td><td>Fleves</td></tr>"
			       "</table><!-- DIVEMAP_METADATA: diving_center_id=3 -->\r\n--b--\r\n";

static struct message *decode_alternative(const char *plain)
{
	struct buf b = BUF_INIT(BUF_MAX_SMALL);
	struct message *m;

	assert_int_equal(buf_printf(&b, "%s%s%s", alt_head, plain, alt_html), 0);
	m = decode_ok(b.data, b.len, NULL);
	buf_done(&b);
	return m;
}

static void test_mime_stub_plain_uses_html(void **state)
{
	static const char *const stubs[] = {
	    "",
	    "View this email in your browser: https://example.org/x\r\n",
	    "Your email client does not support HTML. View it in your browser.\r\n",
	    "\xCE\x94\xCE\xB5\xCE\xAF\xCF\x84\xCE\xB5 \xCE\xB1\xCF\x85\xCF\x84\xCF\x8C "
	    "\xCF\x84\xCE\xBF "
	    "email \xCF\x83\xCF\x84\xCE\xBF\xCE\xBD browser\r\nhttps://example.org/x\r\n",
	};

	for (size_t i = 0; i < ELEMENTSOF(stubs); i++) {
		struct message *m = decode_alternative(stubs[i]);

		assert_string_equal(m->text_type, "text/html");
		assert_true(m->warnings & MESSAGE_WARN_HTML_ONLY);
		assert_string_equal(m->text, "Saturday 5 July\n\n09:00 | Fleves\n");
		assert_int_equal(m->diving_center_id, 3);
		message_free(m);
	}
}

static void test_mime_real_plain_preferred(void **state)
{
	struct message *m =
	    decode_alternative("Saturday 5 July, 09:00 Fleves, meet at the shop.\r\n");

	assert_string_equal(m->text_type, "text/plain");
	assert_string_equal(m->text, "Saturday 5 July, 09:00 Fleves, meet at the shop.\n");
	assert_int_equal(m->diving_center_id, 3); /* found in the HTML alternative */
	assert_int_equal(m->warnings & MESSAGE_WARN_HTML_ONLY, 0);
	message_free(m);
}

static void test_mime_attachments_skipped(void **state)
{
	struct message *m = decode_file("030-larnaca-night-dive-ics.eml");

	assert_null(strstr(m->text, "BEGIN:VCALENDAR"));
	assert_null(strstr(m->text, "QkVHSU46"));
	message_free(m);
	m = decode_file("006-cyclades-kea-poster.eml");
	assert_null(strstr(m->text, "iVBOR"));
	message_free(m);
}

static void test_mime_no_text_part(void **state)
{
	struct message *m =
	    decode_str("Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		       "iVBORw0KGgo=\r\n");

	assert_string_equal(m->text, "");
	assert_int_equal(m->text_len, 0);
	message_free(m);
}

/* ---- hostile input ---- */

static void test_mime_boundary_quote_refused(void **state)
{
	/* crashes libetpan 1.9.4's mailmime_parse (heap overflow) if passed on */
	static const char *const raws[] = {
	    "Content-Type: multipart/mixed; boundary=\"\\\"\"\r\n\r\n--\"\r\nx\r\n",
	    "Content-Type: multipart/mixed;\r\n boundary=\"\\\"\"\r\n\r\nx\r\n",
	    "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\nx\r\n",
	    "Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--a\r\n"
	    "Content-type : multipart/alternative; BOUNDARY=\"\\\"\"\r\n\r\nx\r\n--a--\r\n",
	};

	for (size_t i = 0; i < ELEMENTSOF(raws); i++)
		assert_decode_fails(raws[i], strlen(raws[i]), NULL, -EBADMSG);
}

static void build_nested(struct buf *b, unsigned depth)
{
	assert_int_equal(buf_puts(b, "Date: Mon, 1 Jun 2026 10:00:00 +0300\r\n"), 0);
	for (unsigned i = 0; i < depth; i++)
		assert_int_equal(
		    buf_printf(b,
			       "Content-Type: multipart/mixed; boundary=\"b%u\"\r\n\r\n--b%u\r\n",
			       i, i),
		    0);
	assert_int_equal(buf_puts(b, "Content-Type: text/plain\r\n\r\ninnermost text\r\n"), 0);
	for (unsigned i = depth; i-- > 0;)
		assert_int_equal(buf_printf(b, "--b%u--\r\n", i), 0);
}

static void test_mime_nested_limit(void **state)
{
	struct buf b = BUF_INIT(BUF_MAX_MESSAGE);
	struct message *m;
	clock_t t0 = clock();

	build_nested(&b, 10000);
	assert_decode_fails(b.data, b.len, NULL, -EBADMSG);
	assert_true(clock() - t0 < 10 * CLOCKS_PER_SEC);
	buf_reset(&b);
	build_nested(&b, 20); /* within the limit */
	m = decode_ok(b.data, b.len, NULL);
	assert_string_equal(m->text, "innermost text");
	message_free(m);
	buf_done(&b);
}

static void test_mime_part_limit(void **state)
{
	struct decode_limits lim = {.max_parts = 50};
	struct buf b = BUF_INIT(BUF_MAX_MESSAGE);
	struct message *m;

	assert_int_equal(buf_puts(&b, "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n"), 0);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(
		    buf_printf(&b, "--p\r\nContent-Type: text/plain\r\n\r\npart %u\r\n", i), 0);
	assert_int_equal(buf_puts(&b, "--p--\r\n"), 0);
	m = decode_ok(b.data, b.len, &lim);
	assert_true(m->warnings & MESSAGE_WARN_TRUNCATED);
	assert_contains(m->text, "part 0\n");
	assert_null(strstr(m->text, "part 999"));
	message_free(m);
	buf_done(&b);
}

static void test_mime_size_limit(void **state)
{
	size_t len = 50u << 20;
	char *raw = malloc(len);

	assert_non_null(raw);
	memcpy(raw, "Subject: one line\r\n\r\n", 21);
	memset(raw + 21, 'x', len - 21); /* a 50 MB single line */
	assert_decode_fails(raw, len, NULL, -EFBIG);
	free(raw);
}

static void test_mime_long_line_broken_and_text_cut(void **state)
{
	struct decode_limits lim = {.max_line = 1000, .max_text = 100000};
	size_t len = 3u << 20;
	char *raw = malloc(len);
	struct message *m;
	size_t line = 0, longest = 0;

	assert_non_null(raw);
	memcpy(raw, "Subject: one line\r\n\r\n", 21);
	memset(raw + 21, 'y', len - 21);
	m = decode_ok(raw, len, &lim);
	assert_true(m->warnings & MESSAGE_WARN_TRUNCATED);
	for (size_t i = 0; i < m->text_len; i++, line++) {
		if (m->text[i] == '\n')
			line = 0;
		if (line > longest)
			longest = line;
	}
	assert_true(longest <= 1000);
	assert_true(m->text_len <= 100000 + 100000 / 1000 + 1);
	message_free(m);
	free(raw);
}

static void test_mime_nul_bytes(void **state)
{
	static const char raw[] = "Subject: a\0b\r\nFrom: x@y.example\r\n\r\nhello\0world\r\n";
	struct message *m = decode_ok(raw, sizeof(raw) - 1, NULL);

	assert_string_equal(m->text, "hello\xEF\xBF\xBDworld\n");
	assert_true(m->warnings & MESSAGE_WARN_BAD_UTF8);
	message_free(m);
}

static void test_mime_garbage_never_crashes(void **state)
{
	unsigned seed = 12345;
	char raw[4096];

	for (unsigned round = 0; round < 300; round++) {
		struct message *m = NULL;
		char *reason = NULL;
		size_t len = 64 + round * 13 % 4000;
		int r;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			raw[i] = "Content-Type: multipart/mixed; boundary=\"=?\r\n--:;\\x\0\xFF"
			    [(seed >> 16) % 52];
		}
		r = mime_decode(raw, len, NULL, &m, &reason);
		assert_true(r == 0 || r == -EBADMSG);
		assert_true((r == 0) == (m != NULL));
		assert_true((r == 0) == (reason == NULL));
		if (m)
			assert_message_sane(m);
		message_free(m);
		free(reason);
	}
}

static void test_mime_message_free_null(void **state)
{
	assert_null(message_free(NULL));
}

static void test_mime_warning_names(void **state)
{
	assert_string_equal(mime_decode_warning_name(MESSAGE_WARN_UNKNOWN_CHARSET),
			    "unknown_charset");
	assert_string_equal(mime_decode_warning_name(MESSAGE_WARN_BAD_UTF8), "bad_utf8");
	assert_string_equal(mime_decode_warning_name(MESSAGE_WARN_NO_DATE), "no_date");
	assert_string_equal(mime_decode_warning_name(MESSAGE_WARN_TRUNCATED), "truncated");
	assert_string_equal(mime_decode_warning_name(MESSAGE_WARN_HTML_ONLY), "html_only");
	assert_null(mime_decode_warning_name((enum message_warning)(1 << 20)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mime_corpus_key_phrases),
	    cmocka_unit_test(test_mime_corpus_every_file_decodes),
	    cmocka_unit_test(test_mime_forward_decodes_inner_newsletter),
	    cmocka_unit_test(test_mime_forward_inner_without_date_keeps_outer),
	    cmocka_unit_test(test_mime_forward_empty_inner_uses_outer),
	    cmocka_unit_test(test_mime_inline_forward_is_plain_text),
	    cmocka_unit_test(test_mime_charset_iso88597_qp),
	    cmocka_unit_test(test_mime_charset_iso88597_base64),
	    cmocka_unit_test(test_mime_charset_windows1253),
	    cmocka_unit_test(test_mime_charset_greek_mislabel),
	    cmocka_unit_test(test_mime_charset_aliases),
	    cmocka_unit_test(test_mime_charset_latin),
	    cmocka_unit_test(test_mime_charset_unknown),
	    cmocka_unit_test(test_mime_qp_soft_break_inside_word),
	    cmocka_unit_test(test_mime_base64_truncated),
	    cmocka_unit_test(test_mime_invalid_utf8_repaired),
	    cmocka_unit_test(test_mime_flowed_unwrapped),
	    cmocka_unit_test(test_mime_rfc2047_b_and_q),
	    cmocka_unit_test(test_mime_rfc2047_split_character),
	    cmocka_unit_test(test_mime_raw_8bit_header),
	    cmocka_unit_test(test_mime_date_with_zone),
	    cmocka_unit_test(test_mime_date_formats_libetpan_refuses),
	    cmocka_unit_test(test_mime_missing_date),
	    cmocka_unit_test(test_mime_stub_plain_uses_html),
	    cmocka_unit_test(test_mime_real_plain_preferred),
	    cmocka_unit_test(test_mime_attachments_skipped),
	    cmocka_unit_test(test_mime_no_text_part),
	    cmocka_unit_test(test_mime_boundary_quote_refused),
	    cmocka_unit_test(test_mime_nested_limit),
	    cmocka_unit_test(test_mime_part_limit),
	    cmocka_unit_test(test_mime_size_limit),
	    cmocka_unit_test(test_mime_long_line_broken_and_text_cut),
	    cmocka_unit_test(test_mime_nul_bytes),
	    cmocka_unit_test(test_mime_garbage_never_crashes),
	    cmocka_unit_test(test_mime_message_free_null),
	    cmocka_unit_test(test_mime_warning_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
