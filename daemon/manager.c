/* manager.c - see manager.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libvirt/virterror.h>
#include "host.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "virt-event.h"

#define LIBVIRT_RETRY_USEC (5 * USEC_PER_SEC)
#define BALLOON_STATS_PERIOD_SEC 2
/* While the host reclaims or a balloon is inflated, a guest may start
 * allocating at any moment: tick and hear from ballooned guests faster. */
#define FAST_TICK_USEC (250 * USEC_PER_MSEC)
#define FAST_STATS_MS 250
#define NORMAL_STATS_MS 1000
/* A guest with an agent channel gets this long to say hello before policy
 * decides about it: without its hints and cache, the balloon would be the
 * only rung left. */
#define AGENT_SETTLE_USEC (5 * USEC_PER_SEC)
/* A guest with this much free memory still backed is asked to report it at
 * once, at most every GIVE_INTERVAL_USEC: the kernel reports free memory
 * 2 s after it appears, and at most 32 chunks per order per pass. */
#define GIVE_MIN_BYTES MiB(32)
/* ...once it has stayed free that long: memory a program frees and takes
 * again at once is not worth discarding and faulting back in. */
#define GIVE_SETTLE_USEC (1 * USEC_PER_SEC)
#define GIVE_INTERVAL_USEC (1 * USEC_PER_SEC)
/* A drop_cache command not answered in this long is forgotten. */
#define DROP_CACHE_TIMEOUT_USEC (30 * USEC_PER_SEC)

static const struct agent_callbacks agent_callbacks;

static usec_t now_usec(struct manager *m) {
	uint64_t t;
	sd_event_now(m->event, CLOCK_MONOTONIC, &t);
	return t;
}

static usec_t realtime_usec(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static void vm_note(struct vm *vm, const char *reason) {
	snprintf(vm->last_decision, sizeof vm->last_decision, "%s", reason);
	vm->last_decision_usec = realtime_usec();
}

static void reclaim_request_clear(struct manager *m) {
	m->reclaim_request = 0;
	m->reclaim_any = false;
	for (size_t i = 0; i < m->n_vms; i++)
		m->vms[i]->state.reclaim_first = false;
}

/* Bytes a rung gave back from vm: counted, set against a pending request,
 * announced. */
static void account_reclaimed(struct manager *m, struct vm *vm, enum rung rung, uint64_t bytes) {
	if (bytes == 0)
		return;
	vm->state.reclaimed[rung] += bytes;
	m->reclaimed[rung] += bytes;
	if (m->reclaim_request > 0 && (m->reclaim_any || vm->state.reclaim_first)) {
		m->reclaim_request -= MIN(m->reclaim_request, bytes);
		if (m->reclaim_request == 0) {
			log_info("Requested reclaim done");
			reclaim_request_clear(m);
		}
	}
	bus_emit_reclaimed(m, vm, rung, bytes);
}

/* ---- VMs ---------------------------------------------------------------- */

/* The discard path needs QEMU's pid, its RAM backing and the layout. */
static void vm_open_discard_path(struct vm *vm) {
	int r;

	if (!vm->info.shared_file_backing) {
		snprintf(vm->discard_reason, sizeof vm->discard_reason,
			 "guest RAM is not a shared file mapping (add <memoryBacking><source type='memfd'/>"
			 "<access mode='shared'/></memoryBacking>)");
		return;
	}
	r = qemu_pid_by_uuid("/proc", vm->info.uuid, &vm->qemu_pid);
	if (r < 0) {
		snprintf(vm->discard_reason, sizeof vm->discard_reason,
			 "QEMU process not found (%s)", strerror(-r));
		return;
	}
	r = backing_open(vm->qemu_pid, vm->info.max_memory, &vm->backing,
			 vm->discard_reason, sizeof vm->discard_reason);
	if (r < 0)
		return;
	r = virt_ram_map(vm->dom, vm->backing.size, &vm->map, vm->discard_reason,
			 sizeof vm->discard_reason);
	if (r < 0) {
		backing_close(&vm->backing);
		return;
	}
	vm->state.discard_capable = true;
	vm->discard_reason[0] = '\0';
}

static void vm_apply_settings(struct manager *m, struct vm *vm) {
	config_vm_settings(m->config, vm->info.name, &vm->state.settings, &vm->manage);
}

static struct vm *vm_free(struct vm *vm) {
	if (!vm)
		return NULL;
	vm->agent = agent_free(vm->agent);
	batch_table_done(&vm->batches);
	backing_close(&vm->backing);
	if (vm->dom)
		virDomainFree(vm->dom);
	free(vm);
	return NULL;
}

static int vm_new(struct manager *m, virDomainPtr dom, struct vm **ret) {
	struct vm *vm = calloc(1, sizeof *vm);
	int r;

	if (!vm)
		return -ENOMEM;
	vm->manager = m;
	vm->added = now_usec(m);
	vm->backing.fd = -1;
	vm->drop_cache_id = -1;
	virDomainRef(dom);
	vm->dom = dom;
	r = virt_domain_info(dom, &vm->info);
	if (r < 0) {
		vm_free(vm);
		return r;
	}
	snprintf(vm->state.name, sizeof vm->state.name, "%s", vm->info.name);
	vm->state.running = true;
	vm->state.max_memory = vm->info.max_memory;
	vm->state.balloon_actual = vm->info.max_memory;
	vm_apply_settings(m, vm);

	vm_open_discard_path(vm);
	batch_table_init(&vm->batches, 0, NULL);
	/* Until the first plan, take hints as policy would without pressure:
	 * releasing them makes the guest offer the same chunks first on every
	 * later pass, which stalls its reporting. */
	vm->accept_hints = m->policy.discard_unused == DISCARD_ALWAYS;

	if (vm->info.agent_socket[0]) {
		r = agent_new(m->event, vm->info.agent_socket, vm->info.name, &agent_callbacks, vm, &vm->agent);
		if (r < 0)
			log_warning_errno(r, "%s: cannot watch the agent channel: %m", vm->info.name);
	}
	vm->state.agent = vm->agent ? agent_get_state(vm->agent) : AGENT_ABSENT;
	if (vm->info.balloon)
		virt_set_stats_period(dom, BALLOON_STATS_PERIOD_SEC);

	log_info("%s: managing (max %" PRIu64 " MiB, %s, agent %s)%s%s", vm->info.name,
		 vm->info.max_memory >> 20,
		 vm->state.discard_capable ? "discard capable" : "balloon only",
		 vm->info.agent_socket[0] ? "channel present" : "absent",
		 vm->discard_reason[0] ? ": " : "", vm->discard_reason);
	*ret = vm;
	return 0;
}

struct vm *manager_find_vm(struct manager *m, const char *name) {
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->info.name, name) == 0)
			return m->vms[i];
	return NULL;
}

