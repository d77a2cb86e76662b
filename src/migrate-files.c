/* migrate-files.c: the migrations folder and one file's statements. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "digest.h"
#include "log.h"
#include "migrate-private.h"
#include "strutil.h"

#define DIRECTIVE "-- migrate:"

struct migration *migrate_find(struct migrate *m, unsigned version)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->list[i].version == version)
			return &m->list[i];
	return NULL;
}

/* A new entry in version order; pointers into the list are invalidated. */
struct migration *migrate_add(struct migrate *m, unsigned version)
{
	struct migration *a = reallocarray(m->list, m->n + 1, sizeof(*a));
	size_t i;

	if (!a)
		return NULL;
	m->list = a;
	for (i = m->n; i > 0 && a[i - 1].version > version; i--)
		a[i] = a[i - 1];
	a[i] = (struct migration){.version = version, .duration_ms = -1};
	m->n++;
	return &a[i];
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *data = NULL;
	struct stat st;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0)
		return log_error_errno(errno, "cannot read '%s': %m", path);
	if (st.st_size > MIGRATE_MAX_FILE)
		return log_error_errno(EFBIG, "'%s' is larger than %u bytes", path,
				       MIGRATE_MAX_FILE);
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		return -ENOMEM;
	n = fread(data, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size || ferror(f))
		return log_error_errno(EIO, "cannot read '%s'", path);
	data[n] = '\0';
	*ret = TAKE_PTR(data);
	*ret_len = n;
	return 0;
}

