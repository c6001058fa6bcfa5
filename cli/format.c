/* format.c - see format.h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format.h"
#include "size.h"

char *ctl_format_size(char *buf, size_t size, uint64_t bytes, bool exact) {
	return format_size(buf, size, bytes, exact ? SIZE_BYTES : SIZE_SHORT);
}

char *ctl_format_rate(char *buf, size_t size, double bytes_per_sec, bool exact) {
	char tmp[CTL_FORMAT_MAX];
	uint64_t b = 0;

	if (isfinite(bytes_per_sec) && bytes_per_sec > 0) {
		if (bytes_per_sec >= 1.8e19)
			b = UINT64_MAX;
		else
			b = (uint64_t) llround(bytes_per_sec);
	}
	snprintf(buf, size, "%s/s", ctl_format_size(tmp, sizeof tmp, b, exact));
	return buf;
}

char *ctl_format_duration(char *buf, size_t size, uint64_t usec) {
	if (usec == 0)
		snprintf(buf, size, "0");
	else if (usec % 60000000 == 0)
		snprintf(buf, size, "%" PRIu64 "min", usec / 60000000);
	else if (usec % 1000000 == 0)
		snprintf(buf, size, "%" PRIu64 "s", usec / 1000000);
	else if (usec >= 1000000)
		snprintf(buf, size, "%.3gs", (double) usec / 1e6);
	else if (usec % 1000 == 0)
		snprintf(buf, size, "%" PRIu64 "ms", usec / 1000);
	else
		snprintf(buf, size, "%" PRIu64 "us", usec);
	return buf;
}

char *ctl_format_age(char *buf, size_t size, uint64_t age_usec) {
	uint64_t s = age_usec / 1000000;

	if (s < 60)
		snprintf(buf, size, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, size, "%" PRIu64 "min", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%" PRIu64 "h", s / 3600);
	else
		snprintf(buf, size, "%" PRIu64 "d", s / 86400);
	return buf;
}

char *ctl_format_timestamp(char *buf, size_t size, uint64_t usec, uint64_t now_usec) {
	char when[32], age[CTL_FORMAT_MAX];
	time_t t = (time_t) (usec / 1000000);
	struct tm tm;

	if (usec == 0) {
		snprintf(buf, size, "never");
		return buf;
	}
	if (!localtime_r(&t, &tm) || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof when, "@%" PRIu64, usec / 1000000);
	if (now_usec == 0)
		snprintf(buf, size, "%s", when);
	else if (now_usec < usec)
		snprintf(buf, size, "%s (in the future)", when);
	else
		snprintf(buf, size, "%s (%s ago)", when,
			 ctl_format_age(age, sizeof age, now_usec - usec));
	return buf;
}

char *ctl_format_virtio_mem(char *buf, size_t size, uint64_t plugged, uint64_t requested,
			    uint64_t device_size, bool exact) {
	char p[CTL_FORMAT_MAX], r[CTL_FORMAT_MAX], s[CTL_FORMAT_MAX];

	if (device_size == 0)
		snprintf(buf, size, "-");
	else if (requested == plugged)
		snprintf(buf, size, "%s/%s", ctl_format_size(p, sizeof p, plugged, exact),
			 ctl_format_size(s, sizeof s, device_size, exact));
	else
		snprintf(buf, size, "%s->%s/%s", ctl_format_size(p, sizeof p, plugged, exact),
			 ctl_format_size(r, sizeof r, requested, exact),
			 ctl_format_size(s, sizeof s, device_size, exact));
	return buf;
}

const char *ctl_yes_no(bool b) {
	return b ? "yes" : "no";
}

static bool utf8_continuation(char c) {
	return ((unsigned char) c & 0xC0) == 0x80;
}

char *ctl_truncate_name(char *buf, size_t size, const char *name, size_t width) {
	size_t len = strlen(name), head, tail;

	if (size == 0)
		return buf;
	if (width >= size)
		width = size - 1;
	if (len <= width) {
		memcpy(buf, name, len + 1);
		return buf;
	}
	if (width < 3) {
		/* No room for a marker: just the start. */
		head = width;
		while (head > 0 && utf8_continuation(name[head]))
			head--;
		memcpy(buf, name, head);
		buf[head] = '\0';
		return buf;
	}
	/* VM names often differ at the end ("web-01", "web-02"): keep both ends. */
	tail = (width - 1) / 2;
	head = width - 1 - tail;
	while (head > 0 && utf8_continuation(name[head]))
		head--;
	while (tail > 0 && utf8_continuation(name[len - tail]))
		tail--;
	memcpy(buf, name, head);
	buf[head] = '~';
	memcpy(buf + head + 1, name + len - tail, tail);
	buf[head + 1 + tail] = '\0';
	return buf;
}
