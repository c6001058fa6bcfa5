/* test-reclaim-choice.c - how the guest agent drops clean cache: the
 * kernel's LRU when it can be asked (sparing anonymous memory when the
 * guest has swap), else files least recently used first; never more than
 * the clean cache, never by size alone. */
#include <stdlib.h>
#include <string.h>
#include "../../guest-agent/reclaim-choice.h"
#include "harness.h"

#define MiB(x) ((uint64_t) (x) << 20)

TEST(the_kernels_lru_when_it_can_be_asked) {
	struct reclaim_facts f = { .lru_reclaim = true, .clean_file = MiB(300) };
	struct reclaim_choice c;

	reclaim_choose(&f, MiB(96), &c);
	CHECK_EQ_INT(c.method, RECLAIM_LRU);
	CHECK_EQ_U64(c.bytes, MiB(96));
	CHECK(!c.spare_anon);
	/* With swap the call must leave anonymous memory alone. */
	f.swap_total = MiB(512);
	reclaim_choose(&f, MiB(96), &c);
	CHECK_EQ_INT(c.method, RECLAIM_LRU);
	CHECK(c.spare_anon);
}

TEST(never_more_than_the_clean_cache_and_nothing_for_nothing) {
	struct reclaim_facts f = { .lru_reclaim = true, .clean_file = MiB(40) };
	struct reclaim_choice c;

	reclaim_choose(&f, MiB(96), &c);
	CHECK_EQ_U64(c.bytes, MiB(40));
	reclaim_choose(&f, 0, &c);
	CHECK_EQ_INT(c.method, RECLAIM_NOTHING);
	f.clean_file = 0;
	reclaim_choose(&f, MiB(96), &c);
	CHECK_EQ_INT(c.method, RECLAIM_NOTHING);
	CHECK_EQ_U64(c.bytes, 0);
}

TEST(files_when_there_is_no_memory_reclaim) {
	struct reclaim_facts f = { .lru_reclaim = false, .swap_total = MiB(512), .clean_file = MiB(300) };
	struct reclaim_choice c;

	reclaim_choose(&f, MiB(300), &c);
	CHECK_EQ_INT(c.method, RECLAIM_FADVISE);
	CHECK_EQ_U64(c.bytes, MiB(300));
	/* fadvise never touches anonymous memory: nothing to spare. */
	CHECK(!c.spare_anon);
}

TEST(files_coldest_first_never_by_size) {
	/* The hot files are bigger and the most cached: they go last. */
	struct cached_file files[] = {
		{ "/data/hot-big", MiB(160), 1000 },
		{ "/data/cold-small", MiB(30), 100 },
		{ "/data/warm", MiB(60), 500 },
		{ "/data/cold-big", MiB(64), 100 },
		{ "/data/hot-small", MiB(10), 1000 },
	};
	const char *want[] = { "/data/cold-small", "/data/cold-big", "/data/warm", "/data/hot-small",
			       "/data/hot-big" };

	qsort(files, 5, sizeof files[0], cached_file_colder_first);
	for (int i = 0; i < 5; i++)
		CHECK_STREQ(files[i].path, want[i]);
}

int main(void) {
	return run_tests();
}