static void manager_add_domain(struct manager *m, virDomainPtr dom) {
	struct vm *vm, **vms;
	const char *name = virDomainGetName(dom);

	if (!name || manager_find_vm(m, name) || virDomainIsActive(dom) != 1)
		return;
	vms = realloc(m->vms, (m->n_vms + 1) * sizeof *vms);
	if (!vms)
		return;
	m->vms = vms;
	if (vm_new(m, dom, &vm) < 0)
		return;
	m->vms[m->n_vms++] = vm;
	bus_machine_added(m, vm);
}

static void manager_remove_vm(struct manager *m, const char *name) {
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->info.name, name) == 0) {
			log_info("%s: stopped, forgetting it", name);
			bus_machine_removed(m, m->vms[i]);
			vm_free(m->vms[i]);
			m->vms[i] = m->vms[--m->n_vms];
			return;
		}
}

/* ---- agent messages ----------------------------------------------------- */

static void send_ack(struct vm *vm, uint64_t batch, bool discarded) {
	struct hint_msg ack = { .type = HINT_MSG_ACK, .ack = { .batch = batch, .discarded = discarded } };
	agent_send(vm->agent, &ack);
}

/* The guest confirmed a claim: punch every range, then acknowledge. */
static void punch_batch(struct vm *vm, struct batch *b) {
	struct manager *m = vm->manager;
	uint64_t freed = 0, id = b->id;
	bool ok = true;

	for (unsigned i = 0; i < b->n_ranges && ok; i++) {
		uint64_t f = 0;
		/* Re-checked before every punch: a slow batch must not outlive the claim. */
		if (!batch_may_punch(b, now_usec(m))) {
			ok = false;
			break;
		}
		int r = backing_discard(&vm->backing, b->ranges[i].offset, b->ranges[i].len, &f);
		if (r < 0) {
			log_warning_errno(r, "%s: discard of 0x%" PRIx64 "+0x%" PRIx64 " failed: %m",
					  vm->info.name, b->ranges[i].gpa, b->ranges[i].len);
			ok = false;
		}
		freed += f;
	}
	batch_table_remove(&vm->batches, id);
	account_reclaimed(m, vm, RUNG_UNUSED, freed);
	/* Acknowledged as discarded even when part failed: what was punched is
	 * zero now, which is what a free page may hold. */
	send_ack(vm, id, freed > 0 || ok);
	/* The kernel reports a few dozen chunks a pass, then waits 2 s: while
	 * much is still free and backed, ask for the next pass at once. A big
	 * batch says so too, before the guest's next stats can: it was likely
	 * cut at the pass's limit. */
	vm->state.unused_backed = vm->state.unused_backed > freed ? vm->state.unused_backed - freed : 0;
	if ((vm->state.unused_backed >= GIVE_MIN_BYTES || freed >= GIVE_MIN_BYTES) && !m->dry_run) {
		agent_send_cmd(vm->agent, (struct hint_cmd) {
			.name = HINT_CMD_GIVE, .bytes = MAX(vm->state.unused_backed, freed) });
		vm->give_sent = now_usec(m);
	}
	log_debug("%s: batch %" PRIu64 ": %" PRIu64 " KiB returned", vm->info.name, id, freed >> 10);
}

