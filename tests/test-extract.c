/* Unit tests of the extractor (parsers/extract*.c) with the packaged rules:
 * times, prices, structure and the traps (descriptors, cancellations,
 * recaps, quotes, courses), in Greek and English. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cleanup.h"
#include "extract.h"
#include "rules.h"

static struct rules *rules;

/* A few sites, as names and inflected forms; compared ignoring case and accents. */
static const struct {
	const char *name;
	int id;
} sites[] = {
    {"ν. Ποθητός", 1},
    {"Ποθητός", 1},
    {"Ποθητό", 1},
    {"ποθητο", 1},
    {"Ποθητού", 1},
    {"Άκρα Καταφυγή", 2},
    {"Ποντικονήσι", 5},
    {"Ναυάγιο Oria", 6},
    {"Ναυάγιο Κυρά Λένη", 7},
    {"ναυάγιο Πατρίς", 8},
    {"Αρζεντά", 10},
    {"Πατρόκλου", 16},
    {"Πάτροκλο", 16},
    {"Zenobia", 24},
    {"Blue Hole", 25},
    {"Inland Sea", 26},
    {"Cathedral Cave", 28},
    {"Kimon Bay", 29},
    {"Liberty Wreck", 30},
    {"Μαρίνα", 32}, /* a prefix match of Αγία Μαρίνα */
    /* the alias index forgives a word too many; so does this table, once */
    {"πρωί Ποντικονήσι", 5},
};

static int resolve(void *userdata, const char *name, int *ret_id)
{
	_cleanup_free_ char *f = rules_fold(name, strlen(name));
	int *calls = userdata;

	(*calls)++;
	for (size_t i = 0; i < ELEMENTSOF(sites); i++) {
		_cleanup_free_ char *g = rules_fold(sites[i].name, strlen(sites[i].name));
		if (f && g && strcmp(f, g) == 0) {
			*ret_id = sites[i].id;
			return 0;
		}
	}
	return -ENOENT;
}

static struct extract_result *run_subject(const char *text, const char *subject, int y, int m,
					  int d)
{
	static int calls;
	struct extract_input in = {.text = text,
				   .len = strlen(text),
				   .subject = subject,
				   .ref = {y, m, d},
				   .resolve_site = resolve,
				   .userdata = &calls};
	struct extract_result *r = NULL;
	char *err = NULL;

	assert_int_equal(extract_run(rules, &in, &r, &err), 0);
	assert_null(err);
	return r;
}

static struct extract_result *run(const char *text, int y, int m, int d)
{
	return run_subject(text, "Newsletter", y, m, d);
}

static void assert_date(const struct extract_trip *t, const char *want)
{
	char buf[11];

	dates_format(t->date, buf);
	assert_string_equal(buf, want);
}

static int setup(void **state)
{
	const char *top = getenv("top_srcdir");
	_cleanup_free_ char *dir = NULL;
	char *err = NULL;

	assert_true(asprintf(&dir, "%s/rules", top ? top : ".") > 0);
	assert_int_equal(rules_load(dir, NULL, &rules, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	rules = rules_free(rules);
	return 0;
}

static const char greek_program[] = "Καλημέρα!\n"
				    "\n"
				    "ΚΥΡΙΑΚΗ 31 ΑΥΓΟΥΣΤΟΥ\n"
				    "08:45 Ναυάγιο Κυρά Λένη\n"
				    "11:30 Αρζεντά\n"
				    "Διάρκεια: 4 ώρες\n"
				    "Μέχρι 6 άτομα\n"
				    "Αναχώρηση από τη Μαρίνα Λαυρίου.\n"
				    "Απαιτείται AOWD\n"
				    "Κόστος: 48,50 ευρώ (ενοικίαση εξοπλισμού +15€)\n"
				    "\n"
				    "Καλές βουτιές!\n";

static void test_extract_greek_program_lines(void **state)
{
	struct extract_result *r = run(greek_program, 2025, 8, 20);
	const struct extract_trip *t;

	assert_int_equal(r->n_trips, 1);
	t = &r->trips[0];
	assert_date(t, "2025-08-31");
	assert_int_equal(t->time, 8 * 60 + 45);
	assert_int_equal(t->duration, 240);
	assert_int_equal(t->group_size, 6);
	assert_true(t->has_price);
	assert_true(t->price == 48.5);
	assert_string_equal(t->currency, "EUR");
	assert_string_equal(t->difficulty, "ADVANCED_OPEN_WATER");
	assert_non_null(t->special_requirements);
	assert_int_equal(t->n_dives, 2);
	assert_int_equal(t->dives[0].number, 1);
	assert_int_equal(t->dives[0].site_id, 7);
	assert_int_equal(t->dives[0].time, 8 * 60 + 45);
	assert_int_equal(t->dives[1].site_id, 10);
	assert_string_equal(t->dives[1].site_name, "Αρζεντά");
	assert_int_equal(t->dives[1].time, 11 * 60 + 30);
	assert_int_equal(t->dives[1].duration, -1);
	assert_string_equal(t->dives[1].description, "11:30 Αρζεντά");
	/* every value knows where it came from */
	assert_memory_equal(greek_program + t->price_span.start, "48,50 ευρώ",
			    t->price_span.end - t->price_span.start);
	assert_non_null(t->price_span.rule_id);
	assert_memory_equal(greek_program + t->dives[0].site_span.start, "Ναυάγιο Κυρά Λένη",
			    strlen("Ναυάγιο Κυρά Λένη"));
	extract_result_free(r);
}

static void test_extract_english_double_dive_weekday_alone(void **state)
{
	struct extract_result *r =
	    run("Hi all,\n\n"
		"This Saturday we go for a double dive at the Blue Hole. Meet 8am "
		"at the shop, EUR 50 pp.\n"
		"Open Water minimum.\n",
		2026, 7, 22);

	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2026-07-25");
	assert_int_equal(r->trips[0].time, 8 * 60);
	assert_true(r->trips[0].price == 50);
	assert_string_equal(r->trips[0].difficulty, "OPEN_WATER");
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].site_id, 25);
	assert_int_equal(r->trips[0].dives[1].site_id, 25);
	assert_int_equal(r->trips[0].dives[1].number, 2);
	assert_int_equal(r->trips[0].dives[0].time, -1); /* the meeting time is no dive's */
	extract_result_free(r);
}

static void test_extract_two_places_one_dive_each(void **state)
{
	struct extract_result *r =
	    run("Sunday 2 August – Kimon Bay and Liberty Wreck\n"
		"Meet 09:00. €40.\n"
		"\n"
		"Την Κυριακή 9/8 πάμε στον Ποθητό και στο Ποντικονήσι, ραντεβού "
		"9:00, 40€.\n",
		2026, 7, 22);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].site_id, 29);
	assert_int_equal(r->trips[0].dives[1].site_id, 30);
	assert_date(&r->trips[1], "2026-08-09");
	assert_int_equal(r->trips[1].n_dives, 2);
	assert_int_equal(r->trips[1].dives[0].site_id, 1);
	assert_int_equal(r->trips[1].dives[1].site_id, 5);
	extract_result_free(r);
}

static void test_extract_table_row_is_a_trip(void **state)
{
	struct extract_result *r =
	    run("Winter dates:\n"
		"Date | Meet | Dive site(s) | Level | Price\n"
		"Sat 29/08 | 09:30 | Cathedral Cave + Blue Hole | Open Water | €60\n"
		"Sun 30/08 | 10:00 | Inland Sea | Advanced | €35\n"
		"All prices include tanks.\n",
		2026, 8, 20);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2026-08-29");
	assert_int_equal(r->trips[0].time, 9 * 60 + 30);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].site_id, 28);
	assert_int_equal(r->trips[0].dives[1].site_id, 25);
	assert_int_equal(r->trips[0].dives[0].time, -1); /* the Meet column */
	assert_string_equal(r->trips[0].difficulty, "OPEN_WATER");
	assert_null(r->trips[0].special_requirements); /* a level, not a requirement */
	assert_true(r->trips[1].price == 35);
	assert_string_equal(r->trips[1].difficulty, "ADVANCED_OPEN_WATER");
	assert_int_equal(r->trips[1].n_dives, 1);
	extract_result_free(r);
}

