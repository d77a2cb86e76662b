/* cmd-rules.c: `divemap-ingest rules check [DIR]`, validating rule files.
 *
 * Loads DIR (default: the configured rules directory and its override
 * directory) the way the worker does: every file is read, every pattern
 * compiled, and every problem printed as "file:line: message". Exit 0 when
 * the set is valid, 65 (EX_DATAERR) when it is not. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "commands.h"
#include "config.h"
#include "rules.h"
#include "strutil.h"

#define RULES_DEFAULT_DIR PKGDATADIR "/rules"

static void help(FILE *out)
{
	fputs("Usage: divemap-ingest rules check [DIR]\n"
	      "\n"
	      "Validates the extraction rules in DIR, or the configured rules directory\n"
	      "and its override directory: every *.rules file is read and every pattern\n"
	      "compiled. Problems are printed as FILE:LINE: MESSAGE.\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help   this help\n"
	      "\n"
	      "Exit status: 0 the rules are valid, 65 they are not, 64 usage, 78 configuration.\n",
	      out);
}

static int check(const char *dir, const char *override_dir)
{
	struct rules *r = NULL;
	_cleanup_free_ char *err = NULL;
	int k;

	k = rules_load(dir, override_dir, &r, &err);
	if (k < 0) {
		fprintf(stderr, "%s\n", err ? err : "cannot load the rules");
		return k == -ENOMEM ? EX_OSERR : EX_DATAERR;
	}
	printf("%s: %zu rules, version %s\n", dir, rules_count(r), rules_version(r));
	rules_free(r);
	return EX_OK;
}

static int run(int argc, char **argv, struct cli *cli)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const struct config *cfg;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c != 'h')
			return EX_USAGE;
		help(stdout);
		return EX_OK;
	}
	if (optind >= argc || !streq(argv[optind], "check") || argc - optind > 2) {
		help(stderr);
		return EX_USAGE;
	}
	if (argc - optind == 2)
		return check(argv[optind + 1], NULL);
	r = cli_config(cli, &cfg);
	if (r != 0)
		return r;
	return check(cfg->parser.rules_dir ? cfg->parser.rules_dir : RULES_DEFAULT_DIR,
		     cfg->parser.rules_override_dir);
}

const struct command command_rules = {
    .name = "rules",
    .summary = "check the extraction rules: rules check [DIR]",
    .run = run,
};
