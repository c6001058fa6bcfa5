/* bus.c - see bus.h. The API is the two vtables below; their methods are
 * in bus-methods.c.
 *
 * Every property lives in struct bus_manager_props or bus_machine_props at
 * the vtable's offset: numbers as themselves (b as int), strings as char
 * arrays, the Reclaim rungs as RUNG_BIT()s. That is what lets one loop over
 * a vtable find the properties whose value changed since the last tick. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include "bus-methods.h"
#include "bus-record.h"
#include "bus.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "rungs.h"

#define BUS_MANAGER_INTERFACE "org.hintd1.Manager"
#define BUS_MACHINE_INTERFACE "org.hintd1.Machine"

_Static_assert(sizeof(int) == 4, "sd-bus reads b as int");

/* ---- properties --------------------------------------------------------- */

/* userdata points at the property's field (sd-bus adds the offset). */
static int property_get_chars(sd_bus *bus, const char *path, const char *interface,
			      const char *property, sd_bus_message *reply, void *userdata,
			      sd_bus_error *error) {
	return sd_bus_message_append_basic(reply, 's', userdata);
}

static int property_get_rungs(sd_bus *bus, const char *path, const char *interface,
			      const char *property, sd_bus_message *reply, void *userdata,
			      sd_bus_error *error) {
	const uint32_t *rungs = userdata;
	int r;

	r = sd_bus_message_open_container(reply, 'a', "s");
	for (unsigned i = 0; r >= 0 && i < _RUNG_MAX; i++)
		if (*rungs & RUNG_BIT(i))
			r = sd_bus_message_append_basic(reply, 's', rung_to_string(i));
	return r < 0 ? r : sd_bus_message_close_container(reply);
}
/* ---- the API ------------------------------------------------------------ */

