/* test-ratelimit.c - burst per window, counting what was refused. */
#include "harness.h"
#include "ratelimit.h"

TEST(burst_then_refused_until_the_window_ends) {
	struct ratelimit rl = RATELIMIT_INIT(10000000, 3);
	unsigned suppressed = 99;

	for (int i = 0; i < 3; i++)
		CHECK(ratelimit_below(&rl, 1000 + (uint64_t) i, &suppressed));
	CHECK_EQ_INT(suppressed, 0);
	CHECK(!ratelimit_below(&rl, 5000, NULL));
	CHECK(!ratelimit_below(&rl, 9999999, NULL));
	/* 10 s after the window began: allowed again, and told what was refused. */
	CHECK(ratelimit_below(&rl, 10001000, &suppressed));
	CHECK_EQ_INT(suppressed, 2);
	CHECK(ratelimit_below(&rl, 10001001, &suppressed));
	CHECK_EQ_INT(suppressed, 0);
}

TEST(clock_going_backwards_starts_a_new_window) {
	struct ratelimit rl = RATELIMIT_INIT(1000, 1);

	CHECK(ratelimit_below(&rl, 5000, NULL));
	CHECK(!ratelimit_below(&rl, 5500, NULL));
	CHECK(ratelimit_below(&rl, 100, NULL));
}

TEST(zero_burst_refuses_everything) {
	struct ratelimit rl = RATELIMIT_INIT(1000, 0);

	CHECK(!ratelimit_below(&rl, 1, NULL));
	CHECK(!ratelimit_below(&rl, 5000, NULL));
	CHECK_EQ_INT(rl.suppressed, 2);
}

int main(void) {
	return run_tests();
}
