/* policy.h - the reclaim ladder as a pure function.
 *
 * policy_decide() turns the model (host, VMs, settings) and what it decided
 * before into a plan: whether to take each VM's unused hints, how much clean
 * cache to ask each guest to drop, and each balloon target. It reads no file,
 * calls no library and keeps no global state, so tests drive it with tables.
 * Every action carries the reason shown by `hintctl show`. */
#ifndef HINTD_POLICY_H
#define HINTD_POLICY_H

#include "model.h"

enum discard_mode {
	DISCARD_ALWAYS,		/* take unused hints whenever they come (no guest cost) */
	DISCARD_ON_PRESSURE,	/* only while the host is reclaiming */
};

struct policy_config {
	/* Host: free = MemAvailable, or budget limit - budget usage. Reclaim starts
	 * when free < low_watermark (or PSI > psi_limit) and goes on until
	 * free >= high_watermark. */
	uint64_t low_watermark;
	uint64_t high_watermark;
	double psi_limit;		/* host PSI some avg10, percent; 0 = ignore */
	enum discard_mode discard_unused;
	/* Guests. */
	uint64_t guest_headroom;	/* keep this much available in a guest */
	uint64_t guest_floor;		/* never balloon a guest below this */
	double guest_psi_limit;		/* guest PSI some avg10 percent: short */
	double guest_swapin_limit;	/* pages/s swapped in: short */
	double guest_refault_limit;	/* refaults/s: short */
	/* Pace. */
	uint64_t balloon_step;		/* largest balloon change per VM per tick */
	uint64_t volatile_step;		/* largest cache drop asked per VM per tick */
	usec_t reverse_holdoff;		/* a balloon does not change direction sooner */
	usec_t cheap_rung_grace;	/* while the unused and volatile rungs deliver,
					 * wait for what they can still give before
					 * inflating balloons; give up after this long
					 * without progress */
	double idle_tax;		/* 0..0.99: idle memory counts this much less */
};

void policy_config_init(struct policy_config *c);

/* What policy remembers between ticks, per VM (same index as vms[]) and for
 * the host. The caller keeps it and passes it back; policy updates it. */
struct policy_vm_history {
	usec_t last_inflate;		/* 0 = never */
	usec_t last_deflate;
	usec_t proactive_next;		/* no proactive trim before; 0 = any time */
};

struct policy_history {
	bool reclaiming;		/* between low and high watermark, going up */
	usec_t reclaim_since;		/* when the current reclaim started */
	uint64_t cheap_reclaimed;	/* unused + volatile bytes reclaimed, all VMs */
	usec_t cheap_progress;		/* when that last grew (or reclaim started) */
	struct policy_vm_history *vm;	/* n_vms entries, zeroed for a new VM */
};

enum action_kind {
	ACTION_HINTS,		/* accept (claim and discard) or release unused hints */
	ACTION_DROP_CACHE,	/* ask the guest to drop up to bytes of clean cache */
	ACTION_BALLOON,		/* set the balloon target to bytes */
	ACTION_VIRTIO_MEM,	/* set the virtio-mem device's requested size to bytes */
};

#define ACTION_REASON_MAX 160

struct action {
	size_t vm;		/* index into vms[] */
	enum action_kind kind;
	bool accept;		/* ACTION_HINTS */
	uint64_t bytes;		/* DROP_CACHE: amount; BALLOON: new target;
				 * VIRTIO_MEM: new requested size */
	char reason[ACTION_REASON_MAX];
};

/* Hints, a cache drop, and a resize that may take both instruments (a
 * virtio-mem device run out, the balloon for the rest). */
#define POLICY_ACTIONS_PER_VM 4

struct plan {
	bool reclaiming;	/* the host needs memory this tick */
	uint64_t free;		/* host free (or budget slack) the plan saw */
	uint64_t need;		/* bytes to reclaim to reach the high watermark */
	size_t n_actions;
	struct action *actions;	/* at most POLICY_ACTIONS_PER_VM per VM; owned by the plan */
	char reason[ACTION_REASON_MAX];
};

/* Decides one tick. history->vm must have n_vms entries. On success fills
 * *ret (free with plan_done()) and returns 0; -EINVAL on a bad config,
 * -ENOMEM when the plan cannot be allocated. */
int policy_decide(const struct policy_config *cfg, const struct host_state *host,
		  const struct vm_state *vms, size_t n_vms, struct policy_history *history,
		  usec_t now, struct plan *ret);

void plan_done(struct plan *p);

const char *action_kind_to_string(enum action_kind k);

/* A guest whose dropped cache comes back (file refaults) pays for each drop
 * in disk reads: up to CACHE_REFAULT_QUIET pages/s (40 KiB/s) is noise;
 * above, the cost is the rate over that, up to CACHE_COST_MAX. The volatile
 * rung asks such a guest later, and for 1/cost of a step. */
#define CACHE_REFAULT_QUIET 10.0
#define CACHE_COST_MAX 8u
unsigned cache_cost(double cache_refault_rate);

/* Proactive=yes, with no host pressure: PROACTIVE_STEP of cold cache every
 * PROACTIVE_INTERVAL (6.4 MiB/s: an idle 1 GiB guest sheds what it does not
 * use within 2-3 minutes), while the guest's PSI some avg10 stays under
 * PROACTIVE_PSI_TARGET percent (senpai/TMO aim at 0.1-0.2%) and its cache
 * does not come back; else nothing for PROACTIVE_BACKOFF. */
#define PROACTIVE_STEP MiB(32)
#define PROACTIVE_INTERVAL_USEC (5 * USEC_PER_SEC)
#define PROACTIVE_BACKOFF_USEC (60 * USEC_PER_SEC)
#define PROACTIVE_PSI_TARGET 0.15

/* A guest asked to unplug has unplugged nothing for VIRTIO_MEM_STALL_USEC
 * since it was asked (or since it last unplugged): it refuses, or cannot.
 * Its request no longer counts as memory on its way, and the balloon
 * shrinks it instead. */
#define VIRTIO_MEM_STALL_USEC (10 * USEC_PER_SEC)
bool virtio_mem_stalled(const struct vm_state *v, usec_t now);

#endif /* HINTD_POLICY_H */
