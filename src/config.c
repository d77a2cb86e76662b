/* config.c: INI parsing (inih) into struct config, one table of keys. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "alias-index.h"
#include "config.h"
#include "log.h"
#include "strutil.h"

enum key_type {
	KEY_STRING,
	KEY_UINT,    /* plain count */
	KEY_SECONDS, /* "30", "30s", "10min", "2h" -> seconds */
	KEY_MSEC,    /* "500ms", "1s", "2" (seconds) -> milliseconds */
	KEY_SIZE,    /* "25M", "512K", "1G", bytes */
	KEY_BOOL,
	KEY_FRACTION, /* 0.0 .. 1.0 */
	KEY_LOG_LEVEL,
	KEY_LOG_TARGET,
	KEY_IMAP_TLS,
	KEY_IMAP_AFTER,
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	unsigned long long min, max;
};

#define C(f) offsetof(struct config, f)
#define S(f) offsetof(struct config_source, f)

static const struct key database_keys[] = {
    {"url", KEY_STRING, C(database.url), 0, 0},
    {"password_file", KEY_STRING, C(database.password_file), 0, 0},
    {"connect_attempts", KEY_UINT, C(database.connect_attempts), 1, 1000},
    {"connect_retry_min", KEY_MSEC, C(database.connect_retry_min_ms), 0, 600000},
    {"connect_retry_max", KEY_MSEC, C(database.connect_retry_max_ms), 0, 600000},
    {"connect_timeout", KEY_SECONDS, C(database.connect_timeout_s), 1, 3600},
    {"auto_migrate", KEY_BOOL, C(database.auto_migrate), 0, 0},
    {"migrations_dir", KEY_STRING, C(database.migrations_dir), 0, 0},
    {"lock_timeout", KEY_SECONDS, C(database.lock_timeout_s), 0, 86400},
    {NULL, 0, 0, 0, 0},
};

