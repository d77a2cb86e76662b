/* store.c: a raw message into ingest_messages, ingest_raw_messages and
 * newsletters in one transaction (store.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <utf8proc.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "digest.h"
#include "source.h"
#include "store.h"
#include "strutil.h"

#define STORE_MAX_HEADERS   (256u << 10) /* raw header bytes scanned */
#define STORE_PACKET_MARGIN (16u << 10)  /* statement overhead within max_allowed_packet */
#define STORE_ATTEMPTS      3
#define ER_DUP_ENTRY        1062

struct store {
	size_t content_max_bytes, content_max_chars;
	size_t max_message_size;
	bool store_likely_duplicates;
};

struct raw_headers {
	char *message_id, *subject, *sender, *sender_name;
};

static void raw_headers_done(struct raw_headers *h)
{
	free(h->message_id);
	free(h->subject);
	free(h->sender);
	free(h->sender_name);
}

/* ---- UTF-8 ---- */

/* The length of the valid sequence at p, 0 when it is not one. */
static size_t utf8_seq(const char *p, size_t n)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k =
	    utf8proc_iterate((const utf8proc_uint8_t *)p, n > 4 ? 4 : (utf8proc_ssize_t)n, &cp);

	return k > 0 && cp >= 0 ? (size_t)k : 0;
}

/* Valid UTF-8? *ret_chars: the number of characters. */
static bool utf8_check(const char *p, size_t n, size_t *ret_chars)
{
	size_t chars = 0, k;

	for (size_t i = 0; i < n; i += k, chars++) {
		if ((unsigned char)p[i] < 0x80) {
			k = 1;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k == 0)
			return false;
	}
	*ret_chars = chars;
	return true;
}

/* Appends p[0..n) as valid UTF-8 (U+FFFD for each byte that is not part of a
 * valid sequence), stopping at a character boundary before out would hold
 * more than max_bytes or max_chars more characters. */
