/* dburl.c: DATABASE_URL parsing, see dburl.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dburl.h"
#include "strutil.h"

static int fail(char **reterr_reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(reterr_reason, fmt, ap) < 0)
		*reterr_reason = NULL;
	va_end(ap);
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into a new string; -EINVAL on a bad escape or NUL. */
static int pct_decode(const char *s, size_t n, char **ret)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		int a = i + 2 < n ? hexval(s[i + 1]) : -1;
		int b = a >= 0 ? hexval(s[i + 2]) : -1;
		if (b < 0 || (a == 0 && b == 0)) {
			free(out);
			return -EINVAL;
		}
		*o++ = (char)(a * 16 + b);
		i += 2;
	}
	*o = '\0';
	*ret = out;
	return 0;
}

static int scheme_ok(const char *s, size_t n)
{
	const char *plus = memchr(s, '+', n);
	size_t base = plus ? (size_t)(plus - s) : n;

	if (plus && plus + 1 == s + n)
		return 0;
	return (base == 5 && strncmp(s, "mysql", 5) == 0) ||
	       (base == 7 && strncmp(s, "mariadb", 7) == 0);
}

static int parse_hostport(const char *s, size_t n, struct db_params *p, char **reterr_reason)
{
	const char *port = NULL, *h = s, *hend;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return fail(reterr_reason, "IPv6 host is missing its closing ']'");
		h = s + 1;
		hend = close;
		if (close + 1 < s + n) {
			if (close[1] != ':')
				return fail(reterr_reason, "unexpected text after ']' in the host");
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', n);
		hend = colon ? colon : s + n;
		port = colon ? colon + 1 : NULL;
	}
	if (hend > h) {
		p->host = strndup(h, (size_t)(hend - h));
		if (!p->host)
			return -ENOMEM;
	}
	if (port) {
		_cleanup_free_ char *ps = strndup(port, (size_t)(s + n - port));
		unsigned long long v;
		if (!ps)
			return -ENOMEM;
		if (parse_uint(ps, 65535, &v) < 0 || v == 0)
			return fail(reterr_reason, "bad port '%s' (1-65535)", ps);
		p->port = (unsigned)v;
	}
	return 0;
}

static int parse_userinfo(const char *s, size_t n, struct db_params *p, char **reterr_reason)
{
	const char *colon = memchr(s, ':', n);
	size_t ulen = colon ? (size_t)(colon - s) : n;
	int r;

	r = pct_decode(s, ulen, &p->user);
	if (r == -EINVAL)
		return fail(reterr_reason, "bad percent-encoding in the user name");
	if (r < 0)
		return r;
	if (colon) {
		r = pct_decode(colon + 1, (size_t)(s + n - colon - 1), &p->password);
		if (r == -EINVAL)
			return fail(reterr_reason, "bad percent-encoding in the password");
	}
	return r;
}

static int parse_query(const char *q, struct db_params *p, char **reterr_reason)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		char **dst;
		int r;

		if (!eq)
			return fail(reterr_reason, "query parameter '%.*s' has no value", (int)n,
				    q);
		if ((size_t)(eq - q) == 11 && strncmp(q, "unix_socket", 11) == 0)
			dst = &p->socket;
		else if ((size_t)(eq - q) == 7 && strncmp(q, "charset", 7) == 0)
			dst = &p->charset;
		else
			return fail(reterr_reason,
				    "unknown query parameter '%.*s' (known: unix_socket, charset)",
				    (int)(eq - q), q);
		free(*dst);
		*dst = NULL;
		r = pct_decode(eq + 1, (size_t)(q + n - eq - 1), dst);
		if (r == -EINVAL)
			return fail(reterr_reason, "bad percent-encoding in '%.*s'", (int)(eq - q),
				    q);
		if (r < 0)
			return r;
		q += n + (q[n] == '&');
	}
	return 0;
}

static int dburl_parse_into(const char *url, struct db_params *p, char **reterr_reason)
{
	const char *sep = strstr(url, "://"), *auth, *path, *at, *query;
	size_t auth_len;
	int r;

	if (!sep || !scheme_ok(url, (size_t)(sep - url)))
		return fail(reterr_reason, "must start with mysql:// or mysql+DRIVER://");
	auth = sep + 3;
	auth_len = strcspn(auth, "/?");
	path = auth + auth_len;
	at = NULL;
	for (const char *c = auth; c < path; c++)
		if (*c == '@')
			at = c; /* the last '@': a password may hold an unencoded one */
	if (at) {
		r = parse_userinfo(auth, (size_t)(at - auth), p, reterr_reason);
		if (r < 0)
			return r;
		auth_len -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	r = parse_hostport(auth, auth_len, p, reterr_reason);
	if (r < 0)
		return r;
	query = strchr(path, '?');
	if (*path == '/') {
		size_t n = query ? (size_t)(query - path - 1) : strlen(path + 1);
		r = pct_decode(path + 1, n, &p->database);
		if (r == -EINVAL)
			return fail(reterr_reason, "bad percent-encoding in the database name");
		if (r < 0)
			return r;
	}
	if (!p->database || !*p->database)
		return fail(reterr_reason, "no database name (mysql://user@host/DATABASE)");
	if (strchr(p->database, '/'))
		return fail(reterr_reason, "database name '%s' contains '/'", p->database);
	return query ? parse_query(query + 1, p, reterr_reason) : 0;
}

int dburl_parse(const char *url, struct db_params *ret, char **reterr_reason)
{
	struct db_params p = {0};
	int r;

	*reterr_reason = NULL;
	r = dburl_parse_into(url, &p, reterr_reason);
	if (r < 0) {
		db_params_done(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void db_params_done(struct db_params *p)
{
	if (p->password)
		explicit_bzero(p->password, strlen(p->password));
	free(p->user);
	free(p->password);
	free(p->host);
	free(p->database);
	free(p->socket);
	free(p->charset);
	*p = (struct db_params){0};
}

char *dburl_redacted(const struct db_params *p)
{
	_cleanup_buf_ struct buf b = BUF_INIT(BUF_MAX_SMALL);
	int r;

	r = buf_printf(&b, "mysql://%s%s%s", p->user ? p->user : "", p->password ? ":***" : "",
		       p->user ? "@" : "");
	if (r == 0 && p->host)
		r = buf_printf(&b, strchr(p->host, ':') ? "[%s]" : "%s", p->host);
	if (r == 0 && p->port)
		r = buf_printf(&b, ":%u", p->port);
	if (r == 0)
		r = buf_printf(&b, "/%s", p->database ? p->database : "");
	if (r == 0 && p->socket)
		r = buf_printf(&b, "?unix_socket=%s", p->socket);
	return r == 0 ? buf_take(&b, NULL) : NULL;
}
