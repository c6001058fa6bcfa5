/* manager.c - see manager.h. The tick is the data flow itself:
 * collect -> model -> policy -> actuate. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actuate.h"
#include "collect.h"
#include "discard.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "manager-state.h"
#include "metrics-http.h"
#include "metrics.h"
#include "vm.h"

/* A round of callbacks this long means the loop was held up. */
#define LOOP_STALL_USEC (2 * USEC_PER_SEC)
/* Threads for libvirt calls: one per call that may hang (a stopped QEMU
 * holds one or two until it runs again), and enough for the others to go
 * on; calls past that wait their turn. */
#define WORKER_THREADS 8

usec_t manager_now(struct manager *m) {
	uint64_t t;
	sd_event_now(m->event, CLOCK_MONOTONIC, &t);
	return t;
}

const char *manager_libvirt_state(const struct manager *m) {
	if (!virt_conn_connected(m->virt))
		return "not connected";
	return m->libvirt_answering ? "connected" : "not answering";
}

const char *vm_libvirt_state(const struct vm *vm) {
	const struct manager *m = vm->manager;

	if (!virt_conn_connected(m->virt) || !m->libvirt_answering)
		return manager_libvirt_state(m);
	if (vm->unresponsive)
		return "unresponsive";
	return vm->discovered && vm->libvirt_stats ? "answering" : "reading";
}

static void reclaim_request_clear(struct manager *m) {
	m->reclaim_request = m->reclaim_asked = 0;
	m->reclaim_any = false;
	for (size_t i = 0; i < m->n_vms; i++)
		m->vms[i]->state.reclaim_first = false;
}

void manager_account(struct manager *m, struct vm *vm, enum rung rung, uint64_t bytes) {
	if (bytes == 0)
		return;
	vm->state.accounted.reclaimed[rung] += bytes;
	m->reclaimed[rung] += bytes;
	bus_emit_reclaimed(m->bus, vm->id.name, rung, bytes);
}

static uint64_t vm_given(const struct vm *vm) {
	uint64_t sum = 0;

	for (unsigned r = 0; r < _RUNG_MAX; r++)
		sum += vm->state.accounted.reclaimed[r];
	return sum;
}

/* A reclaim request is done once the VMs it names gave that much, as the
 * host measures it (reclaim_request_progress()). Once per collection. */
static void reclaim_request_follow(struct manager *m) {
	uint64_t got = 0;

	if (m->reclaim_request == 0)
		return;
	for (size_t i = 0; i < m->n_vms; i++) {
		const struct vm *vm = m->vms[i];

		if (m->reclaim_any || vm->state.reclaim_first)
			got += reclaim_request_progress(vm->reclaim_base_given, vm_given(vm),
							backing_set_open(&vm->backings),
							vm->reclaim_base_backed, vm->state.measured.backed);
	}
	m->reclaim_request = m->reclaim_asked - MIN(m->reclaim_asked, got);
	if (m->reclaim_request == 0) {
		log_info("Requested reclaim done");
		reclaim_request_clear(m);
	}
}

/* ---- the tick ------------------------------------------------------------ */

/* Not yet described by libvirt, or its agent has not yet told what the
 * guest holds. */
static bool vm_settling(const struct vm *vm, usec_t now) {
	return !vm->discovered || pacing_settling(&vm->state, &vm->pacing, now);
}

/* Bytes per second each rung gave back since the previous tick. */
static void update_rates(struct manager *m, usec_t now) {
	for (unsigned r = 0; r < _RUNG_MAX; r++) {
		m->rate[r] = m->rate_base_usec ? collect_rate(m->reclaimed[r], m->rate_base[r],
						      now - m->rate_base_usec) : 0;
		m->rate_base[r] = m->reclaimed[r];
	}
	m->rate_base_usec = now;
}

static int collect(struct manager *m, usec_t now) {
	int r;

	update_rates(m, now);
	m->libvirt_answering = virt_conn_answering(m->virt, now);
	collect_libvirt(m, now);
	vm_discover_pending(m);
	for (size_t i = 0; i < m->n_vms; i++)
		collect_vm(m, m->vms[i], now);
	r = collect_host(m);
	if (r < 0)
		return r;
	reclaim_request_follow(m);
	if (m->reclaim_request > 0 && now >= m->reclaim_deadline) {
		log_info("Requested reclaim lapsed with %" PRIu64 " MiB not reclaimed", m->reclaim_request >> 20);
		reclaim_request_clear(m);
	}
	m->host.reclaim_request = m->reclaim_request;
	return 0;
}

static int resolve_watermarks(struct manager *m) {
	uint64_t low, high;
	int r;

	r = config_resolve_watermarks(m->config, m->host.budget_set ? m->host.budget_limit : m->host.mem_total,
				      &low, &high);
	if (r < 0)
		return log_error_errno(r, "Watermarks do not fit: %m");
	m->policy.low_watermark = low;
	m->policy.high_watermark = high;
	return 0;
}

