/* pipeline-run: runs the pure pipeline (parsers/pipeline.h) over .eml files,
 * without a database or a worker: for the corpus score test and the
 * extraction benchmark.
 *
 *   pipeline-run RULES_DIR NAMES_JSON OUT_DIR FILE.eml...   one OUT_DIR/NAME.json each
 *   pipeline-run --repeat N RULES_DIR NAMES_JSON - FILE...  no output; prints messages/s */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "pipeline.h"
#include "strutil.h"

static int read_file(const char *path, struct buf *b)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char chunk[65536];
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0)
			return -E2BIG;
	return ferror(f) ? -EIO : 0;
}

static int write_result(const char *out_dir, const char *path, const char *json)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strcspn(base, ".");
	_cleanup_free_ char *out = NULL;
	_cleanup_fclose_ FILE *f = NULL;

	if (asprintf(&out, "%s/%.*s.json", out_dir, (int)n, base) < 0)
		return -ENOMEM;
	f = fopen(out, "we");
	if (!f || fputs(json, f) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct pipeline_settings s = {0};
	_cleanup_(pipeline_freep) struct pipeline *p = NULL;
	_cleanup_buf_ struct buf names = BUF_INIT(64u << 20);
	struct buf *msgs;
	unsigned repeat = 0;
	char *why = NULL;
	struct timespec t0, t1;
	size_t n_files, done = 0;
	int r;

	if (argc > 2 && streq(argv[1], "--repeat")) {
		if (parse_uint32(argv[2], &repeat) < 0 || repeat == 0)
			return fprintf(stderr, "--repeat takes a number\n"), 2;
		argc -= 2;
		argv += 2;
	}
	if (argc < 5)
		return fprintf(stderr,
			       "usage: pipeline-run [--repeat N] RULES NAMES OUT FILE...\n"),
		       2;
	s.rules_dir = argv[1];
	if (pipeline_new(&s, &p, &why) < 0)
		return fprintf(stderr, "rules: %s\n", why), 1;
	if (read_file(argv[2], &names) < 0 ||
	    pipeline_set_names(p, names.data, names.len, &why) < 0)
		return fprintf(stderr, "names %s: %s\n", argv[2], why ? why : "cannot read"), 1;
	n_files = (size_t)argc - 4;
	msgs = calloc(n_files, sizeof(*msgs));
	for (size_t i = 0; msgs && i < n_files; i++) {
		msgs[i] = BUF_INIT(BUF_MAX_MESSAGE);
		if (read_file(argv[4 + i], &msgs[i]) < 0)
			return fprintf(stderr, "%s: cannot read\n", argv[4 + i]), 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned k = 0; k < (repeat ? repeat : 1); k++)
		for (size_t i = 0; i < n_files; i++) {
			_cleanup_free_ char *json = NULL;
			r = pipeline_run(p, msgs[i].data, msgs[i].len, &json, &why);
			if (r < 0) {
				fprintf(stderr, "%s: %s\n", argv[4 + i], why ? why : "failed");
				free(why);
				why = NULL;
				continue;
			}
			done++;
			if (!repeat && write_result(argv[3], argv[4 + i], json) < 0)
				return fprintf(stderr, "cannot write the result of %s\n",
					       argv[4 + i]),
				       1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (repeat) {
		double secs =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%zu messages in %.3f s: %.0f messages/s\n", done, secs,
		       (double)done / secs);
	}
	for (size_t i = 0; msgs && i < n_files; i++)
		buf_done(&msgs[i]);
	free(msgs);
	return 0;
}
