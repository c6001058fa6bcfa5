/* vm.c - the VMs hintd manages: following libvirt's domains, discovering
 * each one's discard path, and its agent. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collect.h"
#include "discard.h"
#include "log.h"
#include "macro.h"
#include "manager-state.h"
#include "vm.h"

struct vm *manager_find_vm(struct manager *m, const char *name) {
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->id.name, name) == 0)
			return m->vms[i];
	return NULL;
}

static struct vm *find_by_uuid(struct manager *m, const char *uuid) {
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->id.uuid, uuid) == 0)
			return m->vms[i];
	return NULL;
}

void vm_apply_settings(struct manager *m, struct vm *vm) {
	config_vm_settings(m->config, vm->id.name, &vm->state.settings, &vm->manage);
}

static void cancel_discovery(struct vm *vm) {
	if (!vm->discovering)
		return;
	virt_call_cancel(vm->discovering);
	vm->discovering = NULL;
	vm->manager->n_discovering--;
}

static struct vm *vm_free(struct vm *vm) {
	if (!vm)
		return NULL;
	cancel_discovery(vm);
	virt_call_cancel(vm->balloon_call);
	virt_call_cancel(vm->deflate_call);
	virt_call_cancel(vm->virtio_mem_call);
	vm->agent = agent_free(vm->agent);
	batch_table_done(&vm->batches);
	backing_set_close(&vm->backings);
	free(vm);
	return NULL;
}

/* The virtio-mem device as libvirt describes it now. What hintd asked for
 * stays while its call is in flight or waits; the guest's plugged size is
 * libvirt's (events keep it current between readings). */
static void take_virtio_mem(struct vm *vm, const struct virt_domain_info *info) {
	const struct virt_mem_device *d = &info->vmem;
	struct vm_virtio_mem *v = &vm->state.measured.virtio_mem;

	if (info->vmem_problem[0] && strcmp(info->vmem_problem, vm->info.vmem_problem) != 0)
		log_warning("%s: %s: not driven", vm->id.name, info->vmem_problem);
	if (d->count > 1)
		log_info("%s: %u virtio-mem devices: only %s is driven", vm->id.name, d->count, d->alias);
	v->block_size = d->block_size;
	v->size = d->size;
	if (!vm->virtio_mem_call && !vm->virtio_mem_waiting) {
		vm->state.commanded.virtio_mem_requested = d->requested;
		vm->virtio_mem_confirmed = d->requested;
	}
	vm_virtio_mem_seen(vm, d->current);
}

static void log_managed(const struct vm *vm) {
	const struct vm_virtio_mem *d = &vm->state.measured.virtio_mem;
	char vmem[192] = "";

	if (d->block_size)
		snprintf(vmem, sizeof vmem, ", virtio-mem %s of %" PRIu64 " MiB in %" PRIu64 " KiB blocks, %"
			 PRIu64 " MiB plugged", vm->info.vmem.alias, d->size >> 20, d->block_size >> 10,
			 d->plugged >> 20);
	log_info("%s: managing (max %" PRIu64 " MiB, %s, agent %s%s)%s%s", vm->id.name,
		 vm->info.max_memory >> 20, vm->state.measured.discard_capable ? "discard capable" : "balloon only",
		 vm->info.agent_socket[0] ? "channel present" : "absent", vmem,
		 vm->discard_reason[0] ? ": " : "", vm->discard_reason);
}

/* A discovery of a VM already discovered (after libvirt came back): the
 * same QEMU with the same backing keeps everything; anything else starts
 * the discard path afresh. */
static bool same_qemu(const struct vm *vm, const struct virt_discovery *d) {
	return vm->qemu_pid == d->qemu_pid && backing_set_same(&vm->backings, &d->backings);
}

