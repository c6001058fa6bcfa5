/* actuate.c - carrying out the plan: hints taken or not, cache drops asked
 * of guests, balloon targets and virtio-mem requested sizes sent to libvirt
 * (in a worker), and the pace of each agent's stats. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include "actuate.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "manager-state.h"


static void vm_note(struct vm *vm, const char *reason) {
	snprintf(vm->last_decision, sizeof vm->last_decision, "%s", reason);
	vm->last_decision_usec = clock_usec(CLOCK_REALTIME);
}

static void start_balloon_call(struct vm *vm, uint64_t bytes);

static void on_balloon_set(void *owner, int r) {
	struct vm *vm = owner;
	uint64_t next = vm->balloon_pending;

	/* QEMU answered (a balloon change holds libvirt's job for the domain,
	 * so the bulk statistics meanwhile skip it: that is no silence). */
	if (r >= 0)
		vm->libvirt_seen = MAX(vm->libvirt_seen, virt_call_submitted(vm->balloon_call));
	vm->balloon_call = NULL;
	vm->balloon_pending = 0;
	if (r < 0) {
		log_warning_errno(r, "%s: balloon not changed: %m", vm->id.name);
		/* Not applied: the next plan decides afresh. */
		if (!next)
			vm->state.commanded.balloon_target = 0;
	}
	if (next && (next != vm->balloon_sent || r < 0))
		start_balloon_call(vm, next);
}

static void on_deflated(void *owner, int r) {
	struct vm *vm = owner;

	vm->deflate_call = NULL;
	if (r < 0)
		log_warning_errno(r, "%s: balloon not deflated: %m", vm->id.name);
}

static void start_balloon_call(struct vm *vm, uint64_t bytes) {
	vm->balloon_call = virt_balloon_call(vm->manager->virt, vm->id.uuid, bytes, on_balloon_set, vm);
	if (vm->balloon_call)
		vm->balloon_sent = bytes;
}

/* The target is the plan's at once (policy's next tick builds on it); the
 * call that carries it waits for the one in flight, the newest target
 * winning. */
static void send_balloon(struct vm *vm, uint64_t bytes) {
	/* Giving a guest memory back does not wait behind a call in flight:
	 * it may be allocating now. (libvirt runs the two in turn.) */
	if (vm->balloon_call && bytes > vm->balloon_sent && !vm->deflate_call) {
		vm->deflate_call = virt_balloon_call(vm->manager->virt, vm->id.uuid, bytes, on_deflated, vm);
		if (vm->deflate_call)
			vm->balloon_sent = bytes;
	}
	if (vm->balloon_call)
		vm->balloon_pending = bytes;
	else
		start_balloon_call(vm, bytes);
	/* No call (libvirt away): the next plan asks again. */
	if (vm->balloon_call)
		vm->state.commanded.balloon_target = bytes;
}

static void start_virtio_mem_call(struct vm *vm, uint64_t bytes);

static void on_virtio_mem_set(void *owner, int r) {
	struct vm *vm = owner;
	bool waiting = vm->virtio_mem_waiting;

	if (r >= 0) {
		vm->libvirt_seen = MAX(vm->libvirt_seen, virt_call_submitted(vm->virtio_mem_call));
		vm->virtio_mem_confirmed = vm->virtio_mem_sent;
	}
	vm->virtio_mem_call = NULL;
	vm->virtio_mem_waiting = false;
	if (r < 0) {
		log_warning_errno(r, "%s: virtio-mem requested size not changed: %m", vm->id.name);
		/* Not applied: the device keeps what it had, and the next plan
		 * starts from that. */
		if (!waiting)
			vm->state.commanded.virtio_mem_requested = vm->virtio_mem_confirmed;
	}
	if (waiting && (vm->virtio_mem_pending != vm->virtio_mem_sent || r < 0))
		start_virtio_mem_call(vm, vm->virtio_mem_pending);
}

static void start_virtio_mem_call(struct vm *vm, uint64_t bytes) {
	vm->virtio_mem_call = virt_virtio_mem_call(vm->manager->virt, vm->id.uuid, vm->info.vmem.alias, bytes,
						   on_virtio_mem_set, vm);
	if (vm->virtio_mem_call)
		vm->virtio_mem_sent = bytes;
}

/* As send_balloon(): the plan's size at once, one call in flight, the
 * newest waiting behind it. */
static void send_virtio_mem(struct vm *vm, uint64_t bytes) {
	if (vm->virtio_mem_call) {
		vm->virtio_mem_pending = bytes;
		vm->virtio_mem_waiting = true;
	} else
		start_virtio_mem_call(vm, bytes);
	if (vm->virtio_mem_call) {
		vm->state.commanded.virtio_mem_requested = bytes;
		vm->state.commanded.virtio_mem_asked_at = manager_now(vm->manager);
	}
}

