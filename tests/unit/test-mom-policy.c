/* test-mom-policy.c - oVirt MOM's default balloon rules, as ported: the
 * direction set by the host's free fraction, the 5 % step, the guest's free
 * margin, the guarantee, the maximum and the smallest worthwhile move. */
#include "harness.h"
#include "mom-policy.h"

#define MIB (1024.0 * 1024.0)

/* A 1 GiB guest at its maximum that uses USED_MIB (averages = now). */
static struct mom_guest guest(double cur_mib, double used_mib) {
	return (struct mom_guest) {
		.balloon_cur = cur_mib * MIB, .balloon_max = 1024 * MIB, .balloon_min = 0,
		.avg_balloon_cur = cur_mib * MIB, .avg_mem_unused = (cur_mib - used_mib) * MIB,
	};
}

static double target_mib(double host_free, struct mom_guest g) {
	double t = -1;

	if (!mom_balloon_target(host_free, &g, &t))
		return -1;
	return t / MIB;
}

TEST(moving_average_of_the_last_ten) {
	struct mom_avg a = {};

	CHECK(mom_avg_get(&a) == 0);
	mom_avg_add(&a, 10);
	mom_avg_add(&a, 20);
	CHECK(mom_avg_get(&a) == 15);
	for (int i = 0; i < 10; i++)
		mom_avg_add(&a, 100);
	CHECK(mom_avg_get(&a) == 100);	/* the first two fell out */
}

TEST(host_free_fraction) {
	CHECK(mom_host_free_fraction(512 * MIB, 2048 * MIB) == 0.25);
	CHECK(mom_host_free_fraction(1, 0) == 0);
}

TEST(no_pressure_leaves_a_full_guest_alone) {
	CHECK(target_mib(0.5, guest(1024, 200)) == -1);
	CHECK(target_mib(0.20, guest(1024, 200)) == -1);	/* 20 % is not under 20 % */
}

TEST(pressure_shrinks_by_five_percent) {
	/* 10 % free: margin 0.2 * 0.1 / 0.2 = 10 % of 1024 over 200 used = 302 MiB. */
	CHECK(target_mib(0.10, guest(1024, 200)) == 1024 * 0.95);
}

TEST(shrink_stops_at_used_plus_the_scaled_margin) {
	/* 978 MiB * 0.95 = 929 is under 900 + 10 % of 978 = 997.8: no shrink. */
	CHECK(target_mib(0.10, guest(978, 900)) == -1);
	/* 700 MiB used, margin 10 % of 800 = 80: floor 780, 5 % step = 760. */
	CHECK(target_mib(0.10, guest(800, 700)) == 780);
}

TEST(critical_pressure_makes_the_guest_swap) {
	/* 2 % free: margin -0.05 + 0.02 = -3 % of 800 = 24 MiB under the 790
	 * it uses: 766 MiB (the 5 % step alone would give 760). */
	double t = target_mib(0.02, guest(800, 790));
	CHECK(t > 765.9 && t < 766.1);
	/* Not under the guarantee. */
	struct mom_guest g = guest(800, 790);
	g.balloon_min = 790 * MIB;
	CHECK(target_mib(0.02, g) == 790);
}

TEST(grow_by_five_percent_up_to_the_maximum) {
	CHECK(target_mib(0.5, guest(600, 100)) == 630);
	CHECK(target_mib(0.5, guest(1000, 100)) == 1024);
}

TEST(grow_at_least_to_used_plus_twenty_percent) {
	/* 580 used + 20 % of 600 = 700 > 630. */
	CHECK(target_mib(0.5, guest(600, 580)) == 700);
}

TEST(tiny_moves_are_skipped) {
	/* 0.25 % of 1020 MiB is 2.55 MiB: growing 4 MiB to the maximum is worth it,
	 * growing 2 MiB is not. */
	CHECK(target_mib(0.5, guest(1020, 100)) == 1024);
	CHECK(target_mib(0.5, guest(1022, 100)) == -1);
}

int main(void) {
	return run_tests();
}
