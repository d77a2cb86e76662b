/* fuzz-extract.c: the rule engine (extract_run with the shipped rules) on
 * text, the result also turned into JSON. The first bytes, when present,
 * choose the reference day; a resolver knows every name starting with a
 * capital 'B', so the site paths run too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "extract.h"
#include "fuzz.h"
#include "rules.h"

static struct rules *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[4096], *why = NULL;

	if (getenv("DIVEMAP_FUZZ_RULES_DIR"))
		snprintf(dir, sizeof dir, "%s", getenv("DIVEMAP_FUZZ_RULES_DIR"));
	else
		snprintf(dir, sizeof dir, "%s/rules", fuzz_top_srcdir());
	if (rules_load(dir, NULL, &rules, &why) < 0) {
		fprintf(stderr, "fuzz-extract: rules %s: %s\n", dir, why ? why : "?");
		abort();
	}
	return 0;
}

static int resolve(void *userdata, const char *name, int *ret_id)
{
	if (name[0] != 'B')
		return -ENOENT;
	*ret_id = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct extract_input in = {.ref = {2025, 6, 15}, .resolve_site = resolve};
	struct extract_result *res = NULL;
	char *why = NULL;

	if (size > 64 << 10)
		return 0;
	if (size >= 2) {
		in.ref.m = 1 + data[0] % 12;
		in.ref.d = 1 + data[1] % 28;
	}
	in.text = (const char *)data;
	in.len = size;
	in.subject = "Fuzz";
	if (extract_run(rules, &in, &res, &why) == 0) {
		json_t *j = NULL;

		if (extract_result_to_json(res, "<fuzz@example>", 1, &j) == 0)
			json_decref(j);
		extract_result_free(res);
	}
	free(why);
	return 0;
}
