/* mom - oVirt MOM's default balloon policy (mom-policy.h) over libvirt, as a
 * baseline for hintd's benchmarks. The host it sees is a budget: its memory
 * is --budget, its free memory the budget minus the guests' QEMU resident
 * memory. It samples the host and the guests every half interval (5 s by
 * default, as MOM's monitors) and runs the policy every --interval (10 s). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balloon-io.h"
#include "macro.h"
#include "mom-policy.h"

#define PROG "mom"
#define MAX_GUESTS 64

/* MOM's per-guest history, kept by name across samples. */
struct guest_history {
	char name[256];
	struct mom_avg balloon_cur, mem_unused;
	bool seen;
};

static struct guest_history history[MAX_GUESTS];
static struct mom_avg host_free;

static struct guest_history *history_of(const char *name) {
	struct guest_history *empty = NULL;

	for (size_t i = 0; i < ELEMENTSOF(history); i++) {
		if (history[i].seen && strcmp(history[i].name, name) == 0)
			return &history[i];
		if (!history[i].seen && !empty)
			empty = &history[i];
	}
	if (empty) {
		*empty = (struct guest_history) { .seen = true };
		snprintf(empty->name, sizeof empty->name, "%s", name);
	}
	return empty;
}

static void record(const struct balloon_opts *o, const struct dom_samples *s) {
	uint64_t used = balloon_io_used(s);

	mom_avg_add(&host_free, used < o->budget ? (double) (o->budget - used) : 0);
	for (int i = 0; i < s->n; i++) {
		struct guest_history *h = history_of(s->dom[i].name);
		if (!h || !s->dom[i].has_unused)
			continue;
		mom_avg_add(&h->balloon_cur, (double) s->dom[i].actual);
		mom_avg_add(&h->mem_unused, (double) s->dom[i].unused);
	}
}

static void run_policy(const struct balloon_opts *o, const struct dom_samples *s) {
	double free_frac = mom_host_free_fraction(mom_avg_get(&host_free), (double) o->budget);

	for (int i = 0; i < s->n; i++) {
		const struct dom_sample *d = &s->dom[i];
		struct guest_history *h = history_of(d->name);
		struct mom_guest g;
		double target;
		char why[128];

		/* MOM leaves a guest without balloon statistics alone. */
		if (!h || !d->has_unused || h->mem_unused.count == 0)
			continue;
		g = (struct mom_guest) {
			.balloon_cur = (double) d->actual, .balloon_max = (double) d->maximum,
			.balloon_min = (double) o->min_memory, .avg_balloon_cur = mom_avg_get(&h->balloon_cur),
			.avg_mem_unused = mom_avg_get(&h->mem_unused),
		};
		if (!mom_balloon_target(free_frac, &g, &target))
			continue;
		snprintf(why, sizeof why, "host free %.1f%%, guest used %.0f MiB", free_frac * 100,
			 (g.avg_balloon_cur - g.avg_mem_unused) / (1 << 20));
		balloon_io_set(o, PROG, d, (uint64_t) target, why);
	}
}

int main(int argc, char **argv) {
	struct balloon_opts o;
	virConnectPtr conn;
	unsigned sample_sec, ticks = 0;
	int r;

	r = balloon_opts_parse(argc, argv, PROG, MOM_POLICY_INTERVAL_SEC, &o);
	if (r)
		return r > 0 ? EXIT_SUCCESS : 2;
	if (balloon_io_connect(o.uri, &conn) < 0)
		return EXIT_FAILURE;
	sample_sec = MAX(o.interval_sec / 2, 1u);
	printf("%s: budget %" PRIu64 " MiB, policy every %u s, samples every %u s, minimum %" PRIu64 " MiB\n",
	       PROG, o.budget >> 20, o.interval_sec, sample_sec, o.min_memory >> 20);
	fflush(stdout);
	for (;;) {
		struct dom_samples s;
		if (balloon_io_sample(conn, &s) == 0) {
			record(&o, &s);
			if (++ticks * sample_sec >= o.interval_sec) {
				run_policy(&o, &s);
				ticks = 0;
			}
			balloon_io_free(&s);
		}
		sleep(sample_sec);
	}
}