static void test_extract_table_columns_give_numbers_their_meaning(void **state)
{
	struct extract_result *r = run("Date | Dive site | Meet | Price (€) | Spots\n"
				       "Sat 7/3 | Zenobia (2 dives) | 08:00 | 60 | 3\n"
				       "Sat 14/3 | Canyon Reef | 09:30 | 45,50 | 6\n",
				       2026, 3, 2);

	assert_int_equal(r->n_trips, 2);
	assert_true(r->trips[0].price == 60);
	assert_string_equal(r->trips[0].currency, "EUR");
	assert_int_equal(r->trips[0].group_size, 3);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_true(r->trips[1].price == 45.5);
	assert_int_equal(r->trips[1].group_size, 6);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].site_id, 0); /* named by the column, unknown */
	assert_string_equal(r->trips[1].dives[0].site_name, "Canyon Reef");
	assert_string_equal(r->trips[1].price_span.rule_id, "c.header.price");
	extract_result_free(r);
}

static void test_extract_location_descriptors_are_no_dives(void **state)
{
	struct extract_result *r =
	    run("* Κυριακή 24/8 - Ναυάγιο Oria, βόρεια του Πατρόκλου\n"
		"  Συνάντηση 10.00. Τιμή 40 ευρώ.\n"
		"\n"
		"Το Σάββατο 30 Αυγούστου τεχνική κατάδυση στο ναυάγιο Πατρίς στον Πάτροκλο.\n"
		"Ραντεβού 07:30, κόστος 70€, μόνο με πιστοποίηση Trimix.\n"
		"\n"
		"Sunday 31 August - the Zenobia, near Kimon Bay. Meet 8:00, €50.\n",
		2025, 8, 20);

	assert_int_equal(r->n_trips, 3);
	assert_int_equal(r->trips[0].n_dives, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 6);
	assert_int_equal(r->trips[0].time, 10 * 60);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].site_id, 8);
	assert_string_equal(r->trips[1].difficulty, "TECHNICAL_DIVING");
	assert_int_equal(r->trips[2].n_dives, 1);
	assert_int_equal(r->trips[2].dives[0].site_id, 24);
	extract_result_free(r);
}

static void test_extract_cancelled_and_postponed(void **state)
{
	struct extract_result *r =
	    run("- Η βουτιά του Σαββάτου 23/8 στον Ποθητό ακυρώνεται.\n"
		"- Η βουτιά στο Ποντικονήσι της Κυριακής 24/8 μεταφέρεται για την\n"
		"  Κυριακή 31/8, ίδια ώρα (09:00) και ίδια τιμή (45€).\n"
		"\n"
		"Bad news: Saturday's trip to the Blue Hole is cancelled.\n",
		2025, 8, 20);

	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2025-08-31");
	assert_int_equal(r->trips[0].time, 9 * 60);
	assert_int_equal(r->trips[0].n_dives, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 5);
	extract_result_free(r);
}

static void test_extract_no_trip_in_recaps_quotes_courses_sales(void **state)
{
	struct extract_result *r = run(
	    "On Saturday 16 August we had 12 divers on the Zenobia, great visibility!\n"
	    "\n"
	    "> Σάββατο 30 Αυγούστου\n"
	    "> 9:00 ν. Ποθητός\n"
	    "> Τιμή: 45€\n"
	    "\n"
	    "ΝΕΟ ΤΜΗΜΑ ADVANCED: ξεκινά το Σάββατο 6 Σεπτεμβρίου στο Ποντικονήσι, κόστος 320€.\n"
	    "\n"
	    "Black Friday: Ρυθμιστής 520€ → 399€, έως Κυριακή 30 Νοεμβρίου.\n",
	    2025, 8, 20);

	assert_int_equal(r->n_trips, 0);
	extract_result_free(r);
}

static void test_extract_tomorrow_and_colloquial_time(void **state)
{
	struct extract_result *r =
	    run("[12/9/25, 21:14] Νίκος: αυριο παμε ποθητο κ ποντικονησι\n"
		"[12/9/25, 21:15] Νίκος: ραντεβου 8 παρα τεταρτο στο λιμανι, 40€ με φιαλες\n",
		2025, 9, 12);

	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2025-09-13");
	assert_int_equal(r->trips[0].time, 7 * 60 + 45);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[1].site_id, 5);
	extract_result_free(r);
}

static void test_extract_weekday_mismatch_warns(void **state)
{
	/* 23 August 2025 is a Saturday */
	struct extract_result *r =
	    run("Παρασκευή 23 Αυγούστου – ν. Ποθητός, ραντεβού 9:00, 45€\n", 2025, 8, 20);

	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2025-08-23");
	assert_int_equal(r->n_warnings, 1);
	assert_non_null(strstr(r->warnings[0], "weekday"));
	extract_result_free(r);
}

static void test_extract_unstated_values_are_unset(void **state)
{
	struct extract_result *r = run("Sunday 24 August\n"
				       "1st dive: Foo Reef\n"
				       "2nd dive: Blue Hole\n",
				       2025, 8, 20);

	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].time, -1);
	assert_int_equal(r->trips[0].duration, -1);
	assert_int_equal(r->trips[0].group_size, -1);
	assert_false(r->trips[0].has_price);
	assert_null(r->trips[0].difficulty);
	assert_null(r->trips[0].special_requirements);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].site_id, 0);
	assert_string_equal(r->trips[0].dives[0].site_name, "Foo Reef");
	assert_int_equal(r->trips[0].dives[1].site_id, 25);
	extract_result_free(r);
}

static void test_extract_lowest_price_without_extras(void **state)
{
	struct extract_result *r = run("Σάββατο 30/8 – Αρζεντά\n"
				       "ραντεβού 8.30, 40€ (nitrox +6€), 35€ για μέλη\n"
				       "Ενοικίαση εξοπλισμού 15€.\n",
				       2025, 8, 20);

	assert_int_equal(r->n_trips, 1);
	assert_true(r->trips[0].price == 35);
	assert_int_equal(r->trips[0].time, 8 * 60 + 30);
	extract_result_free(r);
}

static void test_extract_every_trip_ranges_and_bare_days(void **state)
{
	struct extract_result *r =
	    run("Σάββατο 5 και Κυριακή 6 Σεπτεμβρίου – Αρζεντά, διπλή βουτιά\n"
		"Ραντεβού 08:15, 40-50€.\n"
		"\n"
		"Sunday 9am we meet again for the Zenobia, EUR 45.\n"
		"\n"
		"Max 8 divers per day, reply to book.\n",
		2025, 8, 28);

	assert_int_equal(r->n_trips, 3);
	assert_date(&r->trips[0], "2025-09-05");
	assert_date(&r->trips[1], "2025-09-06");
	assert_true(r->trips[0].price == 40);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[1].dives[1].site_id, 10);
	/* "Sunday 9am" is a weekday and a time, not the 9th */
	assert_date(&r->trips[2], "2025-08-31");
	assert_int_equal(r->trips[2].time, 9 * 60);
	for (size_t i = 0; i < r->n_trips; i++)
		assert_int_equal(r->trips[i].group_size, 8);
	extract_result_free(r);
}

