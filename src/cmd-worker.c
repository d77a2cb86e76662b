/* cmd-worker.c: `divemap-ingest-worker worker`, the sandboxed child of
 * worker.c. Hidden from --help: the daemon starts it with its socket on fd 3. */
#include <errno.h>
#include <sys/stat.h>

#include "commands.h"
#include "log.h"
#include "worker.h"

static int run_worker(int argc, char **argv, struct cli *cli)
{
	struct stat st;
	int r;

	if (argc > 1) {
		log_error("'worker' takes no arguments");
		return EX_USAGE;
	}
	if (fstat(3, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_error("'" WORKER_EXE_NAME " worker' is the mail-parsing child that "
			  "divemap-ingest starts, with a socket on fd 3; it is not run by hand");
		return EX_USAGE;
	}
	r = worker_child_main(3);
	if (r < 0) {
		log_error_errno(r, "worker: %m");
		return EX_SOFTWARE;
	}
	return EX_OK;
}

const struct command command_worker = {
    .name = "worker",
    .summary = "the sandboxed mail-parsing child (internal)",
    .run = run_worker,
    .hidden = true,
};
