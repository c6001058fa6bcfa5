/* snapshot.c - see snapshot.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "hintctl.h"
#include "macro.h"
#include "snapshot.h"

#define MGR(field) offsetof(struct ctl_manager, field)
#define VM(field) offsetof(struct ctl_machine, field)

/* In the order of docs/dbus-api.md, which is also the order `show` prints. */
const struct ctl_property ctl_manager_properties[] = {
	{ "Version",           CTL_PROP_STRING,   MGR(version) },
	{ "DryRun",            CTL_PROP_BOOL,     MGR(dry_run) },
	{ "TickIntervalUSec",  CTL_PROP_DURATION, MGR(tick_usec) },
	{ "MemoryTotal",       CTL_PROP_SIZE,     MGR(memory_total) },
	{ "MemoryAvailable",   CTL_PROP_SIZE,     MGR(memory_available) },
	{ "PressureSomeAvg10", CTL_PROP_PERCENT,  MGR(psi_some_avg10) },
	{ "PressureFullAvg10", CTL_PROP_PERCENT,  MGR(psi_full_avg10) },
	{ "BudgetLimit",       CTL_PROP_SIZE,     MGR(budget_limit) },
	{ "BudgetUsage",       CTL_PROP_SIZE,     MGR(budget_usage) },
	{ "Free",              CTL_PROP_SIZE,     MGR(free) },
	{ "LowWatermark",      CTL_PROP_SIZE,     MGR(low_watermark) },
	{ "HighWatermark",     CTL_PROP_SIZE,     MGR(high_watermark) },
	{ "Reclaiming",        CTL_PROP_BOOL,     MGR(reclaiming) },
	{ "ReclaimedUnused",   CTL_PROP_SIZE,     MGR(reclaimed[CTL_RUNG_UNUSED]) },
	{ "ReclaimedVolatile", CTL_PROP_SIZE,     MGR(reclaimed[CTL_RUNG_VOLATILE]) },
	{ "ReclaimedBalloon",  CTL_PROP_SIZE,     MGR(reclaimed[CTL_RUNG_BALLOON]) },
	{ "RateUnused",        CTL_PROP_RATE,     MGR(rate[CTL_RUNG_UNUSED]) },
	{ "RateVolatile",      CTL_PROP_RATE,     MGR(rate[CTL_RUNG_VOLATILE]) },
	{ "RateBalloon",       CTL_PROP_RATE,     MGR(rate[CTL_RUNG_BALLOON]) },
	{ "Plan",              CTL_PROP_STRING,   MGR(plan) },
	{ "Libvirt",           CTL_PROP_STRING,   MGR(libvirt) },
};
const size_t ctl_manager_properties_n = ELEMENTSOF(ctl_manager_properties);

