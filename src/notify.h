/* notify.h: the systemd service protocol (sd_notify), for Type=notify.
 *
 * Without systemd (NOTIFY_SOCKET unset) every call does nothing and returns
 * 0, so the daemon runs the same in a terminal. The watchdog is not here:
 * the event loop pings it by itself (sd_event_set_watchdog), at half of
 * WATCHDOG_USEC, only while the loop turns. Returns 0, 1 (sent) or -errno. */
#ifndef DIVEMAP_NOTIFY_H
#define DIVEMAP_NOTIFY_H

#include "cleanup.h"

/* READY=1 with a STATUS= line (NULL: none). */
int notify_ready(const char *status);
/* STATUS=... (one line; newlines become spaces). */
_printf_(1, 2) int notify_status(const char *fmt, ...);
/* RELOADING=1 and MONOTONIC_USEC=now, as systemd >= 253 asks of a reload. */
int notify_reloading(void);
/* STOPPING=1 with a STATUS= line (NULL: none). */
int notify_stopping(const char *status);

#endif
