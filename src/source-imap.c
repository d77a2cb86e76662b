/* source-imap.c: the IMAP driver, see source-imap.h; the session itself
 * (connect, TLS, login) is in source-imap-session.c.
 *
 * libetpan is blocking: every call waits at most timeout_s (connect, TLS
 * handshake, each read and write), so the event loop is never stuck longer.
 * Only IDLE waits in the loop itself, as an I/O source on the session's fd. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "imap-utf7.h"
#include "log.h"
#include "source-imap-private.h"
#include "source-imap.h"
#include "strutil.h"
#include "tls-stream.h"

#define IMAP_MAX_UIDS 1000000u /* one UID SEARCH result */

static struct imap_source *is_of(struct source *s)
{
	return (struct imap_source *)s;
}

static void free_msgs(struct imap_source *is)
{
	for (size_t i = 0; i < is->n_batch; i++)
		free(is->batch[i].data);
	free(is->batch);
	is->batch = NULL;
	is->n_batch = is->next_msg = 0;
}

static void drop_work(struct imap_source *is)
{
	free(is->uids);
	is->uids = NULL;
	is->n_uids = is->next_uid = 0;
	free_msgs(is);
}

static void stop_watch_sources(struct imap_source *is)
{
	is->idle_io = sd_event_source_disable_unref(is->idle_io);
	is->idling = false;
}

void imap_disconnect(struct imap_source *is)
{
	stop_watch_sources(is);
	if (!is->imap)
		return;
	if (is->imap->imap_stream) {
		mailstream_close(is->imap->imap_stream);
		is->imap->imap_stream = NULL;
	}
	mailimap_free(is->imap);
	is->imap = NULL;
	drop_work(is);
}

/* A libetpan result: connection-fatal codes drop the session. */
static int imap_error(struct imap_source *is, int code, const char *what)
{
	if (imap_code_is_fatal(code)) {
		log_debug("imap %s: %s failed (libetpan error %d): connection lost", is->base.name,
			  what, code);
		imap_disconnect(is);
		return -ECONNRESET; /* STREAM is a timeout or the peer's close alike */
	}
	log_warning("imap %s: %s failed: the server said no (libetpan error %d)", is->base.name,
		    what, code);
	return -EIO;
}

/* ---- finding and fetching ---- */

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* UIDs above last_uid, ascending. */
static int search_new(struct imap_source *is)
{
	struct mailimap_search_key *key;
	clist *result = NULL;
	uint32_t from = is->last_uid + 1;
	size_t n = 0;
	int r;

	drop_work(is);
	if (from == 0) /* last_uid was UINT32_MAX: nothing can follow */
		return 0;
	key = mailimap_search_key_new_uid(mailimap_set_new_interval(from, 0));
	if (!key)
		return -ENOMEM;
	r = mailimap_uid_search(is->imap, /* charset= */ NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(is, r, "UID SEARCH");
	is->uids = calloc(clist_count(result) + 1, sizeof(*is->uids));
	if (!is->uids) {
		mailimap_search_result_free(result);
		return -ENOMEM;
	}
	for (clistiter *it = clist_begin(result); it && n < IMAP_MAX_UIDS; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if (uid >= from) /* `N:*` also matches the highest UID when it is below N */
			is->uids[n++] = uid;
	}
	mailimap_search_result_free(result);
	qsort(is->uids, n, sizeof(*is->uids), cmp_uid);
	is->n_uids = n;
	return 0;
}

static uint32_t att_uid(struct mailimap_msg_att *att, struct mailimap_msg_att_body_section **body,
			uint32_t *size)
{
	uint32_t uid = 0;

	for (clistiter *it = clist_begin(att->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && body)
			*body = st->att_data.att_body_section;
		else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE && size)
			*size = st->att_data.att_rfc822_size;
	}
	return uid;
}

/* One UID FETCH of SET with the given item; calls take() per message. */
static int uid_fetch(struct imap_source *is, struct mailimap_set *set,
		     struct mailimap_fetch_att *item, bool body, clist **ret)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	int r;

	if (!ft || !item) {
		if (item)
			mailimap_fetch_att_free(item);
		if (ft)
			mailimap_fetch_type_free(ft);
		return -ENOMEM;
	}
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, item);
	r = mailimap_uid_fetch(is->imap, set, ft, ret);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(is, r, body ? "UID FETCH BODY.PEEK[]" : "UID FETCH RFC822.SIZE");
	return 0;
}

