/* log.c - see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"

static int max_level = LOG_INFO;
static int prefix_priority;

void log_set_max_level(int level) {
	max_level = level;
}

int log_get_max_level(void) {
	return max_level;
}

void log_set_prefix_priority(int enable) {
	prefix_priority = enable;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
	int saved = errno;
	va_list ap;

	/* Callers pass -errno; %m in fmt must print that error, not the last one. */
	if (error)
		errno = abs(error);

	if (level <= max_level) {
		char buf[2048];

		va_start(ap, fmt);
		vsnprintf(buf, sizeof buf, fmt, ap);
		va_end(ap);
		if (prefix_priority)
			fprintf(stderr, "<%d>%s\n", level, buf);
		else
			fprintf(stderr, "%s\n", buf);
	}
	(void) file;
	(void) line;
	errno = saved;
	return error < 0 ? error : -abs(error);
}
