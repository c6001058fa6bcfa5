/* collect.c - filling the model: the host, libvirt's statistics (read in a
 * worker, applied when they arrive) and each VM's backing. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "collect.h"
#include "discard.h"
#include "host.h"
#include "log.h"
#include "macro.h"
#include "manager-state.h"

#define STATS_INTERVAL_USEC (2 * USEC_PER_SEC)
/* malloc_trim() walks every arena and gives back each free page, which the
 * next statistics call faults in again: at most this often. */
#define TRIM_INTERVAL_USEC (30 * USEC_PER_SEC)
/* A drop_cache command not answered in this long is forgotten. */
#define DROP_CACHE_TIMEOUT_USEC (30 * USEC_PER_SEC)

double collect_rate(uint64_t now, uint64_t before, usec_t dt) {
	return now >= before && dt > 0 ? (double) (now - before) * USEC_PER_SEC / (double) dt : 0;
}

/* libvirt's view of the balloon: a decrease while hintd's target was below
 * it is what the balloon rung returned. */
void vm_balloon_seen(struct vm *vm, uint64_t actual) {
	if (!actual)
		return;
	if (actual < vm->balloon_seen && vm->state.commanded.balloon_target && vm->state.commanded.balloon_target < vm->balloon_seen)
		manager_account(vm->manager, vm, RUNG_BALLOON,
				vm->balloon_seen - MAX(actual, vm->state.commanded.balloon_target));
	vm->balloon_seen = actual;
	vm->state.measured.balloon_actual = actual;
}

/* A fall in what the guest plugged, while hintd asked for less than it had,
 * is what the shrink rung returned (QEMU discards unplugged blocks at once);
 * the rest of a fall (the guest's own doing) is not hintd's. Credited to
 * the balloon's rung: the one that resizes guests. */
void vm_virtio_mem_seen(struct vm *vm, uint64_t plugged) {
	struct vm_virtio_mem *d = &vm->state.measured.virtio_mem;
	uint64_t requested = vm->state.commanded.virtio_mem_requested;

	if (!d->block_size)
		return;
	if (plugged < d->plugged && requested < d->plugged)
		manager_account(vm->manager, vm, RUNG_BALLOON, d->plugged - MAX(plugged, requested));
	if (plugged < d->plugged)
		d->settling += d->plugged - plugged;
	if (plugged != d->plugged)
		vm->state.measured.virtio_mem.changed_at = manager_now(vm->manager);
	d->plugged = plugged;
}

/* libvirt's bulk statistics give the balloon with the plugged memory of
 * its memory devices added (its balloon event does not): the balloon's own
 * part, or 0 when the plugged size changed after the call was made (the
 * figure may be from before). Never more than the boot RAM. */
static uint64_t balloon_from_stats(const struct vm *vm, uint64_t current, usec_t submitted) {
	const struct vm_measured *s = &vm->state.measured;

	if (!s->virtio_mem.block_size)
		return current;
	if (vm->state.measured.virtio_mem.changed_at > submitted || current <= s->virtio_mem.plugged)
		return 0;
	return MIN(current - s->virtio_mem.plugged, s->max_memory - MIN(s->max_memory, s->virtio_mem.size));
}

static void apply_memstats(struct vm *vm, const struct virt_domain_stats *d, usec_t submitted) {
	const struct virt_memstats *ms = &d->ms;
	struct vm_measured *s = &vm->state.measured;

	if (!d->answered)
		return;
	vm->libvirt_seen = MAX(vm->libvirt_seen, submitted);
	vm->libvirt_stats = true;
	vm_balloon_seen(vm, balloon_from_stats(vm, ms->actual, submitted));
	/* Without an agent, the balloon driver's numbers are the guest's view. */
	if (!vm->pacing.agent_stats && ms->guest_stats) {
		s->guest = (struct guest_memory) {
			.valid = true, .total = ms->actual, .free = ms->unused,
			.available = ms->usable ? ms->usable : ms->unused,
			.cached = ms->disk_caches, .volatile_ = ms->disk_caches, .unused = ms->unused,
			.pswpin = ms->swap_in, .pgmajfault = ms->major_fault,
		};
		s->guest.stable = ms->actual - MIN(ms->actual, ms->unused + ms->disk_caches);
	}
	if (!backing_set_open(&vm->backings))
		s->backed = ms->rss;
	/* Read after the last unplug: backed shows it. */
	if (submitted > vm->state.measured.virtio_mem.changed_at)
		s->virtio_mem.settling = 0;
}

