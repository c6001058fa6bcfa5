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
		rec->now.shares = (uint32_t) i + 1;
	}
	CHECK_EQ_INT((int) r.n, 5);
	for (size_t i = 1; i < r.n; i++)
		CHECK(strcmp(r.v[i - 1].name, r.v[i].name) < 0);
	/* Found again, not made twice, with what was kept in it. */
	CHECK_EQ_INT((int) machine_record_get(&r, "vm1")->now.shares, 2);
	CHECK_EQ_INT((int) r.n, 5);

	machine_record_forget(&r, "vm2");
	machine_record_forget(&r, "nobody");
	CHECK_EQ_INT((int) r.n, 4);
	CHECK_EQ_INT((int) machine_record_get(&r, "zz")->now.shares, 5);
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

int main(void) {
	return run_tests();
}