static void test_extract_dive_times_are_only_the_dives(void **state)
{
	struct extract_result *r =
	    run("Το Σάββατο 21/3 θα βουτήξουμε στον Ποθητό (1η βουτιά, 9:30) και στο "
		"Ποντικονήσι (2η βουτιά, 12:00). Συνάντηση 8:45 στη μαρίνα. Κόστος 50€.\n"
		"\n"
		"Κυριακή 22 Μαρτίου, 09:00 – Αρζεντά (45€)\n",
		2026, 3, 16);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].time, 8 * 60 + 45); /* the meeting time */
	assert_int_equal(r->trips[0].dives[0].time, 9 * 60 + 30);
	assert_int_equal(r->trips[0].dives[1].time, 12 * 60);
	/* the one time after the date of a line is the trip's */
	assert_int_equal(r->trips[1].time, 9 * 60);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].time, -1);
	extract_result_free(r);
}

static void test_extract_one_line_several_trips(void **state)
{
	struct extract_result *r =
	    run("Σάββατο 5/7 Ποθητός ακυρώνεται, Κυριακή 6/7 Ποντικονήσι κανονικά στις 9:30, 40€.\n"
		"\n"
		"Saturday 12 July – Zenobia (€50); Sunday 13 July – Kimon Bay (€40).\n",
		2025, 7, 2);

	assert_int_equal(r->n_trips, 3);
	assert_date(&r->trips[0], "2025-07-06");
	assert_int_equal(r->trips[0].n_dives, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 5);
	assert_int_equal(r->trips[0].time, 9 * 60 + 30);
	assert_date(&r->trips[1], "2025-07-12");
	assert_true(r->trips[1].price == 50);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].site_id, 24);
	assert_date(&r->trips[2], "2025-07-13");
	assert_true(r->trips[2].price == 40);
	assert_int_equal(r->trips[2].dives[0].site_id, 29);
	extract_result_free(r);
}

static void test_extract_weekdays_fall_in_the_subject_dates(void **state)
{
	static const char text[] = "Σάββατο: Ποθητός, ραντεβού 7:00, 120€.\n"
				   "\n"
				   "Κυριακή: Αρζεντά, ραντεβού 10:00, 60€.\n";
	struct extract_result *r = run_subject(text, "Λαύριο 6-7/9", 2025, 8, 25);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2025-09-06");
	assert_date(&r->trips[1], "2025-09-07");
	extract_result_free(r);
	/* without dates in the subject: the first such day after the message's */
	r = run_subject(text, "Σαββατοκύριακο", 2025, 8, 25);
	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2025-08-30");
	assert_date(&r->trips[1], "2025-08-31");
	extract_result_free(r);
}

static void test_extract_clock_forms(void **state)
{
	static const struct {
		const char *text;
		int minutes;
	} t[] = {
	    {"Σάββατο 6/9 Ποθητός, ραντεβού 8 και μισή, 40€.\n", 8 * 60 + 30},
	    {"Σάββατο 6/9 Ποθητός, ραντεβού στις 7 το απόγευμα, 40€.\n", 19 * 60},
	    {"Σάββατο 6/9 Ποθητός, ραντεβού 9πμ, 40€.\n", 9 * 60},
	    {"Σάββατο 6/9 Ποθητός, αναχώρηση 0930, 40€.\n", 9 * 60 + 30},
	    {"Saturday 6 September: Blue Hole, meet at half past 8, €40.\n", 8 * 60 + 30},
	    {"Saturday 6 September: Blue Hole, meet 6:45 pm, €40.\n", 18 * 60 + 45},
	    {"Saturday 6 September: Blue Hole at noon, €40.\n", 12 * 60},
	    {"Saturday 6 September: Blue Hole, meet 09.15, back by 14:00, €40.\n", 9 * 60 + 15},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct extract_result *r = run(t[i].text, 2025, 9, 1);
		assert_int_equal(r->n_trips, 1);
		if (r->trips[0].time != t[i].minutes)
			fail_msg("'%s': %d", t[i].text, r->trips[0].time);
		extract_result_free(r);
	}
}

/* A weekday, a month and a day are a full date, also before a colon. */
static void test_extract_weekday_month_day(void **state)
{
	struct extract_result *r =
	    run("Friday September 5: night dive at the Blue Hole, meet 20:00, €40.\n"
		"\n"
		"Thursday October 2\n"
		"Kimon Bay, meet 9:00, €35.\n",
		2025, 8, 28);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2025-09-05");
	assert_int_equal(r->trips[0].time, 20 * 60);
	assert_int_equal(r->trips[0].dives[0].site_id, 25);
	assert_date(&r->trips[1], "2025-10-02");
	extract_result_free(r);
}

/* A stated lowest or only certification is a requirement, not just a level. */
static void test_extract_required_certification_forms(void **state)
{
	static const struct {
		const char *text, *level;
	} t[] = {
	    {"Saturday 6 September: Blue Hole, meet 9:00, €40. Advanced divers only.\n",
	     "ADVANCED_OPEN_WATER"},
	    {"Saturday 6 September: Blue Hole, meet 9:00, €40. Deep Diver or higher.\n",
	     "DEEP_NITROX"},
	    {"Saturday 6 September: Blue Hole, meet 9:00, €40. Exclusively for Trimix divers.\n",
	     "TECHNICAL_DIVING"},
	    {"Σάββατο 6/9 Ποθητός, ραντεβού 9:00, 40€. Αποκλειστικά για δύτες Nitrox.\n",
	     "DEEP_NITROX"},
	    {"Σάββατο 6/9 Ποθητός, ραντεβού 9:00, 40€. Normoxic Trimix και άνω.\n",
	     "TECHNICAL_DIVING"},
	    {"Σάββατο 6/9 Ποθητός, ραντεβού 9:00, 40€. AOWD ή ανώτερο δίπλωμα.\n",
	     "ADVANCED_OPEN_WATER"},
	    {"Saturday 6 September: Blue Hole, meet 9:00, €40. AOWD+\n", "ADVANCED_OPEN_WATER"},
	};
	struct extract_result *r;

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		r = run(t[i].text, 2025, 9, 1);
		assert_int_equal(r->n_trips, 1);
		if (!r->trips[0].difficulty || strcmp(r->trips[0].difficulty, t[i].level) != 0 ||
		    !r->trips[0].special_requirements)
			fail_msg("'%s': %s / %s", t[i].text, r->trips[0].difficulty,
				 r->trips[0].special_requirements);
		extract_result_free(r);
	}
	/* a price for nitrox is no certification */
	r = run("Saturday 6 September: Blue Hole, meet 9:00, €40, nitrox+5€\n", 2025, 9, 1);
	assert_int_equal(r->n_trips, 1);
	assert_null(r->trips[0].special_requirements);
	extract_result_free(r);
}

/* "max 6" with no noun after it is the group size; with a unit it is not. */
static void test_extract_bare_max_is_places(void **state)
{
	struct extract_result *r = run("Σάββατο 6/9 Ποθητός, 8:30 – 45€ – μέγ. 7\n"
				       "\n"
				       "Sunday 7 September: Blue Hole, 9:00, €40, max 5\n"
				       "\n"
				       "Monday 8 September: Kimon Bay, 9:00, €40, max 30m depth\n"
				       "\n"
				       "Τρίτη 9/9: Αρζεντά, 9:00, 40€, βάθος max 24\n",
				       2025, 9, 1);

	assert_int_equal(r->n_trips, 4);
	assert_int_equal(r->trips[0].group_size, 7);
	assert_int_equal(r->trips[1].group_size, 5);
	assert_int_equal(r->trips[2].group_size, -1);
	assert_int_equal(r->trips[3].group_size, -1);
	extract_result_free(r);
}

