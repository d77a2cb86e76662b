/* log.h: the one logging module.
 *
 * Under systemd (JOURNAL_STREAM names our stderr, or the target is set to
 * "journal") each call is one structured journal entry with PRIORITY,
 * MESSAGE and the given fields (NEWSLETTER_ID=, MESSAGE_ID=, RULE=, ...);
 * otherwise a human line on stderr. Only src/ logs; parsers return reasons.
 *
 * The *_errno forms set errno for %m and return -abs(error), so an error
 * path is one line:  return log_error_errno(r, "Cannot open '%s': %m", p); */
#ifndef DIVEMAP_LOG_H
#define DIVEMAP_LOG_H

#include <syslog.h>

#include "cleanup.h"

enum log_target {
	LOG_TARGET_AUTO,
	LOG_TARGET_STDERR,
	LOG_TARGET_JOURNAL,
};

struct log_field {
	const char *key; /* JOURNAL_FIELD_NAME, upper case */
	const char *value;
};
#define LOG_FIELDS(...) ((const struct log_field[]){__VA_ARGS__, {NULL, NULL}})

void log_set_target(enum log_target t);
void log_set_max_level(int level);
int log_get_max_level(void);
/* "error", "warning", "notice", "info", "debug" -> LOG_*; -EINVAL otherwise. */
int log_level_from_string(const char *s);
/* "auto", "stderr", "journal" -> enum log_target; -EINVAL otherwise. */
int log_target_from_string(const char *s);
enum log_target log_effective_target(void);

_printf_(4, 5) int log_full(int level, int error, const struct log_field *fields, const char *fmt,
			    ...);

#define log_error(...)            log_full(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning(...)          log_full(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_notice(...)           log_full(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_info(...)             log_full(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_debug(...)            log_full(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full(LOG_ERR, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), NULL, __VA_ARGS__)

#endif
