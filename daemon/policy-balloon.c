/* policy-balloon.c - the steps that inflate balloons by shares and give
 * slack back. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy-tick.h"

#define SHORT_SETTLE_USEC (15 * USEC_PER_SEC)

/* Inflation already on its way counts first; then the VMs that may give
 * more this tick: not short, no balloon action yet, and not deflated
 * within reverse_holdoff (in an emergency, within SHORT_SETTLE_USEC: a
 * guest that was short a moment ago is still allocating — a program that
 * takes a few hundred MiB takes seconds to touch and use them under TCG —
 * and taking its deflation back then only makes it run out). */
static void balloon_candidates(struct tick *t) {
	t->n_order = 0;
	for (size_t i = 0; t->need > 0 && i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];

		if (!w->balloonable || w->is_short)
			continue;
		/* So does memory unplugged that the host's figures do not show yet. */
		t->need = sub_sat(t->need, vm_memory(&v->measured) - w->pending + v->measured.virtio_mem.settling);
		if (w->balloon_done ||
		    within(t->now, t->history->vm[i].last_deflate,
			   t->emergency ? MIN(SHORT_SETTLE_USEC, t->cfg->reverse_holdoff) : t->cfg->reverse_holdoff))
			continue;
		t->order[t->n_order++] = (struct order) {
			.i = i,
			.first = v->reclaim_first,
			.priority = v->settings.priority,
		};
	}
}

/* Lowest size vms[i] may reach this tick: its floor, or one step down. */
static uint64_t balloon_lowest(const struct tick *t, size_t i) {
	return MAX(t->work[i].floor, sub_sat(vm_memory(&t->vms[i].measured), t->cfg->balloon_step));
}

/* Named by a request first, then lower priority, then the lower ratio. */
static bool inflate_before(const struct order *x, double x_ratio, const struct order *y,
			   double y_ratio) {
	if (x->first != y->first)
		return x->first;
	if (x->priority != y->priority)
		return x->priority < y->priority;
	return x_ratio < y_ratio;
}

/* The candidate (index into order[]) to take the next slice from, or
 * SIZE_MAX when none may give more this tick. */
static size_t balloon_pick(const struct tick *t) {
	size_t best = SIZE_MAX, waiting = SIZE_MAX;
	double best_ratio = 0, waiting_ratio = 0;

	for (size_t j = 0; j < t->n_order; j++) {
		size_t i = t->order[j].i;
		const struct vm_work *w = &t->work[i];
		uint64_t size = w->pending - w->cut;
		double ratio = adjusted_ratio(&t->vms[i], size, t->cfg->idle_tax);

		if (size <= balloon_lowest(t, i)) {
			/* Out of step this tick, but room above its floor. */
			if (size > w->floor && (waiting == SIZE_MAX || ratio < waiting_ratio)) {
				waiting = j;
				waiting_ratio = ratio;
			}
			continue;
		}
		if (best == SIZE_MAX ||
		    inflate_before(&t->order[j], ratio, &t->order[best], best_ratio)) {
			best = j;
			best_ratio = ratio;
		}
	}
	if (best == SIZE_MAX)
		return SIZE_MAX;
	/* A VM using its memory far more than one that only ran out of step
	 * this tick waits: the idle one gives the rest next tick, and a busy
	 * guest's balloon pages fragment the memory it is about to free.
	 * Not in an emergency, and never across priorities. */
	if (!t->emergency && waiting != SIZE_MAX &&
	    t->order[waiting].priority == t->order[best].priority &&
	    t->order[waiting].first == t->order[best].first && best_ratio > 2 * waiting_ratio)
		return SIZE_MAX;
	return best;
}

/* Why vms[i] gave: its size as it stood, how much of it idle, and what
 * that weighs against its fair share (idle memory counted more): the same
 * order as the adjusted ratio, in words; after what its instrument does. */
