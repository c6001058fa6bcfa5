/* policy.c - see policy.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "policy.h"
#include "size.h"

/* Balloon inflation is handed out in slices this big, each to the VM that
 * deserves it most at that moment, so a tick's cut spreads by shares. */
#define BALLOON_CHUNK MiB(16)

void policy_config_init(struct policy_config *c) {
	*c = (struct policy_config) {
		/* Percentages need the host's size, which is not known here:
		 * bytes that suit a host of a few GiB up to a few hundred. */
		.low_watermark = MiB(256),
		.high_watermark = MiB(512),
		.psi_limit = 10.0,
		.discard_unused = DISCARD_ALWAYS,
		.guest_headroom = MiB(64),
		.guest_floor = MiB(128),
		.guest_psi_limit = 10.0,
		.guest_swapin_limit = 50.0,
		.guest_refault_limit = 500.0,
		.balloon_step = MiB(64),
		.volatile_step = MiB(128),
		.reverse_holdoff = 30 * USEC_PER_SEC,
		.cheap_rung_grace = 5 * USEC_PER_SEC,
		.idle_tax = 0.75,
	};
}

static const char *const action_kind_names[] = {
	[ACTION_HINTS] = "hints",
	[ACTION_DROP_CACHE] = "drop_cache",
	[ACTION_BALLOON] = "balloon",
};

const char *action_kind_to_string(enum action_kind k) {
	return (unsigned) k < ELEMENTSOF(action_kind_names) ? action_kind_names[k] : NULL;
}

void plan_done(struct plan *p) {
	if (!p)
		return;
	free(p->actions);
	*p = (struct plan) {};
}

static uint64_t sub_sat(uint64_t a, uint64_t b) {
	return a > b ? a - b : 0;
}

/* "180 MiB", or "512 KiB" below a MiB: what a sysadmin reads in a reason. */
struct size_str {
	char s[24];
};

static struct size_str fmt_size(uint64_t bytes) {
	struct size_str r = {};

	format_size(r.s, sizeof r.s, bytes, SIZE_MIB);
	return r;
}
#define SZ(b) (fmt_size(b).s)

_printf_(2, 3) static void reasonf(char buf[static ACTION_REASON_MAX], const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, ACTION_REASON_MAX, fmt, ap);
	va_end(ap);
}

static int config_check(const struct policy_config *c) {
	if (c->low_watermark > c->high_watermark)
		return -EINVAL;
	/* Written as "not in range" so NaN fails too. */
	if (!(c->idle_tax >= 0.0 && c->idle_tax < 1.0))
		return -EINVAL;
	if (!(c->psi_limit >= 0.0) || !(c->guest_psi_limit >= 0.0) ||
	    !(c->guest_swapin_limit >= 0.0) || !(c->guest_refault_limit >= 0.0))
		return -EINVAL;
	if (c->balloon_step == 0 || c->volatile_step == 0)
		return -EINVAL;
	if (c->discard_unused != DISCARD_ALWAYS && c->discard_unused != DISCARD_ON_PRESSURE)
		return -EINVAL;
	return 0;
}

/* What one tick works out per VM before it hands anything out. */
struct vm_work {
	bool balloonable;	/* balloon rung allowed, running, sizes known */
	bool is_short;		/* needs memory back: deflate, never reclaim */
	bool balloon_done;	/* has its one BALLOON action this tick */
	uint64_t cap;		/* highest balloon size allowed */
	uint64_t floor;		/* lowest balloon size allowed */
	uint64_t pending;	/* balloon size once an in-flight target lands */
	uint64_t cut;		/* inflation handed out this tick */
	char why_short[96];
};

static bool rung_allowed(const struct vm_state *v, enum rung r) {
	return v->settings.rungs & RUNG_BIT(r);
}

static bool within(usec_t now, usec_t then, usec_t holdoff) {
	return then != 0 && sub_sat(now, then) < holdoff;
}

