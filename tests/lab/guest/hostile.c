/* hostile - a compromised guest's agent: speaks on the agent channel in
 * every wrong way and checks that the host never discards a page it was not
 * entitled to.
 *
 *   hostile CASE [SECONDS]...
 *
 * Run instead of hint-agent (lab start --no-agent). It owns two sets of its
 * own pages, locked in RAM and filled with a pattern: "bait" pages are only
 * ever named in messages the host must refuse, so they must keep their
 * pattern; "sacrifice" pages are reported properly, and must read as zero
 * once the host acknowledges their discard (proof that the path works, so
 * an intact bait page means something). Guest-physical addresses come from
 * /proc/self/pagemap.
 *
 * Batch cases: outside unaligned overlap duplicate claimed-twice
 * never-reported huge. Stream cases: long-line bad-json bad-utf8, and
 * flood-stats, flood-garbage, slowloris, and liar (a large clean cache claimed,
 * drops answered with 2^63-1 bytes, every other stats message impossible),
 * which run for SECONDS (default 20).
 * After each stream case a properly reported batch must still be discarded:
 * the channel carries on. Prints "hostile: CASE: ok ..." per case; exits 1
 * at the first failure, 2 on bad arguments or setup errors. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PORT "/dev/virtio-ports/org.hintd.agent.0"
#define PAGE 4096UL
#define N_BAIT 40
#define N_SACRIFICE 48
#define GRANULARITY PAGE
/* Far outside any lab guest's RAM. */
#define OUTSIDE_GPA (64ULL << 30)

static int port = -1;
static uint8_t *bait, *sacrifice;
static uint64_t bait_gpa[N_BAIT], sacrifice_gpa[N_SACRIFICE];
static unsigned next_sacrifice;
static uint32_t next_batch = 1000;
static const char *current_case = "setup";

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void fail(const char *fmt, ...) {
	va_list ap;
	fprintf(stdout, "hostile: %s: FAILED: ", current_case);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	exit(1);
}

static void setup_error(const char *what) {
	fprintf(stdout, "hostile: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- the channel -------------------------------------------------------- */

/* Writes everything within `seconds`; false when the host does not take it
 * (it closed or throttles the channel). */
static bool send_bytes_within(const void *data, size_t n, double seconds) {
	const char *p = data;
	double deadline = now() + seconds;

	while (n > 0) {
		struct pollfd pfd = { .fd = port, .events = POLLOUT };
		int left = (int) ((deadline - now()) * 1000);
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return false;
		ssize_t k = write(port, p, n);
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			/* No host on the other end right now: try again shortly. */
			usleep(50000);
			continue;
		}
		p += k;
		n -= (size_t) k;
	}
	return true;
}

static void send_line(const char *fmt, ...) {
	char line[65536 + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof line - 1)
		fail("line too long for the test's buffer");
	line[n++] = '\n';
	send_bytes_within(line, (size_t) n, 5);
}

/* Reads what the host sent for up to `seconds`, answering "cmd hello" as an
 * agent would; returns true as soon as a message of `type` for `batch`
 * arrived (type NULL: just drain). */
static bool wait_for(const char *type, uint32_t batch, double seconds) {
	static char buf[1 << 16];
	static size_t len;
	double deadline = now() + seconds;
	char want_type[64];

	snprintf(want_type, sizeof want_type, "\"type\":\"%s\"", type ? type : "");
	for (;;) {
		char *nl;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			const char *b = strstr(buf, "\"batch\":");
			bool found = type && strstr(buf, want_type) && b &&
				     strtoul(b + 8, NULL, 10) == batch;
			size_t used = (size_t) (nl - buf) + 1;
			memmove(buf, nl + 1, len - used);
			len -= used;
			if (found)
				return true;
		}
		if (len == sizeof buf)
			len = 0;
		int left = (int) ((deadline - now()) * 1000);
		if (left <= 0)
			return false;
		struct pollfd pfd = { .fd = port, .events = POLLIN };
		if (poll(&pfd, 1, left < 100 ? left : 100) <= 0)
			continue;
		ssize_t k = read(port, buf + len, sizeof buf - len);
		if (k <= 0) {
			/* EOF: the host is not connected at this moment. */
			usleep(50000);
			continue;
		}
		len += (size_t) k;
	}
}

