/* cmd-migrate.c: `divemap-ingest migrate VERB`, the Alembic verbs and repair. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "strutil.h"

struct migrate_cli {
	const char *verb, *arg;
	const char *dir;
	bool sql, json, verbose;
	enum migrate_lock_scheme lock;
	int lock_timeout_s; /* -1: from the config */
};

static const char *const state_names[] = {"pending", "applying", "applied", "failed"};

static void help(FILE *out)
{
	fputs("Usage: divemap-ingest migrate [OPTIONS] VERB [ARG]\n"
	      "\n"
	      "The database schema, as the Divemap team knows it from Alembic.\n"
	      "\n"
	      "Verbs:\n"
	      "  current                      the version the database is at\n"
	      "  history [--verbose]          every migration, applied or not\n"
	      "  heads                        the newest migration in the folder\n"
	      "  upgrade [head|+N|VERSION]    apply pending migrations (default: head)\n"
	      "  downgrade -N|VERSION|base    revert applied migrations\n"
	      "  stamp VERSION|head|base      record the database as at VERSION, running nothing\n"
	      "  repair                       after review: accept edited files' checksums, and\n"
	      "                               let a failed migration resume where it stopped\n"
	      "\n"
	      "Options:\n"
	      "      --dir=DIR                the migrations (default: [database] migrations_dir,\n"
	      "                               else " PKGDATADIR "/migrations)\n"
	      "      --sql                    upgrade, downgrade: print the SQL, run nothing\n"
	      "      --json                   current, history, heads: JSON for tools\n"
	      "  -v, --verbose                history: files, checksums, statements, notes\n"
	      "      --lock=auto|server|row   the lock: GET_LOCK, or a lease row (auto: the row\n"
	      "                               on Galera)\n"
	      "      --lock-timeout=SECONDS   wait that long for another migrating process\n"
	      "  -h, --help                   this help\n",
	      out);
}

/* "-1" is a downgrade step, not an option: take it out before getopt. */
static void take_steps_arg(int *argc, char **argv, const char **ret)
{
	int k = 0;

	*ret = NULL;
	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i];
		if (i > 0 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' && !*ret)
			*ret = a;
		else
			argv[k++] = argv[i];
	}
	*argc = k;
	argv[k] = NULL;
}

static int parse_args(int argc, char **argv, struct migrate_cli *o)
{
	enum { OPT_DIR = 0x100, OPT_SQL, OPT_JSON, OPT_LOCK, OPT_LOCK_TIMEOUT };
	static const struct option options[] = {
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"sql", no_argument, NULL, OPT_SQL},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"verbose", no_argument, NULL, 'v'},
	    {"lock", required_argument, NULL, OPT_LOCK},
	    {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *steps;
	unsigned v;
	int c;

	take_steps_arg(&argc, argv, &steps);
	while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
		switch (c) {
		case OPT_DIR:
			o->dir = optarg;
			break;
		case OPT_SQL:
			o->sql = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case OPT_LOCK:
			if (streq(optarg, "auto") || streq(optarg, "server") ||
			    streq(optarg, "row"))
				o->lock = streq(optarg, "auto")     ? MIGRATE_LOCK_AUTO
					  : streq(optarg, "server") ? MIGRATE_LOCK_SERVER
								    : MIGRATE_LOCK_ROW;
			else
				return log_error("--lock: '%s' is not auto, server or row", optarg),
				       EX_USAGE;
			break;
		case OPT_LOCK_TIMEOUT:
			if (parse_uint32(optarg, &v) < 0 || v > 86400)
				return log_error("--lock-timeout: '%s' is not 0-86400 seconds",
						 optarg),
				       EX_USAGE;
			o->lock_timeout_s = (int)v;
			break;
		case 'h':
			help(stdout);
			exit(EX_OK);
		default:
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return EX_USAGE;
	}
	o->verb = argv[optind++];
	o->arg = steps ? steps : optind < argc ? argv[optind++] : NULL;
	if (optind < argc)
		return log_error("migrate %s: unexpected argument '%s'", o->verb, argv[optind]),
		       EX_USAGE;
	return 0;
}