/* Fills why and returns true when the guest needs memory back now. */
static bool guest_is_short(const struct policy_config *cfg, const struct vm_state *v,
			   char *why, size_t why_size) {
	const struct guest_memory *g = &v->guest;

	if (v->settings.min_memory > 0 && v->balloon_actual < v->settings.min_memory) {
		snprintf(why, why_size, "below MinMemory: %s < %s", SZ(v->balloon_actual),
			 SZ(v->settings.min_memory));
		return true;
	}
	if (!g->valid)
		return false;
	if (g->available < cfg->guest_headroom) {
		snprintf(why, why_size, "guest short: available %s < headroom %s",
			 SZ(g->available), SZ(cfg->guest_headroom));
		return true;
	}
	if (cfg->guest_psi_limit > 0 && g->psi_some_avg10 > cfg->guest_psi_limit) {
		snprintf(why, why_size, "guest short: PSI some %.1f%% > %.1f%%",
			 g->psi_some_avg10, cfg->guest_psi_limit);
		return true;
	}
	if (cfg->guest_swapin_limit > 0 && v->swapin_rate > cfg->guest_swapin_limit) {
		snprintf(why, why_size, "guest short: swap-in %.0f pages/s > %.0f",
			 v->swapin_rate, cfg->guest_swapin_limit);
		return true;
	}
	if (cfg->guest_refault_limit > 0 && v->refault_rate > cfg->guest_refault_limit) {
		snprintf(why, why_size, "guest short: refaults %.0f/s > %.0f",
			 v->refault_rate, cfg->guest_refault_limit);
		return true;
	}
	return false;
}

/* Lowest balloon size: the guarantee, the global floor, and what the guest
 * uses now plus its headroom, whichever is highest. */
static uint64_t vm_floor(const struct policy_config *cfg, const struct vm_state *v) {
	uint64_t f = MAX(v->settings.min_memory, cfg->guest_floor);

	if (v->guest.valid)
		f = MAX(f, sub_sat(v->balloon_actual, v->guest.available) + cfg->guest_headroom);
	return f;
}

static uint64_t vm_cap(const struct vm_state *v) {
	if (v->settings.max_memory > 0)
		return MIN(v->settings.max_memory, v->max_memory);
	return v->max_memory;
}

/* ESX's adjusted shares-per-byte ratio at a balloon size of size bytes:
 * rho = shares / (size * (f + k * (1 - f))), f the active fraction and
 * k = 1 / (1 - idle_tax), so idle memory costs its owner k times as much and
 * the VM with the lowest rho gives up memory first. Memory the balloon has
 * already taken is assumed to have come out of the guest's free pages. */
static double adjusted_ratio(const struct vm_state *v, uint64_t size, double idle_tax) {
	double k = 1.0 / (1.0 - idle_tax), f = 1.0;

	if (size == 0)
		return 0.0;
	if (v->guest.valid) {
		uint64_t idle = sub_sat(v->guest.free, sub_sat(v->balloon_actual, size));

		f = 1.0 - (double) MIN(idle, size) / (double) size;
	}
	return (double) v->settings.shares / ((double) size * (f + k * (1.0 - f)));
}

static struct action *plan_add(struct plan *p, size_t vm, enum action_kind kind) {
	struct action *a = &p->actions[p->n_actions++];

	*a = (struct action) { .vm = vm, .kind = kind };
	return a;
}

struct order {
	size_t i;
	bool first;	/* reclaim_first: ahead of everything else */
	int priority;
	double key;
};

/* Named by a reclaim request first, then lower priority, then the larger
 * key, then vms[] order. */
