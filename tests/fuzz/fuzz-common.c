/* fuzz-common.c: helpers for the fuzz harnesses (fuzz.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

const char *fuzz_top_srcdir(void)
{
	const char *top = getenv("top_srcdir");

	return top && *top ? top : ".";
}

int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t path_size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
	return fd;
}
