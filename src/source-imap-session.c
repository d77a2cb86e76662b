/* source-imap-session.c: one IMAP session up to a selected mailbox.
 *
 * TLS is ours (tls-stream.h), on our own socket: with implicit TLS the
 * server is verified before libetpan reads the greeting; after STARTTLS,
 * before CAPABILITY is asked again and before LOGIN. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "source-imap-private.h"
#include "strutil.h"
#include "tls-stream.h"

#define IMAP_MAX_PASSWORD  4096
#define IMAP_STREAM_BUFFER 8192 /* as libetpan's own streams */

bool imap_code_is_fatal(int code)
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

static int tcp_connect(struct imap_source *is, char **reterr_reason)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *ai = NULL;
	char port[8];
	int r, fd = -1, err = ECONNREFUSED;

	snprintf(port, sizeof(port), "%u", is->port);
	r = getaddrinfo(is->host, port, &hints, &ai);
	if (r != 0)
		return set_reason(reterr_reason, r == EAI_NONAME ? -EHOSTUNREACH : -ECONNRESET,
				  "cannot resolve '%s': %s", is->host, gai_strerror(r));
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
		return set_reason(reterr_reason, err == ETIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED,
				  "cannot connect to %s:%u: %m", is->host, is->port);
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

static int open_stream(struct imap_source *is, char **reterr_reason)
{
	mailstream_low *low = NULL;
	mailstream *s;
	int fd, r;

	fd = tcp_connect(is, reterr_reason);
	if (fd < 0)
		return fd;
	if (is->tls == IMAP_TLS_IMPLICIT) {
		r = tls_stream_open(fd, is->host, is->ca_file, is->timeout_s, &low, reterr_reason);
		if (r < 0) {
			close(fd);
			return r;
		}
		s = mailstream_new(low, IMAP_STREAM_BUFFER);
	} else
		s = mailstream_socket_open_timeout(fd, is->timeout_s);
	if (!s) {
		if (low)
			mailstream_low_free(low); /* leaves fd open */
		close(fd);
		return -ENOMEM;
	}
	r = mailimap_connect(is->imap, s); /* takes s, reads the greeting */
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED)
		return set_reason(reterr_reason, -ECONNRESET,
				  "%s:%u sent no IMAP greeting (libetpan error %d)", is->host,
				  is->port, r);
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
	mailstream_low *plain, *low;
	int r;

	if (!mailimap_has_extension(is->imap, "STARTTLS")) {
		r = refresh_capabilities(is);
		if (r != MAILIMAP_NO_ERROR)
			return -ECONNRESET;
	}
	if (!mailimap_has_extension(is->imap, "STARTTLS")) {
		return set_reason(reterr_reason, -EPERM,
				  "%s:%u offers no STARTTLS; refusing to log in without TLS",
				  is->host, is->port);
	}
	/* refused too when bytes follow the OK (CVE-2020-15953, fixed in 1.9.4-3) */
	r = mailimap_starttls(is->imap);
	if (r != MAILIMAP_NO_ERROR)
		return set_reason(
		    reterr_reason, r == MAILIMAP_ERROR_STARTTLS ? -EPERM : -ECONNRESET,
		    "STARTTLS with %s:%u failed (libetpan error %d)", is->host, is->port, r);
	plain = mailstream_get_low(is->imap->imap_stream);
	r = tls_stream_open(mailstream_low_get_fd(plain), is->host, is->ca_file, is->timeout_s,
			    &low, reterr_reason);
	if (r < 0)
		return r;           /* the fd is still the plain stream's, closed with it */
	mailstream_low_free(plain); /* frees, does not close */
	mailstream_set_low(is->imap->imap_stream, low);
	/* what was said before TLS is not to be believed */
	return refresh_capabilities(is) == MAILIMAP_NO_ERROR ? 0 : -ECONNRESET;
}

static int login_and_select(struct imap_source *is, char **reterr_reason)
{
	int r;

	r = mailimap_login(is->imap, is->user, is->password);
	if (r != MAILIMAP_NO_ERROR)
		return set_reason(reterr_reason, imap_code_is_fatal(r) ? -ECONNRESET : -EACCES,
				  "%s:%u refused the login of '%s'%s", is->host, is->port, is->user,
				  imap_code_is_fatal(r) ? " (connection lost)" : "");
	if (refresh_capabilities(is) != MAILIMAP_NO_ERROR) /* MOVE, UIDPLUS come after login */
		return -ECONNRESET;
	r = mailimap_select(is->imap, is->mailbox_utf7);
	if (r != MAILIMAP_NO_ERROR || !is->imap->imap_selection_info)
		return set_reason(reterr_reason, imap_code_is_fatal(r) ? -ECONNRESET : -ENOENT,
				  "cannot select mailbox '%s' on %s (libetpan error %d)",
				  is->mailbox, is->host, r);
	is->sel_uidvalidity = is->imap->imap_selection_info->sel_uidvalidity;
	is->has_idle = mailimap_has_idle(is->imap) && is->idle_failures < IMAP_IDLE_MAX_FAILURES;
	is->has_move = mailimap_has_extension(is->imap, "MOVE");
	is->has_uidplus = mailimap_has_uidplus(is->imap);
	return 0;
}

int imap_session_connect(struct imap_source *is)
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
		imap_disconnect(is);
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

int imap_read_password(const struct config_source *cs, char **ret, char **reterr_reason)
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
