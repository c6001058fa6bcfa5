/* args.h - the values hintctl takes on its command line, checked before
 * anything goes to hintd, with errors that name the argument. Pure. */
#ifndef HINTCTL_ARGS_H
#define HINTCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rungs.h"

/* The reclaim ladder (rungs.h), in the bus API's order. */
enum {
	CTL_RUNG_UNUSED = RUNG_UNUSED,
	CTL_RUNG_VOLATILE = RUNG_VOLATILE,
	CTL_RUNG_BALLOON = RUNG_BALLOON,
	_CTL_RUNG_MAX = _RUNG_MAX,
};

/* What `hintctl set VM KEY=VALUE...` changes: SetMachine's a{sv}. */
struct ctl_settings {
	bool has_min_memory, has_max_memory, has_shares, has_priority, has_reclaim, has_manage,
	     has_proactive;
	uint64_t min_memory;	/* bytes, 0 = not set */
	uint64_t max_memory;	/* bytes, 0 = not set */
	uint32_t shares;	/* 1..10000 */
	int32_t priority;	/* -100..100 */
	unsigned reclaim;	/* 1 << CTL_RUNG_*; 0 = "none" */
	bool manage;
	bool proactive;
};

#define CTL_SHARES_MIN 1
#define CTL_SHARES_MAX 10000
#define CTL_PRIORITY_MIN (-100)
#define CTL_PRIORITY_MAX 100

/* Parses KEY=VALUE arguments: MinMemory= and MaxMemory= sizes (0 or "none"
 * unsets), Shares= 1..10000, Priority= -100..100, Reclaim= a comma list of
 * unused, volatile, balloon or "none", Manage= and Proactive= booleans. Keys are matched
 * without regard to case. On error returns -EINVAL and *ret_error, a
 * sentence naming the argument (free() it). */
int ctl_settings_parse(char *const *args, size_t n_args, struct ctl_settings *ret, char **ret_error);

/* "unused,volatile" -> bits; "none" -> 0: rungs_parse() with
 * RUNGS_PARSE_LENIENT (any case, repeats allowed). -EINVAL on an unknown
 * rung or an empty list. */
int ctl_rungs_parse(const char *s, unsigned *ret);

/* top's refresh interval: seconds, decimals allowed, 0.2..60. */
#define CTL_INTERVAL_MIN 0.2
#define CTL_INTERVAL_MAX 60.0
int ctl_interval_parse(const char *s, double *ret_sec);

/* reclaim's --bytes: a size above 0. */
int ctl_reclaim_bytes_parse(const char *s, uint64_t *ret_bytes);

#endif /* HINTCTL_ARGS_H */