static const struct key parser_keys[] = {
    {"rules_dir", KEY_STRING, C(parser.rules_dir), 0, 0},
    {"rules_override_dir", KEY_STRING, C(parser.rules_override_dir), 0, 0},
    {"max_message_size", KEY_SIZE, C(parser.max_message_size), 1024, 1ull << 30},
    {"worker_timeout", KEY_SECONDS, C(parser.worker_timeout_s), 1, 3600},
    {"match_threshold", KEY_FRACTION, C(parser.match_threshold), 0, 0},
    {"match_margin", KEY_FRACTION, C(parser.match_margin), 0, 0},
    {"alias_refresh", KEY_SECONDS, C(parser.alias_refresh_s), 1, 86400},
    {"store_likely_duplicates", KEY_BOOL, C(parser.store_likely_duplicates), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static const struct key log_keys[] = {
    {"level", KEY_LOG_LEVEL, C(log.level), 0, 0},
    {"target", KEY_LOG_TARGET, C(log.target), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static const struct key imap_keys[] = {
    {"host", KEY_STRING, S(host), 0, 0},
    {"port", KEY_UINT, S(port), 1, 65535},
    {"tls", KEY_IMAP_TLS, S(tls), 0, 0},
    {"user", KEY_STRING, S(user), 0, 0},
    {"password_file", KEY_STRING, S(password_file), 0, 0},
    {"mailbox", KEY_STRING, S(mailbox), 0, 0},
    {"ca_file", KEY_STRING, S(ca_file), 0, 0},
    {"allow_plaintext", KEY_BOOL, S(allow_plaintext), 0, 0},
    {"idle_interval", KEY_SECONDS, S(idle_interval_s), 10, 29 * 60},
    {"poll_interval", KEY_SECONDS, S(poll_interval_s), 1, 86400},
    {"timeout", KEY_SECONDS, S(timeout_s), 1, 3600},
    {"batch_size", KEY_UINT, S(batch_size), 1, 10000},
    {"after", KEY_IMAP_AFTER, S(after), 0, 0},
    {"move_to", KEY_STRING, S(move_to), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static const struct key maildir_keys[] = {
    {"path", KEY_STRING, S(path), 0, 0},
    {"watch_cur", KEY_BOOL, S(watch_cur), 0, 0},
    {NULL, 0, 0, 0, 0},
};

struct parse_state {
	struct config *cfg;
	char *error; /* the first error, without file and line */
};

static int set_error(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->error)
		return 0;
	va_start(ap, fmt);
	if (vasprintf(&st->error, fmt, ap) < 0)
		st->error = NULL;
	va_end(ap);
	return 0; /* inih: 0 = error on this line */
}

/* "10", "10s", "5min", "2h", "500ms" -> milliseconds. */
static int parse_duration_ms(const char *v, unsigned long long *ret)
{
	static const struct {
		const char *suffix;
		unsigned long long ms;
	} units[] = {{"ms", 1},    {"s", 1000},    {"sec", 1000}, {"min", 60000},
		     {"m", 60000}, {"h", 3600000}, {"", 1000}};
	size_t digits = strspn(v, "0123456789");
	char num[24];
	unsigned long long n;

	if (digits == 0 || digits >= sizeof(num))
		return -EINVAL;
	memcpy(num, v, digits);
	num[digits] = '\0';
	if (parse_uint(num, 1ull << 40, &n) < 0)
		return -ERANGE;
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (streq(v + digits, units[i].suffix)) {
			*ret = n * units[i].ms;
			return 0;
		}
	return -EINVAL;
}

static int parse_size(const char *v, unsigned long long *ret)
{
	size_t digits = strspn(v, "0123456789");
	unsigned long long n, mult = 1;
	char num[24];

	if (digits == 0 || digits >= sizeof(num))
		return -EINVAL;
	memcpy(num, v, digits);
	num[digits] = '\0';
	if (parse_uint(num, 1ull << 40, &n) < 0)
		return -ERANGE;
	if (strcasecmp(v + digits, "K") == 0)
		mult = 1ull << 10;
	else if (strcasecmp(v + digits, "M") == 0)
		mult = 1ull << 20;
	else if (strcasecmp(v + digits, "G") == 0)
		mult = 1ull << 30;
	else if (v[digits])
		return -EINVAL;
	*ret = n * mult;
	return 0;
}

static int enum_value(const char *v, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v, names[i]))
			return (int)i;
	return -EINVAL;
}

static const char *const tls_names[] = {"implicit", "starttls", "none"};
static const char *const after_names[] = {"nothing", "seen", "move"};

static int check_range(struct parse_state *st, const struct key *k, unsigned long long v)
{
	if (v < k->min || v > k->max)
		return set_error(st, "%s: %llu is out of range (%llu-%llu)", k->name, v, k->min,
				 k->max);
	return 1;
}

static int set_number(struct parse_state *st, const struct key *k, void *field, const char *v)
{
	unsigned long long n;
	int r;

	switch (k->type) {
	case KEY_UINT:
		r = parse_uint(v, 1ull << 40, &n);
		break;
	case KEY_SECONDS:
		r = parse_duration_ms(v, &n);
		if (r == 0 && n % 1000)
			return set_error(st, "%s: '%s' is not a whole number of seconds", k->name,
					 v);
		n /= 1000;
		break;
	case KEY_MSEC:
		r = parse_duration_ms(v, &n);
		break;
	default:
		r = parse_size(v, &n);
		break;
	}
	if (r < 0)
		return set_error(st, "%s: '%s' is not a valid %s", k->name, v,
				 k->type == KEY_SIZE   ? "size (e.g. 25M)"
				 : k->type == KEY_UINT ? "number"
						       : "duration (e.g. 30s, 10min)");
	if (!check_range(st, k, n))
		return 0;
	if (k->type == KEY_SIZE)
		*(uint64_t *)field = n;
	else
		*(unsigned *)field = (unsigned)n;
	return 1;
}

static int set_value(struct parse_state *st, const struct key *k, void *base, const char *v)
{
	void *field = (char *)base + k->offset;
	double d;
	int r;

	switch (k->type) {
	case KEY_STRING:
		if (!*v)
			return set_error(st, "%s: empty value", k->name);
		free(*(char **)field);
		*(char **)field = strdup(v);
		return *(char **)field ? 1 : set_error(st, "out of memory");
	case KEY_BOOL:
		r = parse_bool(v);
		if (r < 0)
			return set_error(st, "%s: '%s' is not yes/no", k->name, v);
		*(bool *)field = r;
		return 1;
	case KEY_FRACTION:
		if (parse_udouble(v, &d) < 0 || d > 1.0)
			return set_error(st, "%s: '%s' is not a number from 0 to 1", k->name, v);
		*(double *)field = d;
		return 1;
	case KEY_LOG_LEVEL:
		r = log_level_from_string(v);
		if (r < 0)
			return set_error(
			    st, "%s: '%s' is not one of error, warning, notice, info, debug",
			    k->name, v);
		*(int *)field = r;
		return 1;
	case KEY_LOG_TARGET:
		r = log_target_from_string(v);
		if (r < 0)
			return set_error(st, "%s: '%s' is not one of auto, stderr, journal",
					 k->name, v);
		*(int *)field = r;
		return 1;
	case KEY_IMAP_TLS:
		r = enum_value(v, tls_names, ELEMENTSOF(tls_names));
		if (r < 0)
			return set_error(st, "%s: '%s' is not one of implicit, starttls, none",
					 k->name, v);
		*(enum imap_tls *)field = r;
		return 1;
	case KEY_IMAP_AFTER:
		r = enum_value(v, after_names, ELEMENTSOF(after_names));
		if (r < 0)
			return set_error(st, "%s: '%s' is not one of nothing, seen, move", k->name,
					 v);
		*(enum imap_after *)field = r;
		return 1;
	default:
		return set_number(st, k, field, v);
	}
}

static void source_defaults(struct config_source *s)
{
	s->mailbox = strdup("INBOX");
	s->idle_interval_s = 600;
	s->poll_interval_s = 60;
	s->timeout_s = 60;
	s->batch_size = 50;
}

/* The source a "[imap NAME]" section names, created on first sight. */
static struct config_source *source_for(struct config *c, enum source_kind kind, const char *name)
{
	struct config_source *s;

	for (size_t i = 0; i < c->n_sources; i++)
		if (c->sources[i].kind == kind && streq(c->sources[i].name, name))
			return &c->sources[i];
	s = reallocarray(c->sources, c->n_sources + 1, sizeof(*s));
	if (!s)
		return NULL;
	c->sources = s;
	s = &c->sources[c->n_sources];
	*s = (struct config_source){.kind = kind, .name = strdup(name)};
	source_defaults(s);
	if (!s->name || !s->mailbox) {
		free(s->name);
		free(s->mailbox);
		return NULL;
	}
	c->n_sources++;
	return s;
}

static int section_keys(struct parse_state *st, const char *section, const struct key **ret_keys,
			void **ret_base)
{
	static const struct {
		const char *name;
		enum source_kind kind;
		const struct key *keys;
	} sources[] = {{"imap", SOURCE_IMAP, imap_keys}, {"maildir", SOURCE_MAILDIR, maildir_keys}};
	struct config *c = st->cfg;

	*ret_base = c;
	if (streq(section, "database"))
		*ret_keys = database_keys;
	else if (streq(section, "parser"))
		*ret_keys = parser_keys;
	else if (streq(section, "log"))
		*ret_keys = log_keys;
	else {
		for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
			size_t n = strlen(sources[i].name);
			const char *name = section + n;
			if (strncmp(section, sources[i].name, n) != 0 || (*name && *name != ' '))
				continue;
			name = *name ? name + strspn(name, " ") : sources[i].name;
			*ret_keys = sources[i].keys;
			*ret_base = source_for(c, sources[i].kind, name);
			return *ret_base ? 1 : set_error(st, "out of memory");
		}
		return set_error(st,
				 "[%s]: unknown section (known: database, parser, log, imap, "
				 "maildir)",
				 section);
	}
	return 1;
}

static int config_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	const struct key *keys = NULL;
	void *base = NULL;

	if (!*section)
		return set_error(st, "%s: key outside of any section", name);
	if (!section_keys(st, section, &keys, &base))
		return 0;
	for (const struct key *k = keys; k->name; k++)
		if (streq(k->name, name)) {
			bool first = !st->error;
			if (set_value(st, k, base, value))
				return 1;
			if (first) { /* name the section too */
				char *e = TAKE_PTR(st->error);
				set_error(st, "[%s] %s", section, e ? e : "bad value");
				free(e);
			}
			return 0;
		}
	return set_error(st, "[%s] %s: unknown key", section, name);
}

static int config_defaults(struct config *c)
{
	c->parser.rules_dir = strdup(PKGDATADIR "/rules");
	c->parser.rules_override_dir = strdup(SYSCONFDIR "/divemap-ingest/rules");
	if (!c->parser.rules_dir || !c->parser.rules_override_dir)
		return -ENOMEM;
	c->database.connect_attempts = 10;
	c->database.connect_retry_min_ms = 1000;
	c->database.connect_retry_max_ms = 5000;
	c->database.connect_timeout_s = 5;
	c->database.auto_migrate = true;
	c->database.lock_timeout_s = 60;
	c->parser.max_message_size = 25ull << 20;
	c->parser.worker_timeout_s = 30;
	c->parser.match_threshold = ALIAS_INDEX_THRESHOLD;
	c->parser.match_margin = ALIAS_INDEX_MARGIN;
	c->parser.alias_refresh_s = 60;
	c->parser.store_likely_duplicates = false;
	c->log.level = LOG_INFO;
	c->log.target = LOG_TARGET_AUTO;
	return 0;
}

static int check_sources(struct config *c, char **reterr_reason)
{
	for (size_t i = 0; i < c->n_sources; i++) {
		struct config_source *s = &c->sources[i];
		const char *what = s->kind == SOURCE_IMAP ? "imap" : "maildir";
		const char *missing = s->kind == SOURCE_IMAP ? (!s->host   ? "host"
								: !s->user ? "user"
									   : NULL)
							     : (!s->path ? "path" : NULL);
		if (missing)
			return asprintf(reterr_reason, "%s: [%s %s] has no %s", c->path, what,
					s->name, missing) < 0
				   ? -ENOMEM
				   : -EINVAL;
		if (s->kind == SOURCE_IMAP && s->after == IMAP_AFTER_MOVE && !s->move_to)
			return asprintf(reterr_reason, "%s: [imap %s] after = move needs move_to",
					c->path, s->name) < 0
				   ? -ENOMEM
				   : -EINVAL;
		if (s->port == 0)
			s->port = s->tls == IMAP_TLS_IMPLICIT ? 993 : 143;
	}
	if (c->database.connect_retry_min_ms > c->database.connect_retry_max_ms)
		return asprintf(reterr_reason,
				"%s: [database] connect_retry_min is above "
				"connect_retry_max",
				c->path ? c->path : "config") < 0
			   ? -ENOMEM
			   : -EINVAL;
	return 0;
}

static int config_read_file(struct config *c, const char *path, bool must_exist,
			    char **reterr_reason)
{
	struct parse_state st = {.cfg = c};
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	int line, r;

	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		r = -errno;
		return asprintf(reterr_reason, "%s: cannot open: %m", path) < 0 ? -ENOMEM : r;
	}
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	line = ini_parse_file(f, config_ini_line, &st);
	if (line == 0)
		return 0;
	if (line < 0)
		r = asprintf(reterr_reason, "%s: cannot read the file", path);
	else
		r = asprintf(reterr_reason, "%s:%d: %s", path, line,
			     st.error ? st.error
				      : "syntax error (expected [section] or key = value)");
	if (r < 0)
		*reterr_reason = NULL;
	free(st.error);
	return -EINVAL;
}

