/* snapshot.h - hintd's state as plain structs: the Manager's properties and
 * every Machine's, read in two calls (GetAll, GetManagedObjects). Commands
 * print these; `hintctl top` compares two of them. The property tables
 * name each D-Bus property, its kind and where it lands, so reading,
 * `hintctl show` and JSON output share one list. */
#ifndef HINTCTL_SNAPSHOT_H
#define HINTCTL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include "args.h"

struct ctl_manager {
	char *version;
	bool dry_run;
	uint64_t tick_usec;
	uint64_t memory_total, memory_available;
	double psi_some_avg10, psi_full_avg10;	/* percent */
	uint64_t budget_limit;			/* 0 = no budget */
	uint64_t budget_usage;
	uint64_t free, low_watermark, high_watermark;
	bool reclaiming;
	uint64_t reclaimed[_CTL_RUNG_MAX];	/* bytes since hintd started */
	double rate[_CTL_RUNG_MAX];		/* bytes/s over hintd's last tick */
	char *plan;
	char *libvirt;
};

struct ctl_machine {
	char *path;
	char *name;
	bool running;
	uint64_t max_memory, balloon_actual, balloon_target;
	/* Its virtio-mem device: all 0 without one. */
	uint64_t virtio_mem_size, virtio_mem_block_size, virtio_mem_requested, virtio_mem_plugged;
	char *last_instrument;			/* "none", "balloon", "virtio-mem" */
	uint64_t backed, unused, volatile_, stable, hinted;
	uint64_t reclaimed[_CTL_RUNG_MAX];	/* bytes since hintd manages it */
	double guest_psi_some_avg10;		/* percent */
	double swap_in_rate;			/* pages/s */
	uint64_t min_memory, max_memory_setting; /* 0 = not set */
	uint32_t shares;
	int32_t priority;
	char **reclaim;				/* allowed rungs, NULL-terminated */
	bool managed;
	bool proactive;
	char *agent_state;
	char *libvirt;
	uint64_t agent_rejected;		/* messages from its agent refused */
	bool module, discard_capable;
	char *discard_reason;
	char *discard;				/* "yes" or what is in the way */
	char *last_decision;
	uint64_t last_decision_usec;		/* CLOCK_REALTIME, 0 = none */
};

struct ctl_snapshot {
	struct ctl_manager manager;
	struct ctl_machine *machines;		/* sorted by name */
	size_t n_machines;
};

enum ctl_property_kind {
	CTL_PROP_STRING,	/* s */
	CTL_PROP_BOOL,		/* b */
	CTL_PROP_SIZE,		/* t, bytes */
	CTL_PROP_COUNT,		/* t, a number of things */
	CTL_PROP_DURATION,	/* t, µs */
	CTL_PROP_TIMESTAMP,	/* t, CLOCK_REALTIME µs */
	CTL_PROP_PERCENT,	/* d */
	CTL_PROP_RATE,		/* d, bytes/s */
	CTL_PROP_DOUBLE,	/* d, anything else */
	CTL_PROP_U32,		/* u */
	CTL_PROP_I32,		/* i */
	CTL_PROP_STRV,		/* as */
};

struct ctl_property {
	const char *name;
	enum ctl_property_kind kind;
	size_t offset;
};

extern const struct ctl_property ctl_manager_properties[];
extern const size_t ctl_manager_properties_n;
extern const struct ctl_property ctl_machine_properties[];
extern const size_t ctl_machine_properties_n;

const char *ctl_property_signature(enum ctl_property_kind kind);

/* The value of p in obj (a struct ctl_manager or ctl_machine) for people:
 * sizes per ctl_format_size(), timestamps with their age against now_usec,
 * string lists joined with ",". */
char *ctl_property_format(const struct ctl_property *p, const void *obj, bool exact,
			  uint64_t now_usec, char *buf, size_t size);

/* Reads an a{sv} of properties into obj; unknown names and unexpected
 * types are skipped, so newer daemons stay readable. */
int ctl_properties_read(sd_bus_message *m, const struct ctl_property *table, size_t n, void *obj);

/* Both read with GetAll / GetManagedObjects; ret_snapshot is written only
 * on success. error is filled on a D-Bus error. */
int ctl_snapshot_read(sd_bus *bus, struct ctl_snapshot *ret_snapshot, sd_bus_error *error);
int ctl_manager_read(sd_bus *bus, struct ctl_manager *ret, sd_bus_error *error);
/* GetMachine(name), then GetAll on its object. */
int ctl_machine_read(sd_bus *bus, const char *name, struct ctl_machine *ret, sd_bus_error *error);

uint64_t ctl_machine_reclaimed(const struct ctl_machine *m);
/* Its Discard state ("yes", "no agent", ...); from DiscardCapable ("yes",
 * "no") when hintd does not say. */
const char *ctl_machine_discard(const struct ctl_machine *m);
/* Why its Discard state is what it is, for people (hintctl show). */
char *ctl_machine_discard_why(const struct ctl_machine *m, char *buf, size_t size);
/* Whether it has a virtio-mem device hintd drives; whether any VM has. */
bool ctl_machine_has_virtio_mem(const struct ctl_machine *m);
bool ctl_snapshot_has_virtio_mem(const struct ctl_snapshot *s);
/* Its device per ctl_format_virtio_mem(): "1.5G/4G", "1.5G->1G/4G", "-". */
char *ctl_machine_virtio_mem(const struct ctl_machine *m, bool exact, char *buf, size_t size);
uint64_t ctl_manager_reclaimed(const struct ctl_manager *m);
const struct ctl_machine *ctl_snapshot_find(const struct ctl_snapshot *s, const char *name);

void ctl_manager_done(struct ctl_manager *m);
void ctl_machine_done(struct ctl_machine *m);
void ctl_snapshot_done(struct ctl_snapshot *s);

#endif /* HINTCTL_SNAPSHOT_H */