const struct ctl_property ctl_machine_properties[] = {
	{ "Name",                   CTL_PROP_STRING,    VM(name) },
	{ "Running",                CTL_PROP_BOOL,      VM(running) },
	{ "MaxMemory",              CTL_PROP_SIZE,      VM(max_memory) },
	{ "BalloonActual",          CTL_PROP_SIZE,      VM(balloon_actual) },
	{ "BalloonTarget",          CTL_PROP_SIZE,      VM(balloon_target) },
	{ "VirtioMemSize",          CTL_PROP_SIZE,      VM(virtio_mem_size) },
	{ "VirtioMemBlockSize",     CTL_PROP_SIZE,      VM(virtio_mem_block_size) },
	{ "VirtioMemRequested",     CTL_PROP_SIZE,      VM(virtio_mem_requested) },
	{ "VirtioMemPlugged",       CTL_PROP_SIZE,      VM(virtio_mem_plugged) },
	{ "LastInstrument",         CTL_PROP_STRING,    VM(last_instrument) },
	{ "Backed",                 CTL_PROP_SIZE,      VM(backed) },
	{ "Unused",                 CTL_PROP_SIZE,      VM(unused) },
	{ "Volatile",               CTL_PROP_SIZE,      VM(volatile_) },
	{ "Stable",                 CTL_PROP_SIZE,      VM(stable) },
	{ "Hinted",                 CTL_PROP_SIZE,      VM(hinted) },
	{ "ReclaimedUnused",        CTL_PROP_SIZE,      VM(reclaimed[CTL_RUNG_UNUSED]) },
	{ "ReclaimedVolatile",      CTL_PROP_SIZE,      VM(reclaimed[CTL_RUNG_VOLATILE]) },
	{ "ReclaimedBalloon",       CTL_PROP_SIZE,      VM(reclaimed[CTL_RUNG_BALLOON]) },
	{ "GuestPressureSomeAvg10", CTL_PROP_PERCENT,   VM(guest_psi_some_avg10) },
	{ "SwapInRate",             CTL_PROP_DOUBLE,    VM(swap_in_rate) },
	{ "MinMemory",              CTL_PROP_SIZE,      VM(min_memory) },
	{ "MaxMemorySetting",       CTL_PROP_SIZE,      VM(max_memory_setting) },
	{ "Shares",                 CTL_PROP_U32,       VM(shares) },
	{ "Priority",               CTL_PROP_I32,       VM(priority) },
	{ "Reclaim",                CTL_PROP_STRV,      VM(reclaim) },
	{ "Managed",                CTL_PROP_BOOL,      VM(managed) },
	{ "Proactive",              CTL_PROP_BOOL,      VM(proactive) },
	{ "AgentState",             CTL_PROP_STRING,    VM(agent_state) },
	{ "AgentRejected",          CTL_PROP_COUNT,     VM(agent_rejected) },
	{ "Libvirt",                CTL_PROP_STRING,    VM(libvirt) },
	{ "Module",                 CTL_PROP_BOOL,      VM(module) },
	{ "DiscardCapable",         CTL_PROP_BOOL,      VM(discard_capable) },
	{ "DiscardReason",          CTL_PROP_STRING,    VM(discard_reason) },
	{ "Discard",                CTL_PROP_STRING,    VM(discard) },
	{ "LastDecision",           CTL_PROP_STRING,    VM(last_decision) },
	{ "LastDecisionTimestamp",  CTL_PROP_TIMESTAMP, VM(last_decision_usec) },
};
const size_t ctl_machine_properties_n = ELEMENTSOF(ctl_machine_properties);

const char *ctl_property_signature(enum ctl_property_kind kind) {
	switch (kind) {
	case CTL_PROP_STRING: return "s";
	case CTL_PROP_BOOL: return "b";
	case CTL_PROP_SIZE:
	case CTL_PROP_COUNT:
	case CTL_PROP_DURATION:
	case CTL_PROP_TIMESTAMP: return "t";
	case CTL_PROP_PERCENT:
	case CTL_PROP_RATE:
	case CTL_PROP_DOUBLE: return "d";
	case CTL_PROP_U32: return "u";
	case CTL_PROP_I32: return "i";
	case CTL_PROP_STRV: return "as";
	}
	return "";
}

#define FIELD(obj, p, type) ((type *) ((char *) (obj) + (p)->offset))
#define CFIELD(obj, p, type) ((const __typeof__(type) *) ((const char *) (obj) + (p)->offset))

