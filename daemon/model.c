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

void vm_settings_init(struct vm_settings *s) {
	*s = (struct vm_settings) {
		.min_memory = 0,
		.max_memory = 0,
		.shares = 1000,
		.priority = 0,
		.rungs = RUNGS_ALL,
	};
}
