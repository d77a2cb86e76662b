/* source-maildir.h: a maildir as a message source.
 *
 * fetch() hands out the messages in new/ (and, with watch_cur, those in cur/
 * whose info has no S flag), oldest name first, never anything in tmp/. ack()
 * renames new/X to cur/X:2,S (or adds S to a cur/ name) only after the commit;
 * a message that was taken by someone else in the meantime (ENOENT) is no
 * error. A message fetched and never acked stays where it is and is not handed
 * out again by this source (it is, by the next process). watch() listens with
 * inotify for IN_MOVED_TO|IN_CLOSE_WRITE on new/ (and cur/) and rescans every
 * rescan_interval_s as well, for what inotify cannot see (NFS, overflow). */
#ifndef DIVEMAP_SOURCE_MAILDIR_H
#define DIVEMAP_SOURCE_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>

struct source;

/* PATH holds cur/, new/ and tmp/. 0, or -errno with *reterr_reason. */
int source_maildir_open(const char *path, size_t max_message_size, struct source **ret,
			char **reterr_reason);
/* Options of a configured maildir: also take unseen messages from cur/, and
 * the period of the rescan while watched (0: 60 s). */
void source_maildir_set_options(struct source *s, bool watch_cur, unsigned rescan_interval_s);

#endif