/* Policy sees only the VMs hintd may touch and knows enough about; index[]
 * maps its VMs back to m->vms. Returns how many, or -EAGAIN while agents
 * that just appeared are still to speak. */
static ssize_t select_vms(struct manager *m, usec_t now, struct vm_state *states,
			  struct policy_vm_history *hist, size_t *index) {
	size_t n = 0, settling = 0;

	for (size_t i = 0; i < m->n_vms; i++) {
		if (vm_settling(m->vms[i], now)) {
			settling++;
			continue;
		}
		if (m->vms[i]->manage) {
			states[n] = m->vms[i]->state;
			hist[n] = m->vms[i]->history;
			index[n++] = i;
		}
	}
	if (pacing_hold_plan(settling, m->connected, now, m->plan_reason, sizeof m->plan_reason))
		return -EAGAIN;
	return (ssize_t) n;
}

int manager_tick(struct manager *m) {
	/* Filled by select_vms() up to what it returns: not zeroed first. */
	_cleanup_free_ struct vm_state *states = malloc((m->n_vms + 1) * sizeof *states);
	_cleanup_free_ struct policy_vm_history *hist = malloc((m->n_vms + 1) * sizeof *hist);
	_cleanup_free_ size_t *index = malloc((m->n_vms + 1) * sizeof *index);
	usec_t now = manager_now(m);
	struct plan plan;
	ssize_t n;
	int r;

	if (!states || !hist || !index)
		return -ENOMEM;
	r = collect(m, now);
	if (r >= 0)
		r = resolve_watermarks(m);
	if (r < 0)
		return r;
	m->last_tick = now;
	n = select_vms(m, now, states, hist, index);
	if (n < 0)
		return 0;

	m->history.vm = hist;
	r = policy_decide(&m->policy, &m->host, states, (size_t) n, &m->history, now, &plan);
	if (r < 0)
		return log_error_errno(r, "Policy refused to decide: %m");
	if (m->reclaiming != m->history.reclaiming) {
		m->reclaiming = m->history.reclaiming;
		bus_emit_pressure_changed(m->bus, m->reclaiming, plan.free, plan.need);
	}
	snprintf(m->plan_reason, sizeof m->plan_reason, "%s", plan.reason);

	for (ssize_t i = 0; i < n; i++)
		m->vms[index[i]]->history = hist[i];
	for (size_t i = 0; i < plan.n_actions; i++)
		actuate(m, m->vms[index[plan.actions[i].vm]], &plan.actions[i]);
	plan_done(&plan);
	return 0;
}

/* Before each wait for events: if the last round of callbacks took long
 * (a stopped hintd, a starved host), the guests' messages that queued up
 * meanwhile are a backlog, not a flood. */