static int order_cmp_reclaim(const void *a, const void *b) {
	const struct order *x = a, *y = b;

	if (x->first != y->first)
		return x->first ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Higher priority first, then the larger key first, then vms[] order. */
static int order_cmp_give(const void *a, const void *b) {
	const struct order *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Less clean cache than this is not worth a request: the guest would drop
 * it all (and its own working files with it) for next to nothing. */
#define VOLATILE_MIN_BYTES MiB(4)

/* One tick, worked out step by step: the inputs, what the host assessment
 * found, each VM's work, and what each step handed out. Each step reads
 * what the steps before it left here and takes its share of need (or slack). */
struct tick {
	const struct policy_config *cfg;
	const struct host_state *host;
	const struct vm_state *vms;
	size_t n_vms;
	struct policy_history *history;
	usec_t now;
	struct plan *plan;
	struct vm_work *work;		/* n_vms entries */
	struct order *order;		/* n_vms entries: each step's order, reused */
	size_t n_order;

	/* Host assessment. */
	uint64_t free;			/* MemAvailable, or what is left of the budget */
	bool reclaiming;
	bool psi_hot;			/* host PSI over its limit */
	bool emergency;			/* free < low / 2: nobody waits */
	bool in_grace;			/* what the cheap rungs can still give counts */
	uint64_t cheap_total;		/* unused + volatile reclaimed, all VMs */
	usec_t cheap_progress;		/* when that last grew */
	char host_why[96];
	/* Still to hand out: reclaim while reclaiming, else slack to give back. */
	uint64_t need, slack;

	/* Over running VMs, for the fair share of cache. */
	uint64_t shares_total, size_total;
	size_t n_short;

	/* What each step handed out, for the plan's summary. */
	uint64_t deflated, from_hints, from_cache, from_balloon, to_slack;
};

/* Why the host reclaims or not, as every reason starts. */
static void describe_host(struct tick *t) {
	const struct policy_config *cfg = t->cfg;

	if (t->free < cfg->low_watermark)
		snprintf(t->host_why, sizeof t->host_why, "host free %s < low watermark %s",
			 SZ(t->free), SZ(cfg->low_watermark));
	else if (t->psi_hot)
		snprintf(t->host_why, sizeof t->host_why, "host PSI some %.1f%% > %.1f%%",
			 t->host->psi_some_avg10, cfg->psi_limit);
	else if (t->host->reclaim_request > 0)
		snprintf(t->host_why, sizeof t->host_why, "reclaim of %s requested",
			 SZ(t->host->reclaim_request));
	else if (t->reclaiming)
		snprintf(t->host_why, sizeof t->host_why, "host free %s < high watermark %s",
			 SZ(t->free), SZ(cfg->high_watermark));
	else
		snprintf(t->host_why, sizeof t->host_why, "host free %s > high watermark %s",
			 SZ(t->free), SZ(cfg->high_watermark));
}

/* Step 1: free, whether to reclaim (with hysteresis), need or slack, and
 * whether the cheap rungs are still within their grace. */
static void assess_host(struct tick *t) {
	const struct policy_config *cfg = t->cfg;
	const struct host_state *host = t->host;
	const struct policy_history *history = t->history;

	t->free = host->budget_set ? sub_sat(host->budget_limit, host->budget_usage)
				   : host->mem_available;
	t->psi_hot = cfg->psi_limit > 0 && host->psi_some_avg10 > cfg->psi_limit;
	t->reclaiming = t->free < cfg->low_watermark || t->psi_hot || host->reclaim_request > 0 ||
			(history->reclaiming && t->free < cfg->high_watermark);
	t->need = t->reclaiming ? sub_sat(cfg->high_watermark, t->free) : 0;
	if (t->psi_hot)
		t->need = MAX(t->need, cfg->balloon_step);
	t->need = t->need + host->reclaim_request >= t->need ? t->need + host->reclaim_request
							     : UINT64_MAX;
	t->slack = t->reclaiming ? 0 : sub_sat(t->free, cfg->high_watermark);
	t->emergency = t->free < cfg->low_watermark / 2;
	/* The cheap rungs deliver within seconds (the guest reports free chunks
	 * ~2 s after they appear; dropped cache becomes free at once). While
	 * they make progress, all they can give counts as coming before any
	 * balloon moves; after cheap_rung_grace without progress, only what is
	 * in flight, so memory that never comes back (fragmented, refused)
	 * cannot hold the balloon off for good. */
	t->cheap_total = 0;
	for (size_t i = 0; i < t->n_vms; i++)
		t->cheap_total += t->vms[i].reclaimed[RUNG_UNUSED] + t->vms[i].reclaimed[RUNG_VOLATILE];
	t->cheap_progress = history->cheap_progress;
	if (!history->reclaiming || t->cheap_total > history->cheap_reclaimed)
		t->cheap_progress = t->now;
	t->in_grace = t->reclaiming && !t->emergency &&
		      t->now - t->cheap_progress < cfg->cheap_rung_grace;

	t->plan->free = t->free;
	t->plan->need = t->need;
	t->plan->reclaiming = t->reclaiming;
	describe_host(t);
}

/* Step 2: per running VM, whether it is short, and the balloon's bounds. */
static void assess_vms(struct tick *t) {
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];

		if (!v->running)
			continue;
		t->shares_total += v->settings.shares;
		t->size_total += v->balloon_actual;
		w->is_short = guest_is_short(t->cfg, v, w->why_short, sizeof w->why_short);
		t->n_short += w->is_short;
		w->balloonable = rung_allowed(v, RUNG_BALLOON) && v->max_memory > 0 &&
				 v->balloon_actual > 0;
		if (!w->balloonable)
			continue;
		w->cap = vm_cap(v);
		w->floor = vm_floor(t->cfg, v);
		w->pending = v->balloon_actual;
		if (v->balloon_target > 0 && v->balloon_target < v->balloon_actual)
			w->pending = v->balloon_target;	/* inflation still on its way */
	}
}