static void on_hints(struct vm *vm, const struct hint_hints *h) {
	struct manager *m = vm->manager;
	char err[256];
	int r;

	r = batch_table_add(&vm->batches, h, now_usec(m), err, sizeof err);
	if (r < 0) {
		/* Bad batches are not acknowledged: the guest's ttl gives them
		 * back. A guest that keeps sending bad ones is cut off. */
		if (r == -EEXIST || r == -EADDRINUSE || r == -ERANGE || r == -EINVAL)
			agent_reject(vm->agent, err);
		else {
			/* Too many in flight, or no discard path: a fair request
			 * declined, so the guest can use the pages at once. */
			log_debug("%s: hints declined: %s", vm->info.name, err);
			send_ack(vm, h->batch, false);
		}
		return;
	}
	if (!vm->accept_hints || m->dry_run || !vm->manage) {
		batch_table_remove(&vm->batches, h->batch);
		send_ack(vm, h->batch, false);
		return;
	}
	struct hint_msg claim = { .type = HINT_MSG_CLAIM, .claim = { .batch = h->batch } };
	if (batch_table_claim_sent(&vm->batches, h->batch) == 0)
		agent_send(vm->agent, &claim);
}

static void on_claimed(struct vm *vm, const struct hint_claimed *c) {
	struct batch *b;
	int r;

	b = batch_table_claimed(&vm->batches, c->batch, c->ok, now_usec(vm->manager), &r);
	if (r < 0) {
		char err[128];
		snprintf(err, sizeof err, "\"claimed\" for batch %" PRIu64 " that was not claimed", c->batch);
		agent_reject(vm->agent, err);
		return;
	}
	if (b)
		punch_batch(vm, b);
}

static void on_stats(struct vm *vm, const struct hint_stats *s) {
	struct guest_memory *g = &vm->state.guest;

	vm->agent_stats = true;
	*g = (struct guest_memory) {
		.valid = true,
		.total = s->mem.total, .free = s->mem.free, .available = s->mem.available,
		.cached = s->mem.cached, .dirty = s->mem.dirty, .mlocked = s->mem.mlocked,
		.psi_some_avg10 = (double) s->psi.some_avg10_permyriad / 100.0,
		.psi_full_avg10 = (double) s->psi.full_avg10_permyriad / 100.0,
		.pgmajfault = s->vmstat.pgmajfault, .pswpin = s->vmstat.pswpin,
		.pswpout = s->vmstat.pswpout,
		.workingset_refault = s->vmstat.workingset_refault_file + s->vmstat.workingset_refault_anon,
	};
	if (s->has_pages) {
		g->unused = s->pages.unused;
		g->volatile_ = s->pages.volatile_;
		g->stable = s->pages.stable;
		g->mlocked = s->pages.mlocked;
	} else {
		/* Without the module: clean cache is what is cached and not dirty. */
		g->unused = s->mem.free;
		g->volatile_ = s->mem.cached > s->mem.dirty ? s->mem.cached - s->mem.dirty : 0;
		g->stable = s->mem.total - MIN(s->mem.total, s->mem.free + g->volatile_);
	}
}

