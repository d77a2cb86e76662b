/* main.c: global options, then dispatch to a subcommand (commands.h).
 *
 * Two programs are built from this file. divemap-ingest has the commands
 * that run no parser in-process (serve, parse, ...: they hand mail to the
 * worker); divemap-ingest-parsers (built with DIVEMAP_PARSERS_PROGRAM,
 * installed in the package's libexec folder: libexec.h) has the two that
 * do, match and rules, and divemap-ingest runs those by executing it with
 * its own arguments. So the daemon never loads libxml2 (with ICU and
 * libstdc++) or PCRE2: a smaller resident set while it idles. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#ifndef DIVEMAP_PARSERS_PROGRAM
#include <openssl/ssl.h>
#endif

#include "config.h"
#include "commands.h"
#include "log.h"
#include "strutil.h"
#include "libexec.h"

#include "autoconfig.h" /* PACKAGE_VERSION */

/* libetpan links GnuTLS, whose constructor would set it up (its priorities,
 * crypto back end and p11-kit: 0.9 MB resident) in every process;
 * none of ours uses it: TLS is OpenSSL's (tls-stream.h), SHA-256 nettle's
 * (digest.h). This is GnuTLS's own switch for programs that do not want it
 * set up. */
GNUTLS_SKIP_GLOBAL_INIT

struct cli {
	char **argv; /* as main() got it: handed on by run_in_parsers_program() */
	const char *config_path;
	int verbosity;  /* -v minus -q */
	int log_target; /* -1: from the config */
	struct config *cfg;
};

/* The commands, in the order --help lists them. */
#ifdef DIVEMAP_PARSERS_PROGRAM
extern const struct command command_match;
extern const struct command command_rules;
// clang-format off
static const struct command *const commands[] = {
	&command_match,
	&command_rules,
	NULL,
};
// clang-format on
#else
extern const struct command command_serve;
extern const struct command command_parse;
extern const struct command command_reparse;
extern const struct command command_log;
extern const struct command command_report;
extern const struct command command_migrate;

/* Runs this command line in divemap-ingest-parsers (see the top). */
static int run_in_parsers_program(int argc, char **argv, struct cli *cli)
{
	int fd = libexec_open(LIBEXEC_PARSERS, NULL);

	if (fd < 0) {
		log_error_errno(fd,
				"'%s' runs in " LIBEXEC_PARSERS ", found neither beside this "
				"program nor in " PKGLIBEXECDIR ": %m",
				argv[0]);
		return EX_UNAVAILABLE;
	}
	fexecve(fd, cli->argv, environ);
	log_error_errno(-errno, "cannot execute " LIBEXEC_PARSERS ": %m");
	close(fd);
	return EX_OSERR;
}

/* libmariadb starts OpenSSL in mysql_library_init() whether or not a
 * connection will use TLS (db.c asks for none), and IMAP's TLS is OpenSSL's
 * too (tls-stream.h). Left to itself OpenSSL loads the text of all its
 * error reasons: 0.6 MB made resident for a daemon that idles. Told first
 * not to, it ignores the later request; a failed handshake then reports
 * OpenSSL's error code, which `openssl errstr` reads. */
static void openssl_no_error_strings(void)
{
	(void)OPENSSL_init_ssl(
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_NO_LOAD_SSL_STRINGS, NULL);
}

