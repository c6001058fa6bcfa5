/* Address mapping and batch admission: what hintd may punch in a guest's
 * backing, from QEMU's real memory view and from hostile hint batches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "batches.h"
#include "harness.h"
#include "macro.h"
#include "ram-map.h"

static char *slurp(const char *path) {
	FILE *f = fopen(path, "re");
	char *buf = calloc(1, 1 << 20);
	if (!f || !buf) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

/* The single backend libvirt gives a VM without NUMA cells. */
static const struct ram_backend *pc_ram(uint64_t size) {
	static struct ram_backend b = { .name = "pc.ram" };
	b.size = size;
	return &b;
}

static struct ram_map pc_map(void) {
	_cleanup_free_ char *text = slurp(FIXTURE("mtree/pc-512m.txt"));
	struct ram_map map;
	if (ram_map_parse_mtree(text, pc_ram(MiB(512)), 1, &map) < 0)
		abort();
	return map;
}

TEST(pc_layout_from_real_qemu) {
	struct ram_map map = pc_map();
	unsigned backend;
	uint64_t off;

	/* 0-0xc2fff, 0xe8000-0xeffff and 1 MiB-512 MiB are RAM; ROM shadows are not. */
	CHECK_EQ_INT(map.n_segments, 3);
	CHECK_EQ_U64(map.segments[2].gpa, MiB(1));
	CHECK_EQ_U64(map.segments[2].len, MiB(511));
	CHECK_EQ_U64(map.segments[2].offset, MiB(1));
	CHECK_EQ_INT(ram_map_translate(&map, MiB(2), MiB(2), &backend, &off), 0);
	CHECK_EQ_U64(off, MiB(2));
	CHECK_EQ_INT(ram_map_translate(&map, MiB(510), MiB(2), &backend, &off), 0);
	/* Past the end of RAM, straddling it, and the ROM shadow at 0xc3000. */
	CHECK_EQ_INT(ram_map_translate(&map, MiB(512), MiB(2), &backend, &off), -ERANGE);
	CHECK_EQ_INT(ram_map_translate(&map, MiB(511), MiB(2), &backend, &off), -ERANGE);
	CHECK_EQ_INT(ram_map_translate(&map, 0, MiB(2), &backend, &off), -ERANGE);
	CHECK_EQ_INT(ram_map_translate(&map, 0xc3000, 4096, &backend, &off), -ERANGE);
	/* Overflowing arithmetic is refused, not wrapped. */
	CHECK_EQ_INT(ram_map_translate(&map, UINT64_MAX - 4095, 8192, &backend, &off), -ERANGE);
	CHECK_EQ_INT(ram_map_translate(&map, MiB(2), 0, &backend, &off), -ERANGE);
}

TEST(q35_ram_above_4g_has_an_offset) {
	_cleanup_free_ char *text = slurp(FIXTURE("mtree/q35-4g-split.txt"));
	struct ram_map map;
	unsigned backend;
	uint64_t off;

	CHECK_EQ_INT(ram_map_parse_mtree(text, pc_ram(GiB(4)), 1, &map), 0);
	CHECK_EQ_INT(map.n_segments, 3);
	CHECK_EQ_INT(ram_map_translate(&map, GiB(4), MiB(2), &backend, &off), 0);
	CHECK_EQ_U64(off, GiB(2));
	/* The PCI hole between 2 GiB and 4 GiB is not RAM. */
	CHECK_EQ_INT(ram_map_translate(&map, GiB(3), MiB(2), &backend, &off), -ERANGE);
	CHECK_EQ_U64(ram_map_total(&map), GiB(4) - MiB(1) + KiB(640));
}

