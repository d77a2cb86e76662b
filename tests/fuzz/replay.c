/* replay.c: runs a fuzz harness's entry point over files, without libFuzzer.
 *
 *   replay-NAME [FILE|DIR]...
 * With no argument: every file in $top_srcdir/tests/fuzz/regress/NAME/, NAME
 * being the program's name after "replay-". Exits 0 when every input ran
 * (a crash or a sanitizer report ends the process with an error), 77 (skip)
 * when there is no input at all. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "%s: %m\n", path);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *p = realloc(data, cap ? cap * 2 : 4096);

			if (!p) {
				free(data);
				fclose(f);
				return -1;
			}
			data = p;
			cap = cap ? cap * 2 : 4096;
		}
		size_t k = fread(data + n, 1, cap - n, f);

		n += k;
		if (k == 0)
			break;
	}
	fclose(f);
	printf("replay %s (%zu bytes)\n", path, n);
	fflush(stdout);
	/* exactly n bytes, as libFuzzer gives them: a read past the input is
	 * then a read past the block for valgrind and ASan */
	uint8_t *exact = malloc(n ? n : 1);

	if (!exact) {
		free(data);
		return -1;
	}
	memcpy(exact, data, n);
	free(data);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 1;
}

static int replay_path(const char *path)
{
	struct stat st;
	struct dirent **names;
	int n, total = 0;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && total >= 0) {
			char *p;

			if (asprintf(&p, "%s/%s", path, names[i]->d_name) < 0)
				total = -1;
			else {
				int r = replay_file(p);

				total = r < 0 ? -1 : total + r;
				free(p);
			}
		}
		free(names[i]);
	}
	free(names);
	return total;
}

int main(int argc, char **argv)
{
	int total = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc && total >= 0; i++) {
			int r = replay_path(argv[i]);

			total = r < 0 ? -1 : total + r;
		}
	} else {
		const char *base = strrchr(argv[0], '/');
		const char *name = base ? base + 1 : argv[0];
		char *dir;

		if (strncmp(name, "lt-", 3) == 0)
			name += 3;
		if (strncmp(name, "replay-", 7) == 0)
			name += 7;
		if (asprintf(&dir, "%s/tests/fuzz/regress/%s", fuzz_top_srcdir(), name) < 0)
			return 1;
		total = replay_path(dir);
		free(dir);
	}
	if (total < 0)
		return 1;
	printf("%d inputs replayed\n", total);
	return total == 0 ? 77 : 0;
}
