/* rungs.h - the reclaim ladder hintd climbs, cheapest rung first, and the
 * one parser of rung lists ("unused,volatile", "none") for hintd.conf, the
 * bus and hintctl. Pure. */
#ifndef HINTD_RUNGS_H
#define HINTD_RUNGS_H

enum rung {
	RUNG_UNUSED,	/* free guest pages: discard, no cost to the guest */
	RUNG_VOLATILE,	/* clean page cache: the guest drops it, then it is unused */
	RUNG_BALLOON,	/* inflate the virtio balloon: the guest chooses */
	_RUNG_MAX,
};
#define RUNG_BIT(r) (1u << (r))
#define RUNGS_ALL (RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_VOLATILE) | RUNG_BIT(RUNG_BALLOON))

/* "unused", "volatile", "balloon"; NULL when r is not a rung. */
const char *rung_to_string(enum rung r);

enum rungs_parse_flags {
	/* As typed on a command line: names in any case, and a rung named
	 * twice counts once. */
	RUNGS_PARSE_LENIENT = 1 << 0,
};

/* A comma-separated list of rung names, each with optional whitespace
 * around it, in any order ("balloon, unused"), or "none" alone for no rung,
 * into RUNG_BIT()s. Without RUNGS_PARSE_LENIENT names are lower case and
 * each may appear once. -EINVAL for anything else: an empty list or item,
 * an unknown name, "none" with others. */
int rungs_parse(const char *s, unsigned flags, unsigned *ret_rungs);

/* As written in hintd.conf: rungs_parse() without flags. */
static inline int rungs_from_string(const char *s, unsigned *ret_rungs) {
	return rungs_parse(s, 0, ret_rungs);
}

#endif /* HINTD_RUNGS_H */
