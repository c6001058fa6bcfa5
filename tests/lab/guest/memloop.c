/* memloop - a guest workload doing steady work over a fixed working set, to
 * see how much a host action (a shrink) slows a guest down.
 *
 *   memloop MIB [SECONDS]    work until SECONDS (default 120) or SIGTERM/SIGINT
 *   memloop --now            print the clock memloop stamps its passes with
 *
 * Maps MIB of anonymous memory, touches it, prints "memloop: ready MIB MiB"
 * (flushed: a caller waits for it), then adds 1 to one word of every cache
 * line, pass after pass, and stamps the end of each pass. When it stops it
 * checks that every word counts the passes made (a page the host took while
 * the guest used it would not), then prints "memloop: start T" (the first
 * pass's start), one line "T" per pass end, and "memloop: ok PASSES passes"
 * with exit 0; "memloop: word W corrupted" and exit 1; 2 on bad arguments or
 * when the memory could not be had. Times are CLOCK_MONOTONIC seconds. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define WORDS_PER_LINE 8	/* 64-byte cache lines of 8-byte words */
#define MAX_PASSES (1 << 20)

static volatile sig_atomic_t stop;

static void on_stop(int sig) {
	(void) sig;
	stop = 1;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static unsigned long parse_num(const char *s, const char *what) {
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0) {
		fprintf(stderr, "memloop: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static int usage(void) {
	fprintf(stderr, "usage: memloop MIB [SECONDS] | memloop --now\n");
	return 2;
}

/* The first word of each line that does not hold PASSES, or -1. */
static long check(const uint64_t *mem, size_t words, uint64_t passes) {
	for (size_t w = 0; w < words; w += WORDS_PER_LINE)
		if (mem[w] != passes)
			return (long) w;
	return -1;
}

int main(int argc, char **argv) {
	if (argc == 2 && !strcmp(argv[1], "--now")) {
		printf("%.6f\n", now());
		return 0;
	}
	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return usage();
	unsigned long mib = parse_num(argv[1], "size in MiB");
	unsigned long seconds = argc == 3 ? parse_num(argv[2], "seconds") : 120;
	size_t words = (mib << 20) / sizeof(uint64_t);

	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Zeroed by the kernel: every word starts at 0 passes. */
	uint64_t *mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double *ends = calloc(MAX_PASSES, sizeof *ends);
	if (mem == MAP_FAILED || !ends) {
		fprintf(stderr, "memloop: allocating %lu MiB: %s\n", mib, strerror(errno));
		return 2;
	}
	/* Faulted in before the clock starts: the passes measure steady work. */
	for (size_t w = 0; w < words; w += 4096 / sizeof(uint64_t))
		mem[w] = 0;
	printf("memloop: ready %lu MiB\n", mib);
	fflush(stdout);

	double start = now(), deadline = start + (double) seconds;
	uint64_t passes = 0;
	while (!stop && passes < MAX_PASSES) {
		for (size_t w = 0; w < words; w += WORDS_PER_LINE)
			mem[w]++;
		ends[passes++] = now();
		if (ends[passes - 1] >= deadline)
			break;
	}

	long bad = check(mem, words, passes);
	if (bad >= 0) {
		fprintf(stderr, "memloop: word %ld corrupted (%llu, not %llu)\n", bad,
			(unsigned long long) mem[bad], (unsigned long long) passes);
		return 1;
	}
	printf("memloop: start %.6f\n", start);
	for (uint64_t i = 0; i < passes; i++)
		printf("%.6f\n", ends[i]);
	printf("memloop: ok %llu passes\n", (unsigned long long) passes);
	return 0;
}
