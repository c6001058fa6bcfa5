/* dump.c - the state as text: what `hintctl dump` prints. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "manager-state.h"

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
	fprintf(f, "libvirt: %s\n", manager_libvirt_state(m));
	fprintf(f, "plan: %s\n", m->plan_reason);
	if (m->reclaim_request > 0)
		fprintf(f, "requested reclaim: %" PRIu64 " MiB still to come from %s\n",
			m->reclaim_request >> 20, m->reclaim_any ? "any VM" : "the VMs named");
	for (size_t i = 0; i < m->n_vms; i++) {
		const struct vm *vm = m->vms[i];
		const struct vm_measured *s = &vm->state.measured;
		fprintf(f, "vm %s: max %" PRIu64 " MiB, actual %" PRIu64 " MiB, backed %" PRIu64
			" MiB, agent %s, module %s, discard %s%s%s\n",
			vm->state.name, s->max_memory >> 20, s->balloon_actual >> 20, s->backed >> 20,
			agent_state_to_string(s->agent), s->module ? "yes" : "no",
			vm_discard_to_string(vm_discard_state(s, vm->discovered)),
			vm->discard_reason[0] ? ": " : "",
			vm->discard_reason);
		if (s->virtio_mem.block_size)
			fprintf(f, "  virtio-mem %s: requested %" PRIu64 " MiB, plugged %" PRIu64 " MiB of %" PRIu64
				" MiB in %" PRIu64 " KiB blocks; last resized by %s\n", vm->info.vmem.alias,
				vm->state.commanded.virtio_mem_requested >> 20, s->virtio_mem.plugged >> 20,
				s->virtio_mem.size >> 20, s->virtio_mem.block_size >> 10,
				instrument_to_string(vm->state.commanded.last_instrument));
		if (vm->unresponsive)
			fprintf(f, "  libvirt: QEMU does not answer\n");
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