static void test_extract_hostile_texts(void **state)
{
	struct extract_result *r;
	char *big;

	/* ten dates on one line: ten trips, not an error */
	r = run(
	    "Dates: 5/7, 12/7, 19/7, 26/7, 2/8, 9/8, 16/8, 23/8, 30/8, 6/9 – Ποθητός, 9:00, 40€\n",
	    2025, 7, 1);
	assert_int_equal(r->n_trips, 10);
	extract_result_free(r);
	/* nothing, bad bytes */
	r = run("", 2025, 7, 1);
	assert_int_equal(r->n_trips, 0);
	extract_result_free(r);
	r = run("\xff\xfe Σάββατο 12/7 \xc3\x28 Ποθητός 9:00 40€\n", 2025, 7, 1);
	assert_int_equal(r->n_trips, 1);
	extract_result_free(r);
	/* more text and matches than are read: a warning, not a failure */
	big = malloc(600001);
	assert_non_null(big);
	for (size_t i = 0; i < 600000; i += 6)
		memcpy(big + i, "1/1 2 ", 6);
	big[600000] = '\0';
	r = run(big, 2025, 7, 1);
	assert_true(r->n_warnings >= 1);
	assert_non_null(strstr(r->warnings[0], "only the first"));
	extract_result_free(r);
	free(big);
}

/* The place replaced ("αντί για", "instead of") is no dive, also when the
 * phrase wraps onto the next line. */
static void test_extract_replaced_place_is_no_dive(void **state)
{
	struct extract_result *r =
	    run("Σάββατο 6/9: λόγω αέρα πάμε Ποντικονήσι αντί για τον Ποθητό,\n"
		"ραντεβού 9:00, 40€.\n"
		"\n"
		"Sunday 7 September: the sea is calmer at Kimon Bay, so we dive it instead\n"
		"of the Zenobia. Meet 8:30, €45.\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].n_dives, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 5);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].site_id, 29);
	extract_result_free(r);
}

/* "SITE, βουτιά TIME": a time after a site and a dive word is the dive's;
 * the times of a dive count may follow on the next line of a wrapped text. */
static void test_extract_dive_time_after_site_and_wrapped(void **state)
{
	struct extract_result *r =
	    run("Σάββατο 6/9\n"
		"Αρζεντά, πρωινή βουτιά 9πμ. Κόστος 40€.\n"
		"\n"
		"Sunday 7 September\n"
		"Blue Hole, dive at 10:15, €45.\n"
		"\n"
		"Την Κυριακή 14/9 θα κάνουμε δύο βουτιές στον Ποθητό, η πρώτη στις 9:00 και η\n"
		"δεύτερη στις 11:45. Τιμή 50€.\n"
		"\n"
		"Saturday 20 September: Kimon Bay, meet 8:00, €40.\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 4);
	assert_int_equal(r->trips[0].dives[0].time, 9 * 60);
	assert_int_equal(r->trips[1].dives[0].time, 10 * 60 + 15);
	assert_int_equal(r->trips[2].n_dives, 2);
	assert_int_equal(r->trips[2].dives[0].time, 9 * 60);
	assert_int_equal(r->trips[2].dives[1].time, 11 * 60 + 45);
	assert_int_equal(r->trips[3].dives[0].time, -1); /* a meeting time is no dive's */
	extract_result_free(r);
}

/* A name listed with a known site is a dive too, even unknown; a name
 * before a place noun ("Gaios harbour") is where one meets, no dive. */
static void test_extract_listed_unknown_site_and_meeting_place(void **state)
{
	struct extract_result *r = run("Sat 6th Sep – Foo Rock and Blue Hole\n"
				       "8:30 at Kyrenia old harbour, €50.\n"
				       "\n"
				       "Sun 7th Sep – Kimon Bay\n"
				       "9:00 Limassol marina, €40.\n",
				       2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_string_equal(r->trips[0].dives[0].site_name, "Foo Rock");
	assert_int_equal(r->trips[0].dives[0].site_id, 0);
	assert_int_equal(r->trips[0].dives[1].site_id, 25);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].site_id, 29);
	extract_result_free(r);
}

/* Hours in the water are the dive's duration, not the trip's. */
static void test_extract_hours_in_the_water(void **state)
{
	struct extract_result *r =
	    run("Saturday 6 September: night dive at the Blue Hole (roughly 1 hour "
		"underwater), meet 20:00, €40.\n"
		"\n"
		"Κυριακή 7/9: Αρζεντά, περίπου 1,5 ώρα στο νερό, ραντεβού 9:00, "
		"40€. Διάρκεια εξόρμησης 4 ώρες.\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].duration, -1);
	assert_int_equal(r->trips[0].dives[0].duration, 60);
	assert_int_equal(r->trips[1].duration, 240);
	assert_int_equal(r->trips[1].dives[0].duration, 90);
	extract_result_free(r);
}

/* An unknown place is still the trip's dive, by name: a beach, a name that
 * wraps onto the next line, with the time written after it. */
static void test_extract_unknown_place_kept_by_name(void **state)
{
	struct extract_result *r = run("Παρασκευή 15 Αυγούστου: η γιορτινή βουτιά στην παραλία\n"
				       "του Αγίου Νικολάου στις 11:00. Συμμετοχή 5€.\n"
				       "\n"
				       "Saturday 16 August: a shore dive at the wreck of\n"
				       "Foo Bar at 10:00, €20.\n",
				       2025, 8, 1);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].n_dives, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 0);
	assert_string_equal(r->trips[0].dives[0].site_name, "παραλία του Αγίου Νικολάου");
	assert_int_equal(r->trips[0].dives[0].time, 11 * 60);
	assert_true(r->trips[0].price == 5);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_string_equal(r->trips[1].dives[0].site_name, "wreck of Foo Bar");
	assert_int_equal(r->trips[1].dives[0].time, 10 * 60);
	extract_result_free(r);
}

/* "afternoon" holds no noon: the time written after the site is its own. */
static void test_extract_afternoon_is_no_noon(void **state)
{
	struct extract_result *r =
	    run("Sunday 7 September\n"
		"Morning dive at Kimon Bay at 9am, afternoon dive at the Blue Hole at "
		"3pm. €60.\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].time, 9 * 60);
	assert_int_equal(r->trips[0].dives[1].time, 15 * 60);
	extract_result_free(r);
}

/* A day in parentheses after a weekday is the date; "suitable for
 * beginners" is a level. */
static void test_extract_weekday_paren_day_and_beginners(void **state)
{
	struct extract_result *r =
	    run("Next Saturday (13th) dusk dive at Kimon Bay, meet 18:00, €35. "
		"Suitable for beginners.\n"
		"\n"
		"Κυριακή (21) Αρζεντά, ραντεβού 9:00, 40€.\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2025-09-13");
	assert_string_equal(r->trips[0].difficulty, "OPEN_WATER");
	assert_date(&r->trips[1], "2025-09-21");
	extract_result_free(r);
}

/* A double dive at one site: the time written at the site is the first
 * dive's, not the second's too. */
static void test_extract_double_dive_one_time(void **state)
{
	struct extract_result *r = run("Σάββατο 13/9\n"
				       "08:30 Αρζεντά, διπλή βουτιά, 55€\n",
				       2025, 9, 1);

	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].time, 8 * 60 + 30);
	assert_int_equal(r->trips[0].dives[1].time, -1);
	assert_int_equal(r->trips[0].dives[1].site_id, 10);
	extract_result_free(r);
}

/* An unknown place after a heading's date and a colon, or under "Where:",
 * is the trip's dive by name. */
