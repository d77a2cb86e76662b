/* rules-parse.c: reading rule files, expanding macros, compiling patterns. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "rules-private.h"
#include "strutil.h"

#define RULES_FILE_MAX      (1u << 20)
#define RULES_MAX_EXPANSION 8 /* nesting of {define}s */

enum section { SEC_NONE, SEC_VOCAB, SEC_DEFINE, SEC_RULES, SEC_BAD };

struct parse_state {
	struct rules *r;
	const char *file;
	unsigned line;
	enum section sec;
	struct vocab *vocab;
	bool override;
	size_t first_rule; /* rules loaded before this directory */
};

static int add_words(struct parse_state *ps, char *line, char **err)
{
	char *eq = strchr(line, '='), *key = NULL, *save = NULL;
	int k;

	if (eq) {
		*eq = '\0';
		key = strstrip(line);
		line = eq + 1;
	}
	for (char *w = strtok_r(line, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		w = strstrip(w);
		if (!*w)
			continue;
		k = rules_vocab_add(ps->vocab, key, w);
		if (k < 0)
			return rules_fail(err, k, ps->file, ps->line, "out of memory", NULL);
	}
	return 0;
}

static int add_define(struct parse_state *ps, char *line, char **err)
{
	struct rules *r = ps->r;
	char *eq = strchr(line, '='), *name;
	struct define *d;

	if (!eq)
		return rules_fail(err, -EINVAL, ps->file, ps->line, "expected NAME = PATTERN",
				  NULL);
	*eq = '\0';
	name = strstrip(line);
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
		return rules_fail(err, -EINVAL, ps->file, ps->line, "bad define name", name);
	d = reallocarray(r->defines, r->n_defines + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	r->defines = d;
	d = &d[r->n_defines];
	*d = (struct define){.name = strdup(name),
			     .pattern = strdup(strstrip(eq + 1)),
			     .file = strdup(ps->file),
			     .line = ps->line};
	r->n_defines++;
	if (!d->name || !d->pattern || !d->file)
		return -ENOMEM;
	return 0;
}

static struct rule *rule_by_id(struct rules *r, const char *id, size_t from)
{
	for (size_t i = from; i < r->n_rules; i++)
		if (streq(r->rules[i].id, id))
			return &r->rules[i];
	return NULL;
}

static int add_rule(struct parse_state *ps, char *line, char **err)
{
	struct rules *r = ps->r;
	char *id, *kind, *pattern, *save = NULL;
	struct rule *rule, *nr;
	int k;

	id = strtok_r(line, " \t", &save);
	kind = strtok_r(NULL, " \t", &save);
	pattern = save ? strstrip(save) : NULL;
	if (!id || !kind || !pattern || !*pattern)
		return rules_fail(err, -EINVAL, ps->file, ps->line, "expected ID KIND PATTERN",
				  NULL);
	if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
	    strlen(id))
		return rules_fail(err, -EINVAL, ps->file, ps->line, "bad rule id", id);
	k = rules_kind_from_name(kind);
	if (k < 0)
		return rules_fail(err, -EINVAL, ps->file, ps->line, "unknown kind", kind);
	rule = rule_by_id(r, id, ps->override ? ps->first_rule : 0);
	if (rule)
		return rules_fail(err, -EEXIST, ps->file, ps->line, "duplicate rule id", id);
	rule = ps->override ? rule_by_id(r, id, 0) : NULL;
	if (rule)
		rules_rule_done(rule); /* a local rule replaces the packaged one */
	else {
		nr = reallocarray(r->rules, r->n_rules + 1, sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		r->rules = nr;
		rule = &nr[r->n_rules++];
	}
	*rule = (struct rule){.id = strdup(id),
			      .source = strdup(pattern),
			      .file = strdup(ps->file),
			      .line = ps->line,
			      .kind = k};
	if (!rule->id || !rule->source || !rule->file)
		return -ENOMEM;
	return 0;
}

static int parse_section(struct parse_state *ps, char *line, char **err)
{
	char *end = strchr(line, ']');

	ps->sec = SEC_BAD; /* the lines of a bad section are skipped */
	if (!end || end[1])
		return rules_fail(err, -EINVAL, ps->file, ps->line, "bad section header", NULL);
	*end = '\0';
	line = strstrip(line + 1);
	if (streq(line, "define"))
		ps->sec = SEC_DEFINE;
	else if (streq(line, "rules"))
		ps->sec = SEC_RULES;
	else if (startswith(line, "vocab ")) {
		char *name = strstrip(line + 6);
		if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
			return rules_fail(err, -EINVAL, ps->file, ps->line, "bad vocabulary name",
					  name);
		ps->vocab = rules_vocab_get(ps->r, name);
		if (!ps->vocab)
			return -ENOMEM;
		ps->sec = SEC_VOCAB;
	} else
		return rules_fail(err, -EINVAL, ps->file, ps->line, "unknown section", line);
	return 0;
}

static int parse_text(struct parse_state *ps, char *text, char **err)
{
	int k = 0, first = 0;

	ps->sec = SEC_NONE;
	ps->line = 0;
	for (char *p = text, *nl; p && k != -ENOMEM; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		ps->line++;
		if (k < 0)
			first = first ?: k; /* go on: report every bad line */
		k = 0;
		char *line = strstrip(p);
		if (!*line || *line == '#')
			continue;
		if (*line == '[')
			k = parse_section(ps, line, err);
		else if (ps->sec == SEC_VOCAB)
			k = add_words(ps, line, err);
		else if (ps->sec == SEC_DEFINE)
			k = add_define(ps, line, err);
		else if (ps->sec == SEC_RULES)
			k = add_rule(ps, line, err);
		else if (ps->sec == SEC_BAD)
			continue;
		else
			k = rules_fail(err, -EINVAL, ps->file, ps->line, "text outside a section",
				       NULL);
	}
	return first ?: k;
}

static int read_file(const char *path, struct buf *b)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char chunk[4096];
	size_t n;
	int k;

	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		k = buf_append(b, chunk, n);
		if (k < 0)
			return k;
	}
	return ferror(f) ? -EIO : 0;
}

