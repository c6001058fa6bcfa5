/* bus.h - hintd on D-Bus: org.hintd1 (docs/dbus-api.md).
 *
 * /org/hintd1 is the manager (org.hintd1.Manager, with an ObjectManager),
 * /org/hintd1/machine/NAME one object per VM (org.hintd1.Machine). The
 * properties are read from plain structs filled from the model on every
 * lookup; after each tick they are compared with what was last announced,
 * and PropertiesChanged carries the ones that differ. Every function is a
 * no-op while no bus is open (hintd --no-bus, unit tests). */
#ifndef HINTD_BUS_H
#define HINTD_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include "model.h"
#include "policy.h"

#define BUS_NAME "org.hintd1"
#define BUS_MANAGER_PATH "/org/hintd1"
#define BUS_MACHINE_PREFIX "/org/hintd1/machine"

struct manager;
struct vm;

/* The properties of org.hintd1.Manager; bools are int, as sd-bus reads them. */
struct bus_manager_props {
	struct manager *manager;	/* not a property: for the methods */
	char version[16];
	int dry_run;
	uint64_t tick_interval_usec;
	uint64_t mem_total, mem_available;
	double psi_some_avg10, psi_full_avg10;
	uint64_t budget_limit, budget_usage;
	uint64_t free, low_watermark, high_watermark;
	int reclaiming;
	uint64_t reclaimed[_RUNG_MAX];
	double rate[_RUNG_MAX];
	char plan[ACTION_REASON_MAX];
	char libvirt[32];		/* manager_libvirt_state() */
};

/* The properties of org.hintd1.Machine. */
struct bus_machine_props {
	struct vm *vm;			/* not a property */
	char name[128];
	int running;
	uint64_t max_memory, balloon_actual, balloon_target, backed;
	uint64_t unused, volatile_, stable, hinted;
	uint64_t reclaimed[_RUNG_MAX];
	double psi_some_avg10, swapin_rate;
	uint64_t min_memory, max_memory_setting;
	uint32_t shares;
	int32_t priority;
	uint32_t rungs;			/* RUNG_BIT()s, shown as an array of names */
	int managed;
	char agent_state[16];
	char libvirt[32];		/* vm_libvirt_state() */
	uint64_t agent_rejected;
	int module, discard_capable;
	char discard_reason[256];
	char last_decision[ACTION_REASON_MAX];
	uint64_t last_decision_usec;
};

/* Connects to the bus at address (NULL: the system bus), attaches it to the
 * manager's event loop, publishes the objects and owns org.hintd1. Logs what
 * failed, naming the bus, and returns negative errno. */
int bus_open(struct manager *m, const char *address);
void bus_close(struct manager *m);

/* VM objects: call added once the VM is in m->vms, removed while it still is. */
void bus_machine_added(struct manager *m, struct vm *vm);
void bus_machine_removed(struct manager *m, struct vm *vm);

void bus_emit_reclaimed(struct manager *m, struct vm *vm, enum rung rung, uint64_t bytes);
void bus_emit_pressure_changed(struct manager *m, bool reclaiming, uint64_t free_bytes,
			       uint64_t need);
/* PropertiesChanged for every property that differs from what was last announced. */
void bus_emit_changes(struct manager *m);

#endif /* HINTD_BUS_H */