static void test_extract_unknown_place_after_colon(void **state)
{
	struct extract_result *r = run("Πέμπτη 18/9: Σπηλιά του Κύκλωπα, ραντεβού 8:30, 45€.\n"
				       "\n"
				       "When: Saturday 20 September\n"
				       "Where: Coral Garden\n"
				       "Time: 9:30\n"
				       "Cost: 40 EUR\n",
				       2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_string_equal(r->trips[0].dives[0].site_name, "Σπηλιά του Κύκλωπα");
	assert_int_equal(r->trips[0].dives[0].site_id, 0);
	assert_date(&r->trips[1], "2025-09-20");
	assert_string_equal(r->trips[1].dives[0].site_name, "Coral Garden");
	assert_int_equal(r->trips[1].time, 9 * 60 + 30);
	extract_result_free(r);
}

/* Names listed after a known site are dives even unknown; one ending in a
 * place noun ("Vathi Harbour") is not. */
static void test_extract_list_after_known_site(void **state)
{
	struct extract_result *r = run("SAT 13 SEP | KIMON BAY + SHARK POINT | 08:30 | €60\n"
				       "\n"
				       "Κυριακή 14/9: Αρζεντά και Vathi Harbour, 9:00, 40€\n",
				       2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].site_id, 29);
	assert_string_equal(r->trips[0].dives[1].site_name, "SHARK POINT");
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].site_id, 10);
	extract_result_free(r);
}

/* d.m dates without a year where no clock time reads so; "two-tank dive". */
static void test_extract_dotted_dates_and_tanks(void **state)
{
	struct extract_result *r = run("27.9 – Αρζεντά – 9:00 – 40€\n"
				       "\n"
				       "Sunday 28.9: Blue Hole, two-tank dive, meet 8:00, €55\n"
				       "\n"
				       "Τρίτη 30/9\n"
				       "10.05 – Ποθητός\n"
				       "40€\n",
				       2025, 9, 1);

	assert_int_equal(r->n_trips, 3);
	assert_date(&r->trips[0], "2025-09-27");
	assert_date(&r->trips[1], "2025-09-28");
	assert_int_equal(r->trips[1].n_dives, 2);
	assert_date(&r->trips[2], "2025-09-30");
	assert_int_equal(r->trips[2].time, 10 * 60 + 5); /* a time, not 10 May */
	extract_result_free(r);
}

/* The currency sign after an amount is that amount's, not the next
 * number's: a tab-separated row "50€<tab>4" costs 50 for 4 divers. */
static void test_extract_currency_belongs_to_the_amount_before(void **state)
{
	struct extract_result *r =
	    run("Ημερομηνία\tΣημείο\tΏρα\tΤιμή\tΘέσεις\n"
		"Σαβ 13/9\tΑρζεντά\t09:00\t50€\t4\n"
		"\n"
		"Sunday 14/9: Blue Hole, 45 € 3 spots left, € 40 for members\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_true(r->trips[0].price == 50);
	assert_int_equal(r->trips[0].group_size, 4);
	assert_true(r->trips[1].price == 40);
	assert_int_equal(r->trips[1].group_size, 3);
	extract_result_free(r);
}

static void test_extract_weekday_in_past_sentence_is_a_recap(void **state)
{
	struct extract_result *r =
	    run("Τι ωραία που ήταν η βουτιά την Κυριακή στον Ποθητό! Και το Σάββατο ο\n"
		"καιρός μας κράτησε στο Ποντικονήσι, όλα καλά.\n"
		"\n"
		"Επόμενη έξοδος Σάββατο 14/11 στο ναυάγιο Πατρίς, συνάντηση 8:30, 40€.\n"
		"Από την Τρίτη ανοίγουμε στις 10:00.\n",
		2026, 11, 9);

	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2026-11-14");
	assert_int_equal(r->trips[0].time, 8 * 60 + 30);
	assert_int_equal(r->trips[0].dives[0].site_id, 8);
	extract_result_free(r);
	r = run("The swell kept us ashore on Saturday, and on Sunday we went to the Blue Hole.\n"
		"\n"
		"Next up: the Zenobia on Saturday, meet 7:45, EUR 70. Starting Monday the shop\n"
		"opens at 9:00.\n",
		2026, 11, 9);
	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2026-11-14");
	assert_int_equal(r->trips[0].time, 7 * 60 + 45);
	assert_int_equal(r->trips[0].dives[0].site_id, 24);
	extract_result_free(r);
}

static void test_extract_move_to_a_weekday_wrapped_before_its_date(void **state)
{
	struct extract_result *r =
	    run("- Friday's dive at Kimon Bay (12 June) is cancelled, sorry.\n"
		"- The Sunday 14 June trip to the Zenobia has been moved to Sunday\n"
		"  21 June, same plan (meet 7:30 at the marina), same price (EUR 60).\n",
		2026, 6, 9);

	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2026-06-21");
	assert_int_equal(r->trips[0].time, 7 * 60 + 30);
	assert_true(r->trips[0].price == 60);
	assert_int_equal(r->trips[0].dives[0].site_id, 24);
	extract_result_free(r);
	r = run("Η βουτιά της Κυριακής 14/6 στον Ποθητό μεταφέρεται για το Σάββατο\n"
		"20/6, ραντεβού 9:00, 45€.\n",
		2026, 6, 9);
	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2026-06-20");
	assert_int_equal(r->trips[0].time, 9 * 60);
	assert_int_equal(r->trips[0].dives[0].site_id, 1);
	extract_result_free(r);
}

static void test_extract_lowercase_paragraph_names_known_sites(void **state)
{
	struct extract_result *r = run("Καλημέρα, το προωθώ.\n"
				       "\n"
				       "καλησπερα παιδια\n"
				       "την κυριακη ραντεβου στις 9 για ποθητο, 2 βουτιες\n"
				       "40 ευρω ο καθενας\n",
				       2026, 6, 3);

	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2026-06-07");
	assert_int_equal(r->trips[0].time, 9 * 60);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].site_id, 1);
	extract_result_free(r);
	r = run("hey all\n"
		"sunday we meet at 8 at the pier and dive blue hole\n"
		"eur 40 each\n",
		2026, 6, 3);
	assert_int_equal(r->n_trips, 1);
	assert_date(&r->trips[0], "2026-06-07");
	assert_int_equal(r->trips[0].dives[0].site_id, 25);
	extract_result_free(r);
}

/* A beach after a dive word is the dive's place; a meeting at a beach
 * names none. */
