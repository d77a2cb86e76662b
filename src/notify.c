/* notify.c: sd_notify wrappers, see notify.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "clock.h"
#include "notify.h"

#define NOTIFY_MAX_STATUS 256

static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static int send_with_status(const char *what, const char *status)
{
	char line[NOTIFY_MAX_STATUS];

	if (!status)
		return sd_notify(/* unset_environment= */ 0, what);
	snprintf(line, sizeof(line), "%s", status);
	one_line(line);
	return sd_notifyf(0, "%s\nSTATUS=%s", what, line);
}

int notify_ready(const char *status)
{
	return send_with_status("READY=1", status);
}

int notify_status(const char *fmt, ...)
{
	char line[NOTIFY_MAX_STATUS];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	one_line(line);
	return sd_notifyf(0, "STATUS=%s", line);
}

int notify_reloading(void)
{
	return sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			  (unsigned long long)clock_now_us());
}

int notify_stopping(const char *status)
{
	return send_with_status("STOPPING=1", status);
}
