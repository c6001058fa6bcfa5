/* pacing.c - see pacing.h. */
#include <stdio.h>

#include "pacing.h"

bool pacing_settling(const struct vm_state *vm, const struct pacing_vm *p, usec_t now) {
	return vm->measured.agent != AGENT_ABSENT && !p->agent_stats && now - p->added < AGENT_SETTLE_USEC;
}

bool pacing_hold_plan(size_t n_settling, usec_t connected, usec_t now, char *reason,
		      size_t reason_size) {
	if (n_settling == 0 || now - connected >= AGENT_SETTLE_USEC)
		return false;
	snprintf(reason, reason_size, "waiting for %zu agent%s to connect", n_settling,
		 n_settling == 1 ? "" : "s");
	return true;
}

uint64_t pacing_unused_backed(const struct vm_state *vm) {
	if (vm->measured.agent != AGENT_CONNECTED || !vm->measured.module || !vm->measured.discard_capable ||
	    !vm->measured.guest.valid || vm->measured.backed + vm->measured.guest.free <= vm->measured.max_memory)
		return 0;
	/* RAM not backed is at most max - backed, so at least this much of
	 * what is free is backed. */
	return vm->measured.backed + vm->measured.guest.free - vm->measured.max_memory;
}

void pacing_note_unused(struct pacing_vm *p, uint64_t unused_backed, usec_t now) {
	if (!p->held_window || now - p->held_window >= HELD_WINDOW_USEC) {
		/* A window that ended long ago says nothing of the time since. */
		p->held_low_prev = p->held_window && now - p->held_window < 2 * HELD_WINDOW_USEC
					   ? p->held_low : 0;
		p->held_low = unused_backed;
		p->held_window = now;
	} else
		p->held_low = MIN(p->held_low, unused_backed);
	if (unused_backed < SCATTERED_MIN_BYTES)
		p->scattered_since = 0;
	else if (!p->scattered_since)
		p->scattered_since = now;
	if (unused_backed < GIVE_MIN_BYTES) {
		p->unused_since = 0;
		return;
	}
	if (!p->unused_since)
		p->unused_since = now;
	p->unused_seen = now;
}

uint64_t pacing_unused_coming(const struct pacing_vm *p, uint64_t unused_backed) {
	uint64_t held = MIN(MIN(p->held_low, p->held_low_prev), unused_backed);

	return unused_backed - held;
}

uint64_t pacing_give_on_tick(const struct pacing_vm *p, bool accept, bool reclaiming,
			     uint64_t unused_backed, usec_t now) {
	usec_t since = reclaiming ? p->scattered_since : p->unused_since;

	if (!accept || !since || now - since < GIVE_SETTLE_USEC ||
	    now - p->give_sent < GIVE_INTERVAL_USEC)
		return 0;
	return unused_backed;
}

bool pacing_hints_finest(uint64_t current, uint64_t page_size) {
	return current <= FINE_GRANULARITY || page_size > FINE_GRANULARITY;
}

static bool compact_at_rest(const struct pacing_vm *p, bool finest, usec_t now) {
	return finest && p->unused_since && now - p->unused_since >= COMPACT_AT_REST_AFTER_USEC &&
	       now - p->granularity_sent >= COMPACT_AFTER_USEC &&
	       (!p->compact_sent || now - p->compact_sent >= COMPACT_AT_REST_INTERVAL_USEC);
}

bool pacing_compact(const struct pacing_vm *p, bool reclaiming, bool proactive, bool finest,
		    uint64_t unused_backed, usec_t now) {
	if (!reclaiming)
		return proactive && compact_at_rest(p, finest, now);
	if (!finest || !p->scattered_since || now - p->scattered_since < COMPACT_AFTER_USEC ||
	    now - p->granularity_sent < COMPACT_AFTER_USEC)
		return false;
	if (!p->compact_sent || now - p->compact_sent >= COMPACT_INTERVAL_USEC)
		return true;
	return unused_backed >= p->compact_unused + GIVE_MIN_BYTES && now - p->compact_sent >= COMPACT_AFTER_USEC;
}