char *ctl_property_format(const struct ctl_property *p, const void *obj, bool exact,
			  uint64_t now_usec, char *buf, size_t size) {
	switch (p->kind) {
	case CTL_PROP_STRING: {
		const char *s = *CFIELD(obj, p, char *);
		snprintf(buf, size, "%s", s ? s : "");
		break;
	}
	case CTL_PROP_BOOL:
		snprintf(buf, size, "%s", ctl_yes_no(*CFIELD(obj, p, bool)));
		break;
	case CTL_PROP_SIZE:
		ctl_format_size(buf, size, *CFIELD(obj, p, uint64_t), exact);
		break;
	case CTL_PROP_COUNT:
		snprintf(buf, size, "%" PRIu64, *CFIELD(obj, p, uint64_t));
		break;
	case CTL_PROP_DURATION:
		ctl_format_duration(buf, size, *CFIELD(obj, p, uint64_t));
		break;
	case CTL_PROP_TIMESTAMP:
		ctl_format_timestamp(buf, size, *CFIELD(obj, p, uint64_t), now_usec);
		break;
	case CTL_PROP_PERCENT:
		snprintf(buf, size, "%.2f%%", *CFIELD(obj, p, double));
		break;
	case CTL_PROP_RATE:
		ctl_format_rate(buf, size, *CFIELD(obj, p, double), exact);
		break;
	case CTL_PROP_DOUBLE:
		snprintf(buf, size, "%.2f", *CFIELD(obj, p, double));
		break;
	case CTL_PROP_U32:
		snprintf(buf, size, "%" PRIu32, *CFIELD(obj, p, uint32_t));
		break;
	case CTL_PROP_I32:
		snprintf(buf, size, "%" PRIi32, *CFIELD(obj, p, int32_t));
		break;
	case CTL_PROP_STRV: {
		char *const *l = *CFIELD(obj, p, char **);
		size_t n = 0;

		buf[0] = '\0';
		for (; l && *l; l++) {
			int k = snprintf(buf + n, size - n, "%s%s", n ? "," : "", *l);
			if (k < 0 || (size_t) k >= size - n)
				break;
			n += (size_t) k;
		}
		if (n == 0)
			snprintf(buf, size, "none");
		break;
	}
	}
	return buf;
}

static int read_one(sd_bus_message *m, const struct ctl_property *p, void *obj) {
	int r;

	switch (p->kind) {
	case CTL_PROP_STRING: {
		const char *s;
		char *copy;

		r = sd_bus_message_read_basic(m, 's', &s);
		if (r < 0)
			return r;
		copy = strdup(s);
		if (!copy)
			return -ENOMEM;
		free(*FIELD(obj, p, char *));
		*FIELD(obj, p, char *) = copy;
		return 0;
	}
	case CTL_PROP_BOOL: {
		int b;

		r = sd_bus_message_read_basic(m, 'b', &b);
		if (r < 0)
			return r;
		*FIELD(obj, p, bool) = b;
		return 0;
	}
	case CTL_PROP_SIZE:
	case CTL_PROP_COUNT:
	case CTL_PROP_DURATION:
	case CTL_PROP_TIMESTAMP:
		return sd_bus_message_read_basic(m, 't', FIELD(obj, p, uint64_t));
	case CTL_PROP_PERCENT:
	case CTL_PROP_RATE:
	case CTL_PROP_DOUBLE:
		return sd_bus_message_read_basic(m, 'd', FIELD(obj, p, double));
	case CTL_PROP_U32:
		return sd_bus_message_read_basic(m, 'u', FIELD(obj, p, uint32_t));
	case CTL_PROP_I32:
		return sd_bus_message_read_basic(m, 'i', FIELD(obj, p, int32_t));
	case CTL_PROP_STRV: {
		char **l = NULL;

		r = sd_bus_message_read_strv(m, &l);
		if (r < 0)
			return r;
		strv_free(*FIELD(obj, p, char **));
		*FIELD(obj, p, char **) = l;
		return 0;
	}
	}
	return -EINVAL;
}

