/* pipeline-fake.c: a test double of parsers/pipeline.h for tests/test-worker,
 * linked only into that test. It answers {"length": N, "names": M,
 * "rules_version": "fake"} and misbehaves on request, as hostile input might
 * make the real pipeline do: "CRASH-ME" dies of SIGSEGV, "HANG-ME" loops
 * forever, "EAT-MEMORY" allocates until malloc fails (then frees and returns
 * -ENOMEM), "BAD-MIME" is -EBADMSG. A rules_dir containing "MISSING" fails
 * pipeline_new. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

struct pipeline {
	size_t names_len;
};

int pipeline_new(const struct pipeline_settings *s, struct pipeline **ret, char **reterr_reason)
{
	if (!s->rules_dir || strstr(s->rules_dir, "MISSING")) {
		*reterr_reason = strdup("no rules in the rules folder");
		return -ENOENT;
	}
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

struct pipeline *pipeline_free(struct pipeline *p)
{
	free(p);
	return NULL;
}

int pipeline_set_names(struct pipeline *p, const char *names_json, size_t len, char **reterr_reason)
{
	if (len == 0 || names_json[0] != '{') {
		*reterr_reason = strdup("the names are not a JSON object");
		return -EINVAL;
	}
	p->names_len = len;
	return 0;
}

const char *pipeline_rules_version(const struct pipeline *p)
{
	return "fake";
}

struct chunk {
	struct chunk *next;
	char fill[(1u << 20) - sizeof(struct chunk *)];
};

static int eat_memory(char **reterr_reason)
{
	struct chunk *all = NULL, *c;

	while ((c = malloc(sizeof(*c)))) {
		memset(c->fill, 'x', sizeof(c->fill));
		c->next = all;
		all = c;
	}
	while (all) {
		c = all->next;
		free(all);
		all = c;
	}
	*reterr_reason = strdup("out of memory");
	return -ENOMEM;
}

static int has(const char *raw, size_t len, const char *what)
{
	return memmem(raw, len, what, strlen(what)) != NULL;
}

int pipeline_run(struct pipeline *p, const char *raw, size_t len, char **ret_json,
		 char **reterr_reason)
{
	if (has(raw, len, "CRASH-ME"))
		raise(SIGSEGV);
	if (has(raw, len, "HANG-ME"))
		for (volatile unsigned long i = 0;; i++)
			;
	if (has(raw, len, "EAT-MEMORY"))
		return eat_memory(reterr_reason);
	if (has(raw, len, "BAD-MIME")) {
		*reterr_reason = strdup("broken MIME structure");
		return -EBADMSG;
	}
	if (asprintf(ret_json, "{\"length\": %zu, \"names\": %zu, \"rules_version\": \"fake\"}",
		     len, p->names_len) < 0)
		return -ENOMEM;
	return 0;
}
