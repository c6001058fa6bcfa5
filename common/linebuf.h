/* linebuf.h - a bounded reader of '\n'-terminated lines for stream fds
 * (sockets, virtio-serial ports), blocking or not.
 *
 * The buffer never grows past max_line + 1 bytes. A line longer than
 * max_line is dropped up to its newline, without being kept whole, and
 * reported once as -EMSGSIZE; reading then resumes with the next line.
 *
 *   line_buffer_read(&b, fd) or line_buffer_feed(&b, data, n)
 *   while ((r = line_buffer_pop(&b, &line, &len)) != 0)
 *           r > 0 ? handle(line, len) : complain(r);
 *
 * Pop until it returns 0 before the next read or feed: only then is there
 * guaranteed room. */
#ifndef HINTD_LINEBUF_H
#define HINTD_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct line_buffer {
	char *data;
	size_t size;		/* max_line + 1: room for the longest line and its '\n' */
	size_t start, end;	/* unread bytes are data[start..end) */
	size_t scanned;		/* data[start..start+scanned) holds no '\n' */
	bool discarding;	/* skipping the rest of an over-long line */
};

int line_buffer_init(struct line_buffer *b, size_t max_line);
void line_buffer_done(struct line_buffer *b);
/* Forgets all buffered bytes (a new connection starts clean). */
void line_buffer_reset(struct line_buffer *b);

/* Appends up to n bytes; returns how many it took (less than n only when
 * full: pop, then feed the rest). */
size_t line_buffer_feed(struct line_buffer *b, const void *data, size_t n);

/* One read(2) into the free space: bytes read, 0 at end of file, or a
 * negative errno (-EAGAIN on a non-blocking fd with nothing to read). */
ssize_t line_buffer_read(struct line_buffer *b, int fd);

/* Takes the next complete line: 1 with *ret_line (NUL-terminated, without
 * its '\n', valid until the next feed/read) and *ret_len; 0 when no complete
 * line is buffered; -EMSGSIZE once per over-long line. */
int line_buffer_pop(struct line_buffer *b, const char **ret_line, size_t *ret_len);

/* Bytes buffered that do not yet form a complete line. */
size_t line_buffer_pending(const struct line_buffer *b);

#endif /* HINTD_LINEBUF_H */