/* Step 3: a guest that is short gets memory back before anything else,
 * even while the host reclaims (need grows by as much). */
static void deflate_short_guests(struct tick *t) {
	const struct policy_config *cfg = t->cfg;

	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];
		uint64_t target, grow;
		struct action *a;

		if (!w->is_short || !w->balloonable || v->balloon_actual >= w->cap)
			continue;
		/* Deflating costs the host ~0.2 s; a guest that runs out costs a
		 * process. Give at least a quarter of its size, or twice what it
		 * lacks, rather than one step a tick while it allocates. */
		grow = MAX(cfg->balloon_step, w->cap / 4);
		if (v->guest.valid && v->guest.available < cfg->guest_headroom)
			grow = MAX(grow, 2 * (cfg->guest_headroom - v->guest.available));
		target = MIN(w->cap, v->balloon_actual + grow);
		grow = target - v->balloon_actual;
		a = plan_add(t->plan, i, ACTION_BALLOON);
		a->bytes = target;
		reasonf(a->reason, "%s: deflate by %s to %s", w->why_short, SZ(grow), SZ(target));
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
static void stop_at_floors(struct tick *t) {
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];
		struct action *a;

		if (!w->balloonable || w->balloon_done || w->is_short || w->pending >= w->floor ||
		    w->pending == v->balloon_actual)
			continue;
		w->pending = MIN(v->balloon_actual, w->floor);
		a = plan_add(t->plan, i, ACTION_BALLOON);
		a->bytes = w->pending;
		reasonf(a->reason, "target %s below floor %s: stop at %s", SZ(v->balloon_target),
			SZ(w->floor), SZ(w->pending));
		w->balloon_done = true;
	}
}

/* Step 5, rung 1, unused: the standing decision for every VM that sends
 * hints. Accepted hints (and, within the grace, the free memory still
 * backed that the guest will report) count against need. */
static void take_unused(struct tick *t) {
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct action *a;

		if (!v->running || v->agent != AGENT_CONNECTED || !v->module)
			continue;
		a = plan_add(t->plan, i, ACTION_HINTS);
		if (!v->discard_capable)
			reasonf(a->reason, "RAM backing not discard-capable: release %s of hints",
				SZ(v->hinted));
		else if (!rung_allowed(v, RUNG_UNUSED))
			reasonf(a->reason, "Reclaim= excludes unused: release %s of hints",
				SZ(v->hinted));
		else if (t->cfg->discard_unused == DISCARD_ON_PRESSURE && !t->reclaiming)
			reasonf(a->reason, "host not reclaiming, discard on pressure: release %s "
				"of hints", SZ(v->hinted));
		else {
			uint64_t coming = v->hinted + (t->in_grace ? v->unused_backed : 0);

			a->accept = true;
			t->from_hints += coming;
			t->need = sub_sat(t->need, coming);
			if (t->reclaiming)
				reasonf(a->reason, "%s: take %s of unused hints", t->host_why,
					SZ(v->hinted));
			else
				reasonf(a->reason, "unused pages cost the guest nothing: take %s "
					"of hints", SZ(v->hinted));
		}
	}
}

