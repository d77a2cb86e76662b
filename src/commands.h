/* commands.h: the subcommands of divemap-ingest, git-style.
 *
 * A command is one file src/cmd-NAME.c exporting one struct command, listed
 * in main.c's table. run() gets argv with argv[0] = the command name (parse
 * it with getopt_long; optind is reset to 0 before the call) and returns a
 * sysexits.h code. A command that needs the configuration asks for it with
 * cli_config(), so `--help` works even with a broken file. */
#ifndef DIVEMAP_COMMANDS_H
#define DIVEMAP_COMMANDS_H

#include <stdbool.h>
#include <sysexits.h>

struct config;
struct cli;

struct command {
	const char *name;
	const char *summary; /* one line for `divemap-ingest --help` */
	int (*run)(int argc, char **argv, struct cli *cli);
	bool hidden; /* internal: not listed by --help */
};

/* Loads the configuration once (-c FILE or the default path) and applies
 * its [log] settings; on error logs it and returns EX_CONFIG, else 0. */
int cli_config(struct cli *cli, const struct config **ret);
/* Maps a negative errno from the library to a sysexits.h code. */
int exit_code_from_errno(int r);

#endif
