/* cmd-match.c: `divemap-ingest match NAME...`, the alias matcher by hand.
 *
 * For each name: its normalised key, whether it resolves and to what, and
 * the ranked candidates with method and score: what an admin looks at before
 * adding an alias. Sites, aliases and centers come from the database, or
 * from a names file (--names, the JSON of worker.h) without one. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "alias-index.h"
#include "buf.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "names.h"
#include "normalize.h"
#include "pipeline.h"
#include "rules.h"

#define MATCH_MAX_CANDIDATES 5

struct match_opts {
	bool json;
	bool centers;
	const char *names_file;
};

static void help(FILE *out)
{
	fputs("Usage: divemap-ingest match [OPTIONS] NAME...\n"
	      "\n"
	      "Shows how the alias matcher reads each NAME: its normalised key, the\n"
	      "site it resolves to (or why not) and the best candidates with method\n"
	      "and score. Sites and aliases come from the database.\n"
	      "\n"
	      "Options:\n"
	      "      --centers       match diving-center names instead of dive sites\n"
	      "      --names=FILE    read names from a JSON file instead of the database\n"
	      "                      ({\"sites\": [[id, name]], \"aliases\": [[id, alias]], ...})\n"
	      "      --json          one JSON object per name\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "Exit status: 0 every name resolved, 1 some did not, 64 usage, 75/78 database\n"
	      "or configuration.\n",
	      out);
}

static int read_names_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 20);
	char chunk[65536];
	size_t n;
	int r = 0;

	if (!f)
		return log_error_errno(-errno, "cannot open '%s': %m", path);
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = buf_append(&b, chunk, n);
	if (r < 0 || ferror(f))
		return log_error_errno(r < 0 ? r : -EIO, "cannot read '%s'", path);
	*ret = buf_take(&b, ret_len);
	return 0;
}

static int load_names(const struct config *cfg, const struct match_opts *o, char **ret,
		      size_t *ret_len)
{
	_cleanup_(db_freep) struct db *db = NULL;
	int r;

	if (o->names_file)
		return read_names_file(o->names_file, ret, ret_len);
	r = db_open(cfg, &db);
	if (r < 0)
		return r;
	r = names_load(db, ret, ret_len);
	if (r < 0)
		return log_error_errno(r, "cannot read the dive sites: %s", db_error(db));
	return 0;
}

/* Scores are shown with two decimals, as a person reads them. */
static double score2(double s)
{
	return (double)(long)(s * 100 + 0.5) / 100;
}

/* Prints s left-aligned in width characters (not bytes: names are UTF-8). */
static void print_padded(const char *s, int width)
{
	int chars = 0;

	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	printf("%s%*s", s, chars < width ? width - chars : 0, "");
}

static json_t *candidates_json(const struct alias_candidate *c, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:i, s:s, s:b, s:s, s:f}", "id", (int)c[i].id,
						   "matched", c[i].text, "alias", c[i].is_alias,
						   "method", alias_method_to_string(c[i].method),
						   "score", score2(c[i].score)));
	return a;
}

static void print_human(const char *name, const char *key, int resolved,
			const struct alias_match *m, const struct alias_candidate *c, size_t n)
{
	printf("'%s'\n  key: %s\n", name, key ? key : "(no letters)");
	if (resolved == 0)
		printf("  resolves to %u '%s' (%s, score %.2f)\n", m->best.id, m->best.text,
		       alias_method_to_string(m->best.method), m->best.score);
	else
		printf("  unresolved: %s\n", resolved == -ENOTUNIQ
						 ? "two candidates are too close"
						 : "nothing scores the threshold");
	for (size_t i = 0; i < n; i++) {
		printf("  %5u  ", c[i].id);
		print_padded(c[i].text, 32);
		printf(" %-11s %.2f%s\n", alias_method_to_string(c[i].method), c[i].score,
		       c[i].is_alias ? "  (alias)" : "");
	}
}

static int match_one(struct pipeline *p, const struct match_opts *o,
		     const struct normalize_terms *terms, const char *name)
{
	struct alias_index *idx = o->centers ? pipeline_center_index(p) : pipeline_site_index(p);
	struct alias_candidate c[MATCH_MAX_CANDIDATES];
	_cleanup_free_ char *key = NULL;
	struct alias_match m;
	size_t n = 0;
	int r, resolved;

	r = normalize_key(name, terms, &key);
	if (r < 0 && r != -EINVAL)
		return log_error_errno(r, "cannot normalise '%s': %m", name);
	r = alias_index_lookup(idx, name, c, MATCH_MAX_CANDIDATES, &n);
	if (r < 0)
		return log_error_errno(r, "cannot look up '%s': %m", name);
	resolved = alias_index_resolve(idx, name, &m);
	if (!o->json) {
		print_human(name, key, resolved, &m, c, n);
		return resolved == 0;
	}
	json_t *j = json_pack("{s:s, s:o, s:o, s:o}", "name", name, "key",
			      key ? json_string(key) : json_null(), "resolved",
			      resolved == 0 ? json_integer(m.best.id) : json_null(), "candidates",
			      candidates_json(c, n));
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(4));
	if (s)
		puts(s);
	free(s);
	json_decref(j);
	return resolved == 0;
}

static int match_all(const struct config *cfg, const struct match_opts *o, char **names,
		     int n_names)
{
	struct pipeline_settings s = {.rules_dir = cfg->parser.rules_dir,
				      .rules_override_dir = cfg->parser.rules_override_dir,
				      .match_threshold = cfg->parser.match_threshold,
				      .match_margin = cfg->parser.match_margin};
	_cleanup_(pipeline_freep) struct pipeline *p = NULL;
	_cleanup_(normalize_terms_freep) struct normalize_terms *terms = NULL;
	_cleanup_free_ char *why = NULL, *json = NULL;
	size_t len;
	int r, all = 1;

	r = pipeline_new(&s, &p, &why);
	if (r < 0)
		return log_error_errno(r, "%s", why ? why : "cannot load the rules");
	r = load_names(cfg, o, &json, &len);
	if (r < 0)
		return r;
	r = pipeline_set_names(p, json, len, &why);
	if (r < 0)
		return log_error_errno(r, "%s", why ? why : "cannot index the names");
	r = normalize_terms_new(
	    rules_vocab(pipeline_rules(p), o->centers ? "center_term" : "site_term"), &terms);
	if (r < 0)
		return log_error_errno(r, "cannot load the terminology: %m");
	for (int i = 0; i < n_names; i++) {
		r = match_one(p, o, terms, names[i]);
		if (r < 0)
			return r;
		all &= r;
	}
	return all;
}

static int run(int argc, char **argv, struct cli *cli)
{
	enum { OPT_JSON = 0x100, OPT_NAMES, OPT_CENTERS };
	static const struct option options[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"names", required_argument, NULL, OPT_NAMES},
	    {"centers", no_argument, NULL, OPT_CENTERS},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct match_opts o = {0};
	const struct config *cfg;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
		switch (c) {
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_NAMES:
			o.names_file = optarg;
			break;
		case OPT_CENTERS:
			o.centers = true;
			break;
		case 'h':
			help(stdout);
			return EX_OK;
		default:
			return EX_USAGE;
		}
	if (optind >= argc) {
		help(stderr);
		return EX_USAGE;
	}
	r = cli_config(cli, &cfg);
	if (r != 0)
		return r;
	r = match_all(cfg, &o, argv + optind, argc - optind);
	return r < 0 ? exit_code_from_errno(r) : r ? EX_OK : 1;
}

const struct command command_match = {
    .name = "match",
    .summary = "show how site (or center) names resolve against the aliases",
    .run = run,
};
