/* dburl.h: the Divemap backend's DATABASE_URL, parsed.
 *
 *   mysql://user:pass@host:port/db?unix_socket=/path&charset=utf8mb4
 *   mysql+pymysql://...   (any mysql+DRIVER or mariadb[+DRIVER] scheme)
 *
 * User, password, database and query values are percent-decoded; an IPv6
 * host is written in brackets ([::1]). Error reasons never contain the
 * password. Pure: no I/O. */
#ifndef DIVEMAP_DBURL_H
#define DIVEMAP_DBURL_H

struct db_params {
	char *user;
	char *password; /* NULL when the URL has none */
	char *host;     /* NULL: none given (the socket or "localhost") */
	unsigned port;  /* 0: the default, 3306 */
	char *database;
	char *socket;  /* from ?unix_socket= */
	char *charset; /* from ?charset=, NULL = utf8mb4 */
};

/* Returns 0, -EINVAL with *reterr_reason set (malloc'd), or -ENOMEM. */
int dburl_parse(const char *url, struct db_params *ret, char **reterr_reason);
void db_params_done(struct db_params *p);
/* A copy that is safe to show: the password replaced by "***". */
char *dburl_redacted(const struct db_params *p);

#endif
