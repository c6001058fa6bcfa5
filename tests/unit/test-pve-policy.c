/* test-pve-policy.c - Proxmox VE's auto-ballooning, as ported: the 80 %
 * goal, the 100 MiB step, shares, the minimum and maximum, and which guests
 * are asked first. */
#include "harness.h"
#include "pve-policy.h"

#define M(n) ((int64_t) (n) << 20)

static struct pve_vm vm(int64_t balloon_mib, int64_t min_mib, int64_t free_mib) {
	return (struct pve_vm) { .balloon = M(balloon_mib), .balloon_min = M(min_mib),
				 .maxmem = M(1024), .freemem = M(free_mib) };
}

TEST(goal_is_eighty_percent_of_the_host) {
	CHECK_EQ_INT(pve_goal(M(1000), M(700)), M(100));
	CHECK_EQ_INT(pve_goal(M(1000), M(900)), -M(100));
}

TEST(small_goals_do_nothing) {
	struct pve_vm v[1] = { vm(1024, 256, 500) };
	int64_t t[1];
	bool set[1];

	pve_compute(v, 1, M(5), PVE_MAX_CHANGE, t, set);
	CHECK(!set[0]);
	pve_compute(v, 1, -M(10), PVE_MAX_CHANGE, t, set);
	CHECK(!set[0]);
}

TEST(shrink_at_most_100_mib_per_vm) {
	struct pve_vm v[2] = { vm(1024, 256, 500), vm(1024, 256, 500) };
	int64_t t[2];
	bool set[2];

	pve_compute(v, 2, -M(1000), PVE_MAX_CHANGE, t, set);
	CHECK(set[0] && set[1]);
	CHECK_EQ_INT(t[0], M(924));
	CHECK_EQ_INT(t[1], M(924));
}

TEST(shrink_split_by_shares) {
	struct pve_vm v[2] = { vm(1024, 256, 500), vm(1024, 256, 500) };
	int64_t t[2];
	bool set[2];

	v[0].shares = 3000;
	pve_compute(v, 2, -M(120), PVE_MAX_CHANGE, t, set);
	/* 1416 MiB above the minimums after the change, split 3:1: the first
	 * would get 1318 MiB (capped at its 1024, so it keeps it all), the second
	 * 610 MiB, reached 100 MiB at a time. */
	CHECK(!set[0]);
	CHECK(set[1]);
	CHECK_EQ_INT(t[1], M(924));
}

TEST(never_below_the_minimum) {
	struct pve_vm v[1] = { vm(300, 256, 200) };
	int64_t t[1];
	bool set[1];

	pve_compute(v, 1, -M(500), PVE_MAX_CHANGE, t, set);
	CHECK(set[0]);
	CHECK_EQ_INT(t[0], M(256));
}

TEST(grow_pressed_guests_first) {
	/* The second has little free memory (under a quarter of its minimum). */
	struct pve_vm v[2] = { vm(600, 256, 300), vm(600, 256, 20) };
	int64_t t[2];
	bool set[2];

	pve_compute(v, 2, M(50), PVE_MAX_CHANGE, t, set);
	CHECK(!set[0]);
	CHECK(set[1]);
	CHECK_EQ_INT(t[1], M(650));
}

TEST(grow_at_most_100_mib_and_up_to_the_maximum) {
	struct pve_vm v[2] = { vm(600, 256, 20), vm(1000, 256, 20) };
	int64_t t[2];
	bool set[2];

	pve_compute(v, 2, M(2000), PVE_MAX_CHANGE, t, set);
	CHECK_EQ_INT(t[0], M(700));
	CHECK_EQ_INT(t[1], M(1024));
}

TEST(guests_without_balloon_or_minimum_are_left_alone) {
	struct pve_vm v[3] = { vm(1024, 0, 500), vm(0, 256, 500), vm(1024, 256, 500) };
	int64_t t[3];
	bool set[3];

	v[2].shares_zero = true;
	pve_compute(v, 3, -M(500), PVE_MAX_CHANGE, t, set);
	CHECK(!set[0] && !set[1] && !set[2]);
}

int main(void) {
	return run_tests();
}
