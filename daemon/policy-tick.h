/* policy-tick.h - the steps of policy_decide() and what they share: one
 * tick's working state and the small pure helpers. Internal to policy*.c;
 * policy.h is the interface. */
#ifndef HINTD_POLICY_TICK_H
#define HINTD_POLICY_TICK_H

#include <stdarg.h>
#include <stdio.h>
#include "macro.h"
#include "policy.h"
#include "size.h"

/* Balloon inflation is handed out in slices this big, each to the VM that
 * deserves it most at that moment, so a tick's cut spreads by shares. */
#define BALLOON_CHUNK MiB(16)

static inline uint64_t sub_sat(uint64_t a, uint64_t b) {
	return a > b ? a - b : 0;
}

/* "180 MiB", or "512 KiB" below a MiB: what a sysadmin reads in a reason. */
struct size_str {
	char s[24];
};

static inline struct size_str fmt_size(uint64_t bytes) {
	struct size_str r = {};

	format_size(r.s, sizeof r.s, bytes, SIZE_MIB);
	return r;
}
#define SZ(b) (fmt_size(b).s)

_printf_(2, 3) static inline void reasonf(char buf[static ACTION_REASON_MAX], const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, ACTION_REASON_MAX, fmt, ap);
	va_end(ap);
}

/* What one tick works out per VM before it hands anything out. Sizes are
 * the memory the guest has (vm_memory()): its balloon's part of the boot
 * RAM and what it plugged of its virtio-mem device. */
struct vm_work {
	bool balloonable;	/* resizable: balloon rung allowed, running, sizes known */
	bool is_short;		/* needs memory back: deflate, never reclaim */
	bool balloon_done;	/* resized this tick (balloon, virtio-mem or both) */
	bool virtio_mem;	/* has a virtio-mem device: it moves first */
	bool virtio_mem_stalled;	/* asked to unplug, it did not (virtio_mem_stalled()) */
	uint64_t cap;		/* largest size allowed */
	uint64_t floor;		/* smallest size allowed */
	uint64_t pending;	/* size once in-flight changes land:
				 * balloon_pending + virtio_mem_pending */
	uint64_t balloon_pending;	/* the balloon's part */
	uint64_t virtio_mem_pending;	/* the device's part (requested or plugged) */
	uint64_t cut;		/* inflation handed out this tick */
	char why_short[96];
};

static inline bool rung_allowed(const struct vm_state *v, enum rung r) {
	return v->settings.rungs & RUNG_BIT(r);
}

static inline bool within(usec_t now, usec_t then, usec_t holdoff) {
	return then != 0 && sub_sat(now, then) < holdoff;
}

