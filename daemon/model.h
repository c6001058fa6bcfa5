/* model.h - what hintd knows about the host and each VM, as plain structs.
 *
 * Collectors fill it, policy reads it, the D-Bus service shows it. No
 * library types here: policy and its tests include only this file. All
 * sizes are bytes, all times microseconds (CLOCK_MONOTONIC) unless named. */
#ifndef HINTD_MODEL_H
#define HINTD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rungs.h"

typedef uint64_t usec_t;
#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL

/* Per-VM settings: from the config file's [VM name] section or D-Bus. */
struct vm_settings {
	uint64_t min_memory;	/* guarantee: never ballooned below; 0 = policy's floor */
	uint64_t max_memory;	/* never deflated above; 0 = the domain's maximum */
	unsigned shares;	/* proportional weight, 1..10000; default 1000 */
	int priority;		/* -100..100; lower is reclaimed first; default 0 */
	unsigned rungs;		/* RUNG_BIT()s allowed; default RUNGS_ALL */
	bool proactive;		/* trim its cold cache with no host pressure; default off */
};

void vm_settings_init(struct vm_settings *s);

/* The host as a whole, or the budget the VMs must fit in. */
struct host_state {
	uint64_t mem_total;
	uint64_t mem_available;		/* /proc/meminfo MemAvailable */
	double psi_some_avg10;		/* /proc/pressure/memory, percent */
	double psi_full_avg10;
	bool budget_set;		/* a fixed size or a cgroup limit applies */
	uint64_t budget_limit;
	uint64_t budget_usage;		/* cgroup usage, or the VMs' backed total */
	uint64_t reclaim_request;	/* bytes asked for over D-Bus, not yet reclaimed:
					 * reclaim is on while it is > 0, need grows by it */
};

/* What a guest's agent (or the balloon driver) says about its memory. */
struct guest_memory {
	bool valid;			/* false until the first stats arrive */
	uint64_t total, free, available, cached, dirty;
	uint64_t unused, volatile_, stable, mlocked;	/* page states (module) */
	uint64_t cold;			/* clean cache on the inactive file list: what
					 * the guest's LRU gives up first; <= volatile_ */
	double psi_some_avg10, psi_full_avg10;
	/* Counters, cumulative since guest boot: policy uses rates. */
	uint64_t pgmajfault, pswpin, pswpout, workingset_refault;
	uint64_t workingset_refault_file;	/* dropped cache read back */
};

enum agent_state {
	AGENT_ABSENT,		/* no channel in the domain XML */
	AGENT_DISCONNECTED,	/* channel, but nothing answers */
	AGENT_CONNECTED,	/* hello received */
	AGENT_FAILED,		/* protocol errors: connection closed, retried later */
};

/* "absent", "disconnected", "connected", "failed": as D-Bus and the dump show it. */
const char *agent_state_to_string(enum agent_state s);

/* What discarding free memory can really do for a VM: "yes", or the first
 * thing in the way, in the order a sysadmin would fix them (the host's side
 * first). As D-Bus (Machine.Discard) and the dump show it. */
enum vm_discard {
	VM_DISCARD_YES,		/* backing open, layout known, agent connected, module reporting */
	VM_DISCARD_READING,	/* libvirt has not described the domain yet */
	VM_DISCARD_NO_BACKING,	/* backing not open or layout unknown (DiscardReason) */
	VM_DISCARD_FPR,		/* QEMU's free page reporting owns the guest's hook */
	VM_DISCARD_NO_AGENT,	/* no org.hintd.agent.0 channel in the domain */
	VM_DISCARD_AGENT_DOWN,	/* a channel, but no agent connected (or it failed) */
	VM_DISCARD_NO_MODULE,	/* the agent runs without pagehint.ko active */
	_VM_DISCARD_MAX,
};

/* Longest vm_discard_to_string(), with its NUL. */
#define VM_DISCARD_STRING_MAX 16

/* "yes", "reading", "no backing", "fpr", "no agent", "agent down", "no module". */
const char *vm_discard_to_string(enum vm_discard d);

/* A VM's virtio-mem device (the first of its domain): memory the guest
 * plugs and unplugs in whole blocks, which QEMU discards as it is unplugged.
 * All 0 without one. Its memory is not in balloon_actual: QEMU's balloon
 * counts the boot RAM only. */
