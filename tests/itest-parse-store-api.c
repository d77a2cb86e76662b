/* Integration tests of src/store.c against the private MariaDB that
 * tests/run-test starts: IMAP checkpoints advance in the storing
 * transaction (duplicates included), the tolerant header scan, status
 * updates and the decoded headers of a pipeline result; a message stored
 * claimed (claim.h) is no other process's to take until handed back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "claim.h"
#include "config.h"
#include "db.h"
#include "migrate.h"
#include "source.h"
#include "store.h"

struct fixture {
	struct config *cfg;
	struct db *db;
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *top = getenv("top_srcdir");
	char *why = NULL;

	if (!getenv("DATABASE_URL"))
		fail_msg("DATABASE_URL is not set: run this test through tests/run-test");
	assert_non_null(f);
	assert_int_equal(config_load("/dev/null", &f->cfg, &why), 0);
	assert_true(asprintf(&f->cfg->database.migrations_dir, "%s/migrations", top ? top : ".") >
		    0);
	f->cfg->database.connect_attempts = 3;
	assert_int_equal(db_open(f->cfg, &f->db), 0);
	assert_int_equal(migrate_ensure(f->db, f->cfg), 0);
	assert_int_equal(store_new(f->db, f->cfg, &f->store), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_free(f->store);
	db_free(f->db);
	config_free(f->cfg);
	free(f);
	return 0;
}

/* The one value a query returns, as text ("NULL" for SQL NULL). */
static char *value(struct db *db, const char *sql, const struct db_value *p, size_t n)
{
	struct db_rows *rows = NULL;
	char *v;

	assert_int_equal(db_query(db, sql, p, n, &rows), 0);
	assert_int_equal(rows->n_rows, 1);
	v = strdup(db_cell(rows, 0, 0) ? db_cell(rows, 0, 0) : "NULL");
	db_rows_free(rows);
	return v;
}

static void assert_value(struct db *db, const char *sql, unsigned long long id, const char *want)
{
	char *v = value(db, sql, (struct db_value[]){DB_INT((long long)id)}, 1);

	assert_string_equal(v, want);
	free(v);
}

static struct source_msg imap_msg(const char *data, uint32_t uidvalidity, uint32_t uid)
{
	return (struct source_msg){.data = data,
				   .len = strlen(data),
				   .kind = "imap",
				   .ref = "acct/INBOX/x/y",
				   .account = "acct",
				   .mailbox = "INBOX",
				   .uidvalidity = uidvalidity,
				   .uid = uid};
}

static void assert_checkpoint(struct db *db, const char *want)
{
	char *v = value(db,
			"SELECT CONCAT(uidvalidity, '/', last_uid) FROM ingest_checkpoints "
			"WHERE account = 'acct' AND mailbox = 'INBOX'",
			NULL, 0);

	assert_string_equal(v, want);
	free(v);
}

static void test_store_imap_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct store_result res;
	struct source_msg m = imap_msg("Subject: a\r\n\r\nbody a\r\n", 7, 5);

	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	assert_int_equal(res.outcome, STORE_STORED);
	assert_checkpoint(f->db, "7/5");
	/* the same bytes again under a later UID: not stored, checkpoint moves */
	m.uid = 6;
	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	assert_int_equal(res.outcome, STORE_DUPLICATE);
	assert_checkpoint(f->db, "7/6");
	/* a lower UID never moves it back */
	m = imap_msg("Subject: b\r\n\r\nbody b\r\n", 7, 3);
	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	assert_int_equal(res.outcome, STORE_STORED);
	assert_checkpoint(f->db, "7/6");
	/* a new UIDVALIDITY starts over */
	m = imap_msg("Subject: c\r\n\r\nbody c\r\n", 8, 2);
	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	assert_checkpoint(f->db, "8/2");
	assert_value(f->db, "SELECT source FROM ingest_messages WHERE id = ?", res.message_id,
		     "imap");
}

static void test_store_header_scan(void **state)
{
	static const char raw[] = "Received: x\r\n"
				  "Subject: first\r\n"
				  " folded part\r\n"
				  "Message-Id:   <scan@test.example>  \r\n"
				  "From: \"Center, The\" <News@Center.example>\r\n"
				  "Subject: second subject is ignored\r\n"
				  "\r\n"
				  "From: not a header\r\n";
	struct fixture *f = *state;
	struct source_msg m = {.data = raw, .len = strlen(raw), .kind = "eml", .ref = "scan.eml"};
	struct store_result res;

	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	assert_int_equal(res.outcome, STORE_STORED);
	assert_value(
	    f->db,
	    "SELECT CONCAT_WS('|', message_id, subject, sender, sender_name, status, size) "
	    "FROM ingest_messages WHERE id = ?",
	    res.message_id,
	    "<scan@test.example>|first folded part|News@Center.example|Center, The|pending|"
	    "181");
}

