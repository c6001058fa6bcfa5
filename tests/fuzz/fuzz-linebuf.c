/* Fuzz target: a byte stream cut into arbitrary reads. The buffer must never
 * grow past its limit, every line it returns must be complete and short
 * enough, and an over-long line must be reported, not returned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "linebuf.h"

#define MAX_LINE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct line_buffer b;
	size_t pos = 0;

	if (line_buffer_init(&b, MAX_LINE) < 0)
		return 0;
	while (pos < size) {
		/* The first byte of each step says how many bytes to feed. */
		size_t n = 1 + data[pos] % 16;
		pos++;
		if (n > size - pos)
			n = size - pos;
		size_t fed = line_buffer_feed(&b, data + pos, n);
		pos += fed;
		const char *line;
		size_t len;
		int r;
		while ((r = line_buffer_pop(&b, &line, &len)) != 0) {
			if (r > 0 && (len > MAX_LINE || memchr(line, '\n', len) || line[len] != '\0'))
				abort();
		}
		if (b.end - b.start > b.size)
			abort();
		if (fed == 0 && n > 0)
			break;
	}
	line_buffer_done(&b);
	return 0;
}