static int on_prepare(sd_event_source *s, void *userdata) {
	struct manager *m = userdata;
	usec_t woke, now;

	sd_event_now(m->event, CLOCK_MONOTONIC, &woke);
	now = clock_usec(CLOCK_MONOTONIC);
	if (now > woke + LOOP_STALL_USEC) {
		log_warning("The event loop was held up for %" PRIu64 " ms", (uint64_t) ((now - woke) / USEC_PER_MSEC));
		agent_loop_stalled(now - woke, now);
	}
	return 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
	struct manager *m = userdata;
	size_t ballooned = 0;

	manager_tick(m);
	bus_emit_changes(m->bus);
	for (size_t i = 0; i < m->n_vms; i++) {
		actuate_stats_pace(m->vms[i]);
		ballooned += pacing_ballooned(&m->vms[i]->state);
	}
	sd_event_source_set_time(s, usec + pacing_tick_interval(m->config->tick_interval_usec, m->reclaiming,
								 m->n_vms, ballooned));
	return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* ---- life ----------------------------------------------------------------- */

static void manager_use_config(struct manager *m, struct hintd_config *c) {
	config_free(m->config);
	m->config = c;
	m->policy = c->policy;
	for (size_t i = 0; i < m->n_vms; i++)
		vm_apply_settings(m, m->vms[i]);
}

int manager_new(sd_event *e, const char *config_path, const char *config_dir,
		struct hintd_config *config, bool dry_run, struct manager **ret) {
	struct manager *m = calloc(1, sizeof *m);

	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(e);
	m->config_path = config_path ? strdup(config_path) : NULL;
	m->config_dir = config_dir ? strdup(config_dir) : NULL;
	m->dry_run = dry_run || config->dry_run;
	m->meminfo_path = "/proc/meminfo";
	m->psi_path = "/proc/pressure/memory";
	m->libvirt_answering = true;
	manager_use_config(m, config);
	*ret = m;
	return 0;
}

int manager_start(struct manager *m) {
	int r;

	r = worker_new(m->event, WORKER_THREADS, &m->worker);
	if (r < 0)
		return log_error_errno(r, "Failed to start worker threads: %m");
	r = virt_conn_new(m->event, m->worker, m->config->uri ? m->config->uri : "qemu:///system",
			  &vm_virt_callbacks, m, &m->virt);
	if (r < 0)
		return r;
	r = sd_event_add_time(m->event, &m->tick, CLOCK_MONOTONIC, manager_now(m), 10 * USEC_PER_MSEC,
			      on_tick, m);
	if (r < 0)
		return log_error_errno(r, "Failed to start the tick timer: %m");
	r = sd_event_source_set_prepare(m->tick, on_prepare);
	if (r < 0)
		return log_error_errno(r, "Failed to watch the event loop: %m");
	manager_metrics_listen(m);
	return 0;
}

int manager_reload(struct manager *m, char **ret_error) {
	struct hintd_config *c = NULL;
	char *error = NULL;
	int r;

	r = config_load(m->config_path, m->config_dir, &c, &error);
	if (r < 0) {
		log_error("Configuration not reloaded, keeping the old one: %s", error ? error : strerror(-r));
		if (ret_error)
			*ret_error = error;
		else
			free(error);
		return r;
	}
	manager_use_config(m, c);
	manager_metrics_listen(m);
	log_info("Configuration reloaded");
	return 0;
}

int manager_set_vm_settings(struct manager *m, struct vm *vm, const struct vm_settings *s, bool manage) {
	if (s->shares < 1 || s->shares > 10000 || s->priority < -100 || s->priority > 100 ||
	    (s->rungs & ~RUNGS_ALL) ||
	    (s->min_memory > 0 && s->max_memory > 0 && s->min_memory > s->max_memory))
		return -EINVAL;
	vm->state.settings = *s;
	if (vm->manage != manage)
		log_info("%s: %s", vm->id.name, manage ? "managed again" : "no longer managed");
	vm->manage = manage;
	log_info("%s: settings changed: MinMemory %" PRIu64 " MiB, MaxMemory %" PRIu64
		 " MiB, Shares %u, Priority %d, Manage %s, Proactive %s", vm->id.name, s->min_memory >> 20,
		 s->max_memory >> 20, s->shares, s->priority, manage ? "yes" : "no",
		 s->proactive ? "yes" : "no");
	return 0;
}

int manager_request_reclaim(struct manager *m, struct vm *vm, uint64_t bytes) {
	usec_t now = manager_now(m);

	if (bytes == 0)
		return -EINVAL;
	/* A new request measures from here; one on top of it adds its bytes. */
	if (m->reclaim_request == 0)
		for (size_t i = 0; i < m->n_vms; i++) {
			m->vms[i]->reclaim_base_backed = m->vms[i]->state.measured.backed;
			m->vms[i]->reclaim_base_given = vm_given(m->vms[i]);
		}
	m->reclaim_asked = m->reclaim_asked + bytes >= bytes ? m->reclaim_asked + bytes : UINT64_MAX;
	m->reclaim_request = m->reclaim_request + bytes >= bytes ? m->reclaim_request + bytes : UINT64_MAX;
	m->reclaim_deadline = now + RECLAIM_REQUEST_USEC;
	if (vm)
		vm->state.reclaim_first = true;
	else
		m->reclaim_any = true;
	log_info("Reclaim of %" PRIu64 " MiB requested from %s", bytes >> 20, vm ? vm->id.name : "all VMs");
	/* Decide at once rather than at the next tick. */
	if (m->tick)
		sd_event_source_set_time(m->tick, now);
	return 0;
}

void manager_stop(struct manager *m) {
	/* Batches reported but not yet claimed go straight back to their guests;
	 * claimed ones were punched synchronously, so none is half-handled. */
	for (size_t i = 0; i < m->n_vms; i++) {
		struct vm *vm = m->vms[i];
		for (size_t j = 0; vm->agent && j < vm->batches.n; j++)
			if (vm->batches.batches[j].state == BATCH_REPORTED)
				discard_send_ack(vm, vm->batches.batches[j].id, false);
	}
	m->tick = sd_event_source_disable_unref(m->tick);
}

struct manager *manager_free(struct manager *m) {
	if (!m)
		return NULL;
	m->bus = bus_free(m->bus);
	m->metrics = metrics_http_free(m->metrics);
	vm_forget_all(m);
	free(m->vms);
	m->tick = sd_event_source_disable_unref(m->tick);
	/* The connection closes in a worker; then the pool stops. */
	if (m->virt)
		m->virt = virt_conn_free(m->virt);
	else
		worker_free(m->worker, 0);
	config_free(m->config);
	free(m->config_path);
	free(m->config_dir);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}
