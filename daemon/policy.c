/* policy.c - see policy.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy-tick.h"


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
	[ACTION_VIRTIO_MEM] = "virtio_mem",
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

/* Why the host reclaims or not, as every reason starts. */
void describe_host(struct tick *t) {
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
void assess_host(struct tick *t) {
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
		t->cheap_total += t->vms[i].accounted.reclaimed[RUNG_UNUSED] + t->vms[i].accounted.reclaimed[RUNG_VOLATILE];
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
void assess_vms(struct tick *t) {
	for (size_t i = 0; i < t->n_vms; i++) {
		const struct vm_state *v = &t->vms[i];
		struct vm_work *w = &t->work[i];

		if (!v->measured.running)
			continue;
		t->shares_total += v->settings.shares;
		t->size_total += vm_memory(&v->measured);
		w->is_short = guest_is_short(t->cfg, v, w->why_short, sizeof w->why_short);
		t->n_short += w->is_short;
		w->balloonable = rung_allowed(v, RUNG_BALLOON) && v->measured.max_memory > 0 &&
				 v->measured.balloon_actual > 0;
		if (!w->balloonable)
			continue;
		w->cap = vm_cap(v);
		w->floor = vm_floor(t->cfg, v);
		w->balloon_pending = v->measured.balloon_actual;
		if (v->commanded.balloon_target > 0 && v->commanded.balloon_target < v->measured.balloon_actual)
			w->balloon_pending = v->commanded.balloon_target;	/* inflation still on its way */
		w->virtio_mem = v->measured.virtio_mem.block_size > 0;
		w->virtio_mem_stalled = virtio_mem_stalled(v, t->now);
		/* The balloon alone shrinks it then, and never below the
		 * smallest guest on top of what the device keeps. */
		if (w->virtio_mem_stalled)
			w->floor = MAX(w->floor, v->measured.virtio_mem.plugged + t->cfg->guest_floor);
		/* An unplug still on its way counts as done; one the guest
		 * does not carry out, as nothing. */
		w->virtio_mem_pending = w->virtio_mem_stalled ? v->measured.virtio_mem.plugged
			: MIN(v->measured.virtio_mem.plugged, v->commanded.virtio_mem_requested);
		w->pending = w->balloon_pending + w->virtio_mem_pending;
	}
}

/* Step 9: the plan's own reason, what `hintctl status` shows. */
void summarize(struct tick *t) {
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
void remember(struct tick *t) {
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
 *                 need, and within the grace so does free memory still
 *                 backed that is new (not yet held 2.5-5 s). Hints that
 *                 cannot or may not be discarded are released so the
 *                 guest gets its pages back.
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
 *   proactive     not reclaiming, DiscardUnused=always, Proactive=yes:
 *                 32 MiB of cold cache every 5 s while the guest's PSI
 *                 some avg10 < 0.15% and its file refaults <= 10/s; when
 *                 either is higher, nothing for 60 s.
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
		/* Each written whole by plan_add(): not zeroed first. */
		actions = malloc(n_vms * POLICY_ACTIONS_PER_VM * sizeof *actions);
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
	trim_proactively(&t);
	summarize(&t);
	remember(&t);

	TAKE_PTR(actions);
	*ret = p;
	return 0;
}