struct vm_virtio_mem {
	uint64_t block_size;		/* 0: no device */
	uint64_t size;			/* the most it can plug */
	uint64_t plugged;		/* what the guest has plugged (libvirt's current) */
	uint64_t settling;		/* unplugged since the host's figures were last
					 * read (QEMU's RSS comes with the statistics):
					 * returned, not yet seen in backed */
	usec_t changed_at;		/* when plugged last changed (or was first read) */
};

/* What moved a VM's size (shrink rung, deflate-first, slack) last. */
enum instrument {
	INSTRUMENT_NONE,
	INSTRUMENT_BALLOON,
	INSTRUMENT_VIRTIO_MEM,
	_INSTRUMENT_MAX,
};

/* "none", "balloon", "virtio-mem": as D-Bus and the dump show it. */
const char *instrument_to_string(enum instrument i);

/* What hintd knows of a VM, kept apart by where it comes from. */

/* Measured on the host, or reported by libvirt or the guest this tick. */
struct vm_measured {
	bool running;
	uint64_t max_memory;		/* the domain's maximum */
	uint64_t balloon_actual;	/* what the balloon leaves the guest of its boot
					 * RAM now (libvirt) */
	struct vm_virtio_mem virtio_mem;
	uint64_t backed;		/* host memory behind the guest's RAM */
	uint64_t hinted;		/* reported unused bytes waiting for a decision */
	uint64_t unused_backed;		/* free in the guest yet backed on the host: the
					 * unused rung returns it as the guest reports it */
	uint64_t unused_coming;		/* of it, what is new enough to be on its way
					 * (pacing_unused_coming()) */
	enum agent_state agent;
	bool module;			/* the agent has pagehint.ko */
	bool discard_capable;		/* RAM backing open and layout known */
	bool free_page_reporting;	/* the domain's balloon has QEMU's free page
					 * reporting on: it owns the guest's hook */
	struct guest_memory guest;
	/* Rates per second over the last tick, from the guest's counters. */
	double swapin_rate, majfault_rate, refault_rate;
	double cache_refault_rate;	/* file refaults: its cache coming back */
};

/* The memory the guest has now: what the balloon leaves of its boot RAM
 * and what it plugged of its virtio-mem device. */
static inline uint64_t vm_memory(const struct vm_measured *m) {
	return m->balloon_actual + m->virtio_mem.plugged;
}

/* Pure: what discarding can do for a VM measured so, once libvirt has
 * described its domain (described) or not yet. */
enum vm_discard vm_discard_state(const struct vm_measured *m, bool described);

/* Pure: what a VM has given towards a reclaim request since it began:
 * what was accounted to it since (given - base_given), but where its RAM
 * backing is measured (backing_measured: its files), no more than the
 * backing lost since (base_backed - backed): a guest that allocates
 * meanwhile takes back what was punched, and the request is for memory
 * the host has. */
uint64_t reclaim_request_progress(uint64_t base_given, uint64_t given, bool backing_measured,
				  uint64_t base_backed, uint64_t backed);

/* What hintd asked for. */
struct vm_commanded {
	uint64_t balloon_target;	/* last balloon target sent; 0 = never */
	/* The virtio-mem device's requested size: libvirt's when the domain
	 * was read, then what hintd sent (whole blocks). */
	uint64_t virtio_mem_requested;
	usec_t virtio_mem_asked_at;	/* when hintd sent that request; 0 = never */
	enum instrument last_instrument;	/* what hintd moved last */
};

/* What the host got back, per rung, since hintd started: only what it
 * measured (the backing's blocks, the balloon libvirt reports). */
struct vm_accounted {
	uint64_t reclaimed[_RUNG_MAX];
	/* Its last cache drop gave the host nothing it could measure (or was
	 * refused, failed or never answered): its cache is not counted on. */
	bool cache_unreturned;
	/* The guest said it dropped this much cache, which the host has not
	 * yet seen come back (within the 10 s after the drop): it is on its
	 * way, and is not asked for again. */
	uint64_t cache_coming;
	/* Drops of its cache were asked recently: its cold cache is at most
	 * cold_cap, whatever the guest's stats say (pacing_cold_left()). */
	bool cold_capped;
	uint64_t cold_cap;
};

struct vm_state {
	char name[128];
	struct vm_measured measured;
	struct vm_commanded commanded;
	struct vm_accounted accounted;
	struct vm_settings settings;
	bool reclaim_first;		/* named by a pending reclaim request: first in
					 * the volatile and balloon order */
};

#endif /* HINTD_MODEL_H */
