/* batches.c - see batches.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "batches.h"

int batch_table_init(struct batch_table *t, uint64_t granularity, const struct ram_map *map) {
	struct batch *batches = t->batches;

	if (granularity == 0 || !map) {
		batch_table_done(t);
		return 0;
	}
	if (!batches)
		batches = calloc(HINT_MAX_BATCHES_IN_FLIGHT, sizeof *batches);
	*t = (struct batch_table) { .granularity = granularity, .map = map, .batches = batches };
	if (!batches) {
		t->granularity = 0;
		return -ENOMEM;
	}
	return 0;
}

void batch_table_done(struct batch_table *t) {
	free(t->batches);
	*t = (struct batch_table) { 0 };
}

struct batch *batch_table_find(struct batch_table *t, uint64_t id) {
	for (size_t i = 0; i < t->n; i++)
		if (t->batches[i].id == id)
			return &t->batches[i];
	return NULL;
}

void batch_table_remove(struct batch_table *t, uint64_t id) {
	for (size_t i = 0; i < t->n; i++)
		if (t->batches[i].id == id) {
			t->batches[i] = t->batches[--t->n];
			return;
		}
}

#define REFUSE(r, ...) ({ if (err) snprintf(err, errlen, __VA_ARGS__); (r); })

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
	return a < b + blen && b < a + alen;
}

/* The batch in flight with a range overlapping [gpa, gpa+len), or NULL. */
static struct batch *overlapping(struct batch_table *t, uint64_t gpa, uint64_t len) {
	for (size_t i = 0; i < t->n; i++)
		for (unsigned j = 0; j < t->batches[i].n_ranges; j++)
			if (overlaps(gpa, len, t->batches[i].ranges[j].gpa, t->batches[i].ranges[j].len))
				return &t->batches[i];
	return NULL;
}

/* A range of a new batch overlaps one in flight: see batches.h. */
static int resolve_overlap(struct batch_table *t, const struct hint_hints *h, uint64_t gpa,
			   uint64_t len, char *err, size_t errlen) {
	struct batch *old;

	while ((old = overlapping(t, gpa, len))) {
		if (old->state == BATCH_CLAIMED)
			return REFUSE(-EADDRINUSE, "batch %" PRIu64 ": range 0x%" PRIx64
				      " is already in another batch", h->batch, gpa);
		if (old->state == BATCH_CLAIMING)
			return REFUSE(-EBUSY, "batch %" PRIu64 ": range 0x%" PRIx64
				      " is in batch %" PRIu32 ", being claimed", h->batch, gpa, old->id);
		batch_table_remove(t, old->id);
	}
	return 0;
}


