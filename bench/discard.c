/* discard - hintd's discard path against the bare punch-hole loop.
 *
 *   build/bench/discard [--mib N] [--reps N]
 *
 * A memfd of N MiB (default 2048) stands in for a guest's RAM backing. Before
 * every timed run it is populated in full (MADV_POPULATE_WRITE on a shared
 * mapping), so every punch frees real host memory, as it does for a guest.
 * Then the same ranges are discarded two or three ways:
 *
 *   bare        fallocate(PUNCH_HOLE|KEEP_SIZE), one call per range: the limit
 *   hintd       batches of 32 ranges, each through what hintd does per batch:
 *               batch_table_add() against a RAM map that covers the memfd in
 *               two segments (as a guest split around a PCI hole), the claim
 *               and claimed transitions, backing_discard() per range
 *               (its count of the bytes really freed, and the punch) after
 *               batch_may_punch(), and the ack bookkeeping
 *   hintd+json  the same plus the wire: parsing the guest's "hints" and
 *               "claimed" lines and formatting hintd's "claim" and "ack"
 *   mincore     hintd+json with the bytes freed counted by mincore() on a
 *               PROT_NONE mapping before each punch instead: an alternative
 *               accounting, measured for comparison
 *
 * at 2 MiB granularity (ranges of 2 MiB) and at 4 KiB (ranges of 4 KiB).
 * Each run is timed alone; the table shows the median of the repetitions in
 * GiB/s and each path's ratio to bare from the same repetitions. Runs are
 * interleaved so that a noisy neighbour hits every column alike.
 * BENCH_SMOKE=1 in the environment: 64 MiB, one repetition, no verdict. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "backing.h"
#include "batches.h"
#include "protocol.h"
#include "ram-map.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define MiB ((uint64_t) 1 << 20)
#define GiB ((uint64_t) 1 << 30)
/* The second RAM segment starts here in guest-physical space, as RAM above
 * the 4 GiB PCI hole does on a large guest. */
#define HIGH_GPA (4 * GiB)

enum path { PATH_BARE, PATH_HINTD, PATH_HINTD_JSON, PATH_MINCORE, _PATH_MAX };
static const char *const path_name[_PATH_MAX] = {
	"bare fallocate", "hintd path", "hintd path + JSON", "+ JSON, mincore",
};

/* A run that takes longer than this is stopped after the batch in hand and
 * its rate taken over what it did; the rest is punched untimed. */
static double max_run_sec = 10;

struct setup {
	struct backing backing;
	struct ram_map map;
	void *mem;		/* shared mapping, for populating */
	void *probe;		/* PROT_NONE mapping of the same, for mincore() */
	unsigned char *vec;	/* mincore() output for the largest range */
};

struct result {
	double sec;
	uint64_t bytes;		/* discarded in sec */
};

