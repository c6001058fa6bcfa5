/* manager.h - hintd's state and its one event loop.
 *
 * Each tick: collect (host, libvirt, agents) into the model, let policy turn
 * the model into a plan, carry the plan out (discard, cache drops, balloon
 * targets). Agent messages are handled as they arrive: hint batches are
 * claimed, punched and acknowledged at once when the VM's plan allows it. */
#ifndef HINTD_MANAGER_H
#define HINTD_MANAGER_H

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include "agent.h"
#include "backing.h"
#include "batches.h"
#include "bus.h"
#include "config.h"
#include "model.h"
#include "pacing.h"
#include "policy.h"
#include "libvirt-conn.h"
#include "ram-map.h"
#include "worker.h"

#define HINTD_VERSION "0.1"

struct manager;

struct vm {
	struct manager *manager;
	struct virt_domain_id id;	/* libvirt's UUID and name */
	bool manage;			/* Manage=no: watched, never touched */

	/* Discovery: the domain's XML and its discard path, read in a worker. */
	struct virt_call *discovering;
	bool discovered;
	struct virt_domain_info info;
	pid_t qemu_pid;
	struct backing backing;		/* open and proven, or fd -1 */
	struct ram_map map;
	char discard_reason[256];

	/* libvirt: one balloon change in flight at a time; the latest target
	 * waits for it. A VM whose QEMU stops answering is skipped. */
	struct virt_call *balloon_call;
	uint64_t balloon_pending;	/* target to send next; 0 = none */
	usec_t libvirt_seen;		/* made-at time of the last statistics call
					 * its QEMU answered */
	bool libvirt_stats;		/* libvirt's statistics arrived at least once */
	bool unresponsive;
	uint64_t balloon_seen;		/* actual size last reported by libvirt */

	struct agent *agent;
	struct batch_table batches;
	bool accept_hints;		/* the plan's decision for the unused rung */
	struct pacing_vm pacing;	/* settling, report passes */
	unsigned stats_ms;		/* stats interval last sent to the agent; 0 = none */
	int64_t drop_cache_id;		/* drop_cache command awaiting its reply */
	usec_t drop_cache_sent;
	/* A cache drop's effect, measured: discards within the window after it
	 * count for the volatile rung, up to what the guest said it dropped. */
	usec_t volatile_window_end;
	uint64_t volatile_credit;

	struct vm_state state;		/* the model policy and D-Bus read */
	struct policy_vm_history history;
	uint64_t last_swapin, last_majfault, last_refault;
	usec_t last_counters;
	char last_decision[ACTION_REASON_MAX];
	usec_t last_decision_usec;	/* CLOCK_REALTIME of the last action */

	/* D-Bus: the properties as read now, and as last announced. */
	struct bus_machine_props bus_now, bus_sent;
	bool bus_announced;
};

struct manager {
	sd_event *event;
	sd_event_source *tick;
	sd_bus *bus;

	char *config_path, *config_dir;
	struct hintd_config *config;
	struct policy_config policy;	/* config's, with watermarks resolved */
	struct policy_history history;
	bool reclaiming;
	bool dry_run;

	struct worker *worker;
	struct virt_conn *virt;
	/* Bulk statistics calls in flight: a second may start while the first
	 * waits for a QEMU that does not answer (it does not wait again). */
	struct virt_call *stats_calls[2];
	bool libvirt_answering;
	usec_t stats_answered;		/* made-at time of the newest statistics read */

	struct vm **vms;
	size_t n_vms;

	struct host_state host;
	const char *meminfo_path, *psi_path;
	bool budget_cgroup_lost;	/* BudgetCgroup= unreadable (logged once) */
	uint64_t reclaimed[_RUNG_MAX];	/* bytes, all VMs, since start */
	uint64_t rate_base[_RUNG_MAX];	/* reclaimed[] at the previous tick */
	usec_t rate_base_usec;		/* when that was; 0 = no tick yet */
	double rate[_RUNG_MAX];		/* bytes/s over the last tick */
	/* A reclaim asked for over D-Bus: bytes still to come, from every VM
	 * (reclaim_any) and/or those with state.reclaim_first, until when. */
	uint64_t reclaim_request;
	bool reclaim_any;
	usec_t reclaim_deadline;
	char plan_reason[ACTION_REASON_MAX];
	usec_t last_tick;
	usec_t connected;		/* when libvirt was (re)connected */

	struct bus_manager_props bus_now, bus_sent;
	bool bus_announced;
};

int manager_new(sd_event *e, const char *config_path, const char *config_dir,
		struct hintd_config *config, bool dry_run, struct manager **ret);
struct manager *manager_free(struct manager *m);

/* Connects to libvirt and starts ticking. */
int manager_start(struct manager *m);

/* Loads the configuration again; keeps the old one when the new is bad. */
int manager_reload(struct manager *m, char **ret_error);

/* Releases every held batch and forgets VMs (SIGTERM). */
void manager_stop(struct manager *m);

struct vm *manager_find_vm(struct manager *m, const char *name);

/* The loop's clock (CLOCK_MONOTONIC) for this iteration. */
usec_t manager_now(struct manager *m);
/* "connected", "not answering" or "not connected". */
const char *manager_libvirt_state(const struct manager *m);
/* "answering", "unresponsive" (its QEMU does not answer libvirt), "reading"
 * (not yet described by libvirt), or the connection's state when libvirt
 * itself is not there. */
const char *vm_libvirt_state(const struct vm *vm);
/* Bytes a rung gave back from vm, as measured on the host: counted, set
 * against a pending request, announced. */
void manager_account(struct manager *m, struct vm *vm, enum rung rung, uint64_t bytes);

/* One tick, now. */
int manager_tick(struct manager *m);

/* Replaces a running VM's settings and Manage= until the configuration is
 * reloaded, hintd restarts or the domain stops. s must be valid (shares
 * 1..10000, priority -100..100, min <= max when both are set): -EINVAL
 * otherwise, and nothing changes. */
int manager_set_vm_settings(struct manager *m, struct vm *vm, const struct vm_settings *s,
			    bool manage);

/* Asks the next ticks to reclaim bytes more than the watermarks need, from
 * vm first (or as policy chooses when vm is NULL), and ticks at once. The
 * request shrinks by what is reclaimed (from vm, when named) and lapses
 * RECLAIM_REQUEST_USEC after the last request. -EINVAL for 0 bytes. */
#define RECLAIM_REQUEST_USEC (30 * USEC_PER_SEC)
int manager_request_reclaim(struct manager *m, struct vm *vm, uint64_t bytes);

/* The state as text: what `hintctl dump` prints. */
int manager_dump(struct manager *m, char **ret);

#endif /* HINTD_MANAGER_H */
