/* pve-policy.c - Proxmox VE's auto-ballooning, ported from qemu-server's
 * PVE/AutoBalloon.pm (compute_alg1) and pve-manager's PVE/Service/pvestatd.pm
 * (git.proxmox.com; constants in pve-policy.h). */
#include <string.h>

#include "pve-policy.h"

/* The loop of change_func stops when nothing moves; this only bounds it
 * against a case the original never meets. */
#define PVE_MAX_ROUNDS 1000

int64_t pve_goal(uint64_t memtotal, uint64_t used) {
	return (int64_t) ((double) memtotal * PVE_TARGET_USE) - (int64_t) used;
}

static unsigned shares_of(const struct pve_vm *v) {
	return v->shares ? v->shares : PVE_DEFAULT_SHARES;
}

/* The state of one compute_alg1 call: the VMs, and their results so far. */
struct pve_run {
	const struct pve_vm *vms;
	int64_t maxchange;
	int64_t *target;
	bool *set;
};

/* Where one VM should go in this round, and how far it moved from what it
 * had been given before (*ret_change); false when it is done. */
static bool step_vm(struct pve_run *r, size_t i, int64_t bytes, int64_t alloc_new,
		    int64_t shares_total, bool *repeat, int64_t *ret_change, int64_t *ret_absdiff) {
	const struct pve_vm *d = &r->vms[i];
	int64_t desired, balloon, old;

	desired = d->balloon_min + (int64_t) ((double) alloc_new / (double) shares_total * shares_of(d));
	if (desired > d->maxmem) {
		desired = d->maxmem;
		*repeat = true;
	} else if (desired < d->balloon_min) {
		desired = d->balloon_min;
		*repeat = true;
	}
	if (bytes > 0 && desired - d->balloon > 0) {
		int64_t grown = d->balloon + r->maxchange;
		balloon = grown > desired ? desired : grown;
	} else if (desired - d->balloon < 0) {
		int64_t shrunk = d->balloon - r->maxchange;
		balloon = shrunk > desired ? shrunk : desired;
	} else
		return false;
	*ret_change = 0;
	*ret_absdiff = balloon > d->balloon ? balloon - d->balloon : d->balloon - balloon;
	if (balloon != d->balloon) {
		old = r->set[i] ? r->target[i] : d->balloon;
		r->target[i] = balloon;
		r->set[i] = true;
		*ret_change = balloon - old;
	}
	return true;
}

/* change_func: spreads BYTES over the VMs of IDS by shares; returns what
 * could not be placed. */
static int64_t change(struct pve_run *r, const size_t *ids, size_t n, int64_t bytes, bool *done) {
	int64_t rest = bytes;
	bool repeat = true;
	int64_t progress = 1;

	memset(done, 0, n * sizeof *done);
	for (int round = 0; rest && repeat && progress && round < PVE_MAX_ROUNDS; round++) {
		int64_t shares_total = 0, alloc_old = 0, changes = 0;

		repeat = false;
		progress = 0;
		for (size_t k = 0; k < n; k++) {
			const struct pve_vm *d = &r->vms[ids[k]];
			if (done[k])
				continue;
			alloc_old += (r->set[ids[k]] ? r->target[ids[k]] : d->balloon) - d->balloon_min;
			shares_total += shares_of(d);
		}
		if (shares_total == 0)
			break;
		for (size_t k = 0; k < n; k++) {
			int64_t c, absdiff;
			if (done[k])
				continue;
			if (!step_vm(r, ids[k], bytes, alloc_old + rest, shares_total, &repeat, &c, &absdiff)) {
				done[k] = true;
				continue;
			}
			if (c != 0) {
				changes += c;
				progress += absdiff;
				repeat = true;
			}
		}
		rest -= changes;
	}
	return rest;
}

void pve_compute(const struct pve_vm *vms, size_t n, int64_t goal, int64_t maxchange,
		 int64_t *ret_target, bool *ret_set) {
	size_t all[n ? n : 1], pressed[n ? n : 1], roomy[n ? n : 1], n_all = 0, n_pressed = 0, n_roomy = 0;
	bool done[n ? n : 1];
	struct pve_run r = { vms, maxchange, ret_target, ret_set };
	int64_t rest;

	memset(ret_set, 0, n * sizeof *ret_set);
	for (size_t i = 0; i < n; i++) {
		const struct pve_vm *d = &vms[i];
		ret_target[i] = 0;
		if (!d->balloon || !d->balloon_min || d->shares_zero)
			continue;
		all[n_all++] = i;
		if (d->freemem && d->freemem > d->balloon_min / 4 && d->balloon >= d->balloon_min)
			roomy[n_roomy++] = i;
		else
			pressed[n_pressed++] = i;
	}
	if (goal > PVE_MIN_GOAL) {
		/* Guests under memory pressure first; all if they took nothing. */
		rest = change(&r, pressed, n_pressed, goal, done);
		if (rest >= goal)
			change(&r, all, n_all, rest, done);
	} else if (goal < -PVE_MIN_GOAL) {
		/* Guests with free memory first; all if they gave nothing. */
		rest = change(&r, roomy, n_roomy, goal, done);
		if (rest <= goal)
			change(&r, all, n_all, rest, done);
	}
}
