/* manager-state.h - the manager's state: what the files that make up the
 * manager (manager.c, vm.c, discard.c, collect.c, actuate.c, dump.c,
 * view.c) share. Everything else sees struct manager and struct vm only
 * through manager.h. */
#ifndef HINTD_MANAGER_STATE_H
#define HINTD_MANAGER_STATE_H

#include <systemd/sd-event.h>
#include "agent.h"
#include "backing.h"
#include "batches.h"
#include "bus.h"
#include "config.h"
#include "libvirt-conn.h"
#include "manager.h"
#include "model.h"
#include "pacing.h"
#include "policy.h"
#include "ram-map.h"
#include "worker.h"

struct vm {
	struct manager *manager;
	struct virt_domain_id id;	/* libvirt's UUID and name */
	bool manage;			/* Manage=no: watched, never touched */

	/* Discovery: the domain's XML and its discard path, read in a worker. */
	struct virt_call *discovering;
	bool discovered;
	struct virt_domain_info info;
	pid_t qemu_pid;
	struct backing_set backings;	/* open and proven, or none */
	struct ram_map map;
	char discard_reason[256];

	/* libvirt: one balloon change in flight at a time; the latest target
	 * waits for it. A VM whose QEMU stops answering is skipped. */
	struct virt_call *balloon_call;
	struct virt_call *deflate_call;	/* a deflation that did not wait for it */
	uint64_t balloon_sent;		/* target of the call in flight (or last) */
	uint64_t balloon_pending;	/* target to send next; 0 = none */
	usec_t libvirt_seen;		/* made-at time of the last statistics call
					 * its QEMU answered */
	bool libvirt_stats;		/* libvirt's statistics arrived at least once */
	bool unresponsive;
	uint64_t balloon_seen;		/* actual size last reported by libvirt */
	/* The same for the virtio-mem device's requested size. */
	struct virt_call *virtio_mem_call;
	uint64_t virtio_mem_sent;	/* requested size of the call in flight (or last) */
	uint64_t virtio_mem_confirmed;	/* libvirt's requested size, as last known */
	uint64_t virtio_mem_pending;	/* requested size to send next */
	bool virtio_mem_waiting;	/* virtio_mem_pending is set */

	struct agent *agent;
	struct batch_table batches;
	bool accept_hints;		/* the plan's decision for the unused rung */
	struct pacing_vm pacing;	/* settling, report passes */
	unsigned stats_ms;		/* stats interval last sent to the agent; 0 = none */
	int64_t drop_cache_id;		/* drop_cache command awaiting its reply */
	int64_t granularity_id;		/* granularity command awaiting its reply */
	uint64_t coarse_granularity;	/* what hints go back to after fine ones */
	bool fine_refused;		/* the guest refused fine hints: not asked again */
	usec_t drop_cache_sent;
	/* A cache drop's effect, measured: discards within the window after it
	 * count for the volatile rung, up to what the guest said it dropped. */
	usec_t volatile_window_end;
	uint64_t volatile_said, volatile_credit;
	/* Its backing and what it had given (accounted, every rung) when the
	 * current reclaim request began: reclaim_request_progress(). */
	uint64_t reclaim_base_backed, reclaim_base_given;

	struct vm_state state;		/* the model policy and D-Bus read */
	struct policy_vm_history history;
	uint64_t last_swapin, last_majfault, last_refault, last_refault_file;
	usec_t last_counters;
	char last_decision[ACTION_REASON_MAX];
	usec_t last_decision_usec;	/* CLOCK_REALTIME of the last action */
	size_t bus_slot;		/* vm_bus_slot() */
};

struct manager {
	sd_event *event;
	sd_event_source *tick;
	struct bus *bus;		/* NULL without D-Bus */
	struct metrics_http *metrics;	/* NULL without MetricsListen= */

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
	usec_t stats_sent;		/* when the last statistics call was made */
	usec_t stats_answered;		/* made-at time of the newest statistics read */
	usec_t trimmed;			/* when malloc_trim() last gave freed heap back */

	struct vm **vms;
	size_t n_vms;
	size_t n_discovering;		/* discovery calls in flight */

	struct host_state host;
	const char *meminfo_path, *psi_path;
	bool budget_cgroup_lost;	/* BudgetCgroup= unreadable (logged once) */
	uint64_t reclaimed[_RUNG_MAX];	/* bytes, all VMs, since start */
	uint64_t rate_base[_RUNG_MAX];	/* reclaimed[] at the previous tick */
	usec_t rate_base_usec;		/* when that was; 0 = no tick yet */
	double rate[_RUNG_MAX];		/* bytes/s over the last tick */
	/* A reclaim asked for over D-Bus: bytes still to come, from every VM
	 * (reclaim_any) and/or those with state.reclaim_first, until when;
	 * reclaim_asked: every request's bytes since it began. */
	uint64_t reclaim_request, reclaim_asked;
	bool reclaim_any;
	usec_t reclaim_deadline;
	char plan_reason[ACTION_REASON_MAX];
	usec_t last_tick;
	usec_t connected;		/* when libvirt was (re)connected */
};

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

#endif /* HINTD_MANAGER_STATE_H */