int batch_table_add(struct batch_table *t, const struct hint_hints *h, usec_t now,
		    char *err, size_t errlen) {
	struct batch b = { .state = BATCH_REPORTED, .received = now };

	if (!t->map || t->granularity == 0)
		return REFUSE(-EPERM, "hints not accepted from this guest (no discard path)");
	if (h->batch == 0 || h->batch > UINT32_MAX)
		return REFUSE(-EINVAL, "batch id %" PRIu64 " out of range", h->batch);
	if (batch_table_find(t, h->batch))
		return REFUSE(-EEXIST, "batch %" PRIu64 " is already in flight", h->batch);
	if (t->n >= HINT_MAX_BATCHES_IN_FLIGHT)
		return REFUSE(-ENOSPC, "more than %d batches in flight", HINT_MAX_BATCHES_IN_FLIGHT);
	if (h->granularity != t->granularity)
		return REFUSE(-EINVAL, "batch %" PRIu64 ": granularity %" PRIu64 " differs from %" PRIu64,
			      h->batch, h->granularity, t->granularity);
	if (h->n_ranges == 0 || h->n_ranges > HINT_MAX_RANGES)
		return REFUSE(-EINVAL, "batch %" PRIu64 ": %u ranges", h->batch, h->n_ranges);

	b.id = (uint32_t) h->batch;
	b.expires = now + h->ttl_ms * USEC_PER_MSEC;
	for (unsigned i = 0; i < h->n_ranges; i++) {
		uint64_t gpa = h->ranges[i].gpa, len = h->ranges[i].len, offset;
		unsigned backend;

		if (len == 0 || gpa % t->granularity || len % t->granularity)
			return REFUSE(-EINVAL, "batch %" PRIu64 ": range 0x%" PRIx64 "+0x%" PRIx64
				      " not aligned to %" PRIu64, h->batch, gpa, len, t->granularity);
		if (ram_map_translate(t->map, gpa, len, &backend, &offset) < 0)
			return REFUSE(-ERANGE, "batch %" PRIu64 ": range 0x%" PRIx64 "+0x%" PRIx64
				      " is not guest RAM", h->batch, gpa, len);
		for (unsigned j = 0; j < b.n_ranges; j++)
			if (overlaps(gpa, len, b.ranges[j].gpa, b.ranges[j].len))
				return REFUSE(-EADDRINUSE, "batch %" PRIu64 ": range 0x%" PRIx64
					      " repeated in the batch", h->batch, gpa);
		b.ranges[b.n_ranges++] = (struct batch_range) { .gpa = gpa, .len = len, .backend = backend,
								 .offset = offset };
		b.bytes += len;
	}
	/* Only a batch valid in itself may displace a stale one. */
	for (unsigned i = 0; i < b.n_ranges; i++) {
		int r = resolve_overlap(t, h, b.ranges[i].gpa, b.ranges[i].len, err, errlen);
		if (r < 0)
			return r;
	}
	t->batches[t->n++] = b;
	return 0;
}

int batch_table_claim_sent(struct batch_table *t, uint64_t id, usec_t now) {
	struct batch *b = batch_table_find(t, id);
	if (!b)
		return -ENOENT;
	if (b->state != BATCH_REPORTED)
		return -EBUSY;
	b->state = BATCH_CLAIMING;
	b->claim_sent = now;
	return 0;
}

static bool before_deadline(const struct batch *b, usec_t now) {
	return now >= b->claim_sent && now - b->claim_sent < HINT_PUNCH_DEADLINE_MS * USEC_PER_MSEC;
}

struct batch *batch_table_claimed(struct batch_table *t, uint64_t id, bool ok, usec_t now, int *ret_r) {
	struct batch *b = batch_table_find(t, id);

	*ret_r = 0;
	if (!b) {
		*ret_r = -ENOENT;
		return NULL;
	}
	if (b->state != BATCH_CLAIMING) {
		*ret_r = -EBUSY;
		return NULL;
	}
	if (!ok) {
		batch_table_remove(t, id);
		return NULL;
	}
	if (!before_deadline(b, now)) {
		batch_table_remove(t, id);
		*ret_r = -ETIMEDOUT;
		return NULL;
	}
	b->state = BATCH_CLAIMED;
	return b;
}

bool batch_may_punch(const struct batch *b, usec_t now) {
	return b->state == BATCH_CLAIMED && before_deadline(b, now);
}

size_t batch_table_expire(struct batch_table *t, usec_t now) {
	size_t dropped = 0;
	for (size_t i = 0; i < t->n;) {
		struct batch *b = &t->batches[i];
		/* A claim's answer is awaited as long as the guest would hold
		 * the pages for it: a late one is then answered, not refused. */
		bool gone = b->state == BATCH_REPORTED
			? now >= b->expires
			: now - b->claim_sent >= (usec_t) PAGEHINT_CLAIM_TIMEOUT_MS * USEC_PER_MSEC;
		if (gone) {
			*b = t->batches[--t->n];
			dropped++;
		} else
			i++;
	}
	return dropped;
}

uint64_t batch_table_reported_bytes(const struct batch_table *t) {
	uint64_t bytes = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->batches[i].state != BATCH_CLAIMED)
			bytes += t->batches[i].bytes;
	return bytes;
}