static double now_sec(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static usec_t now_usec(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static void die(const char *what) {
	fprintf(stderr, "discard: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t allocated(const struct setup *s) {
	uint64_t bytes;
	if (backing_allocated(&s->backing, &bytes) < 0)
		die("fstat");
	return bytes;
}

static void populate(struct setup *s) {
	if (madvise(s->mem, s->backing.size, MADV_POPULATE_WRITE) < 0) {
		/* Older kernels: write one byte per page. */
		for (uint64_t off = 0; off < s->backing.size; off += 4096)
			((volatile char *) s->mem)[off] = 1;
	}
	if (allocated(s) < s->backing.size) {
		fprintf(stderr, "discard: memfd populated to %" PRIu64 " of %" PRIu64 " bytes\n",
			allocated(s), s->backing.size);
		exit(1);
	}
}

/* Guest-physical address of backing offset off under the map of setup(). */
static uint64_t gpa_of(const struct setup *s, uint64_t off) {
	uint64_t half = s->map.segments[0].len;
	return off < half ? off : HIGH_GPA + (off - half);
}

static void setup(struct setup *s, uint64_t size) {
	int fd = memfd_create("bench-discard", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create");
	if (ftruncate(fd, (off_t) size) < 0)
		die("ftruncate");
	s->backing = (struct backing) { .fd = fd, .size = size };
	snprintf(s->backing.path, sizeof s->backing.path, "/memfd:bench-discard");
	s->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->mem == MAP_FAILED)
		die("mmap");
	s->probe = mmap(NULL, size, PROT_NONE, MAP_SHARED, fd, 0);
	if (s->probe == MAP_FAILED)
		die("mmap");
	s->vec = malloc(2 * MiB / 4096);
	if (!s->vec)
		die("malloc");
	s->map = (struct ram_map) {
		.n_backends = 1,
		.backends = { { .name = "pc.ram", .size = size } },
		.n_segments = 2,
		.segments = {
			{ .gpa = 0, .len = size / 2, .offset = 0 },
			{ .gpa = HIGH_GPA, .len = size - size / 2, .offset = size / 2 },
		},
	};
}

static void punch(const struct setup *s, uint64_t off, uint64_t len) {
	if (fallocate(s->backing.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) off, (off_t) len) < 0)
		die("fallocate");
}

static struct result run_bare(struct setup *s, uint64_t gran) {
	double t0 = now_sec();
	for (uint64_t off = 0; off < s->backing.size; off += gran)
		punch(s, off, gran);
	return (struct result) { now_sec() - t0, s->backing.size };
}

/* backing_discard() with the resident bytes counted by mincore() on a
 * PROT_NONE mapping: exact even while the guest faults in other pages, and
 * linear in the range. An alternative accounting, measured for comparison. */
static int discard_mincore(const struct setup *s, uint64_t off, uint64_t len, uint64_t *ret_freed) {
	uint64_t pages = len / 4096, resident = 0;

	if (mincore((char *) s->probe + off, len, s->vec) < 0)
		return -errno;
	for (uint64_t i = 0; i < pages; i++)
		resident += s->vec[i] & 1;
	if (resident)
		punch(s, off, len);
	*ret_freed = resident * 4096;
	return 0;
}

static char *format_line(const struct hint_msg *m) {
	char err[256], *line = NULL;
	if (hint_msg_format(m, &line, err, sizeof err) < 0) {
		fprintf(stderr, "discard: formatting: %s\n", err);
		exit(1);
	}
	return line;
}

static void parse_line(const char *line, struct hint_msg *m) {
	char err[256];
	if (hint_msg_parse(line, strlen(line) - 1, m, err, sizeof err) < 0) {
		fprintf(stderr, "discard: parsing: %s\n", err);
		exit(1);
	}
}

/* The guest's side of a run, prepared before the clock starts: every
 * "hints" batch, and with json the lines the agent would send. */
struct work {
	size_t n;
	struct hint_msg *hints;
	char **hints_line, **claimed_line;
};

static void prepare(struct work *w, const struct setup *s, uint64_t gran, bool json) {
	size_t n = (size_t) ((s->backing.size / gran + HINT_MAX_RANGES - 1) / HINT_MAX_RANGES);
	uint64_t off = 0;

	*w = (struct work) { .n = n, .hints = calloc(n, sizeof *w->hints) };
	if (json) {
		w->hints_line = calloc(n, sizeof *w->hints_line);
		w->claimed_line = calloc(n, sizeof *w->claimed_line);
	}
	if (!w->hints || (json && (!w->hints_line || !w->claimed_line)))
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		struct hint_msg *m = &w->hints[i];
		*m = (struct hint_msg) { .type = HINT_MSG_HINTS, .hints = {
			.batch = i + 1, .granularity = gran, .ttl_ms = 2000 } };
		for (; off < s->backing.size && m->hints.n_ranges < HINT_MAX_RANGES; off += gran)
			m->hints.ranges[m->hints.n_ranges++] = (struct hint_range) { gpa_of(s, off), gran };
		if (json) {
			w->hints_line[i] = format_line(m);
			w->claimed_line[i] = format_line(&(struct hint_msg) {
				.type = HINT_MSG_CLAIMED, .claimed = { .batch = i + 1, .ok = true } });
		}
	}
}

static void work_done(struct work *w) {
	for (size_t i = 0; w->hints_line && i < w->n; i++) {
		free(w->hints_line[i]);
		free(w->claimed_line[i]);
	}
	free(w->hints_line);
	free(w->claimed_line);
	free(w->hints);
}

/* Batch i of w through hintd's path, as manager.c's on_hints(), on_claimed()
 * and punch_batch() do it, minus the socket. */
static uint64_t hintd_batch(struct setup *s, struct batch_table *t, const struct work *w, size_t i,
			    bool mincore_accounting) {
	const struct hint_hints *h = &w->hints[i].hints;
	struct hint_msg in;
	uint64_t freed = 0;
	char err[256];
	struct batch *b;
	bool json = w->hints_line != NULL;
	int r;

	if (json) {
		parse_line(w->hints_line[i], &in);
		h = &in.hints;
	}
	r = batch_table_add(t, h, now_usec(), err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "discard: batch refused: %s\n", err);
		exit(1);
	}
	uint64_t id = h->batch;
	if (batch_table_claim_sent(t, id, now_usec()) < 0)
		exit(1);
	if (json) {
		free(format_line(&(struct hint_msg) { .type = HINT_MSG_CLAIM, .claim = { .batch = id } }));
		parse_line(w->claimed_line[i], &in);
	}
	b = batch_table_claimed(t, id, true, now_usec(), &r);
	if (!b) {
		fprintf(stderr, "discard: claimed refused: %d\n", r);
		exit(1);
	}
	for (unsigned k = 0; k < b->n_ranges; k++) {
		uint64_t f = 0;
		if (!batch_may_punch(b, now_usec())) {
			fprintf(stderr, "discard: batch %" PRIu64 " past its punch deadline\n", id);
			exit(1);
		}
		r = mincore_accounting
			? discard_mincore(s, b->ranges[k].offset, b->ranges[k].len, &f)
			: backing_discard(&s->backing, b->ranges[k].offset, b->ranges[k].len, false, &f);
		if (r < 0) {
			errno = -r;
			die("backing_discard");
		}
		freed += f;
	}
	batch_table_remove(t, id);
	if (json)
		free(format_line(&(struct hint_msg) {
			.type = HINT_MSG_ACK, .ack = { .batch = id, .discarded = true } }));
	return freed;
}

