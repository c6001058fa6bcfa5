/* view.c - what D-Bus shows of the manager and its VMs, read from the
 * model on demand; and the few read-only accessors the bus needs. */
#include <stdio.h>
#include <string.h>
#include "agent.h"
#include "manager-state.h"

static uint64_t sub_sat(uint64_t a, uint64_t b) {
	return a > b ? a - b : 0;
}

/* src into the char array dst, cut to fit. The bus reads every VM's view
 * after every tick: a copy, not snprintf()'s format parsing. */
static void copy_chars(char *dst, size_t size, const char *src) {
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}
#define COPY_CHARS(dst, src) copy_chars((dst), sizeof(dst), (src))

void manager_view(struct manager *m, struct bus_manager_props *p) {
	const struct host_state *h = &m->host;

	*p = (struct bus_manager_props) {
		.dry_run = m->dry_run,
		.tick_interval_usec = m->config->tick_interval_usec,
		.mem_total = h->mem_total,
		.mem_available = h->mem_available,
		.psi_some_avg10 = h->psi_some_avg10,
		.psi_full_avg10 = h->psi_full_avg10,
		.budget_limit = h->budget_set ? h->budget_limit : 0,
		.budget_usage = h->budget_set ? h->budget_usage : 0,
		/* As policy counts it. */
		.free = h->budget_set ? sub_sat(h->budget_limit, h->budget_usage) : h->mem_available,
		.low_watermark = m->policy.low_watermark,
		.high_watermark = m->policy.high_watermark,
		.reclaiming = m->reclaiming,
	};
	COPY_CHARS(p->version, HINTD_VERSION);
	memcpy(p->reclaimed, m->reclaimed, sizeof p->reclaimed);
	memcpy(p->rate, m->rate, sizeof p->rate);
	COPY_CHARS(p->plan, m->plan_reason);
	COPY_CHARS(p->libvirt, manager_libvirt_state(m));
}

void vm_view(struct vm *vm, struct bus_machine_props *p) {
	const struct vm_measured *s = &vm->state.measured;
	const struct vm_settings *set = &vm->state.settings;
	const struct guest_memory *g = &s->guest;

	*p = (struct bus_machine_props) {
		.running = s->running,
		.max_memory = s->max_memory,
		.balloon_actual = s->balloon_actual,
		.balloon_target = vm->state.commanded.balloon_target,
		.virtio_mem_size = s->virtio_mem.size,
		.virtio_mem_block_size = s->virtio_mem.block_size,
		.virtio_mem_requested = s->virtio_mem.block_size ? vm->state.commanded.virtio_mem_requested : 0,
		.virtio_mem_plugged = s->virtio_mem.plugged,
		.backed = s->backed,
		.unused = g->valid ? g->unused : 0,
		.volatile_ = g->valid ? g->volatile_ : 0,
		.stable = g->valid ? g->stable : 0,
		.hinted = s->hinted,
		.psi_some_avg10 = g->valid ? g->psi_some_avg10 : 0,
		.swapin_rate = s->swapin_rate,
		.min_memory = set->min_memory,
		.max_memory_setting = set->max_memory,
		.shares = set->shares,
		.priority = set->priority,
		.rungs = set->rungs,
		.managed = vm->manage,
		.proactive = set->proactive,
		.module = s->module,
		.discard_capable = s->discard_capable,
		.last_decision_usec = vm->last_decision_usec,
		.agent_rejected = vm->agent ? agent_rejected(vm->agent) : 0,
	};
	memcpy(p->reclaimed, vm->state.accounted.reclaimed, sizeof p->reclaimed);
	COPY_CHARS(p->name, vm->state.name);
	COPY_CHARS(p->agent_state, agent_state_to_string(s->agent));
	COPY_CHARS(p->discard, vm_discard_to_string(vm_discard_state(s, vm->discovered)));
	COPY_CHARS(p->discard_reason, vm->discard_reason);
	COPY_CHARS(p->libvirt, vm_libvirt_state(vm));
	COPY_CHARS(p->last_decision, vm->last_decision);
	COPY_CHARS(p->last_instrument, instrument_to_string(vm->state.commanded.last_instrument));
}


void manager_set_bus(struct manager *m, struct bus *b) {
	m->bus = b;
}

bool manager_dry_run(const struct manager *m) {
	return m->dry_run;
}

const char *manager_admin_group(const struct manager *m) {
	return m->config->admin_group;
}

size_t manager_vm_count(const struct manager *m) {
	return m->n_vms;
}

struct vm *manager_vm(const struct manager *m, size_t i) {
	return i < m->n_vms ? m->vms[i] : NULL;
}

const char *vm_name(const struct vm *vm) {
	return vm->id.name;
}

size_t *vm_bus_slot(struct vm *vm) {
	return &vm->bus_slot;
}

void vm_get_settings(const struct vm *vm, struct vm_settings *ret, bool *ret_manage) {
	*ret = vm->state.settings;
	*ret_manage = vm->manage;
}