static void on_discovered(void *owner, struct virt_discovery *d) {
	struct vm *vm = owner;
	struct manager *m = vm->manager;
	int r;

	vm->discovering = NULL;
	/* A burst of discoveries (hintd's start) leaves freed memory in the
	 * worker threads' arena: give it back once the burst is over. */
	if (--m->n_discovering == 0)
		malloc_trim(0);
	if (d->r < 0) {
		log_warning("%s: cannot read the domain from libvirt, trying again at the next tick",
			    vm->id.name);
		return;
	}
	if (vm->discovered && same_qemu(vm, d)) {
		take_virtio_mem(vm, &d->info);
		vm->info.vmem = d->info.vmem;
		return;
	}
	if (vm->discovered)
		log_info("%s: QEMU or its RAM changed while libvirt was away, starting afresh", vm->id.name);
	backing_set_close(&vm->backings);
	batch_table_init(&vm->batches, 0, NULL);
	vm->state.measured.virtio_mem = (struct vm_virtio_mem) {};	/* a new QEMU's */
	take_virtio_mem(vm, &d->info);
	vm->info = d->info;
	vm->qemu_pid = d->qemu_pid;
	vm->backings = d->backings;
	d->backings.n = 0;		/* the VM's now */
	vm->map = d->map;
	snprintf(vm->discard_reason, sizeof vm->discard_reason, "%s", d->discard_reason);
	vm->state.measured.discard_capable = backing_set_open(&vm->backings);
	for (size_t i = 0; i < vm->backings.n; i++)
		if (vm->backings.b[i].page_size > (uint64_t) sysconf(_SC_PAGESIZE))
			log_info("%s: RAM (%s) is in %" PRIu64 " KiB huge pages: only whole huge pages are discarded",
				 vm->id.name, vm->backings.b[i].path, vm->backings.b[i].page_size >> 10);
	if (vm->backings.n > 1)
		log_info("%s: RAM in %zu backends (%s%s), each discarded in its own file", vm->id.name,
			 vm->backings.n, vm->map.backends[0].name, vm->backings.n > 2 ? ", ..." : "");
	vm->state.measured.free_page_reporting = vm->info.free_page_reporting;
	vm->state.measured.max_memory = vm->info.max_memory;
	/* Until libvirt reports the balloon, the guest has all of its memory. */
	if (!vm->balloon_seen)
		vm->state.measured.balloon_actual = vm->info.max_memory - MIN(vm->info.max_memory, vm->info.vmem.size);
	vm->discovered = true;

	vm->agent = agent_free(vm->agent);
	if (vm->info.agent_socket[0]) {
		r = agent_new(m->event, vm->info.agent_socket, vm->id.name, &discard_agent_callbacks, vm,
			      &vm->agent);
		if (r < 0)
			log_warning_errno(r, "%s: cannot watch the agent channel: %m", vm->id.name);
	}
	vm->state.measured.agent = vm->agent ? agent_get_state(vm->agent) : AGENT_ABSENT;
	log_managed(vm);
}

/* Starts reading the domain in a worker; managed once that answers. */
static void vm_discover(struct manager *m, struct vm *vm) {
	if (vm->discovering)
		return;
	vm->discovering = virt_discover_call(m->virt, vm->id.uuid, on_discovered, vm);
	m->n_discovering += vm->discovering != NULL;
}

static void manager_add_domain(struct manager *m, const struct virt_domain_id *id) {
	struct vm *vm, **vms;

	if (find_by_uuid(m, id->uuid) || !id->name[0])
		return;
	vms = realloc(m->vms, (m->n_vms + 1) * sizeof *vms);
	vm = calloc(1, sizeof *vm);
	if (vms)
		m->vms = vms;
	if (!vms || !vm) {
		free(vm);
		log_error("%s: out of memory, not managed", id->name);
		return;
	}
	vm->manager = m;
	vm->id = *id;
	vm->pacing.added = manager_now(m);
	vm->libvirt_seen = vm->pacing.added;
	vm->drop_cache_id = -1;
	vm->granularity_id = -1;
	snprintf(vm->state.name, sizeof vm->state.name, "%s", id->name);
	vm->state.measured.running = true;
	vm_apply_settings(m, vm);
	/* Until the first plan, take hints as policy would without pressure:
	 * releasing them makes the guest offer the same chunks first on every
	 * later pass, which stalls its reporting. */
	vm->accept_hints = m->policy.discard_unused == DISCARD_ALWAYS;
	m->vms[m->n_vms++] = vm;
	bus_machine_added(m->bus, vm);
	vm_discover(m, vm);
}