/* Throws away what the host sent (its commands to an agent that will not
 * answer), without waiting. */
static void drain(void) {
	char tmp[4096];
	while (read(port, tmp, sizeof tmp) > 0)
		;
}

static void send_hello(void) {
	send_line("");
	send_line("{\"v\":1,\"type\":\"hello\",\"protocol\":1,\"agent\":\"hostile 1\","
		  "\"ram_bytes\":%llu,\"max_ranges\":32,\"caps\":{\"module\":true,"
		  "\"module_status\":\"active\",\"granularity\":%lu,\"drop_cache\":false}}",
		  (unsigned long long) sysconf(_SC_PHYS_PAGES) * PAGE, GRANULARITY);
	/* Let the host take it in before what follows. */
	wait_for(NULL, 0, 0.5);
}

/* "hints" for one batch; ranges as "[gpa,len],[gpa,len]" text. */
static void send_hints(uint32_t batch, uint64_t granularity, const char *ranges) {
	send_line("{\"v\":1,\"type\":\"hints\",\"batch\":%u,\"granularity\":%" PRIu64
		  ",\"ttl_ms\":20000,\"ranges\":[%s]}", batch, granularity, ranges);
}

static void send_claimed(uint32_t batch, bool ok) {
	send_line("{\"v\":1,\"type\":\"claimed\",\"batch\":%u,\"ok\":%s}", batch, ok ? "true" : "false");
}

static const char *range_text(uint64_t gpa, uint64_t len) {
	static char text[8][64];
	static unsigned i;
	char *t = text[i++ % 8];
	snprintf(t, 64, "[%" PRIu64 ",%" PRIu64 "]", gpa, len);
	return t;
}

/* ---- the pages ---------------------------------------------------------- */

static uint64_t pattern(const uint8_t *base, size_t page, size_t word) {
	return ((uint64_t) (uintptr_t) base ^ ((uint64_t) page << 20) ^ word) * 0x9e3779b97f4a7c15ULL;
}

static void fill_page(uint8_t *base, size_t page) {
	uint64_t *w = (uint64_t *) (base + page * PAGE);
	for (size_t i = 0; i < PAGE / 8; i++)
		w[i] = pattern(base, page, i);
}

/* 1 pattern intact, 0 all zero, -1 anything else. */
static int page_state(const uint8_t *base, size_t page) {
	const uint64_t *w = (const uint64_t *) (base + page * PAGE);
	bool intact = true, zero = true;
	for (size_t i = 0; i < PAGE / 8; i++) {
		intact &= w[i] == pattern(base, page, i);
		zero &= w[i] == 0;
	}
	return intact ? 1 : zero ? 0 : -1;
}

static uint8_t *locked_pages(size_t n, uint64_t *gpas) {
	uint8_t *m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (m == MAP_FAILED)
		setup_error("mmap");
	madvise(m, n * PAGE, MADV_NOHUGEPAGE);
	for (size_t p = 0; p < n; p++)
		fill_page(m, p);
	if (mlock(m, n * PAGE) < 0)
		setup_error("mlock");
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		setup_error("/proc/self/pagemap");
	for (size_t p = 0; p < n; p++) {
		uint64_t e;
		if (pread(fd, &e, sizeof e, (off_t) (((uintptr_t) m / PAGE + p) * 8)) != sizeof e)
			setup_error("pagemap read");
		if (!(e & (1ULL << 63)) || !(e & ((1ULL << 55) - 1))) {
			errno = EPERM;
			setup_error("pagemap has no frame number (not root?)");
		}
		gpas[p] = (e & ((1ULL << 55) - 1)) * PAGE;
	}
	close(fd);
	return m;
}

static void check_bait(void) {
	for (size_t p = 0; p < N_BAIT; p++)
		if (page_state(bait, p) != 1)
			fail("bait page %zu (guest-physical 0x%" PRIx64 ") was %s", p, bait_gpa[p],
			     page_state(bait, p) == 0 ? "discarded" : "corrupted");
}

/* A properly reported batch of one sacrifice page: claimed, discarded,
 * acknowledged. Returns its page after checking it reads as zero. */
