/* batches.h - the hint batches of one guest between "hints" and "ack".
 *
 * The guest is untrusted: a batch is admitted only when every range is
 * aligned to the granularity agreed in the guest's hello, lies inside one
 * RAM segment of that guest's backing, and overlaps no other range in
 * flight. A batch may be punched only in state CLAIMED, and only within
 * HINT_PUNCH_DEADLINE_MS of hintd *sending* the claim: the guest holds
 * claimed pages for PAGEHINT_CLAIM_TIMEOUT_MS from when it received the
 * claim, which is later, so a punch before the deadline is always inside
 * the guest's hold, however late the confirmation came or long the loop
 * was held up. Callers pass a fresh clock. Pure: no I/O. */
#ifndef HINTD_BATCHES_H
#define HINTD_BATCHES_H

#include <stdbool.h>
#include "model.h"
#include "protocol.h"
#include "ram-map.h"

enum batch_state {
	BATCH_REPORTED,	/* the guest holds the pages, waiting for a claim */
	BATCH_CLAIMING,	/* claim sent, confirmation not yet back */
	BATCH_CLAIMED,	/* the guest holds them until ack: safe to punch */
};

struct batch_range {
	uint64_t gpa, len;
	unsigned backend;	/* which of the VM's backing files */
	uint64_t offset;	/* in that file */
};

struct batch {
	uint32_t id;
	enum batch_state state;
	usec_t received;	/* when "hints" arrived */
	usec_t expires;		/* REPORTED/CLAIMING: the guest's ttl runs out */
	usec_t claim_sent;	/* when hintd sent the claim */
	uint64_t bytes;
	unsigned n_ranges;
	struct batch_range ranges[HINT_MAX_RANGES];
};

struct batch_table {
	uint64_t granularity;		/* from hello; 0 = no hints accepted */
	const struct ram_map *map;	/* NULL = VM not discard capable */
	size_t n;
	/* HINT_MAX_BATCHES_IN_FLIGHT entries, allocated only while hints are
	 * accepted: most VMs of a big host never send any (13 KiB each). */
	struct batch *batches;
};

/* (Re)starts the table empty. Hints are accepted when granularity > 0 and
 * map is set; -ENOMEM leaves the table refusing them. */
int batch_table_init(struct batch_table *t, uint64_t granularity, const struct ram_map *map);
void batch_table_done(struct batch_table *t);

/* Admits a "hints" message. 0, or a negative errno with the reason in err:
 * -EPERM (no map or granularity), -EEXIST (id in flight), -ENOSPC (too
 * many batches), -EINVAL (granularity differs, misaligned), -ERANGE
 * (outside RAM), -EADDRINUSE (overlaps a batch the guest confirmed it
 * holds), -EBUSY (overlaps a batch being claimed: the guest had it back
 * before the claim reached it, which the claim's answer will say; decline
 * this one, the guest reports it again). A batch not yet claimed that the
 * new one overlaps is stale (the guest reports only pages it has) and is
 * dropped. */
int batch_table_add(struct batch_table *t, const struct hint_hints *h, usec_t now,
		    char *err, size_t errlen);

struct batch *batch_table_find(struct batch_table *t, uint64_t id);
void batch_table_remove(struct batch_table *t, uint64_t id);

/* REPORTED -> CLAIMING at now. -ENOENT unknown, -EBUSY not in REPORTED. */
int batch_table_claim_sent(struct batch_table *t, uint64_t id, usec_t now);
/* CLAIMING -> CLAIMED (ok) or removed (!ok). Returns the batch when it
 * may be punched now, else NULL; -ENOENT/-EBUSY as above through ret_r,
 * -ETIMEDOUT (batch removed) when the confirmation came after the punch
 * deadline: the guest is to be answered discarded:false. */
struct batch *batch_table_claimed(struct batch_table *t, uint64_t id, bool ok, usec_t now, int *ret_r);

/* Claimed, and now is inside [claim_sent, claim_sent + deadline). */
bool batch_may_punch(const struct batch *b, usec_t now);

/* Drops batches the guest has back: unclaimed ones past their ttl, claimed
 * or claiming ones past the guest's claim timeout. Returns how many. */
size_t batch_table_expire(struct batch_table *t, usec_t now);

/* Bytes reported and not yet claimed. */
uint64_t batch_table_reported_bytes(const struct batch_table *t);

#endif /* HINTD_BATCHES_H */