static void manager_remove_vm(struct manager *m, size_t i) {
	log_info("%s: stopped, forgetting it", m->vms[i]->id.name);
	bus_machine_removed(m->bus, m->vms[i]->id.name);
	vm_free(m->vms[i]);
	m->vms[i] = m->vms[--m->n_vms];
}

void vm_forget_all(struct manager *m) {
	while (m->n_vms > 0) {
		bus_machine_removed(m->bus, m->vms[m->n_vms - 1]->id.name);
		vm_free(m->vms[--m->n_vms]);
	}
}

/* Domains not yet discovered (libvirt was busy) are tried again each tick. */
void vm_discover_pending(struct manager *m) {
	for (size_t i = 0; i < m->n_vms; i++)
		if (!m->vms[i]->discovered)
			vm_discover(m, m->vms[i]);
}

/* ---- libvirt's news ------------------------------------------------------ */

/* (Re)connected: VMs that still run keep their agents, batches and backing
 * (checked again by a discovery); those gone are forgotten. */
static void on_connected(void *userdata, const struct virt_domain_id *ids, size_t n) {
	struct manager *m = userdata;

	for (size_t i = 0; i < m->n_vms;) {
		bool running = false;
		for (size_t j = 0; j < n && !running; j++)
			running = strcmp(ids[j].uuid, m->vms[i]->id.uuid) == 0;
		if (running) {
			cancel_discovery(m->vms[i]);
			vm_discover(m, m->vms[i++]);
		} else
			manager_remove_vm(m, i);
	}
	for (size_t j = 0; j < n; j++)
		manager_add_domain(m, &ids[j]);
	m->connected = manager_now(m);
}

/* Lost: nothing a VM does needs libvirt to go on returning its free
 * memory, so every VM, its agent and its backing stay. */
static void on_lost(void *userdata) {
	struct manager *m = userdata;

	for (size_t i = 0; i < ELEMENTSOF(m->stats_calls); i++) {
		virt_call_cancel(m->stats_calls[i]);
		m->stats_calls[i] = NULL;
	}
	for (size_t i = 0; i < m->n_vms; i++) {
		struct vm *vm = m->vms[i];
		cancel_discovery(vm);
		virt_call_cancel(vm->balloon_call);
		virt_call_cancel(vm->deflate_call);
		virt_call_cancel(vm->virtio_mem_call);
		vm->balloon_call = vm->deflate_call = vm->virtio_mem_call = NULL;
	}
}

static void on_domain_event(void *userdata, const struct virt_domain_id *id, enum virt_domain_event ev) {
	struct manager *m = userdata;

	if (ev == VIRT_DOMAIN_STARTED) {
		manager_add_domain(m, id);
		return;
	}
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->id.uuid, id->uuid) == 0) {
			manager_remove_vm(m, i);
			return;
		}
}

static void on_balloon_changed(void *userdata, const char *uuid, uint64_t actual) {
	struct vm *vm = find_by_uuid(userdata, uuid);

	if (vm)
		vm_balloon_seen(vm, actual);
}

static void on_virtio_mem_changed(void *userdata, const char *uuid, const char *alias, uint64_t plugged) {
	struct vm *vm = find_by_uuid(userdata, uuid);

	if (vm && vm->discovered && strcmp(alias, vm->info.vmem.alias) == 0)
		vm_virtio_mem_seen(vm, plugged);
}

const struct virt_conn_callbacks vm_virt_callbacks = {
	.connected = on_connected,
	.lost = on_lost,
	.domain_event = on_domain_event,
	.balloon_changed = on_balloon_changed,
	.virtio_mem_changed = on_virtio_mem_changed,
};