static struct imap_msg *batch_slot(struct imap_source *is, uint32_t uid)
{
	for (size_t i = 0; i < is->n_batch; i++)
		if (is->batch[i].uid == uid)
			return &is->batch[i];
	return NULL;
}

/* The sizes of the batch: a message over the bound is fetched cut. */
static int fetch_sizes(struct imap_source *is, struct mailimap_set *set)
{
	clist *res = NULL;
	int r = uid_fetch(is, set, mailimap_fetch_att_new_rfc822_size(), false, &res);

	if (r < 0)
		return r;
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		uint32_t size = 0, uid = att_uid(clist_content(it), NULL, &size);
		struct imap_msg *m = batch_slot(is, uid);
		if (m && size > is->base.max_message_size)
			m->full_size = size;
	}
	mailimap_fetch_list_free(res);
	return 0;
}

static int fetch_bodies(struct imap_source *is, struct mailimap_set *set, bool cut)
{
	struct mailimap_section *sec = mailimap_section_new(NULL);
	struct mailimap_fetch_att *item = !sec  ? NULL
					  : cut ? mailimap_fetch_att_new_body_peek_section_partial(
						      sec, 0, is->base.max_message_size)
						: mailimap_fetch_att_new_body_peek_section(sec);
	clist *res = NULL;
	int r;

	if (!item && sec)
		mailimap_section_free(sec);
	r = uid_fetch(is, set, item, true, &res);
	if (r < 0)
		return r;
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		struct mailimap_msg_att_body_section *body = NULL;
		uint32_t uid = att_uid(clist_content(it), &body, NULL);
		struct imap_msg *m = batch_slot(is, uid);
		size_t len;

		if (!m || !body || m->data || !body->sec_body_part)
			continue; /* unsolicited FETCH (flag changes), or a repeat */
		len = body->sec_length;
		if (len > is->base.max_message_size)
			len = is->base.max_message_size;
		m->data = malloc(len + 1);
		if (!m->data) {
			mailimap_fetch_list_free(res);
			return -ENOMEM;
		}
		memcpy(m->data, body->sec_body_part, len);
		m->data[len] = '\0';
		m->len = len;
	}
	mailimap_fetch_list_free(res);
	return 0;
}

/* Builds a set of the batch's UIDs, only those cut (or not cut). */
static struct mailimap_set *batch_set(struct imap_source *is, bool cut)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (size_t i = 0; set && i < is->n_batch; i++)
		if ((is->batch[i].full_size != 0) == cut &&
		    mailimap_set_add_single(set, is->batch[i].uid) != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return NULL;
		}
	return set;
}

static int fetch_batch(struct imap_source *is)
{
	struct mailimap_set *set;
	size_t n = is->n_uids - is->next_uid;
	int r;

	free_msgs(is);
	if (n > is->batch_size)
		n = is->batch_size;
	is->batch = calloc(n, sizeof(*is->batch));
	if (!is->batch)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		is->batch[i].uid = is->uids[is->next_uid + i];
	is->n_batch = n;
	is->next_uid += n;
	/* step 0: the sizes of all (none is marked cut yet), 1: the bodies of those
	 * within the bound, 2: the first max_message_size bytes of the others */
	for (int step = 0; step <= 2; step++) {
		set = batch_set(is, step == 2);
		if (!set)
			return -ENOMEM;
		r = clist_isempty(set->set_list) ? 0
		    : step == 0                  ? fetch_sizes(is, set)
						 : fetch_bodies(is, set, step == 2);
		mailimap_set_free(set);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- waiting: IDLE or a poll timer ---- */

static int on_idle_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct imap_source *is = userdata;

	/* the session is read by fetch(); here only: stop listening, wake the owner */
	(void)sd_event_source_set_enabled(es, SD_EVENT_OFF);
	if (is->wake)
		is->wake(&is->base, is->userdata);
	return 0;
}

static int on_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct imap_source *is = userdata;

	if (is->wake)
		is->wake(&is->base, is->userdata);
	return 0;
}

/* SECONDS 0: at once (data is waiting), else with half a second of slack. */
static int arm_timer(struct imap_source *is, unsigned seconds)
{
	uint64_t accuracy = seconds ? 500000u : 1u;
	int r;

	if (!is->timer) {
		r = sd_event_add_time_relative(is->event, &is->timer, CLOCK_MONOTONIC,
					       (uint64_t)seconds * 1000000u, accuracy, on_timer,
					       is);
		if (r >= 0)
			(void)sd_event_source_set_description(is->timer, "imap-timer");
		return r;
	}
	r = sd_event_source_set_time_accuracy(is->timer, accuracy);
	if (r >= 0)
		r = sd_event_source_set_time_relative(is->timer, (uint64_t)seconds * 1000000u);
	return r < 0 ? r : sd_event_source_set_enabled(is->timer, SD_EVENT_ONESHOT);
}