/* Finer hints while scattered free memory stays backed (soon under
 * pressure, after a while at rest), coarse again once it is gone and the
 * pressure too (pacing_granularity()). */
static void pace_granularity(struct manager *m, struct vm *vm, usec_t now) {
	uint64_t current = vm->batches.granularity;
	uint64_t want = pacing_granularity(&vm->pacing, m->reclaiming, current, vm->coarse_granularity,
					   backing_set_page_size(&vm->backings), now);

	if (want == current || vm->granularity_id >= 0 || !vm->agent || m->dry_run ||
	    (want < current && vm->fine_refused))
		return;
	vm->pacing.granularity_sent = now;
	log_info("%s: %s: asking for %" PRIu64 " KiB hints", vm->id.name,
		 want < current ? "free memory stays backed in pieces smaller than the hints"
				: "no pressure for a while", want >> 10);
	vm->granularity_id = agent_send_cmd(vm->agent, (struct hint_cmd) {
		.name = HINT_CMD_GRANULARITY, .bytes = want });
}

static void take_hints(struct manager *m, struct vm *vm, bool accept) {
	usec_t now = manager_now(m);
	uint64_t give = pacing_give_on_tick(&vm->pacing, accept, m->reclaiming,
					    vm->state.measured.unused_backed, now);

	pacing_note_reclaiming(&vm->pacing, m->reclaiming, now);
	if (accept)
		pace_granularity(m, vm, now);

	vm->accept_hints = accept;
	/* Taking hints: ask the guest to report its free memory now rather
	 * than at the kernel's own pace. */
	if (give > 0 && vm->agent && !m->dry_run) {
		bool finest = vm->granularity_id < 0 &&
			      (vm->fine_refused || pacing_hints_finest(vm->batches.granularity,
									backing_set_page_size(&vm->backings)));
		bool compact = pacing_compact(&vm->pacing, m->reclaiming, vm->state.settings.proactive,
					      finest, give, now);

		agent_send_cmd(vm->agent, (struct hint_cmd) {
			.name = HINT_CMD_GIVE, .bytes = give, .compact = compact });
		vm->pacing.give_sent = now;
		if (compact) {
			vm->pacing.compact_sent = now;
			vm->pacing.compact_unused = give;
			log_debug("%s: %" PRIu64 " MiB free yet backed after report passes: "
				  "asking the guest to compact", vm->id.name, give >> 20);
		}
	}
}

void actuate(struct manager *m, struct vm *vm, const struct action *a) {
	bool changed = false;

	switch (a->kind) {
	case ACTION_HINTS:
		take_hints(m, vm, a->accept);
		return;
	case ACTION_DROP_CACHE:
		if (!vm->agent || vm->drop_cache_id >= 0 || m->dry_run)
			break;
		vm->drop_cache_id = agent_send_cmd(vm->agent, (struct hint_cmd) {
			.name = HINT_CMD_DROP_CACHE, .bytes = a->bytes });
		vm->drop_cache_sent = manager_now(m);
		changed = vm->drop_cache_id > 0;
		if (changed)
			pacing_note_drop(&vm->pacing, vm->state.measured.guest.cold, a->bytes,
					 vm->drop_cache_sent);
		break;
	case ACTION_BALLOON:
		if (a->bytes == vm->state.commanded.balloon_target)
			return;
		/* A QEMU that does not answer would hold the call, and libvirt's
		 * job for that domain, until it does. */
		if (vm->unresponsive)
			return;
		if (m->dry_run)
			vm->state.commanded.balloon_target = a->bytes;
		else
			send_balloon(vm, a->bytes);
		changed = true;
		vm->state.commanded.last_instrument = INSTRUMENT_BALLOON;
		break;
	case ACTION_VIRTIO_MEM:
		if (a->bytes == vm->state.commanded.virtio_mem_requested || vm->unresponsive ||
		    !vm->info.vmem.alias[0])
			return;
		if (m->dry_run)
			vm->state.commanded.virtio_mem_requested = a->bytes;
		else
			send_virtio_mem(vm, a->bytes);
		changed = true;
		vm->state.commanded.last_instrument = INSTRUMENT_VIRTIO_MEM;
		break;
	}
	if (changed || m->dry_run)
		log_info("%s: %s%s", vm->id.name, m->dry_run ? "(dry run) " : "", a->reason);
	vm_note(vm, a->reason);
}

/* Ballooned guests report faster (pacing.h). */
void actuate_stats_pace(struct vm *vm) {
	unsigned ms = pacing_stats_interval_ms(&vm->state, vm->stats_ms);

	if (ms > 0 && vm->agent &&
	    agent_send_cmd(vm->agent, (struct hint_cmd) { .name = HINT_CMD_STATS_INTERVAL, .ms = ms }) > 0)
		vm->stats_ms = ms;
}
