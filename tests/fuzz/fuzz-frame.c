/* fuzz-frame.c: frame_parse_header() and frame_parse() on bytes, then the
 * payload read as the payload's own first bytes say (u32, u64, str, bytes),
 * as a peer that lies about its frames would make the reader do. */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t type, len, id, u32;
	uint64_t u64;
	const char *str;
	const void *bytes;
	size_t n;
	struct frame f = FRAME_INIT;
	unsigned char ops[16];

	(void)frame_parse_header(data, size, FRAME_MAX_CONTROL, &type, &len, &id);
	if (frame_parse(data, size, FRAME_MAX_CONTROL, &f) < 0) {
		/* a frame whose len is right, so the payload readers run */
		uint8_t *copy;
		uint32_t fixed;
		int r;

		if (size < FRAME_HEADER_SIZE || size - FRAME_HEADER_SIZE > FRAME_MAX_CONTROL)
			return 0;
		copy = malloc(size);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		fixed = (uint32_t)(size - FRAME_HEADER_SIZE);
		memcpy(copy + 4, &fixed, sizeof fixed);
		r = frame_parse(copy, size, FRAME_MAX_CONTROL, &f);
		free(copy);
		if (r < 0)
			return 0;
	}
	/* the script: the first 16 payload bytes, read before anything else */
	memset(ops, 0, sizeof ops);
	memcpy(ops, data + FRAME_HEADER_SIZE,
	       size - FRAME_HEADER_SIZE < sizeof ops ? size - FRAME_HEADER_SIZE : sizeof ops);
	for (size_t i = 0; i < sizeof ops; i++) {
		int r;

		switch (ops[i] % 5) {
		case 0:
			r = frame_get_u32(&f, &u32);
			break;
		case 1:
			r = frame_get_u64(&f, &u64);
			break;
		case 2:
			r = frame_get_str(&f, &str);
			if (r == 0)
				(void)strlen(str);
			break;
		case 3:
			r = frame_get_bytes(&f, &bytes, &n);
			if (r == 0 && n > 0)
				(void)((const volatile unsigned char *)bytes)[n - 1];
			break;
		default:
			r = frame_get_end(&f);
			break;
		}
		if (r < 0)
			break;
	}
	frame_done(&f);
	return 0;
}