/* The worker builds and frees a record per domain in hintd's heap at every
 * statistics call: the pages go back to the system now and then, not after
 * each call, which reuses them (and trimming costs more than the call). */
static void trim_heap(struct manager *m) {
	usec_t now = manager_now(m);

	if (m->trimmed && now < m->trimmed + TRIM_INTERVAL_USEC)
		return;
	malloc_trim(0);
	m->trimmed = now;
}

static void on_stats(void *owner, const struct virt_stats *st) {
	struct manager *m = owner;

	if (st->r < 0)
		return;
	m->stats_answered = MAX(m->stats_answered, st->submitted);
	/* The domains come sorted by UUID: a lookup per VM, not a scan. */
	for (size_t j = 0; j < m->n_vms; j++) {
		const struct virt_domain_stats *d = bsearch(m->vms[j]->id.raw_uuid, st->domains, st->n,
							    sizeof *st->domains, virt_domain_stats_cmp);
		if (d)
			apply_memstats(m->vms[j], d, st->submitted);
	}
	trim_heap(m);
}

static void on_stats_0(void *owner, const struct virt_stats *st) {
	struct manager *m = owner;
	m->stats_calls[0] = NULL;
	on_stats(m, st);
}

static void on_stats_1(void *owner, const struct virt_stats *st) {
	struct manager *m = owner;
	m->stats_calls[1] = NULL;
	on_stats(m, st);
}

/* One bulk call every STATS_INTERVAL_USEC at rest (QEMU refreshes the
 * guest's balloon statistics every 2 s; the balloon's size comes by
 * events), every tick under pressure; a
 * second only while the first waits (for a QEMU that does not answer: the
 * second does not wait for it). */
void collect_libvirt(struct manager *m, usec_t now) {
	void (*done[2])(void *, const struct virt_stats *) = { on_stats_0, on_stats_1 };

	/* Under pressure, or with a balloon inflated, every tick: a guest may
	 * start allocating at any moment, and policy must see the balloon as
	 * it is now. */
	bool fast = m->reclaiming;
	for (size_t i = 0; i < m->n_vms && !fast; i++)
		fast = pacing_ballooned(&m->vms[i]->state);
	if (!fast && m->stats_sent && now < m->stats_sent + STATS_INTERVAL_USEC)
		return;
	for (size_t i = 0; i < ELEMENTSOF(m->stats_calls); i++) {
		if (m->stats_calls[i])
			continue;
		m->stats_sent = now;
		m->stats_calls[i] = virt_stats_call(m->virt, done[i], m);
		return;
	}
}

/* QEMU has not answered libvirt for this VM in time, while libvirt itself
 * answers: skipped (no balloon change) until it does. Judged by the calls
 * libvirt answered, so hintd's own pauses count against nobody. */
static void update_responsive(struct vm *vm, usec_t now) {
	struct manager *m = vm->manager;
	bool late_stats = m->stats_answered > vm->libvirt_seen + VIRT_DEADLINE_USEC;
	bool late_call = (vm->balloon_call && now > virt_call_submitted(vm->balloon_call) + VIRT_DEADLINE_USEC) ||
			 (vm->virtio_mem_call && now > virt_call_submitted(vm->virtio_mem_call) + VIRT_DEADLINE_USEC);
	bool unresponsive = m->libvirt_answering && virt_conn_connected(m->virt) && (late_stats || late_call);

	if (unresponsive != vm->unresponsive)
		log_full_errno(unresponsive ? LOG_WARNING : LOG_INFO, 0, "%s: %s", vm->id.name,
			       unresponsive ? "QEMU does not answer libvirt, skipping it until it does"
					    : "QEMU answers libvirt again");
	vm->unresponsive = unresponsive;
}