static void on_reply(struct vm *vm, const struct hint_reply *r) {
	struct manager *m = vm->manager;

	if ((int64_t) r->id != vm->drop_cache_id)
		return;
	vm->drop_cache_id = -1;
	if (!r->ok) {
		log_warning("%s: drop_cache failed: %s", vm->info.name, r->error);
		return;
	}
	for (unsigned i = 0; i < r->n_result; i++)
		if (strcmp(r->result[i].key, "freed") == 0) {
			account_reclaimed(m, vm, RUNG_VOLATILE, r->result[i].value);
			log_info("%s: guest dropped %" PRIu64 " MiB of clean cache", vm->info.name,
				 r->result[i].value >> 20);
		}
}

static void on_agent_message(struct agent *a, const struct hint_msg *msg, void *userdata) {
	struct vm *vm = userdata;

	switch (msg->type) {
	case HINT_MSG_HELLO:
		vm->state.module = msg->hello.module;
		if (batch_table_init(&vm->batches, msg->hello.module ? msg->hello.granularity : 0,
				     vm->state.discard_capable ? &vm->map : NULL) < 0)
			log_error("%s: out of memory for hint batches, not taking any", vm->info.name);
		/* A repeated hello is answered, not logged again: a guest must not
		 * be able to fill the log with valid messages either. */
		log_full_errno(agent_get_state(a) == AGENT_CONNECTED ? LOG_DEBUG : LOG_INFO, 0,
			       "%s: agent %s connected (module: %s)", vm->info.name, msg->hello.agent,
			       msg->hello.module ? "active" : msg->hello.module_status);
		agent_set_connected(a);
		break;
	case HINT_MSG_STATS:
		on_stats(vm, &msg->stats);
		break;
	case HINT_MSG_HINTS:
		if (agent_get_state(a) != AGENT_CONNECTED) {
			agent_reject(a, "hints before hello");
			return;
		}
		on_hints(vm, &msg->hints);
		break;
	case HINT_MSG_CLAIMED:
		on_claimed(vm, &msg->claimed);
		break;
	case HINT_MSG_REPLY:
		on_reply(vm, &msg->reply);
		break;
	default:
		break;
	}
}

static void on_agent_state(struct agent *a, enum agent_state s, void *userdata) {
	struct vm *vm = userdata;

	vm->state.agent = s;
	if (s != AGENT_CONNECTED) {
		/* Whatever was in flight went back to the guest with the connection:
		 * the agent releases unclaimed batches, the module times out the rest. */
		batch_table_init(&vm->batches, 0, NULL);
		vm->state.guest.valid = false;
		vm->state.module = false;
		vm->drop_cache_id = -1;
		vm->fast_stats = false;	/* a new agent starts at its own pace */
		vm->agent_stats = false;
	}
}

static const struct agent_callbacks agent_callbacks = {
	.message = on_agent_message,
	.state_changed = on_agent_state,
};

/* ---- collect ------------------------------------------------------------ */

/* Its agent has not yet told what the guest holds (hello, then stats). */
static bool vm_settling(const struct vm *vm, usec_t now) {
	return vm->agent && !vm->agent_stats && now - vm->added < AGENT_SETTLE_USEC;
}

static double rate(uint64_t now, uint64_t before, usec_t dt) {
	return now >= before && dt > 0 ? (double) (now - before) * USEC_PER_SEC / (double) dt : 0;
}