TEST(mtree_errors) {
	struct ram_map map;
	_cleanup_free_ char *text = slurp(FIXTURE("mtree/pc-512m.txt"));

	const struct ram_backend other = { .name = "other.ram", .size = MiB(512) };
	CHECK_EQ_INT(ram_map_parse_mtree(text, &other, 1, &map), -ENOENT);
	/* The backing is smaller than what QEMU maps: refuse. */
	CHECK_EQ_INT(ram_map_parse_mtree(text, pc_ram(MiB(256)), 1, &map), -ERANGE);
	CHECK_EQ_INT(ram_map_parse_mtree("", pc_ram(MiB(512)), 1, &map), -ENOENT);
	CHECK_EQ_INT(ram_map_parse_mtree("garbage\n\n\x01\x02", pc_ram(MiB(512)), 1, &map), -ENOENT);
	CHECK_EQ_INT(ram_map_parse_mtree(
		"FlatView #0\n AS \"memory\", root: system\n"
		"  0000000000000000-00000000001fffff (prio 0, ram): pc.ram\n"
		"  0000000000100000-00000000002fffff (prio 0, ram): pc.ram @0000000000100000\n",
		pc_ram(MiB(512)), 1, &map), -ERANGE);
	CHECK_EQ_INT(ram_map_parse_mtree(
		"FlatView #0\n AS \"memory\", root: system\n"
		"  0000000000000000-00000000001fffff (prio 0, ram): pc.ram @zz\n",
		pc_ram(MiB(512)), 1, &map), -EBADMSG);
}

TEST(numa_guest_has_a_backend_per_node) {
	_cleanup_free_ char *memdev = slurp(FIXTURE("mtree/pc-numa-2x512m.memdev"));
	_cleanup_free_ char *text = slurp(FIXTURE("mtree/pc-numa-2x512m.txt"));
	struct ram_backend backends[RAM_MAP_MAX_BACKENDS];
	struct ram_map map;
	unsigned backend;
	uint64_t off;

	/* QEMU lists node 1 first; the map keeps the order the guest sees. */
	CHECK_EQ_INT(ram_map_parse_memdev(memdev, backends, ELEMENTSOF(backends)), 2);
	CHECK_STREQ(backends[0].name, "ram-node1");
	CHECK_EQ_U64(backends[1].size, MiB(512));
	CHECK_EQ_INT(ram_map_parse_mtree(text, backends, 2, &map), 0);
	CHECK_EQ_INT(map.n_backends, 2);
	CHECK_STREQ(map.backends[0].name, "ram-node0");
	CHECK_STREQ(map.backends[1].name, "ram-node1");
	CHECK_EQ_U64(ram_map_total(&map), GiB(1) - KiB(256));
	/* Node 0's RAM is the first 512 MiB; node 1's starts its own file. */
	CHECK_EQ_INT(ram_map_translate(&map, MiB(100), MiB(2), &backend, &off), 0);
	CHECK_EQ_INT(backend, 0);
	CHECK_EQ_U64(off, MiB(100));
	CHECK_EQ_INT(ram_map_translate(&map, MiB(512), MiB(2), &backend, &off), 0);
	CHECK_EQ_INT(backend, 1);
	CHECK_EQ_U64(off, 0);
	CHECK_EQ_INT(ram_map_translate(&map, MiB(1022), MiB(2), &backend, &off), 0);
	CHECK_EQ_U64(off, MiB(510));
	/* A range across the two nodes is in neither file. */
	CHECK_EQ_INT(ram_map_translate(&map, MiB(510), MiB(4), &backend, &off), -ERANGE);
	/* One backend the view does not map is left out. */
	const struct ram_backend three[] = { backends[0], backends[1], { .name = "unplugged", .size = MiB(64) } };
	CHECK_EQ_INT(ram_map_parse_mtree(text, three, 3, &map), 0);
	CHECK_EQ_INT(map.n_backends, 2);
}

TEST(memdev_and_backend_errors) {
	struct ram_backend b[2];
	struct ram_map map;

	CHECK_EQ_INT(ram_map_parse_memdev("", b, 2), 0);
	/* What libvirt passes on from the monitor ends its lines with CR LF. */
	CHECK_EQ_INT(ram_map_parse_memdev("memory backend: pc.ram\r\n  size:  536870912\r\n", b, 2), 1);
	CHECK_STREQ(b[0].name, "pc.ram");
	CHECK_EQ_INT(ram_map_parse_memdev("memory backend: a234567890123456789012345678901234567890123456789012345678901234567890\n"
					  "  size: 4096\n", b, 2), -EBADMSG);
	CHECK_EQ_INT(ram_map_parse_memdev("memory backend: pc.ram\n  merge: true\n", b, 2), -EBADMSG);
	/* A size that belongs to the next backend is not this one's. */
	CHECK_EQ_INT(ram_map_parse_memdev("memory backend: a\nmemory backend: b\n  size: 4096\n", b, 2), -EBADMSG);
	CHECK_EQ_INT(ram_map_parse_memdev("memory backend: a\n  size: 0\n", b, 2), -EBADMSG);
	CHECK_EQ_INT(ram_map_parse_memdev("memory backend: a\n  size: 4096\nmemory backend: b\n  size: 4096\n"
					  "memory backend: c\n  size: 4096\n", b, 2), -E2BIG);
	/* The same place of one file at two guest addresses: a hint about one
	 * would punch the other. */
	const struct ram_backend one = { .name = "pc.ram", .size = MiB(512) };
	CHECK_EQ_INT(ram_map_parse_mtree(
		"FlatView #0\n AS \"memory\", root: system\n"
		"  0000000000000000-00000000001fffff (prio 0, ram): pc.ram\n"
		"  0000000000400000-00000000005fffff (prio 0, ram): pc.ram @0000000000100000\n",
		&one, 1, &map), -ERANGE);
	CHECK_EQ_INT(ram_map_parse_mtree("", &one, 0, &map), -EINVAL);
}