/* Nothing left: enter IDLE (or wait for the poll timer) until woken. */
static int start_waiting(struct imap_source *is)
{
	int r, fd;

	if (!is->event)
		return 0;
	if (!is->has_idle)
		return arm_timer(is, is->poll_interval_s);
	r = mailimap_idle(is->imap);
	if (r != MAILIMAP_NO_ERROR) {
		if (++is->idle_failures >= IMAP_IDLE_MAX_FAILURES)
			log_warning("imap %s: IDLE failed %u times in a row: polling every %u s "
				    "instead",
				    is->base.name, is->idle_failures, is->poll_interval_s);
		return imap_error(is, r, "IDLE");
	}
	is->idling = true;
	/* data libetpan or OpenSSL already read is invisible to epoll: come back at once */
	if (is->imap->imap_stream->read_buffer_len > 0 ||
	    tls_stream_has_pending(mailstream_get_low(is->imap->imap_stream)))
		return arm_timer(is, 0);
	fd = mailimap_idle_get_fd(is->imap);
	r = sd_event_add_io(is->event, &is->idle_io, fd, EPOLLIN | EPOLLRDHUP, on_idle_io, is);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(is->idle_io, "imap-idle");
	/* re-issued well before the server's 30 min; a dead link shows at DONE */
	return arm_timer(is, is->idle_interval_s);
}