int config_load(const char *path, struct config **ret, char **reterr_reason)
{
	_cleanup_(config_freep) struct config *c = calloc(1, sizeof(*c));
	const char *env;
	int r;

	*reterr_reason = NULL;
	if (!c)
		return -ENOMEM;
	r = config_defaults(c);
	if (r < 0)
		return r;
	r = config_read_file(c, path ? path : CONFIG_DEFAULT_PATH, path != NULL, reterr_reason);
	if (r < 0)
		return r;
	r = check_sources(c, reterr_reason);
	if (r < 0)
		return r;
	env = getenv("DATABASE_URL");
	if (env && *env) {
		free(c->database.url);
		c->database.url = strdup(env);
	} else if (!c->database.url)
		c->database.url = strdup(CONFIG_DEFAULT_URL);
	if (!c->database.url)
		return -ENOMEM;
	*ret = TAKE_PTR(c);
	return 0;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_sources; i++) {
		struct config_source *s = &c->sources[i];
		free(s->name);
		free(s->host);
		free(s->user);
		free(s->password_file);
		free(s->mailbox);
		free(s->ca_file);
		free(s->move_to);
		free(s->path);
	}
	free(c->sources);
	free(c->path);
	free(c->database.url);
	free(c->database.password_file);
	free(c->database.migrations_dir);
	free(c->parser.rules_dir);
	free(c->parser.rules_override_dir);
	free(c);
	return NULL;
}