static void collect_vm(struct manager *m, struct vm *vm, usec_t now) {
	struct vm_state *s = &vm->state;
	struct virt_memstats ms;

	if (virt_memstats(vm->dom, &ms) == 0) {
		if (ms.actual)
			s->balloon_actual = ms.actual;
		/* Without an agent, the balloon driver's numbers are the guest's view. */
		if (!vm->agent_stats && ms.guest_stats) {
			s->guest = (struct guest_memory) {
				.valid = true, .total = ms.actual, .free = ms.unused,
				.available = ms.usable ? ms.usable : ms.unused,
				.cached = ms.disk_caches, .volatile_ = ms.disk_caches, .unused = ms.unused,
				.pswpin = ms.swap_in, .pgmajfault = ms.major_fault,
			};
			s->guest.stable = ms.actual - MIN(ms.actual, ms.unused + ms.disk_caches);
		}
		if (vm->backing.fd < 0)
			s->backed = ms.rss;
	}
	if (vm->backing.fd >= 0)
		backing_allocated(&vm->backing, &s->backed);

	batch_table_expire(&vm->batches, now);
	s->hinted = batch_table_reported_bytes(&vm->batches);

	/* Of the guest's free memory, at least free - (RAM - backed) is backed. */
	s->unused_backed = 0;
	if (s->agent == AGENT_CONNECTED && s->module && s->discard_capable && s->guest.valid &&
	    s->backed + s->guest.free > s->max_memory)
		s->unused_backed = s->backed + s->guest.free - s->max_memory;
	if (s->unused_backed < GIVE_MIN_BYTES)
		vm->unused_since = 0;
	else if (!vm->unused_since)
		vm->unused_since = now;

	if (s->guest.valid) {
		usec_t dt = vm->last_counters ? now - vm->last_counters : 0;
		s->swapin_rate = rate(s->guest.pswpin, vm->last_swapin, dt);
		s->majfault_rate = rate(s->guest.pgmajfault, vm->last_majfault, dt);
		s->refault_rate = rate(s->guest.workingset_refault, vm->last_refault, dt);
		vm->last_swapin = s->guest.pswpin;
		vm->last_majfault = s->guest.pgmajfault;
		vm->last_refault = s->guest.workingset_refault;
		vm->last_counters = now;
	}
	if (vm->drop_cache_id >= 0 && now - vm->drop_cache_sent > DROP_CACHE_TIMEOUT_USEC)
		vm->drop_cache_id = -1;
}

static int collect_host(struct manager *m) {
	struct host_state *h = &m->host;
	int r;

	r = host_read_meminfo(m->meminfo_path, &h->mem_total, &h->mem_available);
	if (r < 0)
		return log_error_errno(r, "Failed to read %s: %m", m->meminfo_path);
	if (host_read_psi(m->psi_path, &h->psi_some_avg10, &h->psi_full_avg10) < 0)
		h->psi_some_avg10 = h->psi_full_avg10 = 0;

	h->budget_set = false;
	if (m->config->budget_cgroup) {
		uint64_t usage, limit;
		r = host_read_cgroup(m->config->budget_cgroup, &usage, &limit);
		/* Said once when it goes, once when it is back: not every tick. */
		if (r < 0 && !m->budget_cgroup_lost)
			log_warning_errno(r, "Failed to read budget cgroup %s: %m, using host memory until it is back",
					  m->config->budget_cgroup);
		else if (r >= 0 && m->budget_cgroup_lost)
			log_info("Budget cgroup %s readable again", m->config->budget_cgroup);
		m->budget_cgroup_lost = r < 0;
		if (r >= 0 && limit != UINT64_MAX) {
			h->budget_set = true;
			h->budget_limit = limit;
			h->budget_usage = usage;
		}
	} else if (m->config->budget > 0) {
		h->budget_set = true;
		h->budget_limit = m->config->budget;
		h->budget_usage = 0;
		for (size_t i = 0; i < m->n_vms; i++)
			h->budget_usage += m->vms[i]->state.backed;
	}
	return 0;
}

/* ---- act ---------------------------------------------------------------- */

static void apply_action(struct manager *m, struct vm *vm, const struct action *a) {
	bool changed = false;

	switch (a->kind) {
	case ACTION_HINTS:
		vm->accept_hints = a->accept;
		/* Taking hints: ask the guest to report its free memory now
		 * rather than at the kernel's own pace. */
		if (a->accept && vm->unused_since && now_usec(m) - vm->unused_since >= GIVE_SETTLE_USEC &&
		    vm->agent && !m->dry_run && now_usec(m) - vm->give_sent >= GIVE_INTERVAL_USEC) {
			agent_send_cmd(vm->agent, (struct hint_cmd) {
				.name = HINT_CMD_GIVE, .bytes = vm->state.unused_backed });
			vm->give_sent = now_usec(m);
		}
		return;
	case ACTION_DROP_CACHE:
		if (!vm->agent || vm->drop_cache_id >= 0 || m->dry_run)
			break;
		vm->drop_cache_id = agent_send_cmd(vm->agent, (struct hint_cmd) {
			.name = HINT_CMD_DROP_CACHE, .bytes = a->bytes });
		vm->drop_cache_sent = now_usec(m);
		changed = vm->drop_cache_id > 0;
		break;
	case ACTION_BALLOON:
		if (a->bytes == vm->state.balloon_target)
			return;
		if (!m->dry_run && virt_set_balloon(vm->dom, a->bytes) < 0)
			break;
		vm->state.balloon_target = a->bytes;
		if (a->bytes < vm->state.balloon_actual)
			account_reclaimed(m, vm, RUNG_BALLOON, vm->state.balloon_actual - a->bytes);
		changed = true;
		break;
	}
	if (changed || m->dry_run)
		log_info("%s: %s%s", vm->info.name, m->dry_run ? "(dry run) " : "", a->reason);
	vm_note(vm, a->reason);
}