static int utf8_render(const char *p, size_t n, size_t max_bytes, size_t max_chars, struct buf *out)
{
	size_t chars = 0, start = out->len, k;
	int r;

	for (size_t i = 0; i < n && chars < max_chars; i += k, chars++) {
		const char *emit = p + i;
		size_t emit_len;
		k = (unsigned char)p[i] < 0x80 ? 1 : utf8_seq(p + i, n - i);
		emit_len = k;
		if (k == 0) {
			emit = "\xef\xbf\xbd";
			emit_len = 3;
			k = 1;
		}
		if (out->len - start + emit_len > max_bytes)
			break;
		r = buf_append(out, emit, emit_len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A value for a VARCHAR(max_chars) column: valid UTF-8, cut to fit; NULL stays NULL. */
static int column_text(const char *s, size_t max_chars, char **ret)
{
	struct buf b = BUF_INIT(4 * max_chars + 1);
	int r;

	*ret = NULL;
	if (!s)
		return 0;
	r = utf8_render(s, strlen(s), 4 * max_chars, max_chars, &b);
	if (r < 0) {
		buf_done(&b);
		return r;
	}
	*ret = buf_take(&b, NULL);
	return *ret ? 0 : -ENOMEM;
}

/* ---- the tolerant header scan ---- */

/* The unfolded value of the first header NAME in the raw header block, or NULL. */
static int header_value(const char *data, size_t len, const char *name, char **ret)
{
	size_t nlen = strlen(name), pos = 0;
	struct buf v = BUF_INIT(STORE_MAX_HEADERS);
	bool capturing = false, found = false;
	char *stripped;
	int r = 0;

	if (len > STORE_MAX_HEADERS)
		len = STORE_MAX_HEADERS;
	while (pos < len) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* the end of the header block */
		if (line[0] == ' ' || line[0] == '\t') {
			if (capturing)
				r = buf_append(&v, line, n);
		} else if (found)
			break;
		else if (n > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			capturing = found = true;
			r = buf_append(&v, line + nlen + 1, n - nlen - 1);
		}
		if (r < 0)
			break;
	}
	if (r < 0 || !found) {
		buf_done(&v);
		*ret = NULL;
		return r;
	}
	*ret = buf_take(&v, NULL);
	if (!*ret)
		return -ENOMEM;
	stripped = strstrip(*ret);
	memmove(*ret, stripped, strlen(stripped) + 1);
	return 0;
}

/* "Name <addr>", "\"Name\" <addr>" or "addr": split into address and name. */
static int split_from(char *from, char **ret_addr, char **ret_name)
{
	char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char *name = from;
	size_t n;

	*ret_addr = *ret_name = NULL;
	if (!lt || !gt) {
		*ret_addr = strdup(strstrip(from));
		return *ret_addr ? 0 : -ENOMEM;
	}
	*gt = '\0';
	*lt = '\0';
	*ret_addr = strdup(strstrip(lt + 1));
	name = strstrip(name);
	n = strlen(name);
	if (n >= 2 && name[0] == '"' && name[n - 1] == '"') {
		name[n - 1] = '\0';
		name++;
	}
	if (*name)
		*ret_name = strdup(name);
	return *ret_addr && (!*name || *ret_name) ? 0 : -ENOMEM;
}

static int scan_headers(const char *data, size_t len, struct raw_headers *h)
{
	_cleanup_free_ char *mid = NULL, *subject = NULL, *from = NULL, *addr = NULL, *name = NULL;
	int r;

	*h = (struct raw_headers){0};
	if ((r = header_value(data, len, "Message-ID", &mid)) < 0 ||
	    (r = header_value(data, len, "Subject", &subject)) < 0 ||
	    (r = header_value(data, len, "From", &from)) < 0)
		return r;
	if (from && (r = split_from(from, &addr, &name)) < 0)
		return r;
	if ((r = column_text(mid && *mid ? mid : NULL, 998, &h->message_id)) < 0 ||
	    (r = column_text(subject, 998, &h->subject)) < 0 ||
	    (r = column_text(addr && *addr ? addr : NULL, 320, &h->sender)) < 0 ||
	    (r = column_text(name, 255, &h->sender_name)) < 0) {
		raw_headers_done(h);
		return r;
	}
	return 0;
}

/* ---- set-up ---- */

static int query_ull(struct db *db, const char *sql, size_t col, unsigned long long *ret)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	int r = db_query(db, sql, NULL, 0, &rows);

	if (r < 0)
		return r;
	if (rows->n_rows == 0 || !db_cell(rows, 0, col))
		return -ENOENT;
	return parse_uint(db_cell(rows, 0, col), UINT64_MAX, ret);
}

int store_new(struct db *db, const struct config *cfg, struct store **ret)
{
	static const char content_sql[] =
	    "SELECT CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH FROM "
	    "information_schema.COLUMNS "
	    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'newsletters' "
	    "AND COLUMN_NAME = 'content'";
	_cleanup_free_ struct store *s = calloc(1, sizeof(*s));
	unsigned long long chars, octets, packet;
	int r;

	if (!s)
		return -ENOMEM;
	if ((r = query_ull(db, content_sql, 0, &chars)) < 0 ||
	    (r = query_ull(db, content_sql, 1, &octets)) < 0 ||
	    (r = query_ull(db, "SELECT @@max_allowed_packet", 0, &packet)) < 0)
		return r;
	if (packet <= 2 * STORE_PACKET_MARGIN)
		return -ERANGE;
	packet -= STORE_PACKET_MARGIN;
	s->content_max_bytes = octets < packet ? octets : packet;
	s->content_max_chars = chars < SIZE_MAX ? chars : SIZE_MAX;
	s->max_message_size = cfg->parser.max_message_size < packet
				  ? (size_t)cfg->parser.max_message_size
				  : (size_t)packet;
	s->store_likely_duplicates = cfg->parser.store_likely_duplicates;
	*ret = TAKE_PTR(s);
	return 0;
}

struct store *store_free(struct store *s)
{
	free(s);
	return NULL;
}

size_t store_max_message_size(const struct store *s)
{
	return s->max_message_size;
}

/* ---- storing ---- */

/* SHA-256 hex of the bytes; of a message over the bound, of its first bytes
 * and its full size, so that the same message is the same key again. */
static void message_sha256(const struct source_msg *m, char out[SHA256_HEX_SIZE])
{
	char tail[64];
	int n = 0;

	if (m->full_size > m->len)
		n = snprintf(tail, sizeof(tail), "\n[over bound: %zu bytes]", m->full_size);
	sha256_hex2(m->data, m->len, tail, (size_t)n, out);
}

/* Can newsletters.content hold the raw message as it is? */
static bool content_is_raw(const struct store *s, const struct source_msg *m,
			   const struct store_result *res)
{
	size_t chars = 0;

	return !res->over_bound && m->len <= s->content_max_bytes &&
	       utf8_check(m->data, m->len, &chars) && chars <= s->content_max_chars;
}

/* newsletters.content when it cannot be the raw message: a rendering with a
 * marker line naming the ingest_messages row. */
static int newsletter_content(const struct store *s, const struct source_msg *m,
			      const struct store_result *res, struct buf *out)
{
	size_t chars = 0, size = m->full_size > m->len ? m->full_size : m->len;
	bool valid = utf8_check(m->data, m->len, &chars);
	char marker[512];
	size_t mlen;
	int r;

	if (res->over_bound)
		mlen =
		    (size_t)snprintf(marker, sizeof(marker),
				     "\n\n[divemap-ingest: the message is %zu bytes, over the size "
				     "bound; its first %zu bytes are ingest_messages.id %llu, "
				     "sha256 %s]\n",
				     size, m->len, res->message_id, res->sha256);
	else
		mlen =
		    (size_t)snprintf(marker, sizeof(marker),
				     "\n\n[divemap-ingest: %s; the whole raw message (%zu bytes) "
				     "is ingest_messages.id %llu, sha256 %s]\n",
				     valid ? "cut to fit this column"
					   : "shown as UTF-8 with U+FFFD for invalid bytes, cut to "
					     "fit this column when needed",
				     size, res->message_id, res->sha256);
	if (mlen >= s->content_max_bytes || mlen >= s->content_max_chars)
		return -ERANGE;
	r = utf8_render(m->data, m->len, s->content_max_bytes - mlen, s->content_max_chars - mlen,
			out);
	if (r < 0)
		return r;
	return buf_append(out, marker, mlen);
}

static int insert_newsletter_row(struct db *db, const char *content, size_t len,
				 struct store_result *res)
{
	unsigned long long nl_id = 0;
	/* text with its length: the message may hold NUL bytes */
	int r = db_exec(
	    db, "INSERT INTO newsletters (content, received_at) VALUES (?, UTC_TIMESTAMP())",
	    (struct db_value[]){{.type = DB_T_TEXT, .p = content, .len = len}}, 1, NULL, &nl_id);

	if (r < 0)
		return r;
	res->newsletter_id = (long long)nl_id;
	return 0;
}

/* A rendering names the ingest_messages row: inserted after it, then linked. */
static int insert_rendered_newsletter(const struct store *s, struct db *db,
				      const struct source_msg *m, struct store_result *res)
{
	struct buf content = BUF_INIT(s->content_max_bytes + 1024);
	int r;

	res->content_rendered = true;
	r = newsletter_content(s, m, res, &content);
	if (r >= 0)
		r = insert_newsletter_row(db, buf_str(&content), content.len, res);
	if (r >= 0)
		r = db_exec(db, "UPDATE ingest_messages SET newsletter_id = ? WHERE id = ?",
			    (struct db_value[]){DB_INT(res->newsletter_id),
						DB_INT((long long)res->message_id)},
			    2, NULL, NULL);
	buf_done(&content);
	return r;
}

/* claimed_by: the row goes in claimed by it ('parsing'), unless it is over
 * the bound ('failed', nothing to parse). */
static int insert_message(const struct store *s, struct db *db, const struct source_msg *m,
			  const struct raw_headers *h, const char *claimed_by,
			  struct store_result *res)
{
	size_t size = res->over_bound ? m->full_size : m->len;
	_cleanup_free_ char *ref = NULL, *why = NULL;
	unsigned long long id = 0;
	const char *status;
	int r;

	r = column_text(m->ref ? m->ref : "", 2048, &ref);
	if (r < 0)
		return r;
	if (res->over_bound)
		claimed_by = NULL;
	status = res->over_bound ? "failed" : claimed_by ? "parsing" : "pending";
	if (res->over_bound &&
	    asprintf(&why,
		     "over the size bound: %zu bytes, only the first %zu are kept (raise [parser] "
		     "max_message_size or the server's max_allowed_packet)",
		     size, m->len) < 0)
		return -ENOMEM;
	r = db_exec(db,
		    "INSERT INTO ingest_messages (sha256, message_id, source, source_ref, subject, "
		    "sender, sender_name, size, status, status_reason, newsletter_id, claimed_by, "
		    "claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		    "IF(? = 1, UTC_TIMESTAMP(), NULL))",
		    (struct db_value[]){
			DB_TEXT(res->sha256), DB_TEXT(h->message_id), DB_TEXT(m->kind),
			DB_TEXT(ref), DB_TEXT(h->subject), DB_TEXT(h->sender),
			DB_TEXT(h->sender_name), DB_INT((long long)size), DB_TEXT(status),
			DB_TEXT(why), res->newsletter_id > 0 ? DB_INT(res->newsletter_id) : DB_NULL,
			DB_TEXT(claimed_by), DB_INT(claimed_by ? 1 : 0)},
		    13, NULL, &id);
	if (r < 0)
		return r;
	res->message_id = id;
	res->claimed = claimed_by != NULL;
	return db_exec(db, "INSERT INTO ingest_raw_messages (message_id, raw) VALUES (?, ?)",
		       (struct db_value[]){DB_INT((long long)id), DB_BLOB(m->data, m->len)}, 2,
		       NULL, NULL);
}