int ctl_properties_read(sd_bus_message *m, const struct ctl_property *table, size_t n, void *obj) {
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const struct ctl_property *p = NULL;
		const char *name, *contents;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (strcmp(table[i].name, name) == 0) {
				p = &table[i];
				break;
			}
		r = sd_bus_message_peek_type(m, NULL, &contents);
		if (r < 0)
			return r;
		if (!p || strcmp(contents, ctl_property_signature(p->kind)) != 0) {
			r = sd_bus_message_skip(m, "v");
			if (r < 0)
				return r;
		} else {
			r = sd_bus_message_enter_container(m, 'v', contents);
			if (r < 0)
				return r;
			r = read_one(m, p, obj);
			if (r < 0)
				return r;
			r = sd_bus_message_exit_container(m);
			if (r < 0)
				return r;
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

void ctl_manager_done(struct ctl_manager *m) {
	free(m->version);
	free(m->plan);
	free(m->libvirt);
	*m = (struct ctl_manager) {};
}

void ctl_machine_done(struct ctl_machine *m) {
	free(m->path);
	free(m->name);
	strv_free(m->reclaim);
	free(m->agent_state);
	free(m->libvirt);
	free(m->discard_reason);
	free(m->discard);
	free(m->last_decision);
	free(m->last_instrument);
	*m = (struct ctl_machine) {};
}

void ctl_snapshot_done(struct ctl_snapshot *s) {
	ctl_manager_done(&s->manager);
	for (size_t i = 0; i < s->n_machines; i++)
		ctl_machine_done(&s->machines[i]);
	free(s->machines);
	*s = (struct ctl_snapshot) {};
}

static void ctl_snapshot_donep(struct ctl_snapshot *s) {
	ctl_snapshot_done(s);
}
static void ctl_manager_donep(struct ctl_manager *m) {
	ctl_manager_done(m);
}
static void ctl_machine_donep(struct ctl_machine *m) {
	ctl_machine_done(m);
}

int ctl_manager_read(sd_bus *bus, struct ctl_manager *ret, sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(ctl_manager_donep) struct ctl_manager m = {};
	int r;

	r = sd_bus_call_method(bus, HINTD_BUS_NAME, HINTD_MANAGER_PATH,
			       "org.freedesktop.DBus.Properties", "GetAll", error, &reply,
			       "s", HINTD_MANAGER_IFACE);
	if (r < 0)
		return r;
	r = ctl_properties_read(reply, ctl_manager_properties, ctl_manager_properties_n, &m);
	if (r < 0)
		return r;
	*ret = m;
	m = (struct ctl_manager) {};
	return 0;
}

static int machine_compare(const void *a, const void *b) {
	const struct ctl_machine *x = a, *y = b;

	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* GetManagedObjects: a{oa{sa{sv}}}; only org.hintd1.Machine is read. */
static int read_machines(sd_bus_message *m, struct ctl_snapshot *s) {
	size_t allocated = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		_cleanup_(ctl_machine_donep) struct ctl_machine vm = {};
		const char *path;
		bool found = false;

		r = sd_bus_message_read_basic(m, 'o', &path);
		if (r < 0)
			return r;
		r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
		if (r < 0)
			return r;
		while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
			const char *iface;

			r = sd_bus_message_read_basic(m, 's', &iface);
			if (r < 0)
				return r;
			if (strcmp(iface, HINTD_MACHINE_IFACE) == 0) {
				r = ctl_properties_read(m, ctl_machine_properties,
							ctl_machine_properties_n, &vm);
				found = true;
			} else
				r = sd_bus_message_skip(m, "a{sv}");
			if (r < 0)
				return r;
			r = sd_bus_message_exit_container(m);
			if (r < 0)
				return r;
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);		/* a{sa{sv}} */
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);		/* {oa{sa{sv}}} */
		if (r < 0)
			return r;
		if (!found)
			continue;

		vm.path = strdup(path);
		if (!vm.path || (!vm.name && !(vm.name = strdup(path))))
			return -ENOMEM;
		if (s->n_machines == allocated) {
			size_t k = allocated ? allocated * 2 : 8;
			struct ctl_machine *a = reallocarray(s->machines, k, sizeof *a);

			if (!a)
				return -ENOMEM;
			s->machines = a;
			allocated = k;
		}
		s->machines[s->n_machines++] = vm;
		vm = (struct ctl_machine) {};
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (s->n_machines > 1)
		qsort(s->machines, s->n_machines, sizeof *s->machines, machine_compare);
	return 0;
}

int ctl_snapshot_read(sd_bus *bus, struct ctl_snapshot *ret_snapshot, sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(ctl_snapshot_donep) struct ctl_snapshot s = {};
	int r;

	r = ctl_manager_read(bus, &s.manager, error);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, HINTD_BUS_NAME, HINTD_MANAGER_PATH,
			       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
			       error, &reply, NULL);
	if (r < 0)
		return r;
	r = read_machines(reply, &s);
	if (r < 0)
		return r;
	*ret_snapshot = s;
	s = (struct ctl_snapshot) {};
	return 0;
}