/* Bytes per second each rung gave back since the previous tick. */
static void update_rates(struct manager *m, usec_t now) {
	for (unsigned r = 0; r < _RUNG_MAX; r++) {
		m->rate[r] = m->rate_base_usec ? rate(m->reclaimed[r], m->rate_base[r],
						      now - m->rate_base_usec) : 0;
		m->rate_base[r] = m->reclaimed[r];
	}
	m->rate_base_usec = now;
}

int manager_tick(struct manager *m) {
	_cleanup_free_ struct vm_state *states = NULL;
	_cleanup_free_ struct policy_vm_history *hist = NULL;
	struct plan plan;
	usec_t now = now_usec(m);
	uint64_t low, high;
	int r;

	update_rates(m, now);
	for (size_t i = 0; i < m->n_vms; i++)
		collect_vm(m, m->vms[i], now);
	r = collect_host(m);
	if (r < 0)
		return r;
	if (m->reclaim_request > 0 && now >= m->reclaim_deadline) {
		log_info("Requested reclaim lapsed with %" PRIu64 " MiB not reclaimed",
			 m->reclaim_request >> 20);
		reclaim_request_clear(m);
	}
	m->host.reclaim_request = m->reclaim_request;

	r = config_resolve_watermarks(m->config,
				      m->host.budget_set ? m->host.budget_limit : m->host.mem_total,
				      &low, &high);
	if (r < 0)
		return log_error_errno(r, "Watermarks do not fit: %m");
	m->policy.low_watermark = low;
	m->policy.high_watermark = high;

	/* Policy sees only the VMs hintd may touch and knows enough about. */
	states = calloc(m->n_vms + 1, sizeof *states);
	hist = calloc(m->n_vms + 1, sizeof *hist);
	if (!states || !hist)
		return -ENOMEM;
	size_t n = 0, settling = 0, index[m->n_vms + 1];
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
	/* Right after start every agent is settling: decide nothing until
	 * they have spoken, or the host would be reclaimed by balloon alone. */
	if (settling > 0 && now - m->connected < AGENT_SETTLE_USEC) {
		snprintf(m->plan_reason, sizeof m->plan_reason,
			 "waiting for %zu agent%s to connect", settling, settling == 1 ? "" : "s");
		m->last_tick = now;
		return 0;
	}
	m->history.vm = hist;
	r = policy_decide(&m->policy, &m->host, states, n, &m->history, now, &plan);
	if (r < 0)
		return log_error_errno(r, "Policy refused to decide: %m");
	if (m->reclaiming != m->history.reclaiming) {
		m->reclaiming = m->history.reclaiming;
		bus_emit_pressure_changed(m, m->reclaiming, plan.free, plan.need);
	}
	snprintf(m->plan_reason, sizeof m->plan_reason, "%s", plan.reason);

	for (size_t i = 0; i < n; i++)
		m->vms[index[i]]->history = hist[i];
	for (size_t i = 0; i < plan.n_actions; i++)
		apply_action(m, m->vms[index[plan.actions[i].vm]], &plan.actions[i]);
	plan_done(&plan);
	m->last_tick = now;
	return 0;
}

/* Inflated by anyone (hintd, an admin, a previous hintd): the guest may run
 * short as soon as it allocates. */
static bool vm_ballooned(const struct vm *vm) {
	return vm->state.balloon_actual + MiB(1) < vm->state.max_memory ||
	       (vm->state.balloon_target > 0 && vm->state.balloon_target < vm->state.max_memory);
}

