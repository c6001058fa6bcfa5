/* size.c - see size.h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "macro.h"
#include "size.h"

static void format_short(char *buf, size_t size, uint64_t bytes) {
	static const char units[] = "KMGTPE";
	unsigned i = 0;
	double v, r;

	if (bytes == 0) {
		snprintf(buf, size, "0");
		return;
	}
	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 "B", bytes);
		return;
	}
	v = (double) bytes / 1024.0;
	while (v >= 1024.0 && i + 1 < sizeof units - 1) {
		v /= 1024.0;
		i++;
	}
	r = v < 100.0 ? round(v * 10.0) / 10.0 : round(v);
	if (r >= 1024.0 && i + 1 < sizeof units - 1) {
		r = 1.0;
		i++;
	}
	if (r - floor(r) < 0.05)
		snprintf(buf, size, "%.0f%c", r, units[i]);
	else
		snprintf(buf, size, "%.1f%c", r, units[i]);
}

static void format_mib(char *buf, size_t size, uint64_t bytes) {
	/* To nearest: adds the bit below the unit, so nothing overflows. */
	if (bytes != 0 && bytes < MiB(1))
		snprintf(buf, size, "%" PRIu64 " KiB", (bytes >> 10) + ((bytes >> 9) & 1));
	else
		snprintf(buf, size, "%" PRIu64 " MiB", (bytes >> 20) + ((bytes >> 19) & 1));
}

char *format_size(char *buf, size_t size, uint64_t bytes, enum size_style style) {
	switch (style) {
	case SIZE_SHORT:
		format_short(buf, size, bytes);
		break;
	case SIZE_BYTES:
		snprintf(buf, size, "%" PRIu64, bytes);
		break;
	case SIZE_MIB:
		format_mib(buf, size, bytes);
		break;
	}
	return buf;
}
