/* policy-rungs.c - the steps that deflate short guests, keep floors and take
 * the cheap rungs (unused hints, clean cache). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy-tick.h"

/* Step 3: a guest that is short gets memory back before anything else,
 * even while the host reclaims (need grows by as much). */
void deflate_short_guests(struct tick *t) {
	const struct policy_config *cfg = t->cfg;

	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];
		uint64_t target, grow;

		if (!w->is_short || !w->balloonable || vm_memory(&v->measured) >= w->cap)
			continue;
		/* Deflating costs the host ~0.2 s; a guest that runs out costs a
		 * process. Give at least a quarter of its size, or twice what it
		 * lacks, rather than one step a tick while it allocates. */
		grow = MAX(cfg->balloon_step, w->cap / 4);
		if (v->measured.guest.valid && v->measured.guest.available < cfg->guest_headroom)
			grow = MAX(grow, 2 * (cfg->guest_headroom - v->measured.guest.available));
		target = MIN(w->cap, vm_memory(&v->measured) + grow);
		grow = target - vm_memory(&v->measured);
		plan_resize(t, i, target, w->why_short, "");
		w->balloon_done = true;
		t->history->vm[i].last_deflate = t->now;
		t->deflated += grow;
		if (t->reclaiming)
			t->need += grow;
		else
			t->slack = sub_sat(t->slack, grow);
	}
}

/* Step 4: a target in flight below the floor (MinMemory raised, guest
 * grew): stop the balloon at the floor, or where it is now. */
void stop_at_floors(struct tick *t) {
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];
		uint64_t memory = vm_memory(&v->measured), target = MIN(memory, w->floor);
		char why[ACTION_REASON_MAX];

		if (!w->balloonable || w->balloon_done || w->is_short || w->pending >= w->floor ||
		    w->pending == memory)
			continue;
		reasonf(why, "target %s below floor %s", SZ(w->pending), SZ(w->floor));
		plan_resize(t, i, target, why, "");
		/* What the device cannot stop at exactly (whole blocks) it stops
		 * above. */
		w->pending = target;
		w->balloon_done = true;
	}
}

/* Step 5, rung 1, unused: the standing decision for every VM that sends
 * hints. Accepted hints (and, within the grace, the free memory still
 * backed that is new enough for the guest to report) count against need. */
void take_unused(struct tick *t) {
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct action *a;

		if (!v->measured.running || v->measured.agent != AGENT_CONNECTED || !v->measured.module)
			continue;
		a = plan_add(t->plan, i, ACTION_HINTS);
		if (!v->measured.discard_capable)
			reasonf(a->reason, "RAM backing not discard-capable: release %s of hints",
				SZ(v->measured.hinted));
		else if (!rung_allowed(v, RUNG_UNUSED))
			reasonf(a->reason, "Reclaim= excludes unused: release %s of hints",
				SZ(v->measured.hinted));
		else if (t->cfg->discard_unused == DISCARD_ON_PRESSURE && !t->reclaiming)
			reasonf(a->reason, "host not reclaiming, discard on pressure: release %s "
				"of hints", SZ(v->measured.hinted));
		else {
			uint64_t coming = v->measured.hinted + (t->in_grace ? v->measured.unused_coming : 0);

			a->accept = true;
			t->from_hints += coming;
			t->need = sub_sat(t->need, coming);
			if (t->reclaiming)
				reasonf(a->reason, "%s: take %s of unused hints", t->host_why,
					SZ(v->measured.hinted));
			else
				reasonf(a->reason, "unused pages cost the guest nothing: take %s "
					"of hints", SZ(v->measured.hinted));
		}
	}
}

/* The cold cache policy may ask v for: as its guest measures it, but no
 * more than was cold before its recent drops, less what they asked. */
static uint64_t cold_cache(const struct vm_state *v) {
	return v->accounted.cold_capped ? MIN(v->measured.guest.cold, v->accounted.cold_cap)
					: v->measured.guest.cold;
}

/* Dropped cache comes back as unused hints: only a VM whose unused rung
 * takes them, with enough cold cache (inactive, clean) to be worth asking. */
static bool volatile_candidate(const struct tick *t, size_t i) {
	const struct vm_state *v = &t->vms[i];

	return v->measured.running && !t->work[i].is_short && v->measured.agent == AGENT_CONNECTED && v->measured.module &&
	       v->measured.discard_capable && rung_allowed(v, RUNG_UNUSED) &&
	       rung_allowed(v, RUNG_VOLATILE) && v->measured.guest.valid &&
	       cold_cache(v) >= VOLATILE_MIN_BYTES;
}

unsigned cache_cost(double cache_refault_rate) {
	double c = cache_refault_rate / CACHE_REFAULT_QUIET;

	return c <= 1 ? 1 : c >= CACHE_COST_MAX ? CACHE_COST_MAX : (unsigned) c;
}

/* Why vms[o->i] drops cache: how fast its cache comes back when that cuts
 * its step, else its balloon against its fair share, in sizes (the order's
 * key is how far over it is). */
