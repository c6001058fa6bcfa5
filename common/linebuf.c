/* linebuf.c - see linebuf.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linebuf.h"
#include "macro.h"

int line_buffer_init(struct line_buffer *b, size_t max_line) {
	char *d;

	if (max_line == 0 || max_line > (1u << 30))
		return -EINVAL;
	d = malloc(max_line + 1);
	if (!d)
		return -ENOMEM;
	*b = (struct line_buffer) { .data = d, .size = max_line + 1 };
	return 0;
}

void line_buffer_done(struct line_buffer *b) {
	free(b->data);
	*b = (struct line_buffer) {};
}

void line_buffer_reset(struct line_buffer *b) {
	b->start = b->end = b->scanned = 0;
	b->discarding = false;
}

/* Moves unread bytes to the front, so free space is all at the end. */
static void compact(struct line_buffer *b) {
	if (b->start == 0)
		return;
	memmove(b->data, b->data + b->start, b->end - b->start);
	b->end -= b->start;
	b->start = 0;
}

size_t line_buffer_feed(struct line_buffer *b, const void *data, size_t n) {
	size_t k;

	compact(b);
	k = MIN(n, b->size - b->end);
	memcpy(b->data + b->end, data, k);
	b->end += k;
	return k;
}

ssize_t line_buffer_read(struct line_buffer *b, int fd) {
	ssize_t n;

	compact(b);
	if (b->end >= b->size)
		return -ENOBUFS;	/* the caller did not pop first */
	do
		n = read(fd, b->data + b->end, b->size - b->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	b->end += n;
	return n;
}

int line_buffer_pop(struct line_buffer *b, const char **ret_line, size_t *ret_len) {
	char *nl;

	if (b->discarding) {
		nl = memchr(b->data + b->start, '\n', b->end - b->start);
		if (!nl) {
			line_buffer_reset(b);
			b->discarding = true;
			return 0;
		}
		b->start = nl - b->data + 1;
		b->scanned = 0;
		b->discarding = false;
	}

	/* Scan only bytes not looked at before: a line trickling in byte by
	 * byte stays linear. */
	nl = memchr(b->data + b->start + b->scanned, '\n', b->end - b->start - b->scanned);
	if (nl) {
		size_t len = nl - (b->data + b->start);

		*nl = '\0';
		*ret_line = b->data + b->start;
		*ret_len = len;
		b->start += len + 1;
		b->scanned = 0;
		return 1;
	}
	b->scanned = b->end - b->start;

	/* The whole buffer is one unfinished line: it is over-long. Drop what
	 * we have and skip the rest up to its newline. */
	if (b->end - b->start >= b->size) {
		line_buffer_reset(b);
		b->discarding = true;
		return -EMSGSIZE;
	}
	return 0;
}

size_t line_buffer_pending(const struct line_buffer *b) {
	return b->discarding ? 0 : b->end - b->start;
}