/* Ballooned guests report every FAST_STATS_MS, the others at the normal pace. */
static void update_stats_pace(struct vm *vm) {
	bool fast = vm_ballooned(vm);

	if (!vm->agent || agent_get_state(vm->agent) != AGENT_CONNECTED || fast == vm->fast_stats)
		return;
	if (agent_send_cmd(vm->agent, (struct hint_cmd) { .name = HINT_CMD_STATS_INTERVAL,
			   .ms = fast ? FAST_STATS_MS : NORMAL_STATS_MS }) > 0)
		vm->fast_stats = fast;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
	struct manager *m = userdata;
	usec_t interval = m->config->tick_interval_usec;

	manager_tick(m);
	bus_emit_changes(m);
	for (size_t i = 0; i < m->n_vms; i++) {
		update_stats_pace(m->vms[i]);
		if (m->reclaiming || vm_ballooned(m->vms[i]))
			interval = MIN(interval, FAST_TICK_USEC);
	}
	sd_event_source_set_time(s, usec + interval);
	return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* ---- libvirt ------------------------------------------------------------ */

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
	struct manager *m = opaque;

	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		manager_add_domain(m, dom);
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
	case VIR_DOMAIN_EVENT_CRASHED:
		manager_remove_vm(m, virDomainGetName(dom));
		break;
	default:
		break;
	}
	return 0;
}

static int libvirt_connect(struct manager *m);

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
	struct manager *m = userdata;
	m->reconnect = sd_event_source_disable_unref(m->reconnect);
	libvirt_connect(m);
	return 0;
}

static void schedule_reconnect(struct manager *m) {
	if (m->reconnect)
		return;
	sd_event_add_time(m->event, &m->reconnect, CLOCK_MONOTONIC,
			  now_usec(m) + LIBVIRT_RETRY_USEC, 0, on_reconnect, m);
}

static void forget_all_vms(struct manager *m) {
	while (m->n_vms > 0) {
		bus_machine_removed(m, m->vms[m->n_vms - 1]);
		vm_free(m->vms[--m->n_vms]);
	}
}

/* Runs from the loop, not inside libvirt's close callback, which must not
 * close the connection it reports. */
static int on_libvirt_lost(sd_event_source *s, void *userdata) {
	struct manager *m = userdata;

	sd_event_source_disable_unref(s);
	log_warning("libvirt connection lost, reconnecting");
	forget_all_vms(m);
	if (m->conn) {
		virConnectClose(m->conn);
		m->conn = NULL;
	}
	schedule_reconnect(m);
	return 0;
}

static void on_libvirt_closed(virConnectPtr conn, int reason, void *opaque) {
	struct manager *m = opaque;
	sd_event_source *s = NULL;

	if (sd_event_add_defer(m->event, &s, on_libvirt_lost, m) < 0)
		log_error("Cannot handle the loss of the libvirt connection");
}

static int libvirt_connect(struct manager *m) {
	virDomainPtr *domains = NULL;
	int n;

	m->conn = virConnectOpen(m->uri);
	if (!m->conn) {
		virt_error("Failed to connect to libvirt at", m->uri);
		schedule_reconnect(m);
		return -ECONNREFUSED;
	}
	virConnectSetKeepAlive(m->conn, 5, 3);
	virConnectRegisterCloseCallback(m->conn, on_libvirt_closed, m, NULL);
	m->lifecycle_callback = virConnectDomainEventRegisterAny(
		m->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), m, NULL);
	if (m->lifecycle_callback < 0)
		virt_error("Failed to follow domain events at", m->uri);

	n = virConnectListAllDomains(m->conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return virt_error("Failed to list domains at", m->uri);
	for (int i = 0; i < n; i++) {
		manager_add_domain(m, domains[i]);
		virDomainFree(domains[i]);
	}
	free(domains);
	m->connected = now_usec(m);
	log_info("Connected to %s: %zu running domains", m->uri, m->n_vms);
	return 0;
}

/* ---- life --------------------------------------------------------------- */

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
	m->uri = strdup(config->uri ? config->uri : "qemu:///system");
	m->lifecycle_callback = -1;
	manager_use_config(m, config);
	*ret = m;
	return 0;
}

int manager_start(struct manager *m) {
	int r;

	virt_silence_errors();
	virt_event_register(m->event);
	libvirt_connect(m);
	r = sd_event_add_time(m->event, &m->tick, CLOCK_MONOTONIC, now_usec(m), 10 * USEC_PER_MSEC,
			      on_tick, m);
	if (r < 0)
		return log_error_errno(r, "Failed to start the tick timer: %m");
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
	log_info("Configuration reloaded");
	return 0;
}