static int upsert_checkpoint(struct db *db, const struct source_msg *m)
{
	if (!m->account || !m->mailbox)
		return 0;
	/* assignments run left to right: last_uid sees the old uidvalidity */
	return db_exec(db,
		       "INSERT INTO ingest_checkpoints (account, mailbox, uidvalidity, last_uid) "
		       "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
		       "last_uid = IF(uidvalidity = VALUES(uidvalidity), "
		       "GREATEST(last_uid, VALUES(last_uid)), VALUES(last_uid)), "
		       "uidvalidity = VALUES(uidvalidity)",
		       (struct db_value[]){DB_TEXT(m->account), DB_TEXT(m->mailbox),
					   DB_INT(m->uidvalidity), DB_INT(m->uid)},
		       4, NULL, NULL);
}

/* Is it stored already, or likely so? Fills res->outcome/message_id. One
 * look-up for both: the row with these bytes first, else the first row with
 * the same Message-ID from the same sender. */
static int check_duplicates(const struct store *s, struct db *db, const struct raw_headers *h,
			    struct store_result *res, bool *ret_skip)
{
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	unsigned long long id;
	int r;

	*ret_skip = false;
	if (h->message_id)
		r = db_query(db,
			     "SELECT id, sha256 = ? FROM ingest_messages WHERE sha256 = ? "
			     "OR (message_id = ? AND sender <=> ?) ORDER BY sha256 = ? DESC, id "
			     "LIMIT 1",
			     (struct db_value[]){DB_TEXT(res->sha256), DB_TEXT(res->sha256),
						 DB_TEXT(h->message_id), DB_TEXT(h->sender),
						 DB_TEXT(res->sha256)},
			     5, &rows);
	else
		r = db_query(db, "SELECT id, 1 FROM ingest_messages WHERE sha256 = ?",
			     (struct db_value[]){DB_TEXT(res->sha256)}, 1, &rows);
	if (r < 0) {
		res->outcome = STORE_DUPLICATE;
		return r;
	}
	if (rows->n_rows == 0 || !db_cell(rows, 0, 0))
		return 0;
	r = parse_uint(db_cell(rows, 0, 0), UINT64_MAX, &id);
	if (r < 0)
		return r;
	if (streq(db_cell(rows, 0, 1) ?: "0", "1")) {
		res->outcome = STORE_DUPLICATE;
		res->message_id = id;
		*ret_skip = true;
		return 0;
	}
	if (s->store_likely_duplicates) {
		res->likely_duplicate_of = id;
		return 0;
	}
	res->outcome = STORE_LIKELY_DUPLICATE;
	res->message_id = id;
	*ret_skip = true;
	return 0;
}