static struct hint_hints hints(uint64_t id, unsigned n, const uint64_t (*r)[2]) {
	struct hint_hints h = { .batch = id, .granularity = MiB(2), .ttl_ms = 2000, .n_ranges = n };
	for (unsigned i = 0; i < n; i++)
		h.ranges[i] = (struct hint_range) { r[i][0], r[i][1] };
	return h;
}

TEST(batch_admission_rules) {
	struct ram_map map = pc_map();
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	char err[256];

	batch_table_init(&t, MiB(2), &map);
	struct hint_hints ok = hints(1, 2, (const uint64_t[][2]) { { MiB(100), MiB(4) }, { MiB(200), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &ok, 0, err, sizeof err), 0);
	CHECK_EQ_U64(batch_table_reported_bytes(&t), MiB(6));

	/* The same id twice; a range already in flight; repeated in one batch. */
	CHECK_EQ_INT(batch_table_add(&t, &ok, 0, err, sizeof err), -EEXIST);
	struct hint_hints dup = hints(2, 1, (const uint64_t[][2]) { { MiB(102), MiB(2) } });
	CHECK_EQ_INT(batch_table_claim_sent(&t, 1, 0), 0);
	CHECK_EQ_INT(batch_table_add(&t, &dup, 0, err, sizeof err), -EBUSY);
	struct hint_hints rep = hints(3, 2, (const uint64_t[][2]) { { MiB(300), MiB(2) }, { MiB(300), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &rep, 0, err, sizeof err), -EADDRINUSE);
	/* Unaligned, outside RAM, zero length, wrong granularity. */
	struct hint_hints una = hints(4, 1, (const uint64_t[][2]) { { MiB(300) + 4096, MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &una, 0, err, sizeof err), -EINVAL);
	struct hint_hints out = hints(5, 1, (const uint64_t[][2]) { { GiB(1), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &out, 0, err, sizeof err), -ERANGE);
	CHECK(strstr(err, "is not guest RAM") != NULL);
	struct hint_hints zero = hints(6, 1, (const uint64_t[][2]) { { MiB(300), 0 } });
	CHECK_EQ_INT(batch_table_add(&t, &zero, 0, err, sizeof err), -EINVAL);
	struct hint_hints gran = hints(7, 1, (const uint64_t[][2]) { { MiB(300), MiB(2) } });
	gran.granularity = 4096;
	CHECK_EQ_INT(batch_table_add(&t, &gran, 0, err, sizeof err), -EINVAL);
	/* Nothing refused was admitted. */
	CHECK_EQ_INT(t.n, 1);
}

TEST(batch_ranges_name_their_backend) {
	_cleanup_free_ char *memdev = slurp(FIXTURE("mtree/pc-numa-2x512m.memdev"));
	_cleanup_free_ char *text = slurp(FIXTURE("mtree/pc-numa-2x512m.txt"));
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	struct ram_backend backends[RAM_MAP_MAX_BACKENDS];
	struct ram_map map;
	char err[256];

	CHECK_EQ_INT(ram_map_parse_memdev(memdev, backends, ELEMENTSOF(backends)), 2);
	CHECK_EQ_INT(ram_map_parse_mtree(text, backends, 2, &map), 0);
	batch_table_init(&t, MiB(2), &map);
	struct hint_hints h = hints(1, 2, (const uint64_t[][2]) { { MiB(100), MiB(2) }, { MiB(600), MiB(4) } });
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, err, sizeof err), 0);
	CHECK_EQ_INT(t.batches[0].ranges[0].backend, 0);
	CHECK_EQ_INT(t.batches[0].ranges[1].backend, 1);
	CHECK_EQ_U64(t.batches[0].ranges[1].offset, MiB(88));
	struct hint_hints across = hints(2, 1, (const uint64_t[][2]) { { MiB(510), MiB(4) } });
	CHECK_EQ_INT(batch_table_add(&t, &across, 0, err, sizeof err), -ERANGE);
}

TEST(batch_table_is_bounded) {
	struct ram_map map = pc_map();
	_cleanup_(batch_table_done) struct batch_table t = { 0 };

	batch_table_init(&t, MiB(2), &map);
	for (int i = 0; i < HINT_MAX_BATCHES_IN_FLIGHT; i++) {
		struct hint_hints h = hints(10 + i, 1, (const uint64_t[][2]) { { MiB(100 + 2 * i), MiB(2) } });
		CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);
	}
	struct hint_hints more = hints(99, 1, (const uint64_t[][2]) { { MiB(400), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &more, 0, NULL, 0), -ENOSPC);
}

TEST(batch_memory_only_while_hints_are_accepted) {
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	struct ram_map map = pc_map();

	CHECK_EQ_INT(batch_table_init(&t, 0, NULL), 0);
	CHECK(t.batches == NULL);
	CHECK_EQ_INT(batch_table_init(&t, MiB(2), &map), 0);
	CHECK(t.batches != NULL);
	CHECK_EQ_INT(batch_table_init(&t, MiB(2), NULL), 0);
	CHECK(t.batches == NULL);
}

TEST(no_map_no_hints) {
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	struct hint_hints h = hints(1, 1, (const uint64_t[][2]) { { MiB(100), MiB(2) } });

	batch_table_init(&t, MiB(2), NULL);
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), -EPERM);
}

