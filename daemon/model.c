/* model.c - see model.h. */
#include "model.h"

const char *agent_state_to_string(enum agent_state s) {
	switch (s) {
	case AGENT_ABSENT: return "absent";
	case AGENT_DISCONNECTED: return "disconnected";
	case AGENT_CONNECTED: return "connected";
	case AGENT_FAILED: return "failed";
	}
	return "?";
}

const char *instrument_to_string(enum instrument i) {
	static const char *const names[_INSTRUMENT_MAX] = {
		[INSTRUMENT_NONE] = "none",
		[INSTRUMENT_BALLOON] = "balloon",
		[INSTRUMENT_VIRTIO_MEM] = "virtio-mem",
	};

	return (unsigned) i < _INSTRUMENT_MAX ? names[i] : "?";
}

void vm_settings_init(struct vm_settings *s) {
	*s = (struct vm_settings) {
		.min_memory = 0,
		.max_memory = 0,
		.shares = 1000,
		.priority = 0,
		.rungs = RUNGS_ALL,
	};
}

const char *vm_discard_to_string(enum vm_discard d) {
	static const char *const names[_VM_DISCARD_MAX] = {
		[VM_DISCARD_YES] = "yes",
		[VM_DISCARD_READING] = "reading",
		[VM_DISCARD_NO_BACKING] = "no backing",
		[VM_DISCARD_FPR] = "fpr",
		[VM_DISCARD_NO_AGENT] = "no agent",
		[VM_DISCARD_AGENT_DOWN] = "agent down",
		[VM_DISCARD_NO_MODULE] = "no module",
	};

	return (unsigned) d < _VM_DISCARD_MAX ? names[d] : "?";
}

/* The host's side first: without a backing (or with free page reporting
 * holding the guest's hook) no agent or module would help. */
enum vm_discard vm_discard_state(const struct vm_measured *m, bool described) {
	if (!described)
		return VM_DISCARD_READING;
	if (!m->discard_capable)
		return VM_DISCARD_NO_BACKING;
	if (m->free_page_reporting)
		return VM_DISCARD_FPR;
	switch (m->agent) {
	case AGENT_ABSENT:
		return VM_DISCARD_NO_AGENT;
	case AGENT_DISCONNECTED:
	case AGENT_FAILED:
		return VM_DISCARD_AGENT_DOWN;
	case AGENT_CONNECTED:
		break;
	}
	return m->module ? VM_DISCARD_YES : VM_DISCARD_NO_MODULE;
}

uint64_t reclaim_request_progress(uint64_t base_given, uint64_t given, bool backing_measured,
				  uint64_t base_backed, uint64_t backed) {
	uint64_t accounted = given > base_given ? given - base_given : 0;
	uint64_t lost = base_backed > backed ? base_backed - backed : 0;

	return backing_measured && lost < accounted ? lost : accounted;
}