static struct result run_hintd(struct setup *s, uint64_t gran, bool json, bool mincore_accounting) {
	struct batch_table table = { 0 };
	struct work w;
	uint64_t freed = 0, done = 0;
	double t0, t = 0;
	size_t i;

	prepare(&w, s, gran, json);
	batch_table_init(&table, gran, &s->map);
	t0 = now_sec();
	for (i = 0; i < w.n && t < max_run_sec; i++) {
		freed += hintd_batch(s, &table, &w, i, mincore_accounting);
		for (unsigned k = 0; k < w.hints[i].hints.n_ranges; k++)
			done += w.hints[i].hints.ranges[k].len;
		t = now_sec() - t0;
	}
	work_done(&w);
	batch_table_done(&table);
	if (freed != done) {
		fprintf(stderr, "discard: hintd path accounted %" PRIu64 " of %" PRIu64 " bytes\n", freed, done);
		exit(1);
	}
	/* Stopped early: the rest untimed, so every run starts from a full file. */
	if (done < s->backing.size)
		punch(s, done, s->backing.size - done);
	return (struct result) { t, done };
}

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
	qsort(v, (size_t) n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static unsigned long parse_arg(const char *s, const char *what) {
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0) {
		fprintf(stderr, "discard: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv) {
	static const uint64_t grans[] = { 2 * MiB, 4096 };
	bool smoke = getenv("BENCH_SMOKE") && strcmp(getenv("BENCH_SMOKE"), "0");
	unsigned long mib = smoke ? 64 : 2048, reps = smoke ? 1 : 3;

	if (smoke)
		max_run_sec = 1;
	double ratio_2m[_PATH_MAX] = { 0 };
	bool capped_any = false;
	struct setup s;
	char thp[128] = "unknown";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = parse_arg(argv[++i], "--mib");
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = parse_arg(argv[++i], "--reps");
		else if (!strcmp(argv[i], "--max-sec") && i + 1 < argc)
			max_run_sec = (double) parse_arg(argv[++i], "--max-sec");
		else {
			fprintf(stderr, "usage: discard [--mib N] [--reps N] [--max-sec N]\n");
			return 2;
		}
	}
	if (mib % 4 || reps > 99) {
		fprintf(stderr, "discard: --mib must be a multiple of 4, --reps at most 99\n");
		return 2;
	}
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re");
	if (f) {
		if (fgets(thp, sizeof thp, f))
			thp[strcspn(thp, "\n")] = '\0';
		fclose(f);
	}
	setup(&s, (uint64_t) mib * MiB);

	printf("Discard throughput: a %lu MiB memfd, populated before each run; median of %lu run%s\n",
	       mib, reps, reps == 1 ? "" : "s");
	printf("shmem THP: %s\n"
	       "hintd path: batches of %d ranges through batch_table_add, claim/claimed, backing_discard\n"
	       "  (accounting + punch) and the ack; + JSON: also parsing hints/claimed and formatting\n"
	       "  claim/ack lines; mincore: + JSON with the bytes freed counted by mincore() before the\n"
	       "  punch instead of backing_discard's own accounting (for comparison, not hintd's code)\n\n",
	       thp, HINT_MAX_RANGES);
	printf("%-12s %-19s %9s %10s %11s %8s %10s\n", "granularity", "path", "GiB/s", "ms/GiB", "batches/s",
	       "vs bare", "timed");
	for (size_t g = 0; g < sizeof grans / sizeof *grans; g++) {
		uint64_t gran = grans[g];
		double rate[_PATH_MAX][100], ratio[_PATH_MAX][100];
		uint64_t least[_PATH_MAX];

		for (int p = 0; p < _PATH_MAX; p++)
			least[p] = UINT64_MAX;
		for (unsigned long r = 0; r < reps; r++)
			for (int k = 0; k < _PATH_MAX; k++) {
				/* Rotate the order each repetition. */
				enum path p = (enum path) ((k + (int) r) % _PATH_MAX);
				struct result res;

				populate(&s);
				res = p == PATH_BARE ? run_bare(&s, gran)
					: run_hintd(&s, gran, p != PATH_HINTD, p == PATH_MINCORE);
				if (allocated(&s) != 0) {
					fprintf(stderr, "discard: %s left %" PRIu64 " bytes allocated\n",
						path_name[p], allocated(&s));
					return 1;
				}
				rate[p][r] = (double) res.bytes / GiB / res.sec;
				if (res.bytes < least[p])
					least[p] = res.bytes;
			}
		for (unsigned long r = 0; r < reps; r++)
			for (int p = 0; p < _PATH_MAX; p++)
				ratio[p][r] = rate[p][r] / rate[PATH_BARE][r];
		for (int p = 0; p < _PATH_MAX; p++) {
			double gibs = median(rate[p], (int) reps), rt = median(ratio[p], (int) reps);
			double batches = gibs * GiB / (double) gran / HINT_MAX_RANGES;
			char gname[32], bps[32] = "-", timed[32] = "all";

			snprintf(gname, sizeof gname, "%" PRIu64 " %s", gran >= MiB ? gran / MiB : gran / 1024,
				 gran >= MiB ? "MiB" : "KiB");
			if (p != PATH_BARE)
				snprintf(bps, sizeof bps, "%.0f", batches);
			if (least[p] < s.backing.size) {
				snprintf(timed, sizeof timed, "%" PRIu64 " MiB*", least[p] / MiB);
				capped_any = true;
			}
			printf("%-12s %-19s %9.2f %10.1f %11s %7.2fx %10s\n", gname, path_name[p], gibs,
			       1000.0 / gibs, bps, rt, timed);
			if (gran == 2 * MiB)
				ratio_2m[p] = rt;
		}
	}
	printf("\n");
	if (capped_any)
		printf("* stopped after %.0f s: the rate is over the first part of the file only (the least\n"
		       "  any run got through); the rest was punched untimed.\n\n", max_run_sec);
	if (smoke)
		printf("Target hintd >= 0.80 x bare at 2 MiB: not judged (BENCH_SMOKE)\n");
	else {
		printf("Target hintd >= 0.80 x bare at 2 MiB: %.2fx (hintd path), %.2fx (+ JSON): %s\n",
		       ratio_2m[PATH_HINTD], ratio_2m[PATH_HINTD_JSON],
		       ratio_2m[PATH_HINTD_JSON] >= 0.8 ? "met" : "MISSED");
		printf("  (mincore accounting instead: %.2fx)\n", ratio_2m[PATH_MINCORE]);
	}
	return 0;
}
