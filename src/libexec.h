/* libexec.h: the package's helper programs, in its libexec folder.
 *
 * divemap-ingest-worker is the sandboxed worker child (worker.h);
 * divemap-ingest-parsers runs the commands that need the parsers in-process
 * (match, rules), which divemap-ingest hands on to it (main.c). Neither is
 * run by hand. Kept apart so that the daemon does not load libxml2 or
 * PCRE2, and the worker not libmariadb, OpenSSL or libsystemd. */
#ifndef DIVEMAP_LIBEXEC_H
#define DIVEMAP_LIBEXEC_H

#define LIBEXEC_WORKER  "divemap-ingest-worker"
#define LIBEXEC_PARSERS "divemap-ingest-parsers"

/* Opens (O_RDONLY, close-on-exec, for fexecve) the program `name`: the
 * file named by the environment variable `env` if that is set (env may be
 * NULL), else `name` in the folder of the running program (a build tree),
 * else the installed one (PKGLIBEXECDIR). An fd or -errno. */
int libexec_open(const char *name, const char *env);

#endif