static int stop_waiting(struct imap_source *is)
{
	int r;

	if (is->timer)
		(void)sd_event_source_set_enabled(is->timer, SD_EVENT_OFF);
	if (!is->idling)
		return 0;
	is->idle_io = sd_event_source_disable_unref(is->idle_io);
	is->idling = false;
	r = mailimap_idle_done(is->imap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(is, r, "IDLE DONE");
	is->idle_failures = 0;
	return 0;
}

/* ---- the driver ---- */

static int hand_out(struct imap_source *is, struct imap_msg *m, struct source_msg *ret)
{
	free(is->cur.data);
	is->cur = *m;
	m->data = NULL;
	free(is->ref);
	if (asprintf(&is->ref, "%s/%s/%u/%u", is->account, is->mailbox, is->sel_uidvalidity,
		     is->cur.uid) < 0) {
		is->ref = NULL;
		return -ENOMEM;
	}
	is->last_uid = is->cur.uid;
	*ret = (struct source_msg){
	    .data = is->cur.data,
	    .len = is->cur.len,
	    .kind = "imap",
	    .ref = is->ref,
	    .account = is->account,
	    .mailbox = is->mailbox,
	    .uidvalidity = is->sel_uidvalidity,
	    .uid = is->cur.uid,
	    .full_size = is->cur.full_size,
	};
	return 1;
}

static uint32_t exists(const struct imap_source *is)
{
	return is->imap && is->imap->imap_selection_info ? is->imap->imap_selection_info->sel_exists
							 : 0;
}

static int imap_fetch(struct source *s, struct source_msg *ret)
{
	struct imap_source *is = is_of(s);
	bool searched = false;
	unsigned searches = 0;
	int r;

	free(is->cur.data);
	is->cur.data = NULL;
	if (is->imap) {
		r = stop_waiting(is);
		if (r < 0)
			return r;
	}
	if (!is->imap) {
		r = imap_session_connect(is);
		if (r < 0)
			return r;
	}
	if (is->stale) {
		is->stale = false;
		drop_work(is);
		return -ESTALE;
	}
	for (;;) {
		while (is->next_msg < is->n_batch) {
			struct imap_msg *m = &is->batch[is->next_msg++];
			if (m->data)
				return hand_out(is, m, ret);
		}
		if (is->next_uid < is->n_uids) {
			r = fetch_batch(is);
		} else if (!searched) {
			/* A server shows a message to this session at a sync point: one
			 * that arrives during the SEARCH is announced (EXISTS) only in
			 * its reply, too late for it and never again in IDLE. */
			uint32_t before = exists(is);
			r = search_new(is);
			searched =
			    r < 0 || is->n_uids > 0 || exists(is) <= before || ++searches >= 4;
		} else
			break;
		if (r < 0)
			return r;
	}
	drop_work(is);
	r = start_waiting(is);
	return r < 0 ? r : 0;
}

static int imap_ack(struct source *s, const struct source_msg *m)
{
	struct imap_source *is = is_of(s);
	struct mailimap_set *set;
	int r = MAILIMAP_NO_ERROR;
	const char *what = NULL;

	if (is->after == IMAP_AFTER_NOTHING)
		return 0;
	if (!is->imap || is->idling || m->uidvalidity != is->sel_uidvalidity)
		return -ECONNRESET; /* the next session sees it again as unseen: harmless */
	set = mailimap_set_new_single(m->uid);
	if (!set)
		return -ENOMEM;
	if (is->after == IMAP_AFTER_MOVE && is->has_move) {
		what = "UID MOVE";
		r = mailimap_uid_move(is->imap, set, is->move_to_utf7);
	} else if (is->after == IMAP_AFTER_MOVE) {
		what = "UID COPY";
		r = mailimap_uid_copy(is->imap, set, is->move_to_utf7);
	}
	if (r == MAILIMAP_NO_ERROR && (is->after == IMAP_AFTER_SEEN || !is->has_move)) {
		struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
		struct mailimap_store_att_flags *sa;

		mailimap_flag_list_add(fl, is->after == IMAP_AFTER_SEEN
					       ? mailimap_flag_new_seen()
					       : mailimap_flag_new_deleted());
		sa = mailimap_store_att_flags_new_add_flags_silent(fl);
		what = "UID STORE";
		r = mailimap_uid_store(is->imap, set, sa);
		mailimap_store_att_flags_free(sa);
		if (r == MAILIMAP_NO_ERROR && is->after == IMAP_AFTER_MOVE) {
			what = "UID EXPUNGE";
			if (is->has_uidplus)
				r = mailimap_uid_expunge(is->imap, set);
			else
				log_warning("imap %s: no MOVE or UIDPLUS on the server: UID %u was "
					    "copied and marked \\Deleted, not expunged",
					    is->base.name, m->uid);
		}
	}
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(is, r, what);
	log_debug("imap %s: UID %u acked (%s)", is->base.name, m->uid,
		  is->after == IMAP_AFTER_SEEN ? "\\Seen"
		  : is->has_move               ? "MOVE"
					       : "COPY, \\Deleted, UID EXPUNGE");
	return 0;
}

static int imap_watch(struct source *s, sd_event *e, source_wake_fn wake, void *userdata)
{
	struct imap_source *is = is_of(s);

	if (is->event)
		return -EBUSY;
	is->event = sd_event_ref(e);
	is->wake = wake;
	is->userdata = userdata;
	return 0;
}

static void imap_close(struct source *s)
{
	struct imap_source *is = is_of(s);

	if (!is)
		return;
	if (is->imap && !is->idling) {
		mailimap_logout(is->imap); /* polite, bounded by timeout_s */
	}
	imap_disconnect(is);
	is->timer = sd_event_source_disable_unref(is->timer);
	sd_event_unref(is->event);
	free(is->cur.data);
	free(is->ref);
	if (is->password) {
		explicit_bzero(is->password, strlen(is->password));
		free(is->password);
	}
	free(is->host);
	free(is->user);
	free(is->mailbox);
	free(is->ca_file);
	free(is->move_to);
	free(is->mailbox_utf7);
	free(is->move_to_utf7);
	free(is->account);
	free(is->base.name);
	free(is);
}

static const struct source_driver imap_driver = {
    .name = "imap",
    .fetch = imap_fetch,
    .ack = imap_ack,
    .watch = imap_watch,
    .close = imap_close,
};

/* ---- opening ---- */

static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*failed = true;
	return d;
}

