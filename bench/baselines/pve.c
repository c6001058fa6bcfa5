/* pve - Proxmox VE's auto-ballooning (pve-policy.h) over libvirt, as a
 * baseline for hintd's benchmarks. The host it sees is a budget: its memory
 * is --budget, its used memory the guests' QEMU resident memory. Every
 * --interval (10 s, as pvestatd) it moves each balloon at most 100 MiB. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "balloon-io.h"
#include "macro.h"
#include "pve-policy.h"

#define PROG "pve"

static void run_policy(const struct balloon_opts *o, const struct dom_samples *s) {
	size_t n = s->n;
	struct pve_vm vms[n ? n : 1];
	int64_t target[n ? n : 1];
	bool set[n ? n : 1];
	uint64_t used = balloon_io_used(s);
	int64_t goal = pve_goal(o->budget, used);

	for (size_t i = 0; i < n; i++) {
		const struct dom_sample *d = &s->dom[i];
		/* vmstatus: no balloon statistics means no balloon driver yet. */
		vms[i] = (struct pve_vm) {
			.balloon = d->has_unused ? (int64_t) d->actual : 0,
			.balloon_min = (int64_t) o->min_memory, .maxmem = (int64_t) d->maximum,
			.freemem = (int64_t) d->unused,
		};
	}
	pve_compute(vms, n, goal, PVE_MAX_CHANGE, target, set);
	for (size_t i = 0; i < n; i++) {
		char why[128];
		if (!set[i] || target[i] == vms[i].balloon)
			continue;
		snprintf(why, sizeof why, "host used %" PRIu64 " of %" PRIu64 " MiB, goal %+" PRId64 " MiB",
			 used >> 20, o->budget >> 20, goal / (1 << 20));
		balloon_io_set(o, PROG, &s->dom[i], (uint64_t) target[i], why);
	}
}

int main(int argc, char **argv) {
	struct balloon_opts o;
	virConnectPtr conn;
	int r;

	r = balloon_opts_parse(argc, argv, PROG, PVE_INTERVAL_SEC, &o);
	if (r)
		return r > 0 ? EXIT_SUCCESS : 2;
	if (o.min_memory == 0) {
		fprintf(stderr, "%s: --min SIZE is required: Proxmox leaves a VM without a minimum alone\n", PROG);
		return 2;
	}
	if (balloon_io_connect(o.uri, &conn) < 0)
		return EXIT_FAILURE;
	printf("%s: budget %" PRIu64 " MiB, every %u s, minimum %" PRIu64 " MiB\n", PROG, o.budget >> 20,
	       o.interval_sec, o.min_memory >> 20);
	fflush(stdout);
	for (;;) {
		struct dom_samples s;
		if (balloon_io_sample(conn, &s) == 0) {
			run_policy(&o, &s);
			balloon_io_free(&s);
		}
		sleep(o.interval_sec);
	}
}