/* Dropped cache comes back as unused hints: only a VM whose unused rung
 * takes them, with enough clean cache to be worth asking. */
static bool volatile_candidate(const struct tick *t, size_t i) {
	const struct vm_state *v = &t->vms[i];

	return v->running && !t->work[i].is_short && v->agent == AGENT_CONNECTED && v->module &&
	       v->discard_capable && rung_allowed(v, RUNG_UNUSED) &&
	       rung_allowed(v, RUNG_VOLATILE) && v->guest.valid &&
	       v->guest.volatile_ >= VOLATILE_MIN_BYTES;
}

/* Step 6, rung 2, volatile: lowest priority first, then most over the fair
 * share, up to volatile_step per VM. */
static void drop_volatile(struct tick *t) {
	t->n_order = 0;
	for (size_t i = 0; t->need > 0 && i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		double fair;

		if (!volatile_candidate(t, i))
			continue;
		fair = t->shares_total > 0
			? (double) t->size_total * v->settings.shares / t->shares_total : 0;
		t->order[t->n_order++] = (struct order) {
			.i = i,
			.first = v->reclaim_first,
			.priority = v->settings.priority,
			.key = (double) v->balloon_actual - fair,
		};
	}
	if (t->n_order > 0)
		qsort(t->order, t->n_order, sizeof *t->order, order_cmp_reclaim);
	for (size_t j = 0; t->need > 0 && j < t->n_order; j++) {
		const struct order *o = &t->order[j];
		const struct vm_state *v = &t->vms[o->i];
		uint64_t bytes = MIN(MIN(t->cfg->volatile_step, v->guest.volatile_), t->need);
		struct action *a = plan_add(t->plan, o->i, ACTION_DROP_CACHE);

		a->bytes = bytes;
		reasonf(a->reason, "%s: drop %s of %s clean cache (priority %d, %+.0f MiB "
			"over fair share)", t->host_why, SZ(bytes), SZ(v->guest.volatile_),
			v->settings.priority, o->key / (double) MiB(1));
		/* Within the grace, the rest of its cache counts too: it is asked
		 * for step by step over the next ticks. */
		uint64_t coming = t->in_grace ? MIN(v->guest.volatile_, t->need) : bytes;
		t->need -= coming;
		t->from_cache += coming;
	}
}

/* Inflation already on its way counts first; then the VMs that may give
 * more this tick: not short, no balloon action yet, and not deflated
 * within reverse_holdoff (unless in an emergency). */
static void balloon_candidates(struct tick *t) {
	t->n_order = 0;
	for (size_t i = 0; t->need > 0 && i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];

		if (!w->balloonable || w->is_short)
			continue;
		t->need = sub_sat(t->need, v->balloon_actual - w->pending);
		if (w->balloon_done || (within(t->now, t->history->vm[i].last_deflate,
					       t->cfg->reverse_holdoff) && !t->emergency))
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
	return MAX(t->work[i].floor, sub_sat(t->vms[i].balloon_actual, t->cfg->balloon_step));
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

/* Step 7, rung 3, balloon: BALLOON_CHUNK slices to the most deserving
 * candidate until need is met, then one target per VM that gave. */
static void inflate_balloons(struct tick *t) {
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
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];
		uint64_t target = w->pending - w->cut;
		struct action *a;

		if (w->cut == 0)
			continue;
		a = plan_add(t->plan, i, ACTION_BALLOON);
		a->bytes = target;
		reasonf(a->reason, "%s: inflate by %s to %s (priority %d, ratio %.2g); floor %s",
			t->host_why, SZ(v->balloon_actual - target), SZ(target), v->settings.priority,
			adjusted_ratio(v, w->pending, t->cfg->idle_tax), SZ(w->floor));
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
		if (v->balloon_target > v->balloon_actual)
			w->pending = MIN(v->balloon_target, w->cap);
		t->slack = sub_sat(t->slack, sub_sat(w->pending, v->balloon_actual));
		if (v->balloon_actual >= w->cap ||
		    within(t->now, t->history->vm[i].last_inflate, t->cfg->reverse_holdoff))
			continue;
		t->order[t->n_order++] = (struct order) {
			.i = i,
			.priority = v->settings.priority,
			.key = adjusted_ratio(v, v->balloon_actual, t->cfg->idle_tax),
		};
	}
}