static size_t sacrifice_one(double seconds) {
	size_t p = next_sacrifice++;
	double deadline = now() + seconds;
	uint32_t batch;

	if (p >= N_SACRIFICE)
		fail("out of sacrifice pages");
	/* After a cut-off the host comes back on its own time: keep offering. */
	do {
		batch = next_batch++;
		send_hello();
		send_hints(batch, GRANULARITY, range_text(sacrifice_gpa[p], PAGE));
		if (wait_for("claim", batch, 2)) {
			send_claimed(batch, true);
			if (!wait_for("ack", batch, 5))
				fail("batch %u claimed but never acknowledged", batch);
			if (page_state(sacrifice, p) != 0)
				fail("sacrifice page %zu acknowledged but not discarded", p);
			return p;
		}
		send_claimed(batch, false);
	} while (now() < deadline);
	fail("a proper batch was not claimed within %.0f s", seconds);
	return 0;
}

/* ---- the cases ---------------------------------------------------------- */

static void case_outside(void) {
	uint32_t b = next_batch++;
	char ranges[256];

	snprintf(ranges, sizeof ranges, "%s,%s", range_text(bait_gpa[0], PAGE),
		 range_text(OUTSIDE_GPA, PAGE));
	send_hints(b, GRANULARITY, ranges);
	if (wait_for("claim", b, 1.5))
		fail("batch %u with a range outside RAM was claimed", b);
	send_claimed(b, true);
	/* The last page of RAM and one more. */
	b = next_batch++;
	uint64_t end = (uint64_t) sysconf(_SC_PHYS_PAGES) * PAGE;
	snprintf(ranges, sizeof ranges, "%s,%s", range_text(bait_gpa[1], PAGE),
		 range_text((end + (1ULL << 30)) & ~(PAGE - 1), 2 * PAGE));
	send_hints(b, GRANULARITY, ranges);
	send_claimed(b, true);
}

static void case_unaligned(void) {
	uint32_t b = next_batch++;

	/* Not a multiple of the granularity in the hello. */
	send_hints(b, GRANULARITY, range_text(bait_gpa[2] + 512, PAGE));
	send_claimed(b, true);
	/* A granularity other than the hello's. */
	b = next_batch++;
	send_hints(b, 2 * GRANULARITY, range_text(bait_gpa[3] & ~(2 * PAGE - 1), 2 * PAGE));
	send_claimed(b, true);
	/* Zero length. */
	b = next_batch++;
	send_hints(b, GRANULARITY, range_text(bait_gpa[4], 0));
	send_claimed(b, true);
}

static void case_overlap(void) {
	uint32_t first = next_batch++, second = next_batch++, third = next_batch++;
	size_t s = next_sacrifice++;
	char ranges[256];

	send_hints(first, GRANULARITY, range_text(sacrifice_gpa[s], PAGE));
	if (!wait_for("claim", first, 3))
		fail("a proper batch was not claimed");
	/* The same page again while the first batch is in flight. */
	snprintf(ranges, sizeof ranges, "%s,%s", range_text(bait_gpa[5], PAGE),
		 range_text(sacrifice_gpa[s], PAGE));
	send_hints(second, GRANULARITY, ranges);
	send_claimed(second, true);
	/* Twice in one batch. */
	snprintf(ranges, sizeof ranges, "%s,%s", range_text(bait_gpa[6], PAGE),
		 range_text(bait_gpa[6], PAGE));
	send_hints(third, GRANULARITY, ranges);
	send_claimed(third, true);
	/* Give the first one back: the host must then leave it alone too. */
	send_claimed(first, false);
	wait_for(NULL, 0, 1);
	if (page_state(sacrifice, s) != 1)
		fail("a batch given back was discarded");
}

static void case_duplicate(void) {
	uint32_t b = next_batch++;
	size_t s = next_sacrifice++;

	send_hints(b, GRANULARITY, range_text(sacrifice_gpa[s], PAGE));
	if (!wait_for("claim", b, 3))
		fail("a proper batch was not claimed");
	/* The same batch id, other pages: must not replace the first. */
	send_hints(b, GRANULARITY, range_text(bait_gpa[7], PAGE));
	send_claimed(b, true);
	if (!wait_for("ack", b, 5))
		fail("batch %u claimed but never acknowledged", b);
	if (page_state(sacrifice, s) != 0)
		fail("the batch first reported was not discarded");
}

