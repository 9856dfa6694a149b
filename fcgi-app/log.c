/*
 * log.c: `ts level event key=value` lines on stderr, one write each (cli.md).
 * Trusts its callers to pass no answer, code, token, cookie or query value
 * (log.h); still never lets a value break the one-line format.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level min_level = LOG_INFO;

static const char *const names[LOG__MAX] = {
	[LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

void
log_set_level(enum log_level l)
{
	min_level = l;
}

void
log_event(enum log_level l, const char *event, const char *fmt, ...)
{
	char line[1024], out[1024], ts[32];
	size_t o = 0;
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	int n;

	if (l < min_level || (unsigned)l >= LOG__MAX)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s %s pid=%ld", ts, names[l], event,
	    (long)getpid());
	if (fmt && *fmt && n > 0 && (size_t)n < sizeof(line) - 1) {
		line[n++] = ' ';
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	n = (int)strnlen(line, sizeof(line));
	/*
	 * One line per event, whatever was passed: every control byte (CR, LF,
	 * ESC, ...) and DEL is written as \xNN, so nothing can end the line
	 * early, forge a second one or drive a terminal (ASVS V7.3.1).
	 */
	for (int i = 0; i < n && o < sizeof(out) - 5; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '\n';
	(void)!write(STDERR_FILENO, out, o);
}