/* The statements of storing, in the caller's transaction. The newsletter
 * goes first when its content is the raw message, so that the message row
 * is inserted with its link. */
static int store_rows(struct store *s, struct db *db, const struct source_msg *m,
		      const struct raw_headers *h, const char *claimed_by, struct store_result *res)
{
	bool skip, raw;
	int r;

	res->outcome = STORE_STORED;
	res->message_id = 0;
	res->newsletter_id = 0;
	res->likely_duplicate_of = 0;
	res->content_rendered = false;
	res->claimed = false;
	r = check_duplicates(s, db, h, res, &skip);
	if (r >= 0 && !skip) {
		raw = content_is_raw(s, m, res);
		if (raw)
			r = insert_newsletter_row(db, m->data, m->len, res);
		if (r >= 0)
			r = insert_message(s, db, m, h, claimed_by, res);
		if (r >= 0 && !raw)
			r = insert_rendered_newsletter(s, db, m, res);
	}
	if (r >= 0)
		r = upsert_checkpoint(db, m);
	return r;
}

static int store_tx(struct store *s, struct db *db, const struct source_msg *m,
		    const struct raw_headers *h, const char *claimed_by, struct store_result *res)
{
	int r;

	r = db_begin(db);
	if (r < 0)
		return r;
	r = store_rows(s, db, m, h, claimed_by, res);
	if (r >= 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

/* The hash and the header scan, before any statement. */
static int store_prepare(const struct source_msg *m, struct store_result *ret,
			 struct raw_headers *h)
{
	*ret = (struct store_result){.over_bound = m->full_size > m->len};
	message_sha256(m, ret->sha256);
	return scan_headers(m->data, m->len, h);
}

int store_message(struct store *s, struct db *db, const struct source_msg *m,
		  struct store_result *ret)
{
	return store_message_claimed(s, db, m, NULL, ret);
}

int store_message_claimed(struct store *s, struct db *db, const struct source_msg *m,
			  const char *claimed_by, struct store_result *ret)
{
	struct raw_headers h;
	int r;

	r = store_prepare(m, ret, &h);
	if (r < 0)
		return r;
	for (unsigned attempt = 1;; attempt++) {
		r = store_tx(s, db, m, &h, claimed_by, ret);
		/* a race with another process storing the same bytes: look again */
		if (r >= 0 || attempt == STORE_ATTEMPTS ||
		    (db_errno(db) != ER_DUP_ENTRY && !db_error_is_transient(db_errno(db))))
			break;
	}
	raw_headers_done(&h);
	return r;
}

int store_message_in_transaction(struct store *s, struct db *db, const struct source_msg *m,
				 struct store_result *ret)
{
	struct raw_headers h;
	int r;

	r = store_prepare(m, ret, &h);
	if (r < 0)
		return r;
	r = store_rows(s, db, m, &h, NULL, ret);
	raw_headers_done(&h);
	return r;
}

/* ---- status ---- */

static const char *const status_names[] = {
    [STORE_PENDING] = "pending",   [STORE_PARSING] = "parsing", [STORE_PARSED] = "parsed",
    [STORE_NO_TRIPS] = "no_trips", [STORE_PARTIAL] = "partial", [STORE_FAILED] = "failed",
};

int store_set_status(struct db *db, unsigned long long message_id, enum store_status st,
		     const char *reason)
{
	_cleanup_free_ char *why = NULL;
	int r;

	if ((size_t)st >= ELEMENTSOF(status_names))
		return -EINVAL;
	r = column_text(reason, 1024, &why);
	if (r < 0)
		return r;
	return db_exec(
	    db,
	    "UPDATE ingest_messages SET status = ?, status_reason = ?, claimed_by = NULL, "
	    "claimed_at = NULL WHERE id = ?",
	    (struct db_value[]){DB_TEXT(status_names[st]), DB_TEXT(why),
				DB_INT((long long)message_id)},
	    3, NULL, NULL);
}

enum store_status store_status_from_result(const char *result_status)
{
	if (!result_status)
		return STORE_FAILED;
	if (streq(result_status, "ok"))
		return STORE_PARSED;
	if (streq(result_status, "no_trips"))
		return STORE_NO_TRIPS;
	if (streq(result_status, "partial"))
		return STORE_PARTIAL;
	return STORE_FAILED;
}

/* "2025-08-20T18:42:10+03:00" -> "2025-08-20 15:42:10" (UTC) and 180. */
static int parse_iso_date(const char *s, char out[20], int *ret_tz_min)
{
	struct tm tm = {0};
	int sign = 0, tzh = 0, tzm = 0, n = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -EINVAL;
	s += n;
	if (*s == 'Z')
		sign = 1;
	else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d", &tzh, &tzm) == 2)
		sign = *s == '+' ? 1 : -1;
	else
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm) - sign * (tzh * 3600 + tzm * 60);
	if (!gmtime_r(&t, &tm) || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -EINVAL;
	*ret_tz_min = sign * (tzh * 60 + tzm);
	return 0;
}

void store_decoded_done(struct store_decoded *d)
{
	free(d->subject);
	free(d->sender);
	free(d->sender_name);
	*d = (struct store_decoded){0};
}

int store_decoded_from_result(const json_t *result, struct store_decoded *ret)
{
	const json_t *from = json_object_get(result, "from");
	int r;

	*ret = (struct store_decoded){0};
	ret->have_date = parse_iso_date(json_string_value(json_object_get(result, "date")) ?: "",
					ret->sent_at, &ret->sent_tz_min) >= 0;
	if ((r = column_text(json_string_value(json_object_get(result, "subject")), 998,
			     &ret->subject)) < 0 ||
	    (r = column_text(json_string_value(json_object_get(from, "address")), 320,
			     &ret->sender)) < 0 ||
	    (r = column_text(json_string_value(json_object_get(from, "name")), 255,
			     &ret->sender_name)) < 0) {
		store_decoded_done(ret);
		return r;
	}
	return 0;
}

int store_update_from_result(struct db *db, unsigned long long message_id, const json_t *result)
{
	struct store_decoded d;
	int r;

	r = store_decoded_from_result(result, &d);
	if (r < 0)
		return r;
	r = db_exec(db,
		    "UPDATE ingest_messages SET subject = COALESCE(?, subject), "
		    "sender = COALESCE(?, sender), sender_name = COALESCE(?, sender_name), "
		    "sent_at = COALESCE(?, sent_at), sent_tz_min = COALESCE(?, sent_tz_min) "
		    "WHERE id = ?",
		    (struct db_value[]){DB_TEXT(d.subject), DB_TEXT(d.sender),
					DB_TEXT(d.sender_name),
					d.have_date ? DB_TEXT(d.sent_at) : DB_NULL,
					d.have_date ? DB_INT(d.sent_tz_min) : DB_NULL,
					DB_INT((long long)message_id)},
		    6, NULL, NULL);
	store_decoded_done(&d);
	return r;
}