int source_imap_open(const struct config_source *cs, size_t max_message_size, struct source **ret,
		     char **reterr_reason)
{
	struct imap_source *is;
	bool failed = false;
	int r;

	*reterr_reason = NULL;
	if (cs->tls == IMAP_TLS_NONE && !cs->allow_plaintext)
		return asprintf(reterr_reason,
				"[imap %s] tls = none would send the password in clear: refused "
				"(set allow_plaintext = yes to permit it)",
				cs->name) < 0
			   ? -ENOMEM
			   : -EPERM;
	/* libetpan writes with send(): a peer that closed must not kill us */
	signal(SIGPIPE, SIG_IGN);
	is = calloc(1, sizeof(*is));
	if (!is)
		return -ENOMEM;
	*is = (struct imap_source){
	    .base = {.driver = &imap_driver, .max_message_size = max_message_size},
	    .port = cs->port                       ? cs->port
		    : cs->tls == IMAP_TLS_IMPLICIT ? 993
						   : 143,
	    .idle_interval_s = cs->idle_interval_s ? cs->idle_interval_s : 600,
	    .poll_interval_s = cs->poll_interval_s ? cs->poll_interval_s : 60,
	    .timeout_s = cs->timeout_s ? cs->timeout_s : 60,
	    .batch_size = cs->batch_size ? cs->batch_size : 50,
	    .tls = cs->tls,
	    .after = cs->after,
	    .allow_plaintext = cs->allow_plaintext,
	};
	if (is->base.max_message_size == 0 || is->base.max_message_size > BUF_MAX_MESSAGE)
		is->base.max_message_size = BUF_MAX_MESSAGE;
	is->base.name = dup_or_null(cs->name ? cs->name : "imap", &failed);
	is->host = dup_or_null(cs->host, &failed);
	is->user = dup_or_null(cs->user, &failed);
	is->mailbox = dup_or_null(cs->mailbox ? cs->mailbox : "INBOX", &failed);
	is->ca_file = dup_or_null(cs->ca_file, &failed);
	is->move_to = dup_or_null(cs->move_to, &failed);
	if (failed || !cs->host || !cs->user ||
	    asprintf(&is->account, "%s@%s", cs->user, cs->host) < 0) {
		is->account = NULL;
		imap_close(&is->base);
		return failed || (cs->host && cs->user) ? -ENOMEM : -EINVAL;
	}
	r = imap_utf7_encode(is->mailbox, &is->mailbox_utf7);
	if (r >= 0 && is->move_to)
		r = imap_utf7_encode(is->move_to, &is->move_to_utf7);
	if (r < 0) {
		imap_close(&is->base);
		return r == -ENOMEM || asprintf(reterr_reason,
						"[imap %s] mailbox or move_to is not valid UTF-8",
						cs->name) < 0
			   ? -ENOMEM
			   : r;
	}
	r = imap_read_password(cs, &is->password, reterr_reason);
	if (r < 0) {
		imap_close(&is->base);
		return r;
	}
	*ret = &is->base;
	return 0;
}

int source_is_imap(const struct source *s)
{
	return s && s->driver == &imap_driver;
}

void source_imap_set_checkpoint(struct source *s, uint32_t uidvalidity, uint32_t last_uid)
{
	struct imap_source *is = is_of(s);

	if (!source_is_imap(s))
		return;
	is->cp_uidvalidity = uidvalidity;
	is->last_uid = last_uid;
	drop_work(is);
	if (is->imap && uidvalidity != 0 && uidvalidity != is->sel_uidvalidity) {
		is->last_uid = 0;
		is->stale = true;
		is->cp_uidvalidity = is->sel_uidvalidity;
	}
}

int source_imap_load_checkpoint(struct source *s, struct db *db)
{
	struct imap_source *is = is_of(s);
	_cleanup_(db_rows_freep) struct db_rows *rows = NULL;
	unsigned v = 0, u = 0;
	int r;

	if (!source_is_imap(s))
		return -EINVAL;
	r = db_query(db,
		     "SELECT uidvalidity, last_uid FROM ingest_checkpoints "
		     "WHERE account = ? AND mailbox = ?",
		     (struct db_value[]){DB_TEXT(is->account), DB_TEXT(is->mailbox)}, 2, &rows);
	if (r < 0)
		return log_error_errno(r, "imap %s: cannot read the checkpoint: %s", s->name,
				       db_error(db));
	if (rows->n_rows > 0 && (parse_uint32(db_cell(rows, 0, 0), &v) < 0 ||
				 parse_uint32(db_cell(rows, 0, 1), &u) < 0))
		return log_error_errno(-EBADMSG, "imap %s: the checkpoint row is unreadable",
				       s->name);
	source_imap_set_checkpoint(s, v, u);
	log_debug("imap %s: checkpoint UIDVALIDITY %u, last UID %u", s->name, v, u);
	return 0;
}

int source_imap_connect(struct source *s)
{
	struct imap_source *is = is_of(s);

	if (!source_is_imap(s))
		return -EINVAL;
	return is->imap ? 0 : imap_session_connect(is);
}