int ctl_machine_read(sd_bus *bus, const char *name, struct ctl_machine *ret, sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
	_cleanup_(ctl_machine_donep) struct ctl_machine vm = {};
	const char *path;
	int r;

	r = sd_bus_call_method(bus, HINTD_BUS_NAME, HINTD_MANAGER_PATH, HINTD_MANAGER_IFACE,
			       "GetMachine", error, &reply, "s", name);
	if (r < 0)
		return r;
	r = sd_bus_message_read_basic(reply, 'o', &path);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, HINTD_BUS_NAME, path, "org.freedesktop.DBus.Properties",
			       "GetAll", error, &props, "s", HINTD_MACHINE_IFACE);
	if (r < 0)
		return r;
	r = ctl_properties_read(props, ctl_machine_properties, ctl_machine_properties_n, &vm);
	if (r < 0)
		return r;
	vm.path = strdup(path);
	if (!vm.path || (!vm.name && !(vm.name = strdup(name))))
		return -ENOMEM;
	*ret = vm;
	vm = (struct ctl_machine) {};
	return 0;
}

uint64_t ctl_machine_reclaimed(const struct ctl_machine *m) {
	uint64_t sum = 0;

	for (size_t i = 0; i < _CTL_RUNG_MAX; i++)
		sum += m->reclaimed[i];
	return sum;
}

bool ctl_machine_has_virtio_mem(const struct ctl_machine *m) {
	return m->virtio_mem_size > 0;
}

bool ctl_snapshot_has_virtio_mem(const struct ctl_snapshot *s) {
	for (size_t i = 0; i < s->n_machines; i++)
		if (ctl_machine_has_virtio_mem(&s->machines[i]))
			return true;
	return false;
}

char *ctl_machine_virtio_mem(const struct ctl_machine *m, bool exact, char *buf, size_t size) {
	return ctl_format_virtio_mem(buf, size, m->virtio_mem_plugged, m->virtio_mem_requested,
				     m->virtio_mem_size, exact);
}

const char *ctl_machine_discard(const struct ctl_machine *m) {
	if (m->discard && *m->discard)
		return m->discard;
	return m->discard_capable ? "yes" : "no";
}

char *ctl_machine_discard_why(const struct ctl_machine *m, char *buf, size_t size) {
	static const struct { const char *state, *why; } table[] = {
		{ "yes", "hintd discards the free memory pagehint.ko reports" },
		{ "reading", "libvirt has not described the domain yet" },
		{ "fpr", "the balloon's free page reporting is on: QEMU returns free pages itself "
			 "and hintd gets no hints (freePageReporting='off' hands them to hintd)" },
		{ "no agent", "the domain has no org.hintd.agent.0 channel for hint-agent" },
		{ "no module", "hint-agent runs without pagehint.ko: stats and cache drops only "
			       "(the agent's log says why the module is not active)" },
	};
	const char *state = m->discard && *m->discard ? m->discard : "no backing";

	/* An older hintd says only DiscardCapable, and why not in DiscardReason. */
	if (strcmp(state, "no backing") == 0)
		snprintf(buf, size, "%s", m->discard_reason && *m->discard_reason ? m->discard_reason
						: "its RAM backing is not open");
	else if (strcmp(state, "agent down") == 0)
		snprintf(buf, size, "%s", m->agent_state && strcmp(m->agent_state, "failed") == 0
			 ? "its agent broke the protocol and was cut off; hintd tries again later"
			 : "no agent answers on its channel (not started in the guest, or gone)");
	else {
		snprintf(buf, size, "%s", "");
		for (size_t i = 0; i < ELEMENTSOF(table); i++)
			if (strcmp(state, table[i].state) == 0)
				snprintf(buf, size, "%s", table[i].why);
	}
	return buf;
}

uint64_t ctl_manager_reclaimed(const struct ctl_manager *m) {
	uint64_t sum = 0;

	for (size_t i = 0; i < _CTL_RUNG_MAX; i++)
		sum += m->reclaimed[i];
	return sum;
}

const struct ctl_machine *ctl_snapshot_find(const struct ctl_snapshot *s, const char *name) {
	if (!s || !name)
		return NULL;
	for (size_t i = 0; i < s->n_machines; i++)
		if (s->machines[i].name && strcmp(s->machines[i].name, name) == 0)
			return &s->machines[i];
	return NULL;
}