void pacing_note_backed(struct pacing_vm *p, uint64_t backed, usec_t now) {
	uint64_t expected = p->backed_last - MIN(p->backed_last, p->punched_since);

	if (p->backed_last && p->compact_sent && now - p->compact_sent < COMPACT_REFILL_USEC &&
	    backed > expected)
		p->refill_debt += backed - expected;
	if (!p->compact_sent || now - p->compact_sent >= REFILL_LAPSE_USEC)
		p->refill_debt = 0;
	p->backed_last = backed;
	p->punched_since = 0;
}

uint64_t pacing_pay_refill(struct pacing_vm *p, uint64_t freed) {
	uint64_t paid = MIN(freed, p->refill_debt);

	p->refill_debt -= paid;
	p->punched_since += freed;
	return freed - paid;
}

void pacing_note_reclaiming(struct pacing_vm *p, bool reclaiming, usec_t now) {
	if (reclaiming)
		p->reclaiming_seen = now;
}

uint64_t pacing_granularity(const struct pacing_vm *p, bool reclaiming, uint64_t current,
			    uint64_t coarse, uint64_t page_size, usec_t now) {
	usec_t wait = reclaiming ? FINE_AFTER_USEC : FINE_AT_REST_AFTER_USEC;
	usec_t since = reclaiming ? p->scattered_since : p->unused_since;

	if (current == 0 || coarse == 0 || page_size > FINE_GRANULARITY)
		return current;
	if (current > FINE_GRANULARITY && since && now - since >= wait)
		return FINE_GRANULARITY;
	if (!reclaiming && current < coarse && now - p->reclaiming_seen >= COARSE_AFTER_USEC &&
	    now - p->unused_seen >= COARSE_AFTER_USEC)
		return coarse;
	return current;
}

uint64_t pacing_give_after_batch(uint64_t unused_backed, uint64_t freed,
				 uint64_t *ret_unused_backed) {
	uint64_t left = unused_backed > freed ? unused_backed - freed : 0;

	*ret_unused_backed = left;
	if (left < GIVE_MIN_BYTES && freed < GIVE_MIN_BYTES)
		return 0;
	return MAX(left, freed);
}

static bool cold_basis_current(const struct pacing_vm *p, usec_t now) {
	return p->cold_basis_at && now - p->cold_basis_at < COLD_BASIS_USEC;
}

void pacing_note_drop(struct pacing_vm *p, uint64_t cold, uint64_t bytes, usec_t now) {
	if (!cold_basis_current(p, now)) {
		p->cold_basis_at = now;
		p->cold_basis = cold;
		p->cold_asked = 0;
	}
	p->cold_asked += bytes;
}

uint64_t pacing_cold_left(const struct pacing_vm *p, uint64_t cold, usec_t now) {
	uint64_t left;

	if (!cold_basis_current(p, now))
		return cold;
	left = p->cold_basis > p->cold_asked ? p->cold_basis - p->cold_asked : 0;
	return MIN(cold, left);
}

bool pacing_ballooned(const struct vm_state *vm) {
	return vm_memory(&vm->measured) + MiB(1) < vm->measured.max_memory ||
	       (vm->commanded.balloon_target > 0 &&
		vm->commanded.balloon_target + vm->measured.virtio_mem.size < vm->measured.max_memory);
}

usec_t pacing_tick_interval(usec_t configured, bool reclaiming, size_t n_vms,
			    size_t n_ballooned) {
	if (n_vms == 0 || (!reclaiming && n_ballooned == 0))
		return configured;
	return MIN(configured, FAST_TICK_USEC);
}

unsigned pacing_stats_interval_ms(const struct vm_state *vm, unsigned sent_ms) {
	bool fast = pacing_ballooned(vm);

	if (vm->measured.agent != AGENT_CONNECTED || fast == (sent_ms == FAST_STATS_MS))
		return 0;
	return fast ? FAST_STATS_MS : NORMAL_STATS_MS;
}