/* Step 8, slack: give memory back, higher priority first, then most shares
 * per byte, each up to balloon_step, never past free - high. */
static void give_slack(struct tick *t) {
	slack_candidates(t);
	if (t->n_order > 0)
		qsort(t->order, t->n_order, sizeof *t->order, order_cmp_give);
	for (size_t j = 0; t->slack > 0 && j < t->n_order; j++) {
		size_t i = t->order[j].i;
		const struct vm_state *v = &t->vms[i];
		const struct vm_work *w = &t->work[i];
		uint64_t highest = MIN(w->cap, v->balloon_actual + t->cfg->balloon_step), give;
		struct action *a;

		if (w->pending >= highest)
			continue;
		give = MIN(highest - w->pending, t->slack);
		a = plan_add(t->plan, i, ACTION_BALLOON);
		a->bytes = w->pending + give;
		reasonf(a->reason, "%s: deflate by %s to %s (priority %d); cap %s", t->host_why,
			SZ(a->bytes - v->balloon_actual), SZ(a->bytes), v->settings.priority,
			SZ(w->cap));
		t->history->vm[i].last_deflate = t->now;
		t->slack -= give;
		t->to_slack += give;
	}
}

/* Step 9: the plan's own reason, what `hintctl status` shows. */
static void summarize(struct tick *t) {
	const struct policy_config *cfg = t->cfg;
	char shorts[80] = "";

	if (t->n_short > 0)
		snprintf(shorts, sizeof shorts, "; %zu short guest%s given %s", t->n_short,
			 t->n_short == 1 ? "" : "s", SZ(t->deflated));
	if (t->reclaiming)
		reasonf(t->plan->reason, "%s: need %s; hints %s, cache %s, balloon %s%s%s%s",
			t->host_why, SZ(t->plan->need + t->deflated), SZ(t->from_hints),
			SZ(t->from_cache), SZ(t->from_balloon), t->need > 0 ? ", unmet " : "",
			t->need > 0 ? SZ(t->need) : "", shorts);
	else if (t->free > cfg->high_watermark)
		reasonf(t->plan->reason, "%s: give back %s%s", t->host_why, SZ(t->to_slack), shorts);
	else
		reasonf(t->plan->reason, "host free %s between watermarks %s and %s: no reclaim%s",
			SZ(t->free), SZ(cfg->low_watermark), SZ(cfg->high_watermark), shorts);
}

/* Step 10: what the next tick needs to know about this one. */
static void remember(struct tick *t) {
	struct policy_history *history = t->history;

	if (t->reclaiming && !history->reclaiming)
		history->reclaim_since = t->now;
	history->cheap_reclaimed = t->cheap_total;
	history->cheap_progress = t->cheap_progress;
	history->reclaiming = t->reclaiming;
}