static void test_extract_beach_dive_and_beach_meeting(void **state)
{
	struct extract_result *r =
	    run("Σάββατο 13/9 – βουτιά στην Αρζεντά\n"
		"Ραντεβού 10:30 στην παραλία Ποθητού, 20€.\n"
		"\n"
		"Κυριακή 14/9: βουτιά στην παραλία των Λιμνιώνων, ραντεβού 10:00, 15€.\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].n_dives, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 10);
	assert_int_equal(r->trips[0].dives[0].time, -1);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_string_equal(r->trips[1].dives[0].site_name, "παραλία των Λιμνιώνων");
	extract_result_free(r);
}

static void test_extract_fixed_width_columns(void **state)
{
	struct extract_result *r =
	    run("ΠΡΟΓΡΑΜΜΑ ΟΚΤΩΒΡΙΟΥ\n"
		"\n"
		"Σαβ 17.10    08.30    ν. Ποθητός            Advanced     45,00 €\n"
		"Κυρ 18.10    09.15    Ξέρα Μαυροβουνίου  OWD          40,00 €\n"
		"\n"
		"Αναχώρηση από τη μαρίνα. Μέχρι 6 δύτες ανά έξοδο.\n",
		2026, 10, 5);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2026-10-17");
	assert_int_equal(r->trips[0].time, 8 * 60 + 30);
	assert_true(r->trips[0].price == 45);
	assert_string_equal(r->trips[0].difficulty, "ADVANCED_OPEN_WATER");
	assert_non_null(r->trips[0].special_requirements);
	assert_int_equal(r->trips[0].dives[0].site_id, 1);
	assert_int_equal(r->trips[0].group_size, 6);
	assert_date(&r->trips[1], "2026-10-18");
	assert_int_equal(r->trips[1].time, 9 * 60 + 15);
	assert_int_equal(r->trips[1].dives[0].site_id, 0);
	assert_string_equal(r->trips[1].dives[0].site_name, "Ξέρα Μαυροβουνίου");
	assert_int_equal(r->trips[1].group_size, 6);
	extract_result_free(r);
	r = run("Sun 11.10   10.00   Zenobia      Deep spec.   EUR 80,00   approx. 5 hrs\n", 2026,
		10, 5);
	assert_int_equal(r->n_trips, 1);
	assert_true(r->trips[0].price == 80);
	assert_string_equal(r->trips[0].difficulty, "DEEP_NITROX");
	assert_int_equal(r->trips[0].duration, 300);
	assert_int_equal(r->trips[0].dives[0].site_id, 24);
	extract_result_free(r);
}

/* "Spaces: 4", "5 spaces available", "Max divers: 7" are group sizes. */
static void test_extract_english_place_words(void **state)
{
	struct extract_result *r =
	    run("Saturday 13 September\n"
		"Site: Blue Hole\n"
		"Spaces: 4\n"
		"Price: €45\n"
		"\n"
		"Sunday 14 September: Kimon Bay, 9:00, €40, 5 spaces available.\n"
		"\n"
		"Monday 15 September: Kimon Bay, 9:00, €40. Max divers: 7\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 3);
	assert_int_equal(r->trips[0].group_size, 4);
	assert_int_equal(r->trips[1].group_size, 5);
	assert_int_equal(r->trips[2].group_size, 7);
	extract_result_free(r);
}

/* "November 29-30", "December 6th and 7th": a month, then a range of days. */
static void test_extract_english_month_day_range(void **state)
{
	struct extract_result *r =
	    run("September 20-21: Blue Hole weekend, meet 9:00, €40 per day\n"
		"\n"
		"September 27th and 28th – Kimon Bay, 9:00, €40\n",
		2025, 9, 1);

	assert_int_equal(r->n_trips, 4);
	assert_date(&r->trips[0], "2025-09-20");
	assert_date(&r->trips[1], "2025-09-21");
	assert_date(&r->trips[2], "2025-09-27");
	assert_date(&r->trips[3], "2025-09-28");
	extract_result_free(r);
}

/* "Για δύτες Advanced", "for divers with an AOWD": a required certification. */
static void test_extract_for_divers_with_level(void **state)
{
	static const char *const texts[] = {
	    "Σάββατο 13/9: Αρζεντά, 9:00, 40€. Για κατόχους διπλώματος Nitrox.\n",
	    "Saturday 13 September: Blue Hole, 9:00, €40. For divers holding a Deep Diver card.\n",
	};

	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		struct extract_result *r = run(texts[i], 2025, 9, 1);
		assert_int_equal(r->n_trips, 1);
		assert_string_equal(r->trips[0].difficulty, "DEEP_NITROX");
		assert_non_null(r->trips[0].special_requirements);
		extract_result_free(r);
	}
}
static void test_extract_dive_times_in_prose_and_sub_bullets(void **state)
{
	struct extract_result *r =
	    run("Σάββατο 10/10 · Ποθητός & Αρζεντά\n"
		"  - 1η βουτιά 08:45, 2η 11:15\n"
		"  - 40€\n"
		"\n"
		"Κυριακή 11/10 πάμε Ποθητό. Ραντεβού 8:30 στη μαρίνα, πρώτη "
		"βουτιά 9:15 και δεύτερη στην\n"
		"Αρζεντά περίπου στις 11:40, 50€.\n"
		"\n"
		"Κυριακή 18/10 στον Ποθητό, ραντεβού 9:30 στο λιμάνι, μπαίνουμε "
		"στο νερό 10:15, 30€\n",
		2026, 10, 5);

	assert_int_equal(r->n_trips, 3);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].time, 8 * 60 + 45);
	assert_int_equal(r->trips[0].dives[1].time, 11 * 60 + 15);
	assert_int_equal(r->trips[1].time, 8 * 60 + 30);
	assert_int_equal(r->trips[1].n_dives, 2);
	assert_int_equal(r->trips[1].dives[0].time, 9 * 60 + 15);
	assert_int_equal(r->trips[1].dives[1].site_id, 10);
	assert_int_equal(r->trips[1].dives[1].time, 11 * 60 + 40);
	assert_int_equal(r->trips[2].time, 9 * 60 + 30);
	assert_int_equal(r->trips[2].dives[0].time, 10 * 60 + 15);
	extract_result_free(r);
	r = run("Saturday 17 Oct: double dive at the Zenobia, meet 7:30, first dive around 8:15,\n"
		"second dive 10:40. EUR 90.\n",
		2026, 10, 5);
	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].time, 7 * 60 + 30);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].time, 8 * 60 + 15);
	assert_int_equal(r->trips[0].dives[1].time, 10 * 60 + 40);
	extract_result_free(r);
}

static void test_extract_places_left_and_short_levels(void **state)
{
	struct extract_result *r = run(
	    "Σάββατο 24/10 στον Ποθητό, ραντεβού 9:00, 45€. Απομένουν μόνο δύο θέσεις!\n"
	    "\n"
	    "Κυριακή 25/10 στην Αρζεντά, ραντεβού 10:00, 40€, μένει 1 θέση ακόμα.\n"
	    "\n"
	    "Saturday 31 Oct: Blue Hole, meet 8:00, EUR 50, AOW minimum, one spot left.\n"
	    "\n"
	    "Sunday 1 Nov: Zenobia, meet 9:00, EUR 60, OW minimum, only 3 more places remaining.\n",
	    2026, 10, 20);

	assert_int_equal(r->n_trips, 4);
	assert_int_equal(r->trips[0].group_size, 2);
	assert_int_equal(r->trips[1].group_size, 1);
	assert_int_equal(r->trips[2].group_size, 1);
	assert_string_equal(r->trips[2].difficulty, "ADVANCED_OPEN_WATER");
	assert_int_equal(r->trips[3].group_size, 3);
	assert_string_equal(r->trips[3].difficulty, "OPEN_WATER");
	assert_non_null(r->trips[3].special_requirements);
	extract_result_free(r);
}

static void test_extract_card_with_middle_dots(void **state)
{
	struct extract_result *r = run("Sat, Oct 24 · Foo Rock caves\n"
				       "1 dive · meet 9:30 AM at the shop · €40\n"
				       "\n"
				       "Κυρ 25/10 · Σπηλιά Μαύρου Βράχου\n"
				       "1 βουτιά · ραντεβού 9:00 στο μαγαζί · 35€\n",
				       2026, 10, 12);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2026-10-24");
	assert_int_equal(r->trips[0].time, 9 * 60 + 30);
	assert_true(r->trips[0].price == 40);
	assert_int_equal(r->trips[0].n_dives, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 0);
	assert_string_equal(r->trips[0].dives[0].site_name, "Foo Rock caves");
	assert_date(&r->trips[1], "2026-10-25");
	assert_int_equal(r->trips[1].time, 9 * 60);
	assert_string_equal(r->trips[1].dives[0].site_name, "Σπηλιά Μαύρου Βράχου");
	extract_result_free(r);
}

static void test_extract_double_alone_and_shore_dive_wrapped(void **state)
{
	struct extract_result *r =
	    run_subject("Κυριακή 1/11 – χαλαρή διπλή στον Ποθητό, 9πμ, 45€.\n"
			"\n"
			"Δευτέρα 2/11: πρωινή βουτιά από την ακτή στο\n"
			"Καβούρι, 10πμ, 25€.\n",
			"Ποθητός και Αρζεντά", 2026, 10, 28);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[1].site_id, 1);
	assert_int_equal(r->trips[1].n_dives, 1);
	assert_int_equal(r->trips[1].dives[0].site_id, 0);
	assert_string_equal(r->trips[1].dives[0].site_name, "Καβούρι");
	extract_result_free(r);
}

