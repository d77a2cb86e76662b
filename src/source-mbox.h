/* source-mbox.h: a mailbox file (mboxrd or mboxo) read as a stream.
 *
 * One message at a time is held in memory, at most max_message_size bytes of
 * it (full_size tells the real size of a longer one); a mailbox of any size
 * is never loaded whole. A message starts after a "From " line at the start
 * of the file or after a blank line; that blank line is the separator, not
 * part of the message. Lines ">From ", ">>From ", ... lose one '>' (mboxrd;
 * for mboxo this restores the escaped "From " lines). Each message's ref is
 * "NAME:OFFSET", the byte offset of its "From " line. */
#ifndef DIVEMAP_SOURCE_MBOX_H
#define DIVEMAP_SOURCE_MBOX_H

#include <stddef.h>

struct source;

/* Takes fd (closed by close() or on error). head: bytes already read from
 * fd (the type sniffing), n_head of them. kind: "mbox" or "stdin". */
int source_mbox_open(int fd, const char *name, const char *kind, const char *head, size_t n_head,
		     size_t max_message_size, struct source **ret);

#endif