/* Their summaries are those of src/cmd-match.c and src/cmd-rules.c. */
static const struct command command_match_elsewhere = {
    .name = "match",
    .summary = "show how site (or center) names resolve against the aliases",
    .run = run_in_parsers_program,
};
static const struct command command_rules_elsewhere = {
    .name = "rules",
    .summary = "check the extraction rules: rules check [DIR]",
    .run = run_in_parsers_program,
};
// clang-format off
static const struct command *const commands[] = {
	&command_serve,
	&command_parse,
	&command_reparse,
	&command_log,
	&command_report,
	&command_match_elsewhere,
	&command_rules_elsewhere,
	&command_migrate,
	NULL,
};
// clang-format on
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: divemap-ingest [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"Turns dive centers' e-mail newsletters into Divemap dive trips.\n"
		"\n"
		"Options:\n"
		"  -c, --config=FILE      configuration file (default %s)\n"
		"  -v, --verbose          more log output (repeat for debug)\n"
		"  -q, --quiet            less log output\n"
		"      --log-target=T     auto, stderr or journal\n"
		"  -h, --help             this help\n"
		"  -V, --version          the version\n"
		"\n"
		"Commands:\n",
		CONFIG_DEFAULT_PATH);
	for (size_t i = 0; commands[i]; i++)
		if (!commands[i]->hidden)
			fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nEnvironment: DATABASE_URL overrides [database] url "
		     "(mysql://user:pass@host:port/db).\n"
		     "`divemap-ingest COMMAND --help` describes a command.\n");
}

int exit_code_from_errno(int r)
{
	switch (-r) {
	case 0:
		return EX_OK;
	case ETIMEDOUT:
	case ECONNRESET:
	case ECONNREFUSED:
	case EAGAIN:
	case EDEADLK:
	case EROFS:
		return EX_TEMPFAIL;
	case EACCES:
		return EX_CONFIG;
	case ENOENT:
		return EX_NOINPUT;
	case EINVAL:
	case EBADMSG:
		return EX_DATAERR;
	case ENOMEM:
		return EX_OSERR;
	case EIO:
		return EX_UNAVAILABLE;
	default:
		return EX_SOFTWARE;
	}
}

static void apply_log_settings(const struct cli *cli, int level, int target)
{
	level += cli->verbosity;
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_set_max_level(level);
	log_set_target(cli->log_target >= 0 ? cli->log_target : target);
}

int cli_config(struct cli *cli, const struct config **ret)
{
	_cleanup_free_ char *why = NULL;
	int r;

	if (!cli->cfg) {
		r = config_load(cli->config_path, &cli->cfg, &why);
		if (r < 0) {
			log_error_errno(r, "%s", why ? why : "cannot load the configuration: %m");
			return EX_CONFIG;
		}
		apply_log_settings(cli, cli->cfg->log.level, cli->cfg->log.target);
	}
	*ret = cli->cfg;
	return 0;
}

static int parse_global_options(int argc, char **argv, struct cli *cli)
{
	enum { OPT_LOG_TARGET = 0x100 };
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"log-target", required_argument, NULL, OPT_LOG_TARGET},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	int c;

	/* "+": stop at the command name; its own options are its business */
	while ((c = getopt_long(argc, argv, "+c:vqhV", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			cli->config_path = optarg;
			break;
		case 'v':
			cli->verbosity++;
			break;
		case 'q':
			cli->verbosity--;
			break;
		case OPT_LOG_TARGET:
			cli->log_target = log_target_from_string(optarg);
			if (cli->log_target < 0) {
				log_error("--log-target: '%s' is not auto, stderr or journal",
					  optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case 'V':
			printf("divemap-ingest %s\n", PACKAGE_VERSION);
			exit(EX_OK);
		default:
			return EX_USAGE;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = {.argv = argv, .log_target = -1};
	const struct command *cmd = NULL;
	int r;

#ifndef DIVEMAP_PARSERS_PROGRAM
	openssl_no_error_strings();
#endif
	apply_log_settings(&cli, LOG_INFO, LOG_TARGET_AUTO);
	r = parse_global_options(argc, argv, &cli);
	if (r != 0)
		return r;
	apply_log_settings(&cli, LOG_INFO, LOG_TARGET_AUTO);
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (size_t i = 0; commands[i]; i++)
		if (streq(commands[i]->name, argv[optind]))
			cmd = commands[i];
	if (!cmd) {
		log_error("'%s' is not a command; see divemap-ingest --help", argv[optind]);
		return EX_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;
	r = cmd->run(argc, argv, &cli);
	config_free(cli.cfg);
	return r;
}
