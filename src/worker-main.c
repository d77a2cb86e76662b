/* worker-main.c: main() of divemap-ingest-worker (libexec.h), the sandboxed
 * mail-parsing child that worker.c starts as `divemap-ingest-worker worker`
 * with its socket on fd 3. It links the parsers and nothing of the daemon:
 * no database client, no OpenSSL, no libsystemd (so it writes its few words
 * to standard error itself, which is the daemon's). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include <gnutls/gnutls.h>

#include "worker.h"

/* GnuTLS comes with libetpan (MIME) and is never used here: not set up
 * (see src/main.c). */
GNUTLS_SKIP_GLOBAL_INIT

int main(int argc, char **argv)
{
	struct stat st;
	int r;

	if (argc != 2 || strcmp(argv[1], "worker") != 0 || fstat(3, &st) < 0 ||
	    !S_ISSOCK(st.st_mode)) {
		fprintf(stderr,
			"divemap-ingest-worker is the mail-parsing child that divemap-ingest "
			"starts, with a socket on fd 3; it is not run by hand\n");
		return EX_USAGE;
	}
	r = worker_child_main(3);
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "divemap-ingest-worker: %m\n");
		return EX_SOFTWARE;
	}
	return EX_OK;
}
