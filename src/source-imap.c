/* source-imap.c: the IMAP driver, see source-imap.h.
 *
 * libetpan is blocking: every call waits at most timeout_s (connect, TLS
 * handshake, each read and write), so the event loop is never stuck longer.
 * Only IDLE waits in the loop itself, as an I/O source on the session's fd. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "source-imap.h"
#include "source.h"
#include "strutil.h"
#include "tls-verify.h"

#define IMAP_MAX_PASSWORD 4096
#define IMAP_MAX_UIDS     1000000u /* one UID SEARCH result */

struct imap_msg {
	uint32_t uid;
	char *data;
	size_t len, full_size;
};

struct imap_source {
	struct source base;
	/* settings */
	char *host, *user, *password, *mailbox, *ca_file, *move_to, *account;
	unsigned port, idle_interval_s, poll_interval_s, timeout_s, batch_size;
	enum imap_tls tls;
	enum imap_after after;
	bool allow_plaintext;
	/* session: imap is NULL when not connected */
	mailimap *imap;
	bool has_idle, has_move, has_uidplus;
	uint32_t sel_uidvalidity;
	/* checkpoint: the last UID handed out under cp_uidvalidity (0: none) */
	uint32_t cp_uidvalidity, last_uid;
	bool stale; /* report -ESTALE once */
	/* work: UIDs found, and the fetched batch */
	uint32_t *uids;
	size_t n_uids, next_uid;
	struct imap_msg *batch;
	size_t n_batch, next_msg;
	struct imap_msg cur; /* in hand */
	char *ref;
	/* watch */
	sd_event *event;
	sd_event_source *idle_io, *timer;
	bool idling;
	source_wake_fn wake;
	void *userdata;
};

static struct imap_source *is_of(struct source *s)
{
	return (struct imap_source *)s;
}

static bool code_is_fatal(int code)
{
	switch (code) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_PROTOCOL:
	case MAILIMAP_ERROR_SSL:
	case MAILIMAP_ERROR_MEMORY:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_BAD_STATE:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return true;
	default:
		return false;
	}
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

/* Drops a broken session without the LOGOUT that mailimap_free would wait for. */
static void disconnect(struct imap_source *is)
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
	if (code_is_fatal(code)) {
		log_debug("imap %s: %s failed (libetpan error %d): connection lost", is->base.name,
			  what, code);
		disconnect(is);
		return -ECONNRESET; /* STREAM is a timeout or the peer's close alike */
	}
	log_warning("imap %s: %s failed: the server said no (libetpan error %d)", is->base.name,
		    what, code);
	return -EIO;
}

/* ---- connecting ---- */

static int tcp_connect(struct imap_source *is, char **reterr_reason)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *ai = NULL;
	char port[8];
	int r, fd = -1, err = ECONNREFUSED;

	snprintf(port, sizeof(port), "%u", is->port);
	r = getaddrinfo(is->host, port, &hints, &ai);
	if (r != 0) {
		if (asprintf(reterr_reason, "cannot resolve '%s': %s", is->host, gai_strerror(r)) <
		    0)
			*reterr_reason = NULL;
		return r == EAI_NONAME ? -EHOSTUNREACH : -ECONNRESET;
	}
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		struct pollfd p;
		socklen_t len = sizeof(err);

		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    a->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			err = 0;
		else if (errno != EINPROGRESS)
			err = errno;
		else {
			p = (struct pollfd){.fd = fd, .events = POLLOUT};
			r = poll(&p, 1, (int)is->timeout_s * 1000);
			if (r == 0)
				err = ETIMEDOUT;
			else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
		}
		if (err == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		errno = err;
		if (asprintf(reterr_reason, "cannot connect to %s:%u: %m", is->host, is->port) < 0)
			*reterr_reason = NULL;
		return err == ETIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	}
	/* libetpan waits with its own timeouts on a blocking fd; keepalive finds dead peers */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	{
		int on = 1, idle = 60, intvl = 20, cnt = 3;
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	return fd;
}

static void sni_callback(struct mailstream_ssl_context *ctx, void *data)
{
	(void)mailstream_ssl_set_server_name(ctx, data);
}

static int verify_stream(struct imap_source *is, mailstream *s, char **reterr_reason)
{
	carray *chain = mailstream_get_certificate_chain(s);
	struct tls_der der[16];
	size_t n = 0;
	int r;

	if (chain) {
		n = carray_count(chain);
		if (n > ELEMENTSOF(der))
			n = ELEMENTSOF(der);
		for (size_t i = 0; i < n; i++) {
			MMAPString *c = carray_get(chain, (unsigned)i);
			der[i] = (struct tls_der){(const unsigned char *)c->str, c->len};
		}
	}
	r = tls_verify_chain(der, n, is->host, is->ca_file, reterr_reason);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return r;
}