static void case_claimed_twice(void) {
	size_t s = sacrifice_one(5);
	uint32_t b = next_batch - 1;

	/* The page is the guest's again: it writes to it, then claims again. */
	fill_page(sacrifice, s);
	send_claimed(b, true);
	send_claimed(b, true);
	wait_for(NULL, 0, 1);
	if (page_state(sacrifice, s) != 1)
		fail("batch %u was discarded a second time", b);
}

static void case_never_reported(void) {
	send_claimed(next_batch + 500, true);
	send_claimed(4000000000u, true);
	send_claimed(0, true);
}

static void case_huge(void) {
	static char ranges[65536];
	size_t n = 0;

	/* 33 ranges: one more than a batch may have. */
	for (int i = 0; i < 33; i++)
		n += (size_t) snprintf(ranges + n, sizeof ranges - n, "%s%s", i ? "," : "",
				       range_text(bait_gpa[i % N_BAIT] , PAGE));
	send_hints(next_batch, GRANULARITY, ranges);
	send_claimed(next_batch++, true);
	/* One range as large as the guest claims to be many times over. */
	send_hints(next_batch, GRANULARITY, range_text(0, 1ULL << 40));
	send_claimed(next_batch++, true);
	/* A line just under the limit, full of ranges. */
	n = 0;
	while (n < 60000)
		n += (size_t) snprintf(ranges + n, sizeof ranges - n, "%s%s", n ? "," : "",
				       range_text(bait_gpa[n % N_BAIT], PAGE));
	send_hints(next_batch, GRANULARITY, ranges);
	send_claimed(next_batch++, true);
	/* More batches in flight than allowed. */
	for (int i = 0; i < 20; i++)
		send_hints(next_batch + (uint32_t) i, GRANULARITY, range_text(bait_gpa[8 + i], PAGE));
	wait_for(NULL, 0, 1);
	for (int i = 0; i < 20; i++)
		send_claimed(next_batch + (uint32_t) i, false);
	next_batch += 20;
}

static void case_long_line(void) {
	static char chunk[1 << 20];
	const size_t total = 100u << 20;
	double t0 = now();

	memset(chunk, 'x', sizeof chunk);
	memcpy(chunk, "{\"v\":1,\"type\":\"stats\",\"pad\":\"", 29);
	for (size_t sent = 0; sent < total; sent += sizeof chunk) {
		if (!send_bytes_within(chunk, sizeof chunk, 30))
			fail("the host stopped reading after %zu MiB", sent >> 20);
		if (sent == 0)
			memset(chunk, 'x', 29);
	}
	send_bytes_within("\"}\n", 3, 5);
	printf("hostile: long-line: 100 MiB line sent in %.1f s\n", now() - t0);
}

static void case_bad_json(void) {
	static const char *const lines[] = {
		"{\"v\":1,\"type\":\"stats\",",
		"[1,2,3]",
		"\"just a string\"",
		"{\"v\":1,\"type\":\"nonsense\"}",
		"{\"v\":1,\"type\":\"claim\",\"batch\":1}",
		"{\"v\":2,\"type\":\"claimed\",\"batch\":1,\"ok\":true}",
		"{\"v\":1,\"type\":\"claimed\",\"batch\":-1,\"ok\":true}",
		"{\"v\":1,\"type\":\"claimed\",\"batch\":1.0,\"ok\":true}",
		"{\"v\":1,\"type\":\"claimed\",\"batch\":99999999999999999999999,\"ok\":true}",
		"{\"v\":1,\"type\":\"claimed\",\"batch\":1,\"batch\":2,\"ok\":true}",
		"{\"v\":1,\"type\":\"hints\",\"batch\":1,\"granularity\":4096,\"ttl_ms\":1,\"ranges\":\"all\"}",
		"{\"v\":1,\"type\":\"stats\",\"seq\":1,\"mem\":{\"total\":\"lots\"}}",
		"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
	};
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		send_line("%s", lines[i]);
	/* A NUL byte inside a line. */
	send_bytes_within("{\"v\":1,\"type\":\"he\0llo\"}\n", 25, 5);
}