static int push(char ***list, size_t *n, const char *s, size_t len)
{
	char **a = reallocarray(*list, *n + 1, sizeof(char *));

	if (!a)
		return -ENOMEM;
	*list = a;
	a[*n] = strndup(s, len);
	if (!a[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* "-- migrate: WORD ARGS" lines. */
static int parse_directive(struct migrate_script *s, const char *line, size_t len)
{
	const char *p = line + strlen(DIRECTIVE), *end = line + len;
	int r = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if ((size_t)(end - p) == strlen("divemap-owned") && startswith(p, "divemap-owned")) {
		s->divemap_owned = true;
		return 0;
	}
	if (startswith(p, "require-empty ")) {
		p += strlen("require-empty ");
		while (r == 0 && p < end) {
			size_t k = strcspn(p, ",");
			const char *e = p + k > end ? end : p + k;
			while (p < e && isspace((unsigned char)*p))
				p++;
			size_t l = (size_t)(e - p);
			while (l > 0 && isspace((unsigned char)p[l - 1]))
				l--;
			if (l > 0)
				r = push(&s->require_empty, &s->n_require_empty, p, l);
			p = e + 1;
		}
		return r;
	}
	if (startswith(p, "require ") && memchr(p, '(', (size_t)(end - p)) && end[-1] == ')') {
		p += strlen("require ");
		return push(&s->require, &s->n_require, p, (size_t)(end - p));
	}
	return log_error_errno(EINVAL, "%s: unknown directive '%.*s'", s->path, (int)len, line);
}

/* The migrator sends statements as text and reads no results. */
static bool returns_rows(const char *sql)
{
	static const char *const words[] = {"SELECT", "SHOW", "DESCRIBE", "DESC",  "EXPLAIN",
					    "CALL",   "WITH", "VALUES",   "TABLE", "HANDLER"};
	size_t n = 0;

	while (isalpha((unsigned char)sql[n]))
		n++;
	for (size_t i = 0; i < ELEMENTSOF(words); i++)
		if (strlen(words[i]) == n && strncasecmp(sql, words[i], n) == 0)
			return true;
	return false;
}

int migrate_script_load(const char *path, struct migrate_script *ret)
{
	_cleanup_free_ char *text = NULL, *why = NULL;
	size_t len;
	int r;

	*ret = (struct migrate_script){.path = path};
	r = read_file(path, &text, &len);
	if (r < 0)
		return r;
	sha256_hex(text, len, ret->checksum);
	r = sql_split(text, len, &ret->stmts, &ret->n, &why);
	if (r < 0)
		return log_error_errno(r, "%s: %s", path,
				       why ? why : "cannot split into statements");
	for (size_t i = 0; i < ret->n; i++)
		if (returns_rows(ret->stmts[i].sql)) {
			r = log_error_errno(EINVAL,
					    "%s line %u: a statement that returns rows has no "
					    "place in a migration",
					    path, ret->stmts[i].line);
			migrate_script_done(ret);
			return r;
		}
	for (const char *line = text; line < text + len;) {
		const char *nl = memchr(line, '\n', (size_t)(text + len - line));
		size_t l = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
		if (startswith(line, DIRECTIVE)) {
			r = parse_directive(ret, line, l);
			if (r < 0) {
				migrate_script_done(ret);
				return r;
			}
		}
		line += l + 1;
	}
	return 0;
}

void migrate_script_done(struct migrate_script *s)
{
	sql_stmts_free(s->stmts, s->n);
	for (size_t i = 0; i < s->n_require; i++)
		free(s->require[i]);
	for (size_t i = 0; i < s->n_require_empty; i++)
		free(s->require_empty[i]);
	free(s->require);
	free(s->require_empty);
	*s = (struct migrate_script){0};
}

/* "0002_ingest_tables.up.sql" -> 2, "ingest_tables", up. 0: not a migration. */
static int parse_file_name(const char *f, unsigned *ret_version, char **ret_name, bool *ret_up)
{
	size_t digits = strspn(f, "0123456789"), len = strlen(f), name_len;
	unsigned long long v;
	_cleanup_free_ char *num = NULL;

	if (len > 7 && streq(f + len - 7, ".up.sql"))
		*ret_up = true, name_len = len - 7;
	else if (len > 9 && streq(f + len - 9, ".down.sql"))
		*ret_up = false, name_len = len - 9;
	else
		return 0;
	if (digits == 0 || digits > 9 || f[digits] != '_' || name_len <= digits + 1)
		return -EINVAL;
	for (size_t i = digits + 1; i < name_len; i++)
		if (!isalnum((unsigned char)f[i]) && f[i] != '_' && f[i] != '-')
			return -EINVAL;
	num = strndup(f, digits);
	if (!num || parse_uint(num, 999999999, &v) < 0 || v == 0)
		return num ? -EINVAL : -ENOMEM;
	*ret_version = (unsigned)v;
	*ret_name = strndup(f + digits + 1, name_len - digits - 1);
	return *ret_name ? 1 : -ENOMEM;
}

static int add_file(struct migrate *m, const char *file)
{
	_cleanup_free_ char *name = NULL, *path = NULL;
	struct migration *mg;
	unsigned version;
	bool up;
	int r;

	r = parse_file_name(file, &version, &name, &up);
	if (r == -EINVAL)
		return log_error_errno(r,
				       "%s/%s: not a migration file name (NNNN_name.up.sql or "
				       "NNNN_name.down.sql)",
				       m->dir, file);
	if (r <= 0)
		return r;
	if (asprintf(&path, "%s/%s", m->dir, file) < 0)
		return -ENOMEM;
	mg = migrate_find(m, version);
	if (mg && !streq(mg->name, name))
		return log_error_errno(EINVAL,
				       "%s: two migrations have version %04u: '%s' and '%s'",
				       m->dir, version, mg->name, name);
	if (!mg) {
		mg = migrate_add(m, version);
		if (!mg)
			return -ENOMEM;
		mg->name = TAKE_PTR(name);
	}
	if (up)
		mg->up_path = TAKE_PTR(path);
	else
		mg->down_path = TAKE_PTR(path);
	return 0;
}

static int up_checksum(struct migration *mg)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = read_file(mg->up_path, &text, &len);
	if (r < 0)
		return r;
	sha256_hex(text, len, mg->checksum);
	return 0;
}

int migrate_files_load(struct migrate *m)
{
	DIR *d = opendir(m->dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return log_error_errno(errno, "cannot open the migrations folder '%s': %m", m->dir);
	while (r == 0 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			r = add_file(m, de->d_name);
	closedir(d);
	for (size_t i = 0; r == 0 && i < m->n; i++) {
		struct migration *mg = &m->list[i];
		if (!mg->up_path || !mg->down_path)
			return log_error_errno(EINVAL, "%s: %04u_%s has no %s file", m->dir,
					       mg->version, mg->name, mg->up_path ? "down" : "up");
		r = up_checksum(mg);
	}
	return r;
}
