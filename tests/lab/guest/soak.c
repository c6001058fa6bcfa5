/* soak - a guest workload that proves the host never corrupts a page.
 *
 *   soak SECONDS HOLD_MIB CHURN_MIB [FILE...]
 *
 * Keeps HOLD_MIB of patterned memory for the whole run and, in a loop,
 * allocates CHURN_MIB more (every fresh page must read as zero), writes a
 * pattern unique to the page and the cycle, verifies it and all the held
 * memory, reads the FILEs (clean page cache the host may ask the guest to
 * drop) and compares their checksums with the first cycle's, then frees the
 * churn and pauses briefly so the freed memory can be reported. Every page
 * written is checked every cycle: a page the host discarded while the guest
 * used it, or a balloon that took one, shows up as a wrong word.
 *
 * Prints "soak: ok CYCLES cycles, PAGES pages verified, MIB MiB of files
 * verified" and exits 0, or prints the first bad page and exits 1; 2 on
 * bad arguments or when the memory could not be had. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_FILES 16
#define FILE_BYTES_MAX (16UL << 20)	/* read of each file per cycle */

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static uint64_t pattern(uint64_t seed, size_t page, size_t word) {
	return (seed * 0x100000001b3ULL ^ ((uint64_t) page << 20) ^ word) * 0x9e3779b97f4a7c15ULL;
}

static void fill(uint64_t *mem, size_t pages, uint64_t seed) {
	for (size_t p = 0; p < pages; p++)
		for (size_t w = 0; w < PAGE / 8; w++)
			mem[p * PAGE / 8 + w] = pattern(seed, p, w);
}

static void verify(const uint64_t *mem, size_t pages, uint64_t seed, const char *what,
		   unsigned long cycle) {
	for (size_t p = 0; p < pages; p++)
		for (size_t w = 0; w < PAGE / 8; w++)
			if (mem[p * PAGE / 8 + w] != pattern(seed, p, w)) {
				printf("soak: BAD %s page %zu word %zu in cycle %lu: %#llx, expected %#llx%s\n",
				       what, p, w, cycle, (unsigned long long) mem[p * PAGE / 8 + w],
				       (unsigned long long) pattern(seed, p, w),
				       mem[p * PAGE / 8 + w] == 0 ? " (zero: discarded while in use)" : "");
				exit(1);
			}
}

static uint64_t *map_pages(size_t pages) {
	void *m = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		printf("soak: cannot map %zu MiB: %s\n", pages * PAGE >> 20, strerror(errno));
		exit(2);
	}
	return m;
}

/* FNV-1a over the first FILE_BYTES_MAX of a file; -1 when unreadable. */
static int64_t file_sum(const char *path, size_t *bytes) {
	static unsigned char buf[1 << 16];
	uint64_t h = 0xcbf29ce484222325ULL;
	int fd = open(path, O_RDONLY);
	size_t total = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (total < FILE_BYTES_MAX && (n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ULL;
		total += (size_t) n;
	}
	close(fd);
	*bytes += total;
	return (int64_t) (h >> 1);
}

static unsigned long parse(const char *s, const char *what) {
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "soak: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv) {
	unsigned long seconds, hold_pages, churn_pages, cycle = 0, verified = 0;
	int64_t sums[MAX_FILES];
	size_t file_bytes = 0;
	int n_files;
	uint64_t *hold;
	double end;

	if (argc < 4 || argc - 4 > MAX_FILES) {
		fprintf(stderr, "usage: soak SECONDS HOLD_MIB CHURN_MIB [FILE...] (at most %d files)\n",
			MAX_FILES);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	seconds = parse(argv[1], "seconds");
	hold_pages = parse(argv[2], "hold size") * (1UL << 20) / PAGE;
	churn_pages = parse(argv[3], "churn size") * (1UL << 20) / PAGE;
	n_files = argc - 4;
	for (int i = 0; i < n_files; i++) {
		sums[i] = file_sum(argv[4 + i], &file_bytes);
		if (sums[i] < 0) {
			printf("soak: cannot read %s: %s\n", argv[4 + i], strerror(errno));
			return 2;
		}
	}

	hold = map_pages(hold_pages);
	fill(hold, hold_pages, 1);
	srand((unsigned) getpid());
	end = now() + (double) seconds;
	while (now() < end) {
		uint64_t *churn = map_pages(churn_pages), seed = cycle + 2;

		/* Fresh anonymous pages read as zero, even if the host discarded
		 * their frames a moment ago. */
		for (size_t p = 0; p < churn_pages; p++)
			for (size_t w = 0; w < PAGE / 8; w += 61)
				if (churn[p * PAGE / 8 + w]) {
					printf("soak: BAD fresh page %zu is not zero in cycle %lu\n", p, cycle);
					return 1;
				}
		fill(churn, churn_pages, seed);
		verify(churn, churn_pages, seed, "churn", cycle);
		verify(hold, hold_pages, 1, "held", cycle);
		for (int i = 0; i < n_files; i++) {
			size_t ignored = 0;
			if (file_sum(argv[4 + i], &ignored) != sums[i]) {
				printf("soak: BAD %s read back different in cycle %lu\n", argv[4 + i], cycle);
				return 1;
			}
			file_bytes += ignored;
		}
		verified += 2 * churn_pages + hold_pages;
		munmap(churn, churn_pages * PAGE);
		usleep(100000 + (useconds_t) (rand() % 200000));
		cycle++;
	}
	verify(hold, hold_pages, 1, "held", cycle);
	verified += hold_pages;
	printf("soak: ok %lu cycles, %lu pages verified, %zu MiB of files verified\n", cycle, verified,
	       file_bytes >> 20);
	return 0;
}
