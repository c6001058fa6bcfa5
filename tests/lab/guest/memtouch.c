/* memtouch - a guest workload: allocate, touch, verify and free memory.
 *
 *   memtouch MIB [--hold SEC] [--retouch]
 *
 * Maps MIB of anonymous memory 8 MiB at a time, as a growing program does,
 * checks every page reads as zero (fresh pages must), writes a pattern
 * unique to each page, verifies it, optionally holds it for SEC seconds and
 * verifies again, then frees it. Exits 0 and prints
 * "memtouch: ok ..." when every page verified, 1 with the first bad page
 * otherwise, 2 on bad arguments or when the memory could not be had.
 *
 * With --retouch it then prints "memtouch: holding MIB MiB" and keeps the
 * memory until SIGTERM or SIGINT; every SIGUSR1 reads and verifies all of
 * it again and prints "memtouch: retouched MIB MiB in S s" (how long a
 * program takes to get at its hot set after the host reclaimed memory). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define CHUNK (8UL << 20)

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static uint64_t pattern(size_t page, size_t word, uint64_t seed) {
	return (seed ^ ((uint64_t) page << 20) ^ word) * 0x9e3779b97f4a7c15ULL;
}

static long verify(const uint64_t *mem, size_t pages, uint64_t seed) {
	for (size_t p = 0; p < pages; p++)
		for (size_t w = 0; w < PAGE / 8; w++)
			if (mem[p * PAGE / 8 + w] != pattern(p, w, seed))
				return (long) p;
	return -1;
}

static unsigned long parse_num(const char *s, const char *what) {
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "memtouch: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv) {
	unsigned long mib = 0, hold = 0;
	int retouch = 0;
	uint64_t seed = (uint64_t) getpid() * 2654435761u;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold = parse_num(argv[++i], "--hold seconds");
		else if (!strcmp(argv[i], "--retouch"))
			retouch = 1;
		else if (!mib && argv[i][0] != '-')
			mib = parse_num(argv[i], "size in MiB");
		else {
			fprintf(stderr, "usage: memtouch MIB [--hold SEC] [--retouch]\n");
			return 2;
		}
	}
	if (!mib) {
		fprintf(stderr, "usage: memtouch MIB [--hold SEC] [--retouch]\n");
		return 2;
	}

	size_t bytes = mib << 20, pages = bytes / PAGE;
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGUSR1);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	/* Blocked from the start, so a signal sent early waits for sigwait(). */
	if (retouch)
		sigprocmask(SIG_BLOCK, &signals, NULL);
	double t0 = now();
	/* Reserve the address range, then commit and touch it chunk by chunk. */
	uint64_t *mem = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "memtouch: reserving %lu MiB: %s\n", mib, strerror(errno));
		return 2;
	}
	for (size_t off = 0; off < bytes; off += CHUNK) {
		size_t len = bytes - off < CHUNK ? bytes - off : CHUNK;
		char *chunk = (char *) mem + off;
		if (mprotect(chunk, len, PROT_READ | PROT_WRITE) < 0) {
			fprintf(stderr, "memtouch: allocating at %zu MiB: %s\n", off >> 20, strerror(errno));
			return 2;
		}
		for (size_t p = off / PAGE; p < (off + len) / PAGE; p++) {
			for (size_t w = 0; w < PAGE / 8; w++)
				if (mem[p * PAGE / 8 + w] != 0) {
					fprintf(stderr, "memtouch: fresh page %zu not zero\n", p);
					return 1;
				}
			for (size_t w = 0; w < PAGE / 8; w++)
				mem[p * PAGE / 8 + w] = pattern(p, w, seed);
		}
	}
	long bad = verify(mem, pages, seed);
	if (bad < 0 && hold) {
		sleep((unsigned) hold);
		bad = verify(mem, pages, seed);
	}
	if (bad < 0 && retouch) {
		int sig = 0;
		printf("memtouch: holding %lu MiB\n", mib);
		fflush(stdout);
		while (bad < 0 && sigwait(&signals, &sig) == 0 && sig == SIGUSR1) {
			double t = now();
			bad = verify(mem, pages, seed);
			printf("memtouch: retouched %lu MiB in %.3f s\n", mib, now() - t);
			fflush(stdout);
		}
	}
	if (bad >= 0) {
		fprintf(stderr, "memtouch: page %ld of %zu corrupted\n", bad, pages);
		return 1;
	}
	munmap(mem, bytes);
	printf("memtouch: ok %lu MiB verified in %.2f s\n", mib, now() - t0);
	return 0;
}