static int is_rules_file(const struct dirent *d)
{
	return d->d_name[0] != '.' && fnmatch("*.rules", d->d_name, 0) == 0;
}

int rules_read_dir(struct rules *r, const char *dir, bool required, struct buf *all, char **err)
{
	struct dirent **names = NULL;
	struct parse_state ps = {.r = r, .override = !required, .first_rule = r->n_rules};
	int n, k = 0, first = 0;

	n = scandir(dir, &names, is_rules_file, alphasort);
	if (n < 0) {
		if (!required && errno == ENOENT)
			return 0;
		return rules_fail(err, -errno, dir, 0, "cannot read rules directory", NULL);
	}
	if (n == 0 && required)
		k = rules_fail(err, -ENOENT, dir, 0, "no *.rules files", NULL);
	for (int i = 0; i < n; i++) {
		_cleanup_buf_ struct buf b = BUF_INIT(RULES_FILE_MAX);
		_cleanup_free_ char *path = NULL;

		if (k >= 0 && asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
			k = -ENOMEM;
		if (k >= 0 && (k = read_file(path, &b)) < 0)
			rules_fail(err, k, names[i]->d_name, 0, "cannot read file", NULL);
		if (k >= 0 && (k = buf_append(all, buf_str(&b), b.len)) >= 0) {
			_cleanup_free_ char *text = buf_take(&b, NULL);
			ps.file = names[i]->d_name;
			k = parse_text(&ps, text, err);
		}
		if (k < 0 && k != -ENOMEM) {
			first = first ?: k; /* the next file is checked too */
			k = 0;
		}
		free(names[i]);
	}
	free(names);
	return k < 0 ? k : first;
}