static void test_extract_time_rows_with_a_dive_adjective(void **state)
{
	struct extract_result *r = run("Αύριο τριπλή!\n"
				       "▪ 8πμ Ποθητός\n"
				       "▪ 11:00 Αρζεντά\n"
				       "▪ 5μμ απογευματινή στο Λιμανάκι του Μάρκου\n"
				       "70€ όλη η μέρα.\n",
				       2026, 7, 3);

	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].n_dives, 3);
	assert_int_equal(r->trips[0].dives[2].site_id, 0);
	assert_string_equal(r->trips[0].dives[2].site_name, "Λιμανάκι του Μάρκου");
	assert_int_equal(r->trips[0].dives[2].time, 17 * 60);
	extract_result_free(r);
	r = run("Saturday 11 July\n"
		"▪ 9am Zenobia\n"
		"▪ 8pm night at Jetty Rocks\n"
		"EUR 80 for both.\n",
		2026, 7, 3);
	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_string_equal(r->trips[0].dives[1].site_name, "Jetty Rocks");
	assert_int_equal(r->trips[0].dives[1].time, 20 * 60);
	extract_result_free(r);
}

static void test_extract_bare_hour_right_after_meeting_word(void **state)
{
	struct extract_result *r =
	    run("αυριο 2 βουτιες στην αρζεντα, ραντεβου 9 στο λιμανι, 40 ευρω\n"
		"\n"
		"Sunday 12 July, Zenobia: meet 7 at the jetty, EUR 60.\n",
		2026, 7, 10);

	assert_int_equal(r->n_trips, 2);
	assert_int_equal(r->trips[0].time, 9 * 60);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[1].time, 7 * 60);
	extract_result_free(r);
}

/* A bare hour after "at" / "στις" is a time, a dive's when it follows the
 * site; one a meeting rule read stays the meeting's. */
static void test_extract_bare_hour_after_at(void **state)
{
	struct extract_result *r =
	    run("Σάββατο 13/9 βουτιά στην Αρζεντά στις 10, 40€.\n"
		"\n"
		"Sunday 14/9: first dive at Kimon Bay at 9, second at the Blue Hole at "
		"11.30, €60\n"
		"\n"
		"Monday 15/9 dive at the Blue Hole at 18 metres, meet 8:30, €40\n"
		"\n"
		"την τριτη ραντεβου στις 8 στον ποθητο, 40 ευρω\n",
		2025, 9, 12);

	assert_int_equal(r->n_trips, 4);
	assert_int_equal(r->trips[0].time, 10 * 60);
	assert_int_equal(r->trips[0].dives[0].time, 10 * 60);
	assert_int_equal(r->trips[1].time, 9 * 60);
	assert_int_equal(r->trips[1].dives[0].time, 9 * 60);
	assert_int_equal(r->trips[1].dives[1].time, 11 * 60 + 30);
	assert_int_equal(r->trips[2].time, 8 * 60 + 30);
	assert_int_equal(r->trips[3].time, 8 * 60);
	assert_int_equal(r->trips[3].dives[0].time, -1);
	extract_result_free(r);
}

static void test_extract_recap_sentence_before_a_dated_trip(void **state)
{
	struct extract_result *r = run(
	    "Κάναμε υπέροχη βουτιά την Κυριακή. Το Σάββατο 20/6 πάμε Αρζεντά, ραντεβού 8:00, 40€.\n"
	    "\n"
	    "We had a great day at the Blue Hole on Sunday. Sunday 21 June: Zenobia, meet 7:30, "
	    "EUR 60.\n",
	    2026, 6, 15);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2026-06-20");
	assert_int_equal(r->trips[0].dives[0].site_id, 10);
	assert_date(&r->trips[1], "2026-06-21");
	assert_int_equal(r->trips[1].dives[0].site_id, 24);
	extract_result_free(r);
}

/* A number after "at" that a noun follows is no hour. */
static void test_extract_at_number_noun_is_no_time(void **state)
{
	struct extract_result *r =
	    run("Saturday 13/9: we dive at 3 different sites around Kimon Bay, €60\n", 2025, 9, 1);

	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].time, -1);
	extract_result_free(r);
}

static void test_extract_numbered_and_ordinal_dive_times(void **state)
{
	struct extract_result *r = run(
	    "Σάββατο 20/6: Ποθητός και Αρζεντά. Ραντεβού 7:30. Βουτιά 1 στις 8:15, βουτιά 2 "
	    "στις 10:45. 70€.\n"
	    "\n"
	    "Κυριακή 21/6 Αρζεντά: πρώτη κατάδυση στις 9, δεύτερη στις 11.30. Συνάντηση 8:00, "
	    "50€.\n"
	    "\n"
	    "Saturday 27 June: Zenobia and Blue Hole. Meet 7:00. Dive 1 at 7:45, dive 2 at 10:15.\n"
	    "EUR 80.\n"
	    "\n"
	    "Sunday 28 June, Zenobia: first dive at 9:00, second at 11:30. Meet 8:00, EUR 50.\n",
	    2026, 6, 15);

	assert_int_equal(r->n_trips, 4);
	assert_int_equal(r->trips[0].n_dives, 2);
	assert_int_equal(r->trips[0].dives[0].time, 8 * 60 + 15);
	assert_int_equal(r->trips[0].dives[1].time, 10 * 60 + 45);
	assert_int_equal(r->trips[1].n_dives, 2);
	assert_int_equal(r->trips[1].dives[1].site_id, 10);
	assert_int_equal(r->trips[1].dives[0].time, 9 * 60);
	assert_int_equal(r->trips[1].dives[1].time, 11 * 60 + 30);
	assert_int_equal(r->trips[2].n_dives, 2);
	assert_int_equal(r->trips[2].dives[0].time, 7 * 60 + 45);
	assert_int_equal(r->trips[2].dives[1].time, 10 * 60 + 15);
	assert_int_equal(r->trips[3].n_dives, 2);
	assert_int_equal(r->trips[3].dives[1].time, 11 * 60 + 30);
	extract_result_free(r);
}

static void test_extract_cancelled_with_a_new_date(void **state)
{
	struct extract_result *r = run(
	    "Η βουτιά της Κυριακής στον Ποθητό αναβάλλεται λόγω καιρού. Νέα ημερομηνία: Κυριακή "
	    "21/6, ίδια ώρα (9:00), 40€.\n"
	    "\n"
	    "Saturday 13 June at the Zenobia is cancelled due to the wind. New date: Saturday 27 "
	    "June, meet 8:00, EUR 60.\n"
	    "\n"
	    "The Blue Hole trip is off too; we will look for a new date.\n",
	    2026, 6, 10);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2026-06-21");
	assert_int_equal(r->trips[0].time, 9 * 60);
	assert_int_equal(r->trips[0].dives[0].site_id, 1);
	assert_date(&r->trips[1], "2026-06-27");
	assert_int_equal(r->trips[1].time, 8 * 60);
	assert_int_equal(r->trips[1].dives[0].site_id, 24);
	extract_result_free(r);
}

static void test_extract_weather_recap_weekday(void **state)
{
	struct extract_result *r =
	    run("Την Κυριακή φύσηξε πολύ και μείναμε στον Ποθητό.\n"
		"\n"
		"The wind blew hard on Saturday at the Zenobia, a rough one.\n",
		2026, 6, 15);

	assert_int_equal(r->n_trips, 0);
	extract_result_free(r);
}