static int open_stream(struct imap_source *is, char **reterr_reason)
{
	mailstream *s;
	int fd, r;

	fd = tcp_connect(is, reterr_reason);
	if (fd < 0)
		return fd;
	if (is->tls == IMAP_TLS_IMPLICIT)
		s = mailstream_ssl_open_with_callback_timeout(fd, is->timeout_s, sni_callback,
							      is->host);
	else
		s = mailstream_socket_open_timeout(fd, is->timeout_s);
	if (!s) {
		close(fd);
		if (asprintf(reterr_reason, "%s with %s:%u failed",
			     is->tls == IMAP_TLS_IMPLICIT ? "TLS handshake" : "stream set-up",
			     is->host, is->port) < 0)
			*reterr_reason = NULL;
		return -ECONNRESET;
	}
	if (is->tls == IMAP_TLS_IMPLICIT) {
		r = verify_stream(is, s, reterr_reason);
		if (r < 0) {
			mailstream_close(s);
			return r;
		}
	}
	r = mailimap_connect(is->imap, s); /* takes s, reads the greeting */
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		if (asprintf(reterr_reason, "%s:%u sent no IMAP greeting (libetpan error %d)",
			     is->host, is->port, r) < 0)
			*reterr_reason = NULL;
		return -ECONNRESET;
	}
	return 0;
}

static int refresh_capabilities(struct imap_source *is)
{
	struct mailimap_capability_data *cap = NULL;
	int r = mailimap_capability(is->imap, &cap);

	if (cap)
		mailimap_capability_data_free(cap);
	return r;
}

static int start_tls(struct imap_source *is, char **reterr_reason)
{
	int r;

	if (!mailimap_has_extension(is->imap, "STARTTLS")) {
		r = refresh_capabilities(is);
		if (r != MAILIMAP_NO_ERROR)
			return -ECONNRESET;
	}
	if (!mailimap_has_extension(is->imap, "STARTTLS")) {
		if (asprintf(reterr_reason,
			     "%s:%u offers no STARTTLS; refusing to log in without TLS", is->host,
			     is->port) < 0)
			*reterr_reason = NULL;
		return -EPERM;
	}
	r = mailimap_socket_starttls_with_callback(is->imap, sni_callback, is->host);
	if (r != MAILIMAP_NO_ERROR) {
		if (asprintf(reterr_reason, "STARTTLS with %s:%u failed (libetpan error %d)",
			     is->host, is->port, r) < 0)
			*reterr_reason = NULL;
		return r == MAILIMAP_ERROR_STARTTLS ? -EPERM : -ECONNRESET;
	}
	r = verify_stream(is, is->imap->imap_stream, reterr_reason);
	if (r < 0)
		return r;
	/* what was said before TLS is not to be believed */
	return refresh_capabilities(is) == MAILIMAP_NO_ERROR ? 0 : -ECONNRESET;
}

static int login_and_select(struct imap_source *is, char **reterr_reason)
{
	int r;

	r = mailimap_login(is->imap, is->user, is->password);
	if (r != MAILIMAP_NO_ERROR) {
		if (asprintf(reterr_reason, "%s:%u refused the login of '%s'%s", is->host, is->port,
			     is->user, code_is_fatal(r) ? " (connection lost)" : "") < 0)
			*reterr_reason = NULL;
		return code_is_fatal(r) ? -ECONNRESET : -EACCES;
	}
	if (refresh_capabilities(is) != MAILIMAP_NO_ERROR) /* MOVE, UIDPLUS come after login */
		return -ECONNRESET;
	r = mailimap_select(is->imap, is->mailbox);
	if (r != MAILIMAP_NO_ERROR || !is->imap->imap_selection_info) {
		if (asprintf(reterr_reason, "cannot select mailbox '%s' on %s (libetpan error %d)",
			     is->mailbox, is->host, r) < 0)
			*reterr_reason = NULL;
		return code_is_fatal(r) ? -ECONNRESET : -ENOENT;
	}
	is->sel_uidvalidity = is->imap->imap_selection_info->sel_uidvalidity;
	is->has_idle = mailimap_has_idle(is->imap);
	is->has_move = mailimap_has_extension(is->imap, "MOVE");
	is->has_uidplus = mailimap_has_uidplus(is->imap);
	return 0;
}

