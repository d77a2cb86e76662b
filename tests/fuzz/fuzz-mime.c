/* fuzz-mime.c: mime_decode() on raw bytes as a message, small limits so the
 * depth, part and text bounds are reached too. */
#include <stdlib.h>

#include "fuzz.h"
#include "mime-decode.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct decode_limits lim = {
	    .max_message_size = 1 << 20,
	    .max_depth = 8,
	    .max_parts = 64,
	    .max_line = 4096,
	    .max_text = 256 << 10,
	};
	struct message *m = NULL;
	char *why = NULL;

	if (mime_decode((const char *)data, size, &lim, &m, &why) == 0)
		message_free(m);
	free(why);
	return 0;
}
