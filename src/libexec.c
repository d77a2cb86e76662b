/* libexec.c: finding the helper programs of libexec.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "libexec.h"

static int open_exe(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int libexec_open(const char *name, const char *env)
{
	const char *path = env ? getenv(env) : NULL;
	_cleanup_free_ char *beside = NULL, *installed = NULL;
	char self[PATH_MAX], *slash;
	ssize_t n;
	int fd;

	if (path)
		return open_exe(path);
	/* beside this program first: a build tree runs its own helpers */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (asprintf(&beside, "%s/%s", self, name) < 0)
				return -ENOMEM;
			fd = open_exe(beside);
			if (fd >= 0)
				return fd;
		}
	}
	if (asprintf(&installed, "%s/%s", PKGLIBEXECDIR, name) < 0)
		return -ENOMEM;
	return open_exe(installed);
}
