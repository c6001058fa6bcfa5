/* test-rungs.c - the one parser of rung lists, strict (hintd.conf, the bus)
 * and lenient (hintctl). */
#include <errno.h>

#include "harness.h"
#include "macro.h"
#include "rungs.h"

#define U RUNG_BIT(RUNG_UNUSED)
#define V RUNG_BIT(RUNG_VOLATILE)
#define B RUNG_BIT(RUNG_BALLOON)

static const struct {
	const char *s;
	int strict, lenient;	/* 0, or the error */
	unsigned rungs;		/* when it parses */
} cases[] = {
	{ "unused,volatile,balloon", 0, 0, U | V | B },
	{ "balloon,unused", 0, 0, U | B },
	{ " volatile , balloon ", 0, 0, V | B },
	{ "\tunused,\tballoon\n", 0, 0, U | B },
	{ "none", 0, 0, 0 },
	{ "  none ", 0, 0, 0 },
	{ "Balloon", -EINVAL, 0, B },
	{ "NONE", -EINVAL, 0, 0 },
	{ "Volatile,unused,volatile", -EINVAL, 0, U | V },
	{ "unused,unused", -EINVAL, 0, U },
	{ "", -EINVAL, -EINVAL, 0 },
	{ " ", -EINVAL, -EINVAL, 0 },
	{ ",", -EINVAL, -EINVAL, 0 },
	{ "unused,", -EINVAL, -EINVAL, 0 },
	{ ",unused", -EINVAL, -EINVAL, 0 },
	{ "unused,,balloon", -EINVAL, -EINVAL, 0 },
	{ "swap", -EINVAL, -EINVAL, 0 },
	{ "balloons", -EINVAL, -EINVAL, 0 },
	{ "ball", -EINVAL, -EINVAL, 0 },
	{ "none,balloon", -EINVAL, -EINVAL, 0 },
	{ "none,none", -EINVAL, -EINVAL, 0 },
	{ "unused volatile", -EINVAL, -EINVAL, 0 },
};

static void check(unsigned flags) {
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int want = flags & RUNGS_PARSE_LENIENT ? cases[i].lenient : cases[i].strict;
		unsigned rungs = 0xdead;
		int r = rungs_parse(cases[i].s, flags, &rungs);

		if (r != want)
			FAIL_AT("\"%s\" (flags %u): %d, want %d", cases[i].s, flags, r, want);
		else if (r == 0 && rungs != cases[i].rungs)
			FAIL_AT("\"%s\" (flags %u): %#x, want %#x", cases[i].s, flags, rungs,
				cases[i].rungs);
		else if (r < 0 && rungs != 0xdead)
			FAIL_AT("\"%s\" (flags %u): written on failure", cases[i].s, flags);
	}
}

TEST(strict) {
	check(0);
	CHECK_EQ_INT(rungs_parse(NULL, 0, &(unsigned) { 0 }), -EINVAL);
}

TEST(lenient) {
	check(RUNGS_PARSE_LENIENT);
	CHECK_EQ_INT(rungs_parse(NULL, RUNGS_PARSE_LENIENT, &(unsigned) { 0 }), -EINVAL);
}

TEST(names) {
	CHECK_STREQ(rung_to_string(RUNG_UNUSED), "unused");
	CHECK_STREQ(rung_to_string(RUNG_VOLATILE), "volatile");
	CHECK_STREQ(rung_to_string(RUNG_BALLOON), "balloon");
	CHECK(rung_to_string(_RUNG_MAX) == NULL);
	/* Each name parses back to its own bit. */
	for (unsigned r = 0; r < _RUNG_MAX; r++) {
		unsigned rungs = 0;

		CHECK_EQ_INT(rungs_from_string(rung_to_string(r), &rungs), 0);
		CHECK_EQ_INT(rungs, RUNG_BIT(r));
	}
}

int main(void) {
	return run_tests();
}