static json_t *migration_json(const struct migration *mg)
{
	json_t *o = json_pack("{s:i, s:s, s:s}", "version", (int)mg->version, "name", mg->name,
			      "state", state_names[mg->state]);

	if (!o)
		return NULL;
	json_object_set_new(o, "file", mg->up_path ? json_string(mg->up_path) : json_null());
	json_object_set_new(o, "checksum",
			    mg->checksum[0] ? json_string(mg->checksum) : json_null());
	if (mg->recorded) {
		json_object_set_new(o, "recorded_checksum", json_string(mg->db_checksum));
		json_object_set_new(
		    o, "checksum_ok",
		    json_boolean(!mg->up_path || streq(mg->checksum, mg->db_checksum)));
		json_object_set_new(o, "statements_done", json_integer(mg->statements_done));
		json_object_set_new(o, "statements_total", json_integer(mg->statements_total));
		json_object_set_new(o, "applied_at",
				    mg->applied_at ? json_string(mg->applied_at) : json_null());
		json_object_set_new(o, "applied_by",
				    mg->applied_by ? json_string(mg->applied_by) : json_null());
		json_object_set_new(o, "duration_ms",
				    mg->duration_ms >= 0 ? json_integer(mg->duration_ms)
							 : json_null());
		json_object_set_new(o, mg->state == MIGRATE_APPLIED ? "note" : "error",
				    mg->error ? json_string(mg->error) : json_null());
	}
	return o;
}

static int print_json(json_t *o)
{
	char *s;

	if (!o)
		return log_error_errno(ENOMEM, "out of memory");
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	puts(s);
	free(s);
	return 0;
}

static const struct migration *find_state(const struct migration *l, size_t n, enum migrate_state a,
					  enum migrate_state b)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].recorded && (l[i].state == a || l[i].state == b))
			return &l[i];
	return NULL;
}

static const char *name_of(const struct migration *l, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].version == v)
			return l[i].name;
	return "";
}

static int show_current(struct migrate *m, bool json)
{
	size_t n, pending = 0;
	const struct migration *l = migrate_list(m, &n);
	unsigned cur = migrate_current(m), head = migrate_head(m);
	const struct migration *bad = find_state(l, n, MIGRATE_FAILED, MIGRATE_APPLYING);
	const char *alembic = migrate_alembic_revision(m);

	for (size_t i = 0; i < n; i++)
		pending += l[i].state != MIGRATE_APPLIED;
	if (json) {
		json_t *o = json_pack("{s:i, s:s, s:i, s:s, s:i}", "current", (int)cur,
				      "current_name", name_of(l, n, cur), "head", (int)head,
				      "head_name", name_of(l, n, head), "pending", (int)pending);
		if (o) {
			json_object_set_new(o, "alembic_revision",
					    alembic ? json_string(alembic) : json_null());
			json_object_set_new(o, "problem", bad ? migration_json(bad) : json_null());
		}
		return print_json(o);
	}
	if (cur)
		printf("%04u_%s%s\n", cur, name_of(l, n, cur), cur == head ? " (head)" : "");
	else
		printf("base (nothing applied)\n");
	if (pending && !bad)
		printf("%zu pending, up to %04u_%s: `divemap-ingest migrate upgrade head`\n",
		       pending, head, name_of(l, n, head));
	if (bad && bad->error && bad->state == MIGRATE_FAILED)
		printf("%04u_%s: FAILED: %s\n", bad->version, bad->name, bad->error);
	else if (bad)
		printf("%04u_%s: %s at statement %u of %u\n", bad->version, bad->name,
		       bad->state == MIGRATE_APPLYING
			   ? "being applied (or interrupted)"
			   : "failed, repaired: the next upgrade resumes",
		       bad->statements_done + 1, bad->statements_total);
	if (alembic)
		printf("Divemap's Alembic manages this database (revision %s)\n", alembic);
	return 0;
}

static void history_line(const struct migration *mg, bool verbose)
{
	bool edited = mg->recorded && mg->up_path && !streq(mg->checksum, mg->db_checksum);

	printf("%04u  %-24s %-8s", mg->version, mg->name, state_names[mg->state]);
	if (mg->recorded)
		printf(" %s  by %s", mg->applied_at ? mg->applied_at : "?",
		       mg->applied_by ? mg->applied_by : "?");
	if (mg->duration_ms >= 0)
		printf("  %lld ms", mg->duration_ms);
	if (edited)
		printf("  EDITED SINCE APPLIED");
	if (!mg->up_path)
		printf("  NO FILE");
	putchar('\n');
	if (!verbose)
		return;
	if (mg->up_path)
		printf("      file: %s\n      sha256: %s\n", mg->up_path, mg->checksum);
	if (mg->recorded) {
		if (edited)
			printf("      recorded sha256: %s\n", mg->db_checksum);
		printf("      statements: %u of %u\n", mg->statements_done, mg->statements_total);
	}
	if (mg->error)
		printf("      %s: %s\n", mg->state == MIGRATE_APPLIED ? "note" : "error",
		       mg->error);
}

