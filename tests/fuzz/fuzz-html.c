/* fuzz-html.c: html_text_convert() and html_text_find_metadata() on bytes. */
#include <stdlib.h>

#include "fuzz.h"
#include "html-text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct html_limits lim = {
	    .max_input = 1 << 20, .max_output = 64 << 10, .max_depth = 64};
	char *text = NULL, *why = NULL;
	size_t len = 0;
	int truncated = 0;

	(void)html_text_find_metadata((const char *)data, size);
	if (html_text_convert((const char *)data, size, &lim, &text, &len, &truncated, &why) == 0)
		free(text);
	free(why);
	return 0;
}