static int connect_session(struct imap_source *is)
{
	_cleanup_free_ char *why = NULL;
	int r;

	if (is->tls == IMAP_TLS_NONE && !is->allow_plaintext)
		return log_error_errno(-EPERM,
				       "imap %s: tls = none sends the password in clear; refused "
				       "(set allow_plaintext = yes to permit it)",
				       is->base.name);
	is->imap = mailimap_new(0, NULL);
	if (!is->imap)
		return -ENOMEM;
	mailimap_set_timeout(is->imap, is->timeout_s);
	r = open_stream(is, &why);
	if (r >= 0 && is->tls == IMAP_TLS_STARTTLS)
		r = start_tls(is, &why);
	if (r >= 0)
		r = login_and_select(is, &why);
	if (r < 0) {
		disconnect(is);
		errno = -r;
		return log_full(r == -EPERM || r == -EACCES || r == -ENOENT ? LOG_ERR : LOG_DEBUG,
				r, NULL, "imap %s: %s", is->base.name,
				why ? why : "connection failed: %m");
	}
	if (is->cp_uidvalidity != 0 && is->cp_uidvalidity != is->sel_uidvalidity) {
		log_warning("imap %s: UIDVALIDITY of '%s' changed from %u to %u: reading it "
			    "again from the start",
			    is->base.name, is->mailbox, is->cp_uidvalidity, is->sel_uidvalidity);
		is->last_uid = 0;
		is->stale = true;
	}
	is->cp_uidvalidity = is->sel_uidvalidity;
	log_debug("imap %s: connected to %s:%u, '%s' selected (UIDVALIDITY %u, IDLE %s)",
		  is->base.name, is->host, is->port, is->mailbox, is->sel_uidvalidity,
		  is->has_idle ? "yes" : "no");
	return 0;
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

static int arm_timer(struct imap_source *is, unsigned seconds)
{
	int r;

	if (!is->timer) {
		r = sd_event_add_time_relative(is->event, &is->timer, CLOCK_MONOTONIC,
					       (uint64_t)seconds * 1000000u, 500000u, on_timer, is);
		if (r >= 0)
			(void)sd_event_source_set_description(is->timer, "imap-timer");
		return r;
	}
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
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(is, r, "IDLE");
	is->idling = true;
	/* data libetpan already read is invisible to epoll: come back at once */
	if (is->imap->imap_stream->read_buffer_len > 0)
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

static int imap_fetch(struct source *s, struct source_msg *ret)
{
	struct imap_source *is = is_of(s);
	bool searched = false;
	int r;

	free(is->cur.data);
	is->cur.data = NULL;
	if (is->imap) {
		r = stop_waiting(is);
		if (r < 0)
			return r;
	}
	if (!is->imap) {
		r = connect_session(is);
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
			r = search_new(is);
			searched = true;
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
		r = mailimap_uid_move(is->imap, set, is->move_to);
	} else if (is->after == IMAP_AFTER_MOVE) {
		what = "UID COPY";
		r = mailimap_uid_copy(is->imap, set, is->move_to);
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
	return r == MAILIMAP_NO_ERROR ? 0 : imap_error(is, r, what);
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
	disconnect(is);
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

/* password_file, else the systemd credential imap-password-NAME. */
static int read_password(const struct config_source *cs, char **ret, char **reterr_reason)
{
	_cleanup_free_ char *cred = NULL;
	const char *path = cs->password_file, *dir = getenv("CREDENTIALS_DIRECTORY");
	_cleanup_close_ int fd = -1;
	char *pw;
	ssize_t n;
	size_t len = 0;

	if (!path && dir) {
		if (asprintf(&cred, "%s/imap-password-%s", dir, cs->name) < 0)
			return -ENOMEM;
		path = cred;
	}
	if (!path)
		return asprintf(reterr_reason,
				"[imap %s] has no password_file and no credential "
				"imap-password-%s (LoadCredential=)",
				cs->name, cs->name) < 0
			   ? -ENOMEM
			   : -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = -errno;
		return asprintf(reterr_reason, "[imap %s] cannot read the password file '%s': %m",
				cs->name, path) < 0
			   ? -ENOMEM
			   : r;
	}
	pw = calloc(1, IMAP_MAX_PASSWORD + 1);
	if (!pw)
		return -ENOMEM;
	while (len < IMAP_MAX_PASSWORD && (n = read(fd, pw + len, IMAP_MAX_PASSWORD - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			free(pw);
			return r;
		}
		len += (size_t)n;
	}
	while (len > 0 && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
		pw[--len] = '\0';
	*ret = pw;
	return 0;
}

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
	r = read_password(cs, &is->password, reterr_reason);
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
	return is->imap ? 0 : connect_session(is);
}
