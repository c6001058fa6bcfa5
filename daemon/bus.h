/* bus.h - hintd on D-Bus: org.hintd1 (docs/dbus-api.md).
 *
 * /org/hintd1 is the manager (org.hintd1.Manager, with an ObjectManager),
 * /org/hintd1/machine/NAME one object per VM (org.hintd1.Machine). The
 * properties are read from plain structs filled from the model on every
 * lookup; after each tick they are compared with what was last announced,
 * and PropertiesChanged carries the ones that differ. */
#ifndef HINTD_BUS_H
#define HINTD_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include "model.h"
#include "policy.h"

#define BUS_NAME "org.hintd1"
#define BUS_MANAGER_PATH "/org/hintd1"
#define BUS_MACHINE_PREFIX "/org/hintd1/machine"
/* Machine properties other code names too. */
#define BUS_MACHINE_PROPERTY_DISCARD "Discard"	/* bus_machine_props.discard */

struct bus;
struct manager;
struct vm;

/* The properties of org.hintd1.Manager; bools are int, as sd-bus reads them. */
struct bus_manager_props {
	struct manager *manager;	/* not properties: for the methods */
	struct bus *bus;
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
	char name[128];
	int running;
	uint64_t max_memory, balloon_actual, balloon_target, backed;
	uint64_t virtio_mem_size, virtio_mem_block_size, virtio_mem_requested, virtio_mem_plugged;
	char last_instrument[16];	/* instrument_to_string() */
	uint64_t unused, volatile_, stable, hinted;
	uint64_t reclaimed[_RUNG_MAX];
	double psi_some_avg10, swapin_rate;
	uint64_t min_memory, max_memory_setting;
	uint32_t shares;
	int32_t priority;
	uint32_t rungs;			/* RUNG_BIT()s, shown as an array of names */
	int managed;
	int proactive;
	char agent_state[16];
	char libvirt[32];		/* vm_libvirt_state() */
	uint64_t agent_rejected;
	int module, discard_capable;
	char discard[VM_DISCARD_STRING_MAX];	/* vm_discard_to_string() */
	char discard_reason[256];
	char last_decision[ACTION_REASON_MAX];
	uint64_t last_decision_usec;
};

/* Connects to the bus at address (NULL: the system bus), attaches it to e,
 * publishes the objects and owns org.hintd1. Logs what failed, naming the
 * bus, and returns negative errno. The bus reads the manager through
 * manager.h only, and keeps its own record of what it last announced. */
int bus_open(struct manager *m, sd_event *e, const char *address, struct bus **ret);
struct bus *bus_free(struct bus *b);

/* Every function below is a no-op when b is NULL (no bus). */
void bus_machine_added(struct bus *b, struct vm *vm);
void bus_machine_removed(struct bus *b, const char *name);
void bus_emit_reclaimed(struct bus *b, const char *name, enum rung rung, uint64_t bytes);
void bus_emit_pressure_changed(struct bus *b, bool reclaiming, uint64_t free_bytes, uint64_t need);
/* PropertiesChanged for every property that differs from what was last announced. */
void bus_emit_changes(struct bus *b);

/* What the properties show, read from the model (view.c, on the manager's
 * side). */
void manager_view(struct manager *m, struct bus_manager_props *ret);
void vm_view(struct vm *vm, struct bus_machine_props *ret);

#endif /* HINTD_BUS_H */
