/* source-config.c: a source of the configuration file, [imap NAME] or
 * [maildir NAME] (source_open_config in source.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "source-imap.h"
#include "source-maildir.h"
#include "source.h"

int source_open_config(const struct config_source *cs, size_t max_message_size, struct source **ret,
		       char **reterr_reason)
{
	struct source *s = NULL;
	int r;

	*reterr_reason = NULL;
	switch (cs->kind) {
	case SOURCE_IMAP:
		return source_imap_open(cs, max_message_size, ret, reterr_reason);
	case SOURCE_MAILDIR:
		r = source_maildir_open(cs->path, max_message_size, &s, reterr_reason);
		if (r < 0)
			return r;
		/* named after the section, so logs and status say "[maildir NAME]" */
		free(s->name);
		s->name = strdup(cs->name);
		if (!s->name) {
			source_close(s);
			return -ENOMEM;
		}
		source_maildir_set_options(s, cs->watch_cur, cs->poll_interval_s);
		*ret = s;
		return 0;
	}
	return asprintf(reterr_reason, "[%s]: unknown source kind", cs->name) < 0 ? -ENOMEM
										  : -EINVAL;
}
