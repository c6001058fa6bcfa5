/* ratelimit.h - at most `burst` events per `interval`, counting the rest.
 *
 * Used where an untrusted peer decides how often something happens (a guest
 * sending bad messages must not be able to fill the host's journal). Pure:
 * the caller passes the time. */
#ifndef HINTD_RATELIMIT_H
#define HINTD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t interval_usec;
	unsigned burst;
	uint64_t begin_usec;	/* start of the current window */
	unsigned n;		/* events in it */
	unsigned suppressed;	/* events refused since the last one allowed */
};

#define RATELIMIT_INIT(interval, b) ((struct ratelimit) { .interval_usec = (interval), .burst = (b) })

/* True when the event may go ahead (is within the burst of its window).
 * When it is the first allowed after some were refused, *ret_suppressed
 * (if given) says how many; otherwise it is set to 0. */
bool ratelimit_below(struct ratelimit *rl, uint64_t now_usec, unsigned *ret_suppressed);

#endif /* HINTD_RATELIMIT_H */