static void test_extract_lowercase_daypart_starts_no_name(void **state)
{
	struct extract_result *r = run("καλησπερα\n"
				       "κυριακη πρωι ποντικονησι, ραντεβου 7, 50 ευρω\n",
				       2026, 6, 10);

	assert_int_equal(r->n_trips, 1);
	assert_int_equal(r->trips[0].dives[0].site_id, 5);
	assert_string_equal(r->trips[0].dives[0].site_name, "ποντικονησι");
	extract_result_free(r);
}

static void test_extract_relative_clause_in_the_past_is_no_recap(void **state)
{
	struct extract_result *r = run(
	    "This Saturday we return to the Zenobia, which was closed last month. Meet 8:00, "
	    "EUR 60.\n"
	    "\n"
	    "Την Κυριακή πάμε στον Ποθητό, ο οποίος ήταν κλειστός τον Μάιο. Ραντεβού 8:00, 40€.\n",
	    2026, 6, 10);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2026-06-13");
	assert_date(&r->trips[1], "2026-06-14");
	extract_result_free(r);
}

static void test_extract_past_clause_and_future_clause(void **state)
{
	struct extract_result *r =
	    run("Ο καιρός ήταν καλός το Σάββατο, οπότε πάμε ξανά την Κυριακή στον Ποθητό! Ραντεβού "
		"8:00, 40€.\n"
		"\n"
		"The forecast was good, so on Sunday we go to the Zenobia! Meet 8:00, EUR 60.\n"
		"\n"
		"On Sunday, we went to the Blue Hole. Great dive.\n",
		2026, 6, 10);

	assert_int_equal(r->n_trips, 2);
	assert_date(&r->trips[0], "2026-06-14");
	assert_int_equal(r->trips[0].dives[0].site_id, 1);
	assert_date(&r->trips[1], "2026-06-14");
	assert_int_equal(r->trips[1].dives[0].site_id, 24);
	extract_result_free(r);
}

static void test_extract_json_in_corpus_format(void **state)
{
	struct extract_result *r = run(greek_program, 2025, 8, 20);
	json_t *j = NULL, *trip, *dive;

	assert_int_equal(extract_result_to_json(r, "<id@host>", 3, &j), 0);
	assert_string_equal(json_string_value(json_object_get(j, "message_id")), "<id@host>");
	assert_int_equal(json_integer_value(json_object_get(j, "diving_center_id")), 3);
	trip = json_array_get(json_object_get(j, "trips"), 0);
	assert_string_equal(json_string_value(json_object_get(trip, "trip_date")), "2025-08-31");
	assert_string_equal(json_string_value(json_object_get(trip, "trip_time")), "08:45");
	assert_int_equal(json_integer_value(json_object_get(trip, "trip_duration")), 240);
	assert_true(json_real_value(json_object_get(trip, "trip_price")) == 48.5);
	assert_string_equal(json_string_value(json_object_get(trip, "trip_currency")), "EUR");
	dive = json_array_get(json_object_get(trip, "dives"), 1);
	assert_int_equal(json_integer_value(json_object_get(dive, "dive_site_id")), 10);
	assert_string_equal(json_string_value(json_object_get(dive, "dive_site_name")), "Αρζεντά");
	assert_true(json_is_null(json_object_get(dive, "dive_duration")));
	json_decref(j);
	assert_int_equal(extract_result_to_json(r, NULL, 0, &j), 0);
	assert_true(json_is_null(json_object_get(j, "diving_center_id")));
	json_decref(j);
	extract_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_extract_greek_program_lines),
	    cmocka_unit_test(test_extract_english_double_dive_weekday_alone),
	    cmocka_unit_test(test_extract_two_places_one_dive_each),
	    cmocka_unit_test(test_extract_table_row_is_a_trip),
	    cmocka_unit_test(test_extract_table_columns_give_numbers_their_meaning),
	    cmocka_unit_test(test_extract_location_descriptors_are_no_dives),
	    cmocka_unit_test(test_extract_cancelled_and_postponed),
	    cmocka_unit_test(test_extract_no_trip_in_recaps_quotes_courses_sales),
	    cmocka_unit_test(test_extract_tomorrow_and_colloquial_time),
	    cmocka_unit_test(test_extract_weekday_mismatch_warns),
	    cmocka_unit_test(test_extract_unstated_values_are_unset),
	    cmocka_unit_test(test_extract_lowest_price_without_extras),
	    cmocka_unit_test(test_extract_every_trip_ranges_and_bare_days),
	    cmocka_unit_test(test_extract_dive_times_are_only_the_dives),
	    cmocka_unit_test(test_extract_one_line_several_trips),
	    cmocka_unit_test(test_extract_weekdays_fall_in_the_subject_dates),
	    cmocka_unit_test(test_extract_clock_forms),
	    cmocka_unit_test(test_extract_weekday_month_day),
	    cmocka_unit_test(test_extract_required_certification_forms),
	    cmocka_unit_test(test_extract_bare_max_is_places),
	    cmocka_unit_test(test_extract_replaced_place_is_no_dive),
	    cmocka_unit_test(test_extract_dive_time_after_site_and_wrapped),
	    cmocka_unit_test(test_extract_listed_unknown_site_and_meeting_place),
	    cmocka_unit_test(test_extract_hours_in_the_water),
	    cmocka_unit_test(test_extract_unknown_place_kept_by_name),
	    cmocka_unit_test(test_extract_afternoon_is_no_noon),
	    cmocka_unit_test(test_extract_weekday_paren_day_and_beginners),
	    cmocka_unit_test(test_extract_double_dive_one_time),
	    cmocka_unit_test(test_extract_unknown_place_after_colon),
	    cmocka_unit_test(test_extract_list_after_known_site),
	    cmocka_unit_test(test_extract_dotted_dates_and_tanks),
	    cmocka_unit_test(test_extract_currency_belongs_to_the_amount_before),
	    cmocka_unit_test(test_extract_beach_dive_and_beach_meeting),
	    cmocka_unit_test(test_extract_english_place_words),
	    cmocka_unit_test(test_extract_english_month_day_range),
	    cmocka_unit_test(test_extract_for_divers_with_level),
	    cmocka_unit_test(test_extract_hostile_texts),
	    cmocka_unit_test(test_extract_weekday_in_past_sentence_is_a_recap),
	    cmocka_unit_test(test_extract_move_to_a_weekday_wrapped_before_its_date),
	    cmocka_unit_test(test_extract_lowercase_paragraph_names_known_sites),
	    cmocka_unit_test(test_extract_fixed_width_columns),
	    cmocka_unit_test(test_extract_dive_times_in_prose_and_sub_bullets),
	    cmocka_unit_test(test_extract_places_left_and_short_levels),
	    cmocka_unit_test(test_extract_card_with_middle_dots),
	    cmocka_unit_test(test_extract_double_alone_and_shore_dive_wrapped),
	    cmocka_unit_test(test_extract_time_rows_with_a_dive_adjective),
	    cmocka_unit_test(test_extract_bare_hour_right_after_meeting_word),
	    cmocka_unit_test(test_extract_bare_hour_after_at),
	    cmocka_unit_test(test_extract_at_number_noun_is_no_time),
	    cmocka_unit_test(test_extract_recap_sentence_before_a_dated_trip),
	    cmocka_unit_test(test_extract_numbered_and_ordinal_dive_times),
	    cmocka_unit_test(test_extract_cancelled_with_a_new_date),
	    cmocka_unit_test(test_extract_weather_recap_weekday),
	    cmocka_unit_test(test_extract_lowercase_daypart_starts_no_name),
	    cmocka_unit_test(test_extract_relative_clause_in_the_past_is_no_recap),
	    cmocka_unit_test(test_extract_past_clause_and_future_clause),
	    cmocka_unit_test(test_extract_json_in_corpus_format),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