/* Fills why and returns true when the guest needs memory back now. */
static inline bool guest_is_short(const struct policy_config *cfg, const struct vm_state *v,
			   char *why, size_t why_size) {
	const struct guest_memory *g = &v->measured.guest;

	if (v->settings.min_memory > 0 && vm_memory(&v->measured) < v->settings.min_memory) {
		snprintf(why, why_size, "below MinMemory: %s < %s", SZ(vm_memory(&v->measured)),
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
	if (cfg->guest_swapin_limit > 0 && v->measured.swapin_rate > cfg->guest_swapin_limit) {
		snprintf(why, why_size, "guest short: swap-in %.0f pages/s > %.0f",
			 v->measured.swapin_rate, cfg->guest_swapin_limit);
		return true;
	}
	if (cfg->guest_refault_limit > 0 && v->measured.refault_rate > cfg->guest_refault_limit) {
		snprintf(why, why_size, "guest short: refaults %.0f/s > %.0f",
			 v->measured.refault_rate, cfg->guest_refault_limit);
		return true;
	}
	return false;
}

/* Smallest size: the guarantee, the global floor, and what the guest uses
 * now plus its headroom, whichever is highest (boot RAM and plugged memory
 * alike). */
static inline uint64_t vm_floor(const struct policy_config *cfg, const struct vm_state *v) {
	uint64_t f = MAX(v->settings.min_memory, cfg->guest_floor);

	if (v->measured.guest.valid)
		f = MAX(f, sub_sat(vm_memory(&v->measured), v->measured.guest.available) + cfg->guest_headroom);
	return f;
}

static inline uint64_t vm_cap(const struct vm_state *v) {
	if (v->settings.max_memory > 0)
		return MIN(v->settings.max_memory, v->measured.max_memory);
	return v->measured.max_memory;
}

/* The part of a balloon of size bytes that is idle in the guest (0..1).
 * Memory the balloon has already taken is assumed to have come out of the
 * guest's free pages. */
static inline double idle_fraction(const struct vm_state *v, uint64_t size) {
	uint64_t idle;

	if (size == 0 || !v->measured.guest.valid)
		return 0.0;
	idle = sub_sat(v->measured.guest.free, sub_sat(vm_memory(&v->measured), size));
	return (double) MIN(idle, size) / (double) size;
}

/* What a balloon of size bytes weighs, idle memory counted k = 1 /
 * (1 - idle_tax) times: size * (f + k * (1 - f)), f the active fraction. */
static inline double adjusted_size(const struct vm_state *v, uint64_t size, double idle_tax) {
	double k = 1.0 / (1.0 - idle_tax), f = 1.0 - idle_fraction(v, size);

	return (double) size * (f + k * (1.0 - f));
}

/* ESX's adjusted shares-per-byte ratio at a balloon size of size bytes:
 * rho = shares / adjusted_size(), so idle memory costs its owner k times as
 * much and the VM with the lowest rho gives up memory first. */
static inline double adjusted_ratio(const struct vm_state *v, uint64_t size, double idle_tax) {
	if (size == 0)
		return 0.0;
	return (double) v->settings.shares / adjusted_size(v, size, idle_tax);
}

static inline struct action *plan_add(struct plan *p, size_t vm, enum action_kind kind) {
	struct action *a = &p->actions[p->n_actions++];

	*a = (struct action) { .vm = vm, .kind = kind };
	return a;
}

struct order {
	size_t i;
	bool first;	/* reclaim_first: ahead of everything else */
	int priority;
	unsigned cost;	/* what taking from it costs the guest; 0 = nothing known */
	double key;
};

/* Named by a reclaim request first, then lower priority, then the lower
 * cost, then the larger key, then vms[] order. */
static inline int order_cmp_reclaim(const void *a, const void *b) {
	const struct order *x = a, *y = b;

	if (x->first != y->first)
		return x->first ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Higher priority first, then the larger key first, then vms[] order. */
static inline int order_cmp_give(const void *a, const void *b) {
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

/* A VM's fair share: its shares' part of all running VMs' balloons. */
static inline uint64_t fair_share(const struct tick *t, const struct vm_state *v) {
	return t->shares_total > 0
		? (uint64_t) ((double) t->size_total * v->settings.shares / t->shares_total) : 0;
}

/* bytes as a percentage of fair, for a reason ("250"); 0 without a share. */
static inline double percent_of(double bytes, uint64_t fair) {
	return fair > 0 ? 100.0 * bytes / (double) fair : 0.0;
}

/* The steps, in the order policy_decide() runs them. */
void describe_host(struct tick *t);
void assess_host(struct tick *t);
void assess_vms(struct tick *t);
void deflate_short_guests(struct tick *t);	/* policy-rungs.c */
void stop_at_floors(struct tick *t);
void take_unused(struct tick *t);
void drop_volatile(struct tick *t);
void inflate_balloons(struct tick *t);		/* policy-balloon.c */
void give_slack(struct tick *t);
void trim_proactively(struct tick *t);

/* Carries vms[i] from its pending size to target (policy-shrink.c): its
 * virtio-mem device first, the balloon only for what the device cannot
 * take or give. Each action's reason is why, ": ", what its instrument
 * does, then tail. Returns the number of actions added. */
size_t plan_resize(struct tick *t, size_t i, uint64_t target, const char *why, const char *tail);

void summarize(struct tick *t);
void remember(struct tick *t);

#endif /* HINTD_POLICY_TICK_H */