void collect_vm(struct manager *m, struct vm *vm, usec_t now) {
	struct vm_measured *s = &vm->state.measured;

	update_responsive(vm, now);
	if (backing_set_open(&vm->backings)) {
		backing_set_allocated(&vm->backings, &s->backed);
		pacing_note_backed(&vm->pacing, s->backed, now);
	}

	batch_table_expire(&vm->batches, now);
	s->hinted = batch_table_reported_bytes(&vm->batches);

	s->unused_backed = pacing_unused_backed(&vm->state);
	pacing_note_unused(&vm->pacing, s->unused_backed, now);
	s->unused_coming = pacing_unused_coming(&vm->pacing, s->unused_backed);

	if (s->guest.valid) {
		usec_t dt = vm->last_counters ? now - vm->last_counters : 0;
		s->swapin_rate = collect_rate(s->guest.pswpin, vm->last_swapin, dt);
		s->majfault_rate = collect_rate(s->guest.pgmajfault, vm->last_majfault, dt);
		s->refault_rate = collect_rate(s->guest.workingset_refault, vm->last_refault, dt);
		s->cache_refault_rate = collect_rate(s->guest.workingset_refault_file,
						     vm->last_refault_file, dt);
		vm->last_swapin = s->guest.pswpin;
		vm->last_majfault = s->guest.pgmajfault;
		vm->last_refault = s->guest.workingset_refault;
		vm->last_refault_file = s->guest.workingset_refault_file;
		vm->last_counters = now;
	}
	vm->state.accounted.cold_cap = pacing_cold_left(&vm->pacing, s->guest.cold, now);
	vm->state.accounted.cold_capped = vm->state.accounted.cold_cap < s->guest.cold;
	if (vm->drop_cache_id >= 0 && now - vm->drop_cache_sent > DROP_CACHE_TIMEOUT_USEC) {
		vm->drop_cache_id = -1;
		vm->state.accounted.cache_unreturned = true;
	}
	/* What a drop freed that comes back in whole chunks does so within a
	 * second or two; the rest lies scattered and waits for finer hints:
	 * after CACHE_COMING_USEC it no longer holds off the next request. */
	vm->state.accounted.cache_coming =
		vm->volatile_window_end &&
		now + VOLATILE_WINDOW_USEC < vm->volatile_window_end + CACHE_COMING_USEC
			? vm->volatile_credit : 0;
	if (vm->volatile_window_end && now >= vm->volatile_window_end) {
		/* A drop's window closed with nothing of it seen on the host. */
		if (vm->volatile_said > 0 && vm->volatile_credit == vm->volatile_said)
			vm->state.accounted.cache_unreturned = true;
		vm->volatile_window_end = 0;
	}
}

static void collect_budget(struct manager *m) {
	struct host_state *h = &m->host;
	uint64_t usage, limit;
	int r;

	if (!m->config->budget_cgroup) {
		if (m->config->budget == 0)
			return;
		h->budget_set = true;
		h->budget_limit = m->config->budget;
		h->budget_usage = 0;
		for (size_t i = 0; i < m->n_vms; i++) {
			const struct vm *vm = m->vms[i];
			/* Measured from libvirt's statistics, none yet: counted
			 * whole, not as nothing (which would look like slack). */
			bool unknown = !backing_set_open(&vm->backings) && !vm->libvirt_stats;

			h->budget_usage += unknown ? vm->state.measured.max_memory : vm->state.measured.backed;
		}
		return;
	}
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
}

int collect_host(struct manager *m) {
	struct host_state *h = &m->host;
	int r;

	r = host_read_meminfo(m->meminfo_path, &h->mem_total, &h->mem_available);
	if (r < 0)
		return log_error_errno(r, "Failed to read %s: %m", m->meminfo_path);
	if (host_read_psi(m->psi_path, &h->psi_some_avg10, &h->psi_full_avg10) < 0)
		h->psi_some_avg10 = h->psi_full_avg10 = 0;
	h->budget_set = false;
	collect_budget(m);
	return 0;
}
