/* source-eml.h: one message file (.eml) or standard input.
 *
 * fetch() gives the one message, then 0. A message over max_message_size is
 * read to its end but only its first bytes are kept (full_size is set). The
 * ref is the file name, "-" for standard input. */
#ifndef DIVEMAP_SOURCE_EML_H
#define DIVEMAP_SOURCE_EML_H

#include <stddef.h>

struct source;

/* Takes fd (closed by close() or on error); head: bytes already read from it.
 * kind: "eml" or "stdin". */
int source_eml_open(int fd, const char *name, const char *kind, const char *head, size_t n_head,
		    size_t max_message_size, struct source **ret);

#endif