static void case_bad_utf8(void) {
	static const char *const names[] = {
		"\xff\xfe", "\xc0\xaf" /* overlong "/" */, "\xed\xa0\x80" /* a surrogate */,
		"abc\xe2\x82" /* cut short */, "\\ud800" /* escaped lone surrogate */,
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		send_line("{\"v\":1,\"type\":\"hello\",\"protocol\":1,\"agent\":\"%s\",\"ram_bytes\":1,"
			  "\"max_ranges\":0,\"caps\":{\"module\":false,\"module_status\":\"x\","
			  "\"granularity\":0,\"drop_cache\":false}}", names[i]);
}

static const char *stats_line(unsigned long seq) {
	static char line[1024];
	snprintf(line, sizeof line,
		 "{\"v\":1,\"type\":\"stats\",\"seq\":%lu,\"mem\":{\"total\":402653184,\"free\":1,"
		 "\"available\":1,\"cached\":0,\"active_file\":0,\"inactive_file\":0,\"dirty\":0,"
		 "\"writeback\":0,\"mlocked\":0,\"anon\":0,\"swap_total\":0,\"swap_free\":0},"
		 "\"psi\":{\"some_avg10_permyriad\":10000,\"full_avg10_permyriad\":10000,"
		 "\"some_total_us\":%lu,\"full_total_us\":%lu},\"vmstat\":{\"pgmajfault\":%lu,"
		 "\"pswpin\":0,\"pswpout\":0,\"workingset_refault_file\":0,"
		 "\"workingset_refault_anon\":0}}\n", seq, seq * 1000, seq * 1000, seq * 100);
	return line;
}

/* Stats that claim a page cache of 300 MiB, plausible in themselves. */
static void send_cache_claim(unsigned long seq) {
	send_line("{\"v\":1,\"type\":\"stats\",\"seq\":%lu,\"mem\":{\"total\":402653184,\"free\":4194304,"
		  "\"available\":318767104,\"cached\":314572800,\"active_file\":0,\"inactive_file\":314572800,"
		  "\"dirty\":0,\"writeback\":0,\"mlocked\":0,\"anon\":0,\"swap_total\":0,\"swap_free\":0},"
		  "\"psi\":{\"some_avg10_permyriad\":0,\"full_avg10_permyriad\":0,\"some_total_us\":0,"
		  "\"full_total_us\":0},\"vmstat\":{\"pgmajfault\":0,\"pswpin\":0,\"pswpout\":0,"
		  "\"workingset_refault_file\":0,\"workingset_refault_anon\":0}}", seq);
}

/* Stats no guest of this size can have: more free memory than it has. */
static void send_impossible_stats(unsigned long seq) {
	send_line("{\"v\":1,\"type\":\"stats\",\"seq\":%lu,\"mem\":{\"total\":1099511627776,"
		  "\"free\":2199023255552,\"available\":2199023255552,\"cached\":0,\"active_file\":0,"
		  "\"inactive_file\":0,\"dirty\":0,\"writeback\":0,\"mlocked\":0,\"anon\":0,"
		  "\"swap_total\":0,\"swap_free\":0},\"psi\":{\"some_avg10_permyriad\":0,"
		  "\"full_avg10_permyriad\":0,\"some_total_us\":0,\"full_total_us\":0},\"vmstat\":"
		  "{\"pgmajfault\":0,\"pswpin\":0,\"pswpout\":0,\"workingset_refault_file\":0,"
		  "\"workingset_refault_anon\":0}}", seq);
}

/* Answers every drop_cache the host sent with an absurd "freed" (2^63 - 1
 * bytes) and drops nothing. Returns how many it answered. */
static unsigned answer_drops_with_lies(void) {
	static char buf[1 << 16];
	static size_t len;
	unsigned answered = 0;
	char *nl;
	ssize_t k;

	while (len < sizeof buf && (k = read(port, buf + len, sizeof buf - len)) > 0)
		len += (size_t) k;
	while ((nl = memchr(buf, '\n', len))) {
		const char *id = strstr(buf, "\"id\":");
		*nl = '\0';
		if (strstr(buf, "\"name\":\"drop_cache\"") && id && id < nl) {
			send_line("{\"v\":1,\"type\":\"reply\",\"id\":%lu,\"ok\":true,"
				  "\"result\":{\"freed\":9223372036854775807}}", strtoul(id + 5, NULL, 10));
			answered++;
		}
		len -= (size_t) (nl - buf) + 1;
		memmove(buf, nl + 1, len);
	}
	if (len == sizeof buf)
		len = 0;
	return answered;
}

/* For `seconds`: claims a large clean cache, lies about dropping it, and
 * every other stats message is impossible. Only this guest may suffer. */
static void case_liar(unsigned seconds) {
	double end = now() + seconds;
	unsigned long seq = 0;
	unsigned lies = 0;

	while (now() < end) {
		seq++;
		if (seq % 2)
			send_cache_claim(seq);
		else
			send_impossible_stats(seq);
		lies += answer_drops_with_lies();
		usleep(250000);
	}
	printf("hostile: liar: %lu stats sent, %u cache drops answered with 2^63-1 bytes\n", seq, lies);
}

/* Sends lines as fast as the channel takes them for `seconds`. */
static void flood(unsigned seconds, bool garbage) {
	double end = now() + seconds;
	unsigned long lines = 0, bytes = 0;

	while (now() < end) {
		const char *l = garbage ? "{\"v\":1,\"type\":garbage}\n" : stats_line(lines + 1);
		size_t n = strlen(l);
		if (send_bytes_within(l, n, end - now() > 0.1 ? 0.1 : 0.01)) {
			lines++;
			bytes += n;
		}
		/* Keep the host's "cmd" lines from piling up in the port. */
		if (lines % 256 == 0)
			drain();
	}
	printf("hostile: flood: %lu lines, %lu KiB in %u s\n", lines, bytes >> 10, seconds);
}

static void slowloris(unsigned seconds) {
	double end = now() + seconds;
	unsigned long bytes = 1;

	send_bytes_within("{", 1, 5);
	while (now() < end) {
		send_bytes_within("a", 1, 1);
		bytes++;
		usleep(100000);
	}
	send_bytes_within("\n", 1, 5);
	printf("hostile: slowloris: one line of %lu bytes over %u s\n", bytes, seconds);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: hostile CASE [SECONDS]...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Locked pages must not move while the test holds their addresses. */
	int fd = open("/proc/sys/vm/compact_unevictable_allowed", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0", 1) < 0)
			perror("compact_unevictable_allowed");
		close(fd);
	}
	bait = locked_pages(N_BAIT, bait_gpa);
	sacrifice = locked_pages(N_SACRIFICE, sacrifice_gpa);
	port = open(PORT, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (port < 0)
		setup_error(PORT);

	for (int i = 1; i < argc; i++) {
		const char *c = argv[i];
		unsigned seconds = 20;

		if (i + 1 < argc && strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1]))
			seconds = (unsigned) atoi(argv[++i]);
		current_case = c;
		send_hello();
		if (!strcmp(c, "outside"))
			case_outside();
		else if (!strcmp(c, "unaligned"))
			case_unaligned();
		else if (!strcmp(c, "overlap"))
			case_overlap();
		else if (!strcmp(c, "duplicate"))
			case_duplicate();
		else if (!strcmp(c, "claimed-twice"))
			case_claimed_twice();
		else if (!strcmp(c, "never-reported"))
			case_never_reported();
		else if (!strcmp(c, "huge"))
			case_huge();
		else if (!strcmp(c, "long-line"))
			case_long_line();
		else if (!strcmp(c, "bad-json"))
			case_bad_json();
		else if (!strcmp(c, "bad-utf8"))
			case_bad_utf8();
		else if (!strcmp(c, "flood-stats"))
			flood(seconds, false);
		else if (!strcmp(c, "flood-garbage"))
			flood(seconds, true);
		else if (!strcmp(c, "slowloris"))
			slowloris(seconds);
		else if (!strcmp(c, "liar"))
			case_liar(seconds);
		else {
			fprintf(stderr, "hostile: unknown case '%s'\n", c);
			return 2;
		}
		/* Whatever the host did with all that, it must not have touched a
		 * bait page, and a proper batch must still go through. */
		wait_for(NULL, 0, 1);
		check_bait();
		sacrifice_one(40);
		check_bait();
		printf("hostile: %s: ok, bait intact, channel still works\n", c);
	}
	return 0;
}