int manager_set_vm_settings(struct manager *m, struct vm *vm, const struct vm_settings *s,
			    bool manage) {
	if (s->shares < 1 || s->shares > 10000 || s->priority < -100 || s->priority > 100 ||
	    (s->rungs & ~RUNGS_ALL) ||
	    (s->min_memory > 0 && s->max_memory > 0 && s->min_memory > s->max_memory))
		return -EINVAL;
	vm->state.settings = *s;
	if (vm->manage != manage)
		log_info("%s: %s", vm->info.name, manage ? "managed again" : "no longer managed");
	vm->manage = manage;
	log_info("%s: settings changed: MinMemory %" PRIu64 " MiB, MaxMemory %" PRIu64
		 " MiB, Shares %u, Priority %d, Manage %s", vm->info.name, s->min_memory >> 20,
		 s->max_memory >> 20, s->shares, s->priority, manage ? "yes" : "no");
	return 0;
}

int manager_request_reclaim(struct manager *m, struct vm *vm, uint64_t bytes) {
	usec_t now = now_usec(m);

	if (bytes == 0)
		return -EINVAL;
	m->reclaim_request = m->reclaim_request + bytes >= bytes ? m->reclaim_request + bytes
								 : UINT64_MAX;
	m->reclaim_deadline = now + RECLAIM_REQUEST_USEC;
	if (vm)
		vm->state.reclaim_first = true;
	else
		m->reclaim_any = true;
	log_info("Reclaim of %" PRIu64 " MiB requested from %s", bytes >> 20,
		 vm ? vm->info.name : "all VMs");
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
				send_ack(vm, vm->batches.batches[j].id, false);
	}
	m->tick = sd_event_source_disable_unref(m->tick);
}

struct manager *manager_free(struct manager *m) {
	if (!m)
		return NULL;
	bus_close(m);
	forget_all_vms(m);
	free(m->vms);
	m->tick = sd_event_source_disable_unref(m->tick);
	m->reconnect = sd_event_source_disable_unref(m->reconnect);
	if (m->conn) {
		if (m->lifecycle_callback >= 0)
			virConnectDomainEventDeregisterAny(m->conn, m->lifecycle_callback);
		virConnectUnregisterCloseCallback(m->conn, on_libvirt_closed);
		int refs = virConnectClose(m->conn);
		if (refs != 0)
			log_debug("libvirt connection still has %d references at exit", refs);
	}
	virt_event_unregister();
	config_free(m->config);
	free(m->config_path);
	free(m->config_dir);
	free(m->uri);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}

int manager_dump(struct manager *m, char **ret) {
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	fprintf(f, "host: total %" PRIu64 " MiB, available %" PRIu64 " MiB, psi some %.2f%%\n",
		m->host.mem_total >> 20, m->host.mem_available >> 20, m->host.psi_some_avg10);
	if (m->host.budget_set)
		fprintf(f, "budget: %" PRIu64 " MiB used of %" PRIu64 " MiB\n",
			m->host.budget_usage >> 20, m->host.budget_limit >> 20);
	fprintf(f, "watermarks: low %" PRIu64 " MiB, high %" PRIu64 " MiB; %s\n",
		m->policy.low_watermark >> 20, m->policy.high_watermark >> 20,
		m->reclaiming ? "reclaiming" : "idle");
	fprintf(f, "reclaimed: unused %" PRIu64 " MiB, volatile %" PRIu64 " MiB, balloon %" PRIu64 " MiB\n",
		m->reclaimed[RUNG_UNUSED] >> 20, m->reclaimed[RUNG_VOLATILE] >> 20,
		m->reclaimed[RUNG_BALLOON] >> 20);
	fprintf(f, "plan: %s\n", m->plan_reason);
	if (m->reclaim_request > 0)
		fprintf(f, "requested reclaim: %" PRIu64 " MiB still to come from %s\n",
			m->reclaim_request >> 20, m->reclaim_any ? "any VM" : "the VMs named");
	for (size_t i = 0; i < m->n_vms; i++) {
		const struct vm *vm = m->vms[i];
		const struct vm_state *s = &vm->state;
		fprintf(f, "vm %s: max %" PRIu64 " MiB, actual %" PRIu64 " MiB, backed %" PRIu64
			" MiB, agent %s, module %s, discard %s%s%s\n",
			s->name, s->max_memory >> 20, s->balloon_actual >> 20, s->backed >> 20,
			agent_state_to_string(s->agent), s->module ? "yes" : "no",
			s->discard_capable ? "yes" : "no", vm->discard_reason[0] ? ": " : "",
			vm->discard_reason);
		if (vm->last_decision[0])
			fprintf(f, "  last decision: %s\n", vm->last_decision);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}