static void explain_inflation(const struct tick *t, size_t i, char tail[static ACTION_REASON_MAX]) {
	const struct vm_state *v = &t->vms[i];
	const struct vm_work *w = &t->work[i];
	uint64_t fair = fair_share(t, v);
	double weight = percent_of(adjusted_size(v, w->pending, t->cfg->idle_tax), fair);
	char idle[24] = "";

	if (v->measured.guest.valid)
		snprintf(idle, sizeof idle, ", %.0f%% idle", 100.0 * idle_fraction(v, w->pending));
	reasonf(tail, " (priority %d, %s%s: %.0f%% of fair share %s); floor %s", v->settings.priority,
		SZ(w->pending), idle, weight, SZ(fair), SZ(w->floor));
}

/* Step 7, rung 3, shrink: BALLOON_CHUNK slices to the most deserving
 * candidate until need is met, then one resize per VM that gave (its
 * virtio-mem device first, plan_resize()). */
void inflate_balloons(struct tick *t) {
	balloon_candidates(t);
	while (t->need > 0) {
		size_t best = balloon_pick(t), i;
		uint64_t slice;

		if (best == SIZE_MAX)
			break;
		i = t->order[best].i;
		slice = MIN(MIN(BALLOON_CHUNK, t->need),
			    t->work[i].pending - t->work[i].cut - balloon_lowest(t, i));
		t->work[i].cut += slice;
		t->need -= slice;
		t->from_balloon += slice;
	}
	for (size_t j = 0; j < t->n_order; j++) {
		size_t i = t->order[j].i;
		struct vm_work *w = &t->work[i];
		char tail[ACTION_REASON_MAX];

		if (w->cut == 0)
			continue;
		explain_inflation(t, i, tail);
		plan_resize(t, i, w->pending - w->cut, t->host_why, tail);
		w->balloon_done = true;
		t->history->vm[i].last_inflate = t->now;
	}
}

/* Deflation already on its way counts against slack; then the VMs that may
 * grow: below their cap and not inflated within reverse_holdoff. */
static void slack_candidates(struct tick *t) {
	t->n_order = 0;
	for (size_t i = 0; t->slack > 0 && i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];

		if (!w->balloonable || w->balloon_done || w->is_short)
			continue;
		/* Growth still on its way counts as done. */
		if (v->commanded.balloon_target > v->measured.balloon_actual)
			w->balloon_pending = MIN(v->commanded.balloon_target, w->cap);
		w->virtio_mem_pending = MAX(v->measured.virtio_mem.plugged, v->commanded.virtio_mem_requested);
		w->pending = w->balloon_pending + w->virtio_mem_pending;
		t->slack = sub_sat(t->slack, sub_sat(w->pending, vm_memory(&v->measured)));
		if (vm_memory(&v->measured) >= w->cap ||
		    within(t->now, t->history->vm[i].last_inflate, t->cfg->reverse_holdoff))
			continue;
		t->order[t->n_order++] = (struct order) {
			.i = i,
			.priority = v->settings.priority,
			.key = adjusted_ratio(v, vm_memory(&v->measured), t->cfg->idle_tax),
		};
	}
}

/* Step 8, slack: give memory back, higher priority first, then most shares
 * per byte, each up to balloon_step, never past free - high. */
void give_slack(struct tick *t) {
	slack_candidates(t);
	if (t->n_order > 0)
		qsort(t->order, t->n_order, sizeof *t->order, order_cmp_give);
	for (size_t j = 0; t->slack > 0 && j < t->n_order; j++) {
		size_t i = t->order[j].i;
		const struct vm_state *v = &t->vms[i];
		const struct vm_work *w = &t->work[i];
		uint64_t highest = MIN(w->cap, vm_memory(&v->measured) + t->cfg->balloon_step), give;
		char tail[ACTION_REASON_MAX];

		if (w->pending >= highest)
			continue;
		give = MIN(highest - w->pending, t->slack);
		reasonf(tail, " (priority %d); cap %s", v->settings.priority, SZ(w->cap));
		plan_resize(t, i, w->pending + give, t->host_why, tail);
		t->history->vm[i].last_deflate = t->now;
		t->slack -= give;
		t->to_slack += give;
	}
}