#define MGR(field) offsetof(struct bus_manager_props, field)
#define MCH(field) offsetof(struct bus_machine_props, field)
#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_get_chars, MGR(version), CONST),
	SD_BUS_PROPERTY("DryRun", "b", NULL, MGR(dry_run), CONST),
	SD_BUS_PROPERTY("TickIntervalUSec", "t", NULL, MGR(tick_interval_usec), EMITS),
	SD_BUS_PROPERTY("MemoryTotal", "t", NULL, MGR(mem_total), EMITS),
	SD_BUS_PROPERTY("MemoryAvailable", "t", NULL, MGR(mem_available), EMITS),
	SD_BUS_PROPERTY("PressureSomeAvg10", "d", NULL, MGR(psi_some_avg10), EMITS),
	SD_BUS_PROPERTY("PressureFullAvg10", "d", NULL, MGR(psi_full_avg10), EMITS),
	SD_BUS_PROPERTY("BudgetLimit", "t", NULL, MGR(budget_limit), EMITS),
	SD_BUS_PROPERTY("BudgetUsage", "t", NULL, MGR(budget_usage), EMITS),
	SD_BUS_PROPERTY("Free", "t", NULL, MGR(free), EMITS),
	SD_BUS_PROPERTY("LowWatermark", "t", NULL, MGR(low_watermark), EMITS),
	SD_BUS_PROPERTY("HighWatermark", "t", NULL, MGR(high_watermark), EMITS),
	SD_BUS_PROPERTY("Reclaiming", "b", NULL, MGR(reclaiming), EMITS),
	SD_BUS_PROPERTY("ReclaimedUnused", "t", NULL, MGR(reclaimed[RUNG_UNUSED]), EMITS),
	SD_BUS_PROPERTY("ReclaimedVolatile", "t", NULL, MGR(reclaimed[RUNG_VOLATILE]), EMITS),
	SD_BUS_PROPERTY("ReclaimedBalloon", "t", NULL, MGR(reclaimed[RUNG_BALLOON]), EMITS),
	SD_BUS_PROPERTY("RateUnused", "d", NULL, MGR(rate[RUNG_UNUSED]), EMITS),
	SD_BUS_PROPERTY("RateVolatile", "d", NULL, MGR(rate[RUNG_VOLATILE]), EMITS),
	SD_BUS_PROPERTY("RateBalloon", "d", NULL, MGR(rate[RUNG_BALLOON]), EMITS),
	SD_BUS_PROPERTY("Plan", "s", property_get_chars, MGR(plan), EMITS),
	SD_BUS_PROPERTY("Libvirt", "s", property_get_chars, MGR(libvirt), EMITS),

	SD_BUS_METHOD_WITH_NAMES("GetMachine", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(path),
				 method_get_machine, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetMachine", "sa{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(settings),
				 "", "", method_set_machine, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Reclaim", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(bytes),
				 "t", SD_BUS_PARAM(target), method_reclaim, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Dump", "", "", "s", SD_BUS_PARAM(text),
				 method_dump, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Metrics", "", "", "s", SD_BUS_PARAM(text),
				 method_metrics, SD_BUS_VTABLE_UNPRIVILEGED),

	SD_BUS_SIGNAL_WITH_NAMES("Reclaimed", "sst",
				 SD_BUS_PARAM(machine) SD_BUS_PARAM(rung) SD_BUS_PARAM(bytes), 0),
	SD_BUS_SIGNAL_WITH_NAMES("PressureChanged", "btt",
				 SD_BUS_PARAM(reclaiming) SD_BUS_PARAM(free) SD_BUS_PARAM(need), 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable machine_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", property_get_chars, MCH(name), CONST),
	SD_BUS_PROPERTY("Running", "b", NULL, MCH(running), EMITS),
	SD_BUS_PROPERTY("MaxMemory", "t", NULL, MCH(max_memory), CONST),
	SD_BUS_PROPERTY("BalloonActual", "t", NULL, MCH(balloon_actual), EMITS),
	SD_BUS_PROPERTY("BalloonTarget", "t", NULL, MCH(balloon_target), EMITS),
	SD_BUS_PROPERTY("VirtioMemSize", "t", NULL, MCH(virtio_mem_size), EMITS),
	SD_BUS_PROPERTY("VirtioMemBlockSize", "t", NULL, MCH(virtio_mem_block_size), EMITS),
	SD_BUS_PROPERTY("VirtioMemRequested", "t", NULL, MCH(virtio_mem_requested), EMITS),
	SD_BUS_PROPERTY("VirtioMemPlugged", "t", NULL, MCH(virtio_mem_plugged), EMITS),
	SD_BUS_PROPERTY("LastInstrument", "s", property_get_chars, MCH(last_instrument), EMITS),
	SD_BUS_PROPERTY("Backed", "t", NULL, MCH(backed), EMITS),
	SD_BUS_PROPERTY("Unused", "t", NULL, MCH(unused), EMITS),
	SD_BUS_PROPERTY("Volatile", "t", NULL, MCH(volatile_), EMITS),
	SD_BUS_PROPERTY("Stable", "t", NULL, MCH(stable), EMITS),
	SD_BUS_PROPERTY("Hinted", "t", NULL, MCH(hinted), EMITS),
	SD_BUS_PROPERTY("ReclaimedUnused", "t", NULL, MCH(reclaimed[RUNG_UNUSED]), EMITS),
	SD_BUS_PROPERTY("ReclaimedVolatile", "t", NULL, MCH(reclaimed[RUNG_VOLATILE]), EMITS),
	SD_BUS_PROPERTY("ReclaimedBalloon", "t", NULL, MCH(reclaimed[RUNG_BALLOON]), EMITS),
	SD_BUS_PROPERTY("GuestPressureSomeAvg10", "d", NULL, MCH(psi_some_avg10), EMITS),
	SD_BUS_PROPERTY("SwapInRate", "d", NULL, MCH(swapin_rate), EMITS),
	SD_BUS_PROPERTY("MinMemory", "t", NULL, MCH(min_memory), EMITS),
	SD_BUS_PROPERTY("MaxMemorySetting", "t", NULL, MCH(max_memory_setting), EMITS),
	SD_BUS_PROPERTY("Shares", "u", NULL, MCH(shares), EMITS),
	SD_BUS_PROPERTY("Priority", "i", NULL, MCH(priority), EMITS),
	SD_BUS_PROPERTY("Reclaim", "as", property_get_rungs, MCH(rungs), EMITS),
	SD_BUS_PROPERTY("Managed", "b", NULL, MCH(managed), EMITS),
	SD_BUS_PROPERTY("Proactive", "b", NULL, MCH(proactive), EMITS),
	SD_BUS_PROPERTY("AgentState", "s", property_get_chars, MCH(agent_state), EMITS),
	SD_BUS_PROPERTY("AgentRejected", "t", NULL, MCH(agent_rejected), EMITS),
	SD_BUS_PROPERTY("Libvirt", "s", property_get_chars, MCH(libvirt), EMITS),
	SD_BUS_PROPERTY("Module", "b", NULL, MCH(module), EMITS),
	SD_BUS_PROPERTY("DiscardCapable", "b", NULL, MCH(discard_capable), EMITS),
	SD_BUS_PROPERTY("DiscardReason", "s", property_get_chars, MCH(discard_reason), EMITS),
	SD_BUS_PROPERTY(BUS_MACHINE_PROPERTY_DISCARD, "s", property_get_chars, MCH(discard), EMITS),
	SD_BUS_PROPERTY("LastDecision", "s", property_get_chars, MCH(last_decision), EMITS),
	SD_BUS_PROPERTY("LastDecisionTimestamp", "t", NULL, MCH(last_decision_usec), EMITS),
	SD_BUS_VTABLE_END,
};

/* ---- its own record of what it announced ------------------------------- */

struct bus {
	sd_bus *bus;
	struct manager *manager;
	struct bus_manager_props now, sent;
	bool announced;
	struct machine_records machines;
	/* A machine's properties as read now, for whichever machine is being
	 * read: sd-bus reads an object's properties right after finding it,
	 * one object at a time, so one copy serves them all. */
	struct bus_machine_props machine_now;
};

static void read_manager(struct bus *b) {
	manager_view(b->manager, &b->now);
	b->now.manager = b->manager;
	b->now.bus = b;
}

static void read_machine(struct bus *b, struct vm *vm, struct bus_machine_props *p) {
	vm_view(vm, p);
}

/* ---- objects ------------------------------------------------------------ */

static int manager_object_find(sd_bus *bus, const char *path, const char *interface,
			       void *userdata, void **found, sd_bus_error *error) {
	struct bus *b = userdata;

	if (strcmp(path, BUS_MANAGER_PATH) != 0)
		return 0;
	read_manager(b);
	*found = &b->now;
	return 1;
}

static int machine_object_find(sd_bus *bus, const char *path, const char *interface,
			       void *userdata, void **found, sd_bus_error *error) {
	_cleanup_free_ char *name = NULL;
	struct bus *b = userdata;
	struct vm *vm;
	int r;

	r = sd_bus_path_decode(path, BUS_MACHINE_PREFIX, &name);
	if (r <= 0)
		return r;
	vm = manager_find_vm(b->manager, name);
	if (!vm)
		return 0;
	read_machine(b, vm, &b->machine_now);
	*found = &b->machine_now;
	return 1;
}

static int machine_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			     sd_bus_error *error) {
	struct bus *b = userdata;
	size_t n = manager_vm_count(b->manager);
	_cleanup_(strv_freep) char **l = calloc(n + 1, sizeof *l);
	int r;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = sd_bus_path_encode(BUS_MACHINE_PREFIX, vm_name(manager_vm(b->manager, i)), &l[i]);
		if (r < 0)
			return r;
	}
	*nodes = TAKE_PTR(l);
	return 0;
}

