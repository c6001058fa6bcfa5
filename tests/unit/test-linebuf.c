/* test-linebuf.c - the bounded line reader: splitting, partial lines,
 * over-long lines dropped without growing, fds. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "linebuf.h"
#include "macro.h"

/* Feeds everything (popping as needed) and collects lines joined by '|',
 * over-long lines as "!". */
static void feed_all(struct line_buffer *b, const char *data, size_t n, size_t chunk, char *out,
		     size_t outsize) {
	const char *line;
	size_t len;
	int r;

	while (n > 0) {
		size_t k = line_buffer_feed(b, data, MIN(chunk, n));

		data += k;
		n -= k;
		while ((r = line_buffer_pop(b, &line, &len)) != 0) {
			if (r > 0) {
				CHECK_EQ_INT(strlen(line), len);
				strncat(out, line, outsize - strlen(out) - 1);
			} else {
				CHECK_EQ_INT(r, -EMSGSIZE);
				strncat(out, "!", outsize - strlen(out) - 1);
			}
			strncat(out, "|", outsize - strlen(out) - 1);
		}
	}
}

TEST(lines_split_at_any_chunk_size) {
	static const char in[] = "one\ntwo\n\nthree\nfour";

	for (size_t chunk = 1; chunk <= sizeof in; chunk++) {
		struct line_buffer b;
		char out[256] = "";

		CHECK_EQ_INT(line_buffer_init(&b, 16), 0);
		feed_all(&b, in, strlen(in), chunk, out, sizeof out);
		CHECK_STREQ(out, "one|two||three|");
		CHECK_EQ_INT(line_buffer_pending(&b), 4);	/* "four" waits for its newline */
		line_buffer_done(&b);
	}
}

TEST(longest_line_fits_one_more_does_not) {
	struct line_buffer b;
	char in[64], out[256] = "";

	CHECK_EQ_INT(line_buffer_init(&b, 8), 0);
	/* 8 bytes + '\n' fit exactly; 9 bytes do not. */
	snprintf(in, sizeof in, "12345678\n123456789\nok\n");
	feed_all(&b, in, strlen(in), 3, out, sizeof out);
	CHECK_STREQ(out, "12345678|!|ok|");
	line_buffer_done(&b);
}

TEST(overlong_line_dropped_without_growth) {
	struct line_buffer b;
	size_t n = 100000;
	char *in = malloc(n + 16), out[256] = "";

	memset(in, 'x', n);
	memcpy(in + n, "\nafter\n", 8);
	for (size_t chunk = 1; chunk <= 4096; chunk *= 8) {
		out[0] = '\0';
		CHECK_EQ_INT(line_buffer_init(&b, 64), 0);
		feed_all(&b, in, n + 7, chunk, out, sizeof out);
		/* Reported once, then the next line is intact. */
		CHECK_STREQ(out, "!|after|");
		CHECK_EQ_INT(b.size, 65);
		line_buffer_done(&b);
	}
	free(in);
}

TEST(two_overlong_lines_in_a_row) {
	struct line_buffer b;
	char in[256], out[256] = "";

	memset(in, 'a', 40);
	in[40] = '\n';
	memset(in + 41, 'b', 40);
	strcpy(in + 81, "\nend\n");
	CHECK_EQ_INT(line_buffer_init(&b, 16), 0);
	feed_all(&b, in, strlen(in), 7, out, sizeof out);
	CHECK_STREQ(out, "!|!|end|");
	line_buffer_done(&b);
}

TEST(feed_stops_when_full) {
	struct line_buffer b;
	const char *line;
	size_t len;

	CHECK_EQ_INT(line_buffer_init(&b, 4), 0);
	CHECK_EQ_INT(line_buffer_feed(&b, "ab\ncdefgh", 9), 5);
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 1);
	CHECK_STREQ(line, "ab");
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 0);
	CHECK_EQ_INT(line_buffer_feed(&b, "efgh", 4), 3);
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), -EMSGSIZE);
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 0);
	line_buffer_reset(&b);
	CHECK_EQ_INT(line_buffer_feed(&b, "new\n", 4), 4);
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 1);
	CHECK_STREQ(line, "new");
	line_buffer_done(&b);
	CHECK_EQ_INT(line_buffer_init(&b, 0), -EINVAL);
}

TEST(embedded_nul_kept_in_length) {
	struct line_buffer b;
	const char *line;
	size_t len;

	CHECK_EQ_INT(line_buffer_init(&b, 16), 0);
	line_buffer_feed(&b, "a\0b\n", 4);
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 1);
	CHECK_EQ_INT(len, 3);
	CHECK(memcmp(line, "a\0b", 3) == 0);
	line_buffer_done(&b);
}

TEST(read_from_nonblocking_pipe) {
	struct line_buffer b;
	const char *line;
	size_t len;
	int p[2];

	CHECK_EQ_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_EQ_INT(line_buffer_init(&b, 32), 0);
	CHECK_EQ_INT(line_buffer_read(&b, p[0]), -EAGAIN);
	CHECK_EQ_INT(write(p[1], "hello\nwor", 9), 9);
	CHECK_EQ_INT(line_buffer_read(&b, p[0]), 9);
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 1);
	CHECK_STREQ(line, "hello");
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 0);
	CHECK_EQ_INT(write(p[1], "ld\n", 3), 3);
	close(p[1]);
	CHECK_EQ_INT(line_buffer_read(&b, p[0]), 3);
	CHECK_EQ_INT(line_buffer_pop(&b, &line, &len), 1);
	CHECK_STREQ(line, "world");
	CHECK_EQ_INT(line_buffer_read(&b, p[0]), 0);	/* EOF */
	close(p[0]);
	line_buffer_done(&b);
}

TEST(read_refuses_when_full) {
	struct line_buffer b;
	int p[2];

	CHECK_EQ_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	CHECK_EQ_INT(line_buffer_init(&b, 3), 0);
	CHECK_EQ_INT(write(p[1], "abcdef", 6), 6);
	CHECK_EQ_INT(line_buffer_read(&b, p[0]), 4);
	/* Not popped: no room, and no read either. */
	CHECK_EQ_INT(line_buffer_read(&b, p[0]), -ENOBUFS);
	close(p[0]);
	close(p[1]);
	line_buffer_done(&b);
}

int main(void) {
	return run_tests();
}