static int show_history(struct migrate *m, bool json, bool verbose)
{
	size_t n;
	const struct migration *l = migrate_list(m, &n);

	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, migration_json(&l[i]));
		return print_json(a);
	}
	if (n == 0)
		printf("no migrations\n");
	for (size_t i = 0; i < n; i++)
		history_line(&l[i], verbose);
	return 0;
}

static int show_heads(struct migrate *m, bool json)
{
	size_t n;
	const struct migration *l = migrate_list(m, &n);
	unsigned head = migrate_head(m);

	if (json)
		return print_json(
		    json_pack("{s:i, s:s}", "head", (int)head, "name", name_of(l, n, head)));
	if (head)
		printf("%04u_%s (head)\n", head, name_of(l, n, head));
	else
		printf("no migrations\n");
	return 0;
}

static int run_verb(struct migrate *m, const struct migrate_cli *o)
{
	if (streq(o->verb, "current"))
		return show_current(m, o->json);
	if (streq(o->verb, "history"))
		return show_history(m, o->json, o->verbose);
	if (streq(o->verb, "heads"))
		return show_heads(m, o->json);
	if (streq(o->verb, "upgrade"))
		return migrate_upgrade(m, o->arg ? o->arg : "head");
	if (streq(o->verb, "downgrade"))
		return migrate_downgrade(m, o->arg);
	if (streq(o->verb, "stamp"))
		return migrate_stamp(m, o->arg);
	return migrate_repair(m);
}

static int check_verb(const struct migrate_cli *o)
{
	static const char *const verbs[] = {"current",   "history", "heads", "upgrade",
					    "downgrade", "stamp",   "repair"};
	bool known = false, needs_arg = streq(o->verb, "downgrade") || streq(o->verb, "stamp");
	bool takes_arg = needs_arg || streq(o->verb, "upgrade");

	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		known = known || streq(o->verb, verbs[i]);
	if (!known)
		return log_error("migrate: '%s' is not a verb; see divemap-ingest migrate --help",
				 o->verb),
		       EX_USAGE;
	if (needs_arg && !o->arg)
		return log_error("migrate %s: which version? (see --help)", o->verb), EX_USAGE;
	if (!takes_arg && o->arg)
		return log_error("migrate %s takes no argument", o->verb), EX_USAGE;
	if (o->sql && !streq(o->verb, "upgrade") && !streq(o->verb, "downgrade"))
		return log_error("--sql is for upgrade and downgrade"), EX_USAGE;
	return 0;
}

static int run(int argc, char **argv, struct cli *cli)
{
	struct migrate_cli o = {.lock = MIGRATE_LOCK_AUTO, .lock_timeout_s = -1};
	_cleanup_(migrate_freep) struct migrate *m = NULL;
	_cleanup_(db_freep) struct db *db = NULL;
	struct migrate_settings s;
	const struct config *cfg;
	int r;

	r = parse_args(argc, argv, &o);
	r = r ?: check_verb(&o);
	r = r ?: cli_config(cli, &cfg);
	if (r != 0)
		return r;
	migrate_settings_from_config(&s, cfg);
	if (o.dir)
		s.dir = o.dir;
	if (o.lock_timeout_s >= 0)
		s.lock_timeout_s = (unsigned)o.lock_timeout_s;
	s.lock = o.lock;
	s.sql_out = o.sql ? stdout : NULL;
	if (!streq(o.verb, "heads")) {
		r = db_open(cfg, &db);
		if (r < 0)
			return exit_code_from_errno(r);
	}
	r = migrate_open(db, &s, &m);
	r = r ?: run_verb(m, &o);
	if (fflush(stdout) != 0 && r == 0)
		r = log_error_errno(errno, "cannot write the output: %m");
	return exit_code_from_errno(r);
}

const struct command command_migrate = {
    .name = "migrate",
    .summary = "the schema: current, history, heads, upgrade, downgrade, stamp, repair",
    .run = run,
};