/* ---- signals ------------------------------------------------------------ */
static bool property_differs(const char *signature, const void *a, const void *b) {
	switch (signature[0]) {
	case 's':
		return strcmp(a, b) != 0;
	case 't':
	case 'd':
		return memcmp(a, b, 8) != 0;
	case 'a':	/* "as": RUNG_BIT()s */
	case 'b':
	case 'u':
	case 'i':
		return memcmp(a, b, 4) != 0;
	}
	return true;
}

/* Compares now with sent property by property, announces the ones that
 * differ (their values read from now, through the find function), and
 * remembers now as sent. path NULL: the machine named, whose path is made
 * only when something changed. */
static void emit_changes(sd_bus *bus, const char *path, const char *name, const char *interface,
			 const sd_bus_vtable *vtable, void *sent, const void *now, size_t size,
			 bool *announced) {
	_cleanup_free_ char *machine_path = NULL;
	const char *names[64];
	size_t n = 0;
	int r;

	if (*announced) {
		for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
			if (v->type != _SD_BUS_VTABLE_PROPERTY ||
			    !(v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
				continue;
			if (n + 1 < ELEMENTSOF(names) &&
			    property_differs(v->x.property.signature,
					     (const uint8_t *) sent + v->x.property.offset,
					     (const uint8_t *) now + v->x.property.offset))
				names[n++] = v->x.property.member;
		}
		names[n] = NULL;
		if (n > 0) {
			r = path ? 0 : sd_bus_path_encode(BUS_MACHINE_PREFIX, name, &machine_path);
			if (r >= 0)
				r = sd_bus_emit_properties_changed_strv(bus, path ? path : machine_path,
									interface, (char **) names);
			if (r < 0)
				log_debug_errno(r, "Failed to announce changes of %s: %m", path ? path : name);
		}
	}
	memcpy(sent, now, size);
	*announced = true;
}

void bus_emit_changes(struct bus *b) {
	if (!b)
		return;
	read_manager(b);
	emit_changes(b->bus, BUS_MANAGER_PATH, NULL, BUS_MANAGER_INTERFACE, manager_vtable,
		     &b->sent, &b->now, sizeof b->now, &b->announced);
	/* Every VM after every tick: its record where it was last time, and an
	 * object path only for a VM with something to announce. */
	for (size_t i = 0; i < manager_vm_count(b->manager); i++) {
		struct vm *vm = manager_vm(b->manager, i);
		struct machine_record *rec = machine_record_get_hinted(&b->machines, vm_name(vm),
								       vm_bus_slot(vm));

		if (!rec)
			continue;
		read_machine(b, vm, &b->machine_now);
		emit_changes(b->bus, NULL, rec->name, BUS_MACHINE_INTERFACE, machine_vtable, &rec->sent,
			     &b->machine_now, sizeof b->machine_now, &rec->announced);
	}
}

void bus_machine_added(struct bus *b, struct vm *vm) {
	_cleanup_free_ char *path = NULL;
	struct machine_record *rec;
	int r;

	if (!b || !(rec = machine_record_get(&b->machines, vm_name(vm))))
		return;
	/* InterfacesAdded carries every value: the next changes compare with these. */
	read_machine(b, vm, &rec->sent);
	rec->announced = true;
	r = sd_bus_path_encode(BUS_MACHINE_PREFIX, rec->name, &path);
	if (r >= 0)
		r = sd_bus_emit_object_added(b->bus, path);
	if (r < 0)
		log_warning_errno(r, "%s: failed to announce its object: %m, ignoring", rec->name);
}

void bus_machine_removed(struct bus *b, const char *name) {
	_cleanup_free_ char *path = NULL;
	int r;

	if (!b)
		return;
	machine_record_forget(&b->machines, name);
	r = sd_bus_path_encode(BUS_MACHINE_PREFIX, name, &path);
	if (r >= 0)
		r = sd_bus_emit_object_removed(b->bus, path);
	if (r < 0)
		log_debug_errno(r, "%s: failed to announce its removal: %m", name);
}

void bus_emit_reclaimed(struct bus *b, const char *name, enum rung rung, uint64_t bytes) {
	int r;

	if (!b)
		return;
	r = sd_bus_emit_signal(b->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, "Reclaimed", "sst",
			       name, rung_to_string(rung), bytes);
	if (r < 0)
		log_debug_errno(r, "Failed to emit Reclaimed: %m");
}

void bus_emit_pressure_changed(struct bus *b, bool reclaiming, uint64_t free_bytes, uint64_t need) {
	int r;

	if (!b)
		return;
	r = sd_bus_emit_signal(b->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, "PressureChanged",
			       "btt", (int) reclaiming, free_bytes, need);
	if (r < 0)
		log_debug_errno(r, "Failed to emit PressureChanged: %m");
}

/* ---- connection --------------------------------------------------------- */

static int connect_bus(const char *address, sd_bus **ret) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	if (!address)
		return sd_bus_open_system(ret);
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(bus);
	return 0;
}

