/* harness.h - a tiny unit-test harness.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_STREQ(s, "x"); }
 *   int main(void) { return run_tests(); }
 *
 * Tests register themselves through a constructor; run_tests() runs them in
 * file order and prints "N passed, N failed" as its last line. */
#ifndef HARNESS_H
#define HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define HARNESS_MAX_TESTS 512
static struct test_case harness_tests[HARNESS_MAX_TESTS];
static int harness_count;
static int harness_current_failed;

static inline void harness_register(const char *name, void (*fn)(void)) {
	if (harness_count >= HARNESS_MAX_TESTS) {
		fprintf(stderr, "harness: too many tests, raise HARNESS_MAX_TESTS\n");
		abort();
	}
	harness_tests[harness_count++] = (struct test_case) { name, fn };
}

#define TEST(name)                                                               \
	static void test_##name(void);                                          \
	__attribute__((constructor)) static void register_##name(void) {        \
		harness_register(#name, test_##name);                           \
	}                                                                        \
	static void test_##name(void)

#define FAIL_AT(...)                                                             \
	do {                                                                     \
		printf("  %s:%d: ", __FILE__, __LINE__);                        \
		printf(__VA_ARGS__);                                             \
		putchar('\n');                                                   \
		harness_current_failed = 1;                                      \
	} while (0)

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond))                                                     \
			FAIL_AT("CHECK(%s) failed", #cond);                      \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                       \
	do {                                                                     \
		long long _a = (long long) (a), _b = (long long) (b);           \
		if (_a != _b)                                                    \
			FAIL_AT("%s == %s failed: %lld != %lld", #a, #b, _a, _b);\
	} while (0)

#define CHECK_EQ_U64(a, b)                                                       \
	do {                                                                     \
		uint64_t _a = (uint64_t) (a), _b = (uint64_t) (b);              \
		if (_a != _b)                                                    \
			FAIL_AT("%s == %s failed: %" PRIu64 " != %" PRIu64,      \
				#a, #b, _a, _b);                                 \
	} while (0)

#define CHECK_STREQ(a, b)                                                        \
	do {                                                                     \
		const char *_a = (a), *_b = (b);                                \
		if (!_a || !_b || strcmp(_a, _b) != 0)                           \
			FAIL_AT("%s == %s failed: \"%s\" != \"%s\"", #a, #b,     \
				_a ? _a : "(null)", _b ? _b : "(null)");         \
	} while (0)

/* Path of a fixture file under tests/unit/fixtures, from the source tree. */
#define FIXTURE(name) (TEST_FIXTURE_DIR "/" name)
#ifndef TEST_FIXTURE_DIR
#define TEST_FIXTURE_DIR "tests/unit/fixtures"
#endif

static inline int run_tests(void) {
	int passed = 0, failed = 0;

	/* One stream, line by line: failures stay next to their test and the
	 * summary is always the last line, even when a sanitizer also writes. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < harness_count; i++) {
		harness_current_failed = 0;
		harness_tests[i].fn();
		if (harness_current_failed) {
			printf("not ok %d - %s\n", i + 1, harness_tests[i].name);
			failed++;
		} else {
			printf("ok %d - %s\n", i + 1, harness_tests[i].name);
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif /* HARNESS_H */
