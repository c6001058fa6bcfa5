/* bus-record.h - what the bus last announced of each machine, by name:
 * PropertiesChanged carries only what differs from it. */
#ifndef HINTD_BUS_RECORD_H
#define HINTD_BUS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include "bus.h"

struct machine_record {
	char name[128];
	struct bus_machine_props sent;
	bool announced;
};

/* Kept sorted by name: a tick over 1000 VMs looks each up in a few steps. */
struct machine_records {
	struct machine_record *v;
	size_t n;
};

/* The record of the machine named, made when first needed (a VM may have
 * come before the bus was open). NULL only without memory. The pointer is
 * good until the next get or forget. */
struct machine_record *machine_record_get(struct machine_records *r, const char *name);
/* The same, trying the slot *slot first (where the record was found last
 * time), and setting *slot to where it is: one comparison while no machine
 * came or went. */
struct machine_record *machine_record_get_hinted(struct machine_records *r, const char *name,
						 size_t *slot);
void machine_record_forget(struct machine_records *r, const char *name);
void machine_records_done(struct machine_records *r);

#endif /* HINTD_BUS_RECORD_H */
