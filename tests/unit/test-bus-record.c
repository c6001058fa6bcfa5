/* test-bus-record.c - the bus's record of what it announced, by name. */
#include <stdio.h>
#include <string.h>
#include "bus-record.h"
#include "harness.h"

TEST(records_are_found_by_name_and_kept_sorted) {
	struct machine_records r = { 0 };
	const char *names[] = { "vm3", "vm1", "vm2", "a", "zz" };
	char name[16];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct machine_record *rec = machine_record_get(&r, names[i]);
		CHECK(rec != NULL);
		rec->sent.shares = (uint32_t) i + 1;
	}
	CHECK_EQ_INT((int) r.n, 5);
	for (size_t i = 1; i < r.n; i++)
		CHECK(strcmp(r.v[i - 1].name, r.v[i].name) < 0);
	/* Found again, not made twice, with what was kept in it. */
	CHECK_EQ_INT((int) machine_record_get(&r, "vm1")->sent.shares, 2);
	CHECK_EQ_INT((int) r.n, 5);

	machine_record_forget(&r, "vm2");
	machine_record_forget(&r, "nobody");
	CHECK_EQ_INT((int) r.n, 4);
	CHECK_EQ_INT((int) machine_record_get(&r, "zz")->sent.shares, 5);
	/* A new record starts empty: nothing announced yet. */
	CHECK(!machine_record_get(&r, "vm2")->announced);

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "m%04d", (i * 7919) % 1000);
		CHECK(machine_record_get(&r, name) != NULL);
	}
	CHECK_EQ_INT((int) r.n, 1005);
	for (size_t i = 1; i < r.n; i++)
		CHECK(strcmp(r.v[i - 1].name, r.v[i].name) < 0);
	machine_records_done(&r);
	CHECK_EQ_INT((int) r.n, 0);
}

/* The slot a VM's record was found at is tried first; a stale slot (a
 * machine came or went) still finds the right record, and is corrected. */
TEST(hinted_lookup_checks_its_slot) {
	struct machine_records r = { 0 };
	size_t slot = 0, miss = 99;

	machine_record_get(&r, "b")->sent.shares = 2;
	machine_record_get(&r, "c")->sent.shares = 3;
	CHECK_EQ_INT((int) machine_record_get_hinted(&r, "c", &slot)->sent.shares, 3);
	CHECK_EQ_INT((int) slot, 1);
	CHECK_EQ_INT((int) machine_record_get_hinted(&r, "c", &slot)->sent.shares, 3);
	/* "a" comes before: "c" moves to slot 2. */
	machine_record_get(&r, "a")->sent.shares = 1;
	CHECK_EQ_INT((int) machine_record_get_hinted(&r, "c", &slot)->sent.shares, 3);
	CHECK_EQ_INT((int) slot, 2);
	/* Out of range, or a slot of another name. */
	CHECK_EQ_INT((int) machine_record_get_hinted(&r, "b", &miss)->sent.shares, 2);
	CHECK_EQ_INT((int) miss, 1);
	slot = 0;
	CHECK_EQ_INT((int) machine_record_get_hinted(&r, "c", &slot)->sent.shares, 3);
	CHECK_EQ_INT((int) slot, 2);
	/* Unknown: made, like machine_record_get(). */
	CHECK(machine_record_get_hinted(&r, "d", &slot) != NULL);
	CHECK_EQ_INT((int) slot, 3);
	CHECK_EQ_INT((int) r.n, 4);
	machine_records_done(&r);
}

int main(void) {
	return run_tests();
}