/* The reclaim ladder, one tick. The numbers it assumes (defaults from
 * policy_config_init()):
 *
 *   host free     MemAvailable, or budget limit - usage (0 when over budget).
 *   reclaim       starts when free < low (256 MiB) or host PSI some avg10
 *                 > psi_limit (10%); goes on while free < high (512 MiB).
 *                 need = high - free; while PSI alone is over its limit,
 *                 at least balloon_step, so reclaim makes progress.
 *   request       a reclaim asked for over D-Bus (host->reclaim_request)
 *                 keeps reclaim on and adds to need until the manager has
 *                 seen that many bytes come back; VMs it names
 *                 (reclaim_first) come first for cache and balloon.
 *   short guest   available < guest_headroom (64 MiB), PSI some > 10%,
 *                 swap-in > 50 pages/s, refaults > 500/s, or balloon below
 *                 its MinMemory. Deflated by the most of balloon_step
 *                 (64 MiB), a quarter of its cap and twice what it lacks
 *                 below the headroom, up to MaxMemory, every tick, even
 *                 while the host reclaims (need grows by as much); never
 *                 inflated, never asked to drop cache.
 *   unused        hints are taken whenever they come (DISCARD_ALWAYS) or
 *                 only while reclaiming; each hinted byte counts against
 *                 need. Hints that cannot or may not be discarded are
 *                 released so the guest gets its pages back.
 *   volatile      only where the unused rung can take the dropped cache
 *                 back. Lowest priority first, then most over the fair share
 *                 (sum of balloon sizes * shares / sum of shares); up to
 *                 volatile_step (128 MiB) per VM per tick.
 *   balloon       16 MiB slices to the lowest (priority, ESX adjusted ratio
 *                 with idle_tax 0.75, i.e. idle memory counts 4x), except
 *                 that a VM whose ratio is over twice that of one only out
 *                 of step this tick waits for the next tick (not in an
 *                 emergency); a target is never more than balloon_step
 *                 (64 MiB) below the current size (a target still in flight
 *                 counts towards both the step and need) nor below the
 *                 floor: max(MinMemory, guest_floor 128 MiB, guest used +
 *                 headroom).
 *   thrash guard  no inflation within reverse_holdoff (30 s) of a deflation,
 *                 unless host free < low / 2: running the host out of memory
 *                 costs more than moving one balloon back. No slack
 *                 deflation within 30 s of an inflation.
 *   slack         not reclaiming and free > high: deflate, higher priority
 *                 first, then most shares per byte, each by up to
 *                 balloon_step, in total at most free - high.
 *   otherwise     between the watermarks and not reclaiming: no change.
 *
 * The balloon rung gates every balloon change, deflation included, so a VM
 * with Reclaim= without "balloon" keeps whatever size its admin gave it.
 * Actions come in step order: short guests, floors, hints, cache, inflation,
 * slack. */
int policy_decide(const struct policy_config *cfg, const struct host_state *host,
		  const struct vm_state *vms, size_t n_vms, struct policy_history *history,
		  usec_t now, struct plan *ret) {
	_cleanup_free_ struct action *actions = NULL;
	_cleanup_free_ struct vm_work *work = NULL;
	_cleanup_free_ struct order *order = NULL;
	struct plan p = {};
	struct tick t;
	int r;

	if (!cfg || !host || !history || !ret || (n_vms > 0 && (!vms || !history->vm)))
		return -EINVAL;
	r = config_check(cfg);
	if (r < 0)
		return r;

	/* Every allocation first: past this point nothing fails, so history is
	 * only ever updated together with a plan. */
	if (n_vms > 0) {
		actions = calloc(n_vms * 3, sizeof *actions);
		work = calloc(n_vms, sizeof *work);
		order = calloc(n_vms, sizeof *order);
		if (!actions || !work || !order)
			return -ENOMEM;
	}
	p.actions = actions;
	t = (struct tick) {
		.cfg = cfg, .host = host, .vms = vms, .n_vms = n_vms, .history = history,
		.now = now, .plan = &p, .work = work, .order = order,
	};

	assess_host(&t);
	assess_vms(&t);
	deflate_short_guests(&t);
	stop_at_floors(&t);
	take_unused(&t);
	drop_volatile(&t);
	inflate_balloons(&t);
	give_slack(&t);
	summarize(&t);
	remember(&t);

	TAKE_PTR(actions);
	*ret = p;
	return 0;
}
