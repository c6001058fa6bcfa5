/* Fuzz target: QEMU's memory view and a guest's hint batches. The first
 * part of the input is a memory tree; the rest are hint batches. Whatever
 * batch_table_add() admits must lie inside one RAM segment of that map and
 * inside the backing, aligned, and overlap nothing else in flight: the
 * rules that keep a guest from making hintd punch memory that is not its
 * own free memory. Each admitted batch is then claimed and confirmed at
 * times taken from the input (clocks that jump either way included): it may
 * be punched only inside [claim sent, claim sent + deadline). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "batches.h"
#include "macro.h"
#include "ram-map.h"

static const char default_tree[] =
	"FlatView #0\n AS \"memory\", root: system\n"
	"  0000000000000000-000000000009ffff (prio 0, ram): pc.ram\n"
	"  0000000000100000-000000001fffffff (prio 0, ram): pc.ram @0000000000100000\n";

/* Claim sent at one time, confirmed at another, punch asked at a third
 * (24 bytes of input): never a punch outside the deadline. */
static void check_claim(struct batch_table *t, uint32_t id, const uint8_t **data, size_t *size) {
	const usec_t deadline = HINT_PUNCH_DEADLINE_MS * USEC_PER_MSEC;
	uint64_t at[3];
	struct batch *b;
	int r;

	if (*size < sizeof at)
		return;
	memcpy(at, *data, sizeof at);
	*data += sizeof at;
	*size -= sizeof at;
	if (batch_table_claim_sent(t, id, at[0]) < 0)
		abort();
	b = batch_table_claimed(t, id, true, at[1], &r);
	if (b && !(at[1] >= at[0] && at[1] - at[0] < deadline))
		abort();
	if (!b && r != -ETIMEDOUT)
		abort();
	if (b && batch_may_punch(b, at[2]) != (at[2] >= at[0] && at[2] - at[0] < deadline))
		abort();
	if (b)
		batch_table_remove(t, id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct ram_map map;
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	const uint8_t *sep = memchr(data, 0, size);
	size_t tree_len = sep ? (size_t) (sep - data) : 0;
	char *tree;
	uint64_t backing = MiB(512);

	tree = malloc(tree_len + 1);
	if (!tree)
		return 0;
	memcpy(tree, data, tree_len);
	tree[tree_len] = '\0';
	const struct ram_backend backends[] = { { .name = "pc.ram", .size = backing },
						{ .name = "ram-node1", .size = backing } };
	if (ram_map_parse_mtree(tree, backends, ELEMENTSOF(backends), &map) < 0 &&
	    ram_map_parse_mtree(default_tree, backends, 1, &map) < 0)
		abort();
	free(tree);
	for (size_t i = 0; i < map.n_segments; i++)
		if (map.segments[i].offset + map.segments[i].len > backing)
			abort();

	batch_table_init(&t, MiB(2), &map);
	data += tree_len + (sep ? 1 : 0);
	size -= tree_len + (sep ? 1 : 0);

	/* Each batch: id (4 bytes), count (1), then count x (gpa, len) of 8+8. */
	while (size >= 5) {
		struct hint_hints h = { .granularity = MiB(2), .ttl_ms = 2000 };
		uint32_t id;
		memcpy(&id, data, 4);
		h.batch = id;
		h.n_ranges = data[4] % (HINT_MAX_RANGES + 2);
		data += 5;
		size -= 5;
		for (unsigned i = 0; i < h.n_ranges && i < HINT_MAX_RANGES; i++) {
			if (size < 16)
				break;
			memcpy(&h.ranges[i].gpa, data, 8);
			memcpy(&h.ranges[i].len, data + 8, 8);
			data += 16;
			size -= 16;
		}
		if (batch_table_add(&t, &h, 0, NULL, 0) == 0) {
			/* A stale batch it displaced went; the new one is last. */
			size_t before = t.n - 1;
			struct batch *b = &t.batches[before];
			for (unsigned i = 0; i < b->n_ranges; i++) {
				uint64_t off;
				unsigned backend;
				const struct batch_range *r = &b->ranges[i];
				if (r->len == 0 || r->gpa % MiB(2) || r->len % MiB(2))
					abort();
				if (ram_map_translate(&map, r->gpa, r->len, &backend, &off) < 0 || off != r->offset ||
				    backend != r->backend || backend >= map.n_backends)
					abort();
				if (r->offset + r->len > backing || r->offset + r->len < r->offset)
					abort();
				for (size_t j = 0; j < t.n; j++)
					for (unsigned k = 0; k < t.batches[j].n_ranges; k++) {
						const struct batch_range *o = &t.batches[j].ranges[k];
						if ((j != before || k != i) &&
						    r->gpa < o->gpa + o->len && o->gpa < r->gpa + r->len)
							abort();
					}
			}
			if (b->id & 1)
				check_claim(&t, b->id, &data, &size);
		}
		if (t.n == HINT_MAX_BATCHES_IN_FLIGHT)
			batch_table_init(&t, MiB(2), &map);
	}
	return 0;
}
