/* fuzz-config.c: config_load() on the input as the configuration file (a
 * memfd named by /proc/self/fd), and dburl_parse() on the input as a
 * DATABASE_URL (the bytes up to the first NUL or newline). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dburl.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsetenv("DATABASE_URL");
	return 0;
}

static void fuzz_dburl(const uint8_t *data, size_t size)
{
	size_t n = 0;
	char *url, *why = NULL;
	struct db_params p = {0};

	while (n < size && data[n] != '\0' && data[n] != '\n')
		n++;
	url = strndup((const char *)data, n);
	if (!url)
		return;
	if (dburl_parse(url, &p, &why) == 0) {
		free(dburl_redacted(&p));
		db_params_done(&p);
	}
	free(why);
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], *why = NULL;
	struct config *c = NULL;
	int fd;

	if (size > 256 << 10)
		return 0;
	fuzz_dburl(data, size);
	fd = fuzz_memfd(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	if (config_load(path, &c, &why) == 0) {
		/* the url in a loaded file goes through the parser as well */
		if (c->database.url)
			fuzz_dburl((const uint8_t *)c->database.url, strlen(c->database.url));
		config_free(c);
	}
	free(why);
	close(fd);
	return 0;
}