TEST(punch_only_claimed_batches_within_the_deadline) {
	struct ram_map map = pc_map();
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	int r;

	batch_table_init(&t, MiB(2), &map);
	struct hint_hints h = hints(1, 1, (const uint64_t[][2]) { { MiB(100), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);

	/* A confirmation without a claim, or for an unknown batch, is refused. */
	CHECK(batch_table_claimed(&t, 1, true, 10, &r) == NULL);
	CHECK_EQ_INT(r, -EBUSY);
	CHECK(batch_table_claimed(&t, 42, true, 10, &r) == NULL);
	CHECK_EQ_INT(r, -ENOENT);

	CHECK_EQ_INT(batch_table_claim_sent(&t, 1, 1000), 0);
	CHECK_EQ_INT(batch_table_claim_sent(&t, 1, 1000), -EBUSY);
	struct batch *b = batch_table_claimed(&t, 1, true, 3000, &r);
	CHECK(b != NULL);
	CHECK(batch_may_punch(b, 3000));
	/* The deadline counts from the claim sent, not from its confirmation. */
	CHECK(batch_may_punch(b, 1000 + HINT_PUNCH_DEADLINE_MS * USEC_PER_MSEC - 1));
	CHECK(!batch_may_punch(b, 1000 + HINT_PUNCH_DEADLINE_MS * USEC_PER_MSEC));
	/* A clock that went backwards is no licence either. */
	CHECK(!batch_may_punch(b, 999));
	/* Confirmed twice: the second is refused. */
	CHECK(batch_table_claimed(&t, 1, true, 1000, &r) == NULL);
	CHECK_EQ_INT(r, -EBUSY);
}

TEST(claim_refused_by_guest_forgets_the_batch) {
	struct ram_map map = pc_map();
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	int r;

	batch_table_init(&t, MiB(2), &map);
	struct hint_hints h = hints(1, 1, (const uint64_t[][2]) { { MiB(100), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);
	CHECK_EQ_INT(batch_table_claim_sent(&t, 1, 1), 0);
	CHECK(batch_table_claimed(&t, 1, false, 5, &r) == NULL);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(t.n, 0);
}

TEST(expiry_follows_the_guest_ttl) {
	struct ram_map map = pc_map();
	_cleanup_(batch_table_done) struct batch_table t = { 0 };

	batch_table_init(&t, MiB(2), &map);
	struct hint_hints h = hints(1, 1, (const uint64_t[][2]) { { MiB(100), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);
	CHECK_EQ_INT(batch_table_expire(&t, 1999 * USEC_PER_MSEC), 0);
	CHECK_EQ_INT(batch_table_expire(&t, 2000 * USEC_PER_MSEC), 1);
	/* Once expired, the same range may be reported again. */
	CHECK_EQ_INT(batch_table_add(&t, &h, 2001 * USEC_PER_MSEC, NULL, 0), 0);
}

/* The loop was held up (a stuck call, a stopped hintd) past the deadline:
 * the confirmation that was waiting is answered, nothing is punched. */
TEST(late_confirmation_is_handed_back_not_punched) {
	struct ram_map map = pc_map();
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	usec_t sent = 5 * USEC_PER_SEC, deadline = HINT_PUNCH_DEADLINE_MS * USEC_PER_MSEC;
	int r;

	batch_table_init(&t, MiB(2), &map);
	struct hint_hints h = hints(1, 1, (const uint64_t[][2]) { { MiB(100), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);
	CHECK_EQ_INT(batch_table_claim_sent(&t, 1, sent), 0);
	/* Still waiting long after the guest's ttl: the guest holds it for the claim. */
	CHECK_EQ_INT(batch_table_expire(&t, sent + deadline), 0);
	CHECK(batch_table_claimed(&t, 1, true, sent + deadline, &r) == NULL);
	CHECK_EQ_INT(r, -ETIMEDOUT);
	CHECK_EQ_INT(t.n, 0);

	/* A clock that jumps back before the claim was sent punches nothing. */
	h.batch = 2;
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);
	CHECK_EQ_INT(batch_table_claim_sent(&t, 2, sent), 0);
	CHECK(batch_table_claimed(&t, 2, true, sent - 1, &r) == NULL);
	CHECK_EQ_INT(r, -ETIMEDOUT);

	/* Confirmed in time, then the clock jumps past the deadline before the punch. */
	h.batch = 3;
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);
	CHECK_EQ_INT(batch_table_claim_sent(&t, 3, sent), 0);
	struct batch *b = batch_table_claimed(&t, 3, true, sent + 1, &r);
	CHECK(b != NULL);
	CHECK(!batch_may_punch(b, sent + 100 * deadline));
	/* Claims are forgotten only when the guest no longer holds them. */
	CHECK_EQ_INT(batch_table_expire(&t, sent + PAGEHINT_CLAIM_TIMEOUT_MS * USEC_PER_MSEC - 1), 0);
	CHECK_EQ_INT(batch_table_expire(&t, sent + PAGEHINT_CLAIM_TIMEOUT_MS * USEC_PER_MSEC), 1);
}

/* After a stall the guest reports again what it took back: a batch not yet
 * claimed gives way, one being claimed makes the new one wait its turn, one
 * the guest confirmed holding is a contradiction. */
TEST(overlaps_after_a_stall) {
	struct ram_map map = pc_map();
	_cleanup_(batch_table_done) struct batch_table t = { 0 };
	char err[256];
	int r;

	batch_table_init(&t, MiB(2), &map);
	struct hint_hints h = hints(1, 1, (const uint64_t[][2]) { { MiB(100), MiB(2) } });
	CHECK_EQ_INT(batch_table_add(&t, &h, 0, NULL, 0), 0);
	h.batch = 2;
	CHECK_EQ_INT(batch_table_add(&t, &h, 10, err, sizeof err), 0);
	CHECK(batch_table_find(&t, 1) == NULL);
	CHECK_EQ_INT(t.n, 1);

	CHECK_EQ_INT(batch_table_claim_sent(&t, 2, 20), 0);
	h.batch = 3;
	CHECK_EQ_INT(batch_table_add(&t, &h, 30, err, sizeof err), -EBUSY);
	CHECK(strstr(err, "being claimed") != NULL);

	CHECK(batch_table_claimed(&t, 2, true, 40, &r) != NULL);
	CHECK_EQ_INT(batch_table_add(&t, &h, 50, err, sizeof err), -EADDRINUSE);
	CHECK(strstr(err, "already in another batch") != NULL);
	/* An invalid batch never displaces a valid one. */
	CHECK_EQ_INT(t.n, 1);
}

int main(void) {
	return run_tests();
}