static void test_store_likely_duplicate_flag(void **state)
{
	struct fixture *f = *state;
	struct source_msg m = {
	    .data = "Message-ID: <ld@x>\nFrom: a@x\n\none\n", .kind = "eml", .ref = "ld1"};
	struct store_result res;
	unsigned long long first;

	m.len = strlen(m.data);
	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	first = res.message_id;
	m.data = "Message-ID: <ld@x>\nFrom: a@x\n\ntwo\n";
	m.len = strlen(m.data);
	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	assert_int_equal(res.outcome, STORE_LIKELY_DUPLICATE);
	assert_int_equal(res.message_id, first);
	/* another sender with the same Message-ID is another message */
	m.data = "Message-ID: <ld@x>\nFrom: b@x\n\ntwo\n";
	m.len = strlen(m.data);
	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	assert_int_equal(res.outcome, STORE_STORED);
}

static void test_store_status_and_result(void **state)
{
	struct fixture *f = *state;
	struct source_msg m = {
	    .data = "Subject: =?utf-8?q?x?=\n\nbody\n", .kind = "stdin", .ref = "-"};
	struct store_result res;
	char reason[3000];
	json_t *j;

	m.len = strlen(m.data);
	assert_int_equal(store_message(f->store, f->db, &m, &res), 0);
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	reason[10] = '\xff'; /* not UTF-8 */
	assert_int_equal(store_set_status(f->db, res.message_id, STORE_FAILED, reason), 0);
	assert_value(f->db,
		     "SELECT CONCAT(status, CHAR_LENGTH(status_reason)) FROM ingest_messages "
		     "WHERE id = ?",
		     res.message_id, "failed1024");
	assert_int_equal(store_status_from_result("no_trips"), STORE_NO_TRIPS);
	assert_int_equal(store_status_from_result("ok"), STORE_PARSED);
	j = json_pack("{s:s, s:{s:s, s:s}, s:s}", "subject", "Ναυάγιο Πάτρις", "from", "name",
		      "Κέντρο", "address", "info@center.example", "date",
		      "2025-08-20T18:42:10+03:00");
	assert_int_equal(store_update_from_result(f->db, res.message_id, j), 0);
	json_decref(j);
	assert_value(f->db,
		     "SELECT CONCAT_WS('|', subject, sender, sender_name, sent_at, sent_tz_min) "
		     "FROM ingest_messages WHERE id = ?",
		     res.message_id,
		     "Ναυάγιο Πάτρις|info@center.example|Κέντρο|2025-08-20 15:42:10|180");
	assert_int_equal(store_set_status(f->db, res.message_id, STORE_PARSED, NULL), 0);
	assert_value(f->db,
		     "SELECT CONCAT(status, ISNULL(status_reason)) FROM ingest_messages "
		     "WHERE id = ?",
		     res.message_id, "parsed1");
}

static void test_store_claimed(void **state)
{
	static const char me[] = "store-test.example:4242";
	struct fixture *f = *state;
	struct source_msg m = {.data = "Subject: claimed\n\nbody\n", .kind = "stdin", .ref = "-"};
	struct source_msg big = {.data = "Subject: big\n\nfirst bytes\n", .kind = "stdin"};
	struct store_result res, again;
	struct claim_filter filter = {.unparsed = true, .n_newsletters = 1};
	struct claimed c;

	m.len = strlen(m.data);
	assert_int_equal(store_message_claimed(f->store, f->db, &m, me, &res), 0);
	assert_int_equal(res.outcome, STORE_STORED);
	assert_true(res.claimed);
	assert_value(f->db,
		     "SELECT CONCAT_WS('|', status, claimed_by, claimed_at IS NOT NULL) "
		     "FROM ingest_messages WHERE id = ?",
		     res.message_id, "parsing|store-test.example:4242|1");
	/* the same bytes again: a duplicate, nothing claimed */
	assert_int_equal(store_message_claimed(f->store, f->db, &m, "other.example:1", &again), 0);
	assert_int_equal(again.outcome, STORE_DUPLICATE);
	assert_false(again.claimed);
	/* another process's backlog does not take it */
	filter.newsletters = &res.newsletter_id;
	assert_int_equal(claim_next(f->db, "other.example:1", &filter, &c), 0);
	/* handed back by its claimant only: then it is anyone's */
	assert_int_equal(claim_release(f->db, "other.example:1", res.message_id), 0);
	assert_int_equal(claim_release(f->db, me, res.message_id), 1);
	assert_value(f->db,
		     "SELECT CONCAT_WS('|', status, ISNULL(claimed_by), ISNULL(claimed_at)) "
		     "FROM ingest_messages WHERE id = ?",
		     res.message_id, "pending|1|1");
	assert_int_equal(claim_next(f->db, "other.example:1", &filter, &c), 1);
	assert_int_equal(c.id, res.message_id);
	/* over the size bound: stored failed, not claimed */
	big.len = strlen(big.data);
	big.full_size = 10 * big.len;
	assert_int_equal(store_message_claimed(f->store, f->db, &big, me, &res), 0);
	assert_int_equal(res.outcome, STORE_STORED);
	assert_false(res.claimed);
	assert_value(f->db,
		     "SELECT CONCAT_WS('|', status, ISNULL(claimed_by), ISNULL(claimed_at)) "
		     "FROM ingest_messages WHERE id = ?",
		     res.message_id, "failed|1|1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_store_imap_checkpoint),
	    cmocka_unit_test(test_store_header_scan),
	    cmocka_unit_test(test_store_likely_duplicate_flag),
	    cmocka_unit_test(test_store_status_and_result),
	    cmocka_unit_test(test_store_claimed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
