/* fuzz-mbox.c: the mbox reader (source_mbox_open on a memfd holding the
 * input), every message fetched. A small size bound so the oversized path
 * (full_size) runs too. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "source-mbox.h"
#include "source.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct source *s = NULL;
	struct source_msg m;
	int fd = fuzz_memfd(data, size, path, sizeof path);

	if (fd < 0)
		return 0;
	if (source_mbox_open(fd, "fuzz.mbox", "mbox", NULL, 0, 2048, &s) < 0)
		return 0;
	for (int i = 0; i < 100000; i++) {
		int r = source_fetch(s, &m);

		if (r == 0 || (r < 0 && r != -EBADMSG))
			break;
		if (r > 0 && m.len > 0) {
			/* touch every byte so ASan sees a bad length */
			volatile unsigned char x = 0;

			for (size_t k = 0; k < m.len; k++)
				x ^= (unsigned char)m.data[k];
			(void)x;
		}
	}
	source_close(s);
	return 0;
}
