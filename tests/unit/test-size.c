/* test-size.c - the one size formatter, in each style, and that what it
 * writes reads back with parse_size(). */
#include <string.h>

#include "harness.h"
#include "macro.h"
#include "parse.h"
#include "size.h"

static const char *fmt(uint64_t bytes, enum size_style style) {
	static char buf[SIZE_FORMAT_MAX];

	return format_size(buf, sizeof buf, bytes, style);
}

TEST(short_style) {
	CHECK_STREQ(fmt(0, SIZE_SHORT), "0");
	CHECK_STREQ(fmt(1, SIZE_SHORT), "1B");
	CHECK_STREQ(fmt(1023, SIZE_SHORT), "1023B");
	CHECK_STREQ(fmt(KiB(1), SIZE_SHORT), "1K");
	CHECK_STREQ(fmt(KiB(1) + 512, SIZE_SHORT), "1.5K");
	CHECK_STREQ(fmt(MiB(512), SIZE_SHORT), "512M");
	CHECK_STREQ(fmt(GiB(1) + MiB(512), SIZE_SHORT), "1.5G");
	CHECK_STREQ(fmt(GiB(12) << 10, SIZE_SHORT), "12T");
	CHECK_STREQ(fmt(MiB(99) + KiB(512), SIZE_SHORT), "99.5M");
	CHECK_STREQ(fmt(MiB(100) + KiB(512), SIZE_SHORT), "101M");
	CHECK_STREQ(fmt(GiB(1) - 1, SIZE_SHORT), "1G");
	CHECK_STREQ(fmt(UINT64_MAX, SIZE_SHORT), "16E");
}

TEST(bytes_style) {
	CHECK_STREQ(fmt(0, SIZE_BYTES), "0");
	CHECK_STREQ(fmt(GiB(1) + MiB(512), SIZE_BYTES), "1610612736");
	CHECK_STREQ(fmt(UINT64_MAX, SIZE_BYTES), "18446744073709551615");
}

TEST(mib_style) {
	CHECK_STREQ(fmt(0, SIZE_MIB), "0 MiB");
	CHECK_STREQ(fmt(1, SIZE_MIB), "0 KiB");
	CHECK_STREQ(fmt(512, SIZE_MIB), "1 KiB");		/* half rounds up */
	CHECK_STREQ(fmt(KiB(512), SIZE_MIB), "512 KiB");
	CHECK_STREQ(fmt(MiB(1) - 1, SIZE_MIB), "1024 KiB");
	CHECK_STREQ(fmt(MiB(1), SIZE_MIB), "1 MiB");
	CHECK_STREQ(fmt(MiB(180), SIZE_MIB), "180 MiB");
	CHECK_STREQ(fmt(MiB(180) + KiB(511), SIZE_MIB), "180 MiB");
	CHECK_STREQ(fmt(MiB(180) + KiB(512), SIZE_MIB), "181 MiB");
	CHECK_STREQ(fmt(GiB(4) - MiB(64), SIZE_MIB), "4032 MiB");
	/* No overflow at the top. */
	CHECK_STREQ(fmt(UINT64_MAX, SIZE_MIB), "17592186044416 MiB");
}

TEST(short_reads_back) {
	static const uint64_t values[] = {
		0, 1, 999, 1024, 4095, 123456, MiB(1), MiB(2560), 123456789, 99999999999ULL,
		GiB(1536), GiB(1000) << 10,
	};

	for (size_t i = 0; i < ELEMENTSOF(values); i++) {
		const char *s = fmt(values[i], SIZE_SHORT);
		uint64_t back = 0;

		CHECK(strlen(s) <= 5);
		if (parse_size(s, &back) < 0) {
			FAIL_AT("\"%s\" does not read back", s);
			continue;
		}
		/* Within the rounding of one decimal: 5%. */
		CHECK(back >= values[i] - values[i] / 20 && back <= values[i] + values[i] / 20);
	}
}

TEST(small_buffer) {
	char buf[4];

	/* Cut, never overrun. */
	CHECK_STREQ(format_size(buf, sizeof buf, MiB(180), SIZE_MIB), "180");
	CHECK_STREQ(format_size(buf, sizeof buf, 123456, SIZE_BYTES), "123");
}

int main(void) {
	return run_tests();
}
