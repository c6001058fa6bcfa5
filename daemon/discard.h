/* discard.h - a guest's agent messages: hints -> claim -> punch -> ack, the
 * guest's stats and its answers to commands (discard.c).
 *
 * The punch deadline is anchored at the moment hintd sent the claim and is
 * checked against a fresh clock right before every punch: a confirmation
 * that arrives late, or a loop that was held up, never punches pages the
 * guest may have taken back. Figures a guest reports steer only that guest
 * and are checked against what it can hold; what a rung returned is what
 * the host measured. */
#ifndef HINTD_DISCARD_H
#define HINTD_DISCARD_H

/* How long after a cache drop the discards that follow are the volatile
 * rung's: the guest reports what it dropped within a pass or two. For the
 * first CACHE_COMING_USEC of it, what the guest said it dropped is on its
 * way and not asked for again. */
#define VOLATILE_WINDOW_USEC (10 * USEC_PER_SEC)
#define CACHE_COMING_USEC (2 * USEC_PER_SEC)

#include "agent.h"

struct vm;

extern const struct agent_callbacks discard_agent_callbacks;

/* Acknowledges a batch (ack discarded:false hands the pages back). */
void discard_send_ack(struct vm *vm, uint64_t batch, bool discarded);

#endif /* HINTD_DISCARD_H */