static int publish(struct bus *b, sd_event *e, const char *where) {
	int r;

	r = sd_bus_attach_event(b->bus, e, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach %s to the event loop: %m", where);
	r = sd_bus_add_fallback_vtable(b->bus, NULL, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE,
				       manager_vtable, manager_object_find, b);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(b->bus, NULL, BUS_MACHINE_PREFIX, BUS_MACHINE_INTERFACE,
					       machine_vtable, machine_object_find, b);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(b->bus, NULL, BUS_MACHINE_PREFIX, machine_enumerate, b);
	if (r >= 0)
		r = sd_bus_add_object_manager(b->bus, NULL, BUS_MANAGER_PATH);
	if (r < 0)
		return log_error_errno(r, "Failed to publish the D-Bus objects: %m");
	r = sd_bus_request_name(b->bus, BUS_NAME, 0);
	if (r < 0)
		return log_error_errno(r, "Failed to own %s on %s: %m%s", BUS_NAME, where,
				       r == -EEXIST ? " (is another hintd running?)" :
				       r == -EACCES ? " (is the D-Bus policy org.hintd1.conf installed?)" :
				       "");
	return 0;
}

int bus_open(struct manager *m, sd_event *e, const char *address, struct bus **ret) {
	const char *where = address ? address : "the system bus";
	struct bus *b = calloc(1, sizeof *b);
	int r;

	if (!b)
		return -ENOMEM;
	b->manager = m;
	r = connect_bus(address, &b->bus);
	if (r < 0) {
		free(b);
		return log_error_errno(r, "Failed to connect to %s: %m", where);
	}
	r = publish(b, e, where);
	if (r < 0) {
		bus_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

struct bus *bus_free(struct bus *b) {
	if (!b)
		return NULL;
	sd_bus_flush_close_unref(b->bus);
	machine_records_done(&b->machines);
	free(b);
	return NULL;
}
