/* reclaim-choice.h - how the agent drops N bytes of clean page cache,
 * coldest first. Pure: the facts about the guest come in, a choice comes
 * out; dropcache.c gathers the facts and carries the choice out.
 *
 * The guest kernel's own LRU is the right judge of what is cold: the root
 * cgroup's memory.reclaim (cgroup v2) takes inactive pages before active
 * ones, for the bytes asked. It also reclaims anonymous memory when the
 * guest has swap; the kernel (6.1) skips anonymous pages in cgroup reclaim
 * when vm.swappiness is 0, so with swap the agent sets it to 0 for the call
 * and puts it back. Without memory.reclaim, files are advised away
 * (POSIX_FADV_DONTNEED) least recently used first. drop_caches is never
 * used: it throws the hot cache out with the cold. */
#ifndef HINT_AGENT_RECLAIM_CHOICE_H
#define HINT_AGENT_RECLAIM_CHOICE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct reclaim_facts {
	bool lru_reclaim;	/* a cgroup v2 root memory.reclaim can be written */
	uint64_t swap_total;	/* bytes of swap; 0 = none */
	uint64_t clean_file;	/* file LRU less dirty and writeback pages */
};

enum reclaim_method {
	RECLAIM_NOTHING,	/* nothing asked, or no clean cache */
	RECLAIM_LRU,		/* memory.reclaim */
	RECLAIM_FADVISE,	/* files, least recently used first */
};

struct reclaim_choice {
	enum reclaim_method method;
	uint64_t bytes;		/* to ask for: at most the clean cache */
	bool spare_anon;	/* vm.swappiness 0 for the call */
};

void reclaim_choose(const struct reclaim_facts *f, uint64_t asked, struct reclaim_choice *ret);

/* A file with page cache, for the fallback's order. */
struct cached_file {
	char *path;
	uint64_t resident;	/* bytes of it in page cache */
	time_t last_use;	/* the later of atime and mtime */
};

/* qsort() order of the fallback: least recently used first, then the one
 * with less cached (a small cold file before a big one of the same age),
 * then by path, so the order is total. Never by size alone. */
int cached_file_colder_first(const void *a, const void *b);

#endif