static void explain_drop(const struct tick *t, const struct order *o, struct action *a) {
	const struct vm_state *v = &t->vms[o->i];
	uint64_t off = (uint64_t) (o->key > 0 ? o->key : -o->key);
	char where[48] = "at";

	if (o->cost > 1) {
		reasonf(a->reason, "%s: drop %s of %s cold cache (priority %d; its cache comes back "
			"at %.0f pages/s: 1/%u step)", t->host_why, SZ(a->bytes),
			SZ(cold_cache(v)), v->settings.priority,
			v->measured.cache_refault_rate, o->cost);
		return;
	}
	if (off >= MiB(1) / 2)
		snprintf(where, sizeof where, "%s %s", SZ(off), o->key > 0 ? "over" : "under");
	reasonf(a->reason, "%s: drop %s of %s cold cache (priority %d, %s, %s its fair share of %s)",
		t->host_why, SZ(a->bytes), SZ(cold_cache(v)), v->settings.priority,
		SZ(vm_memory(&v->measured)), where, SZ(fair_share(t, v)));
}

/* Step 6, rung 2, volatile: lowest priority first, then the VMs whose cache
 * stays gone before those whose cache comes back (refaults), then most over
 * the fair share; up to volatile_step per VM, divided by its cost, and never
 * more than its cold cache: hot cache is not cheap. */
void drop_volatile(struct tick *t) {
	t->n_order = 0;
	/* Cache a guest just dropped is on its way back: it counts, and that
	 * guest is not asked again until it arrived (or 2 s passed). Within
	 * the grace the rest of its clean cache counts too, as for a guest
	 * asked this tick: the balloons wait for it. */
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		uint64_t coming = v->accounted.cache_coming;

		if (coming == 0)
			continue;
		if (t->in_grace && volatile_candidate(t, i))
			coming = MAX(coming, v->measured.guest.volatile_);
		coming = MIN(coming, t->need);
		t->need -= coming;
		t->from_cache += coming;
	}
	for (size_t i = 0; t->need > 0 && i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		double fair;

		if (!volatile_candidate(t, i) || v->accounted.cache_coming > 0)
			continue;
		fair = t->shares_total > 0
			? (double) t->size_total * v->settings.shares / t->shares_total : 0;
		t->order[t->n_order++] = (struct order) {
			.i = i,
			.first = v->reclaim_first,
			.priority = v->settings.priority,
			.cost = cache_cost(v->measured.cache_refault_rate),
			.key = (double) vm_memory(&v->measured) - fair,
		};
	}
	if (t->n_order > 0)
		qsort(t->order, t->n_order, sizeof *t->order, order_cmp_reclaim);
	for (size_t j = 0; t->need > 0 && j < t->n_order; j++) {
		const struct order *o = &t->order[j];
		const struct vm_state *v = &t->vms[o->i];
		uint64_t cold = cold_cache(v);
		uint64_t bytes = MIN(MIN(t->cfg->volatile_step / o->cost, cold), t->need);
		struct action *a = plan_add(t->plan, o->i, ACTION_DROP_CACHE);

		a->bytes = bytes;
		explain_drop(t, o, a);
		/* Within the grace, the rest of its clean cache counts too: it is
		 * asked for a cold step at a time over the next ticks (the guest's
		 * LRU deactivates more as its inactive list drains; what is hot
		 * comes back as refaults, which make it dearer). After it, only what a tick
		 * asks, and nothing from a guest whose last drop the host never
		 * saw come back (one that says it drops and does not): the request
		 * stands, the balloons go on. */
		uint64_t coming = t->in_grace ? MIN(v->measured.guest.volatile_, t->need) :
				  v->accounted.cache_unreturned ? 0 : bytes;
		t->need -= coming;
		t->from_cache += coming;
	}
}


/* Step 9, proactive trimming: an idle guest sheds the cache it does not
 * use, slowly, and stops at once when that starts to cost it. */
void trim_proactively(struct tick *t) {
	if (t->reclaiming || t->cfg->discard_unused != DISCARD_ALWAYS)
		return;
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct policy_vm_history *h = &t->history->vm[i];
		struct action *a;

		if (!v->settings.proactive || !volatile_candidate(t, i) || v->accounted.cache_coming > 0 ||
		    t->now < h->proactive_next)
			continue;
		if (v->measured.guest.psi_some_avg10 >= PROACTIVE_PSI_TARGET ||
		    v->measured.cache_refault_rate > CACHE_REFAULT_QUIET) {
			h->proactive_next = t->now + PROACTIVE_BACKOFF_USEC;
			continue;
		}
		a = plan_add(t->plan, i, ACTION_DROP_CACHE);
		a->bytes = MIN(PROACTIVE_STEP, cold_cache(v));
		reasonf(a->reason, "no host pressure: trim %s of %s cold cache (Proactive=yes; guest "
			"pressure %.2f%%, refaults %.0f/s)", SZ(a->bytes), SZ(cold_cache(v)),
			v->measured.guest.psi_some_avg10, v->measured.cache_refault_rate);
		h->proactive_next = t->now + PROACTIVE_INTERVAL_USEC;
	}
}
