/* drop-worker.h - a cache drop in a thread of its own. A drop can take
 * seconds (the kernel reclaiming, or a file scan); meanwhile the agent's
 * channel goes on: hints, acks and stats are not held up. One at a time. */
#ifndef HINT_AGENT_DROP_WORKER_H
#define HINT_AGENT_DROP_WORKER_H

#include <stdint.h>

/* Starts drop_clean_cache(bytes) for the command id: -EBUSY while one
 * runs, negative errno when no thread could start. */
int drop_worker_start(uint64_t id, uint64_t bytes);

/* A descriptor that becomes readable when the drop is done; -1 when none
 * runs. */
int drop_worker_fd(void);

/* After drop_worker_fd() polled readable: the drop's command id, its
 * result (0 or negative errno) and the bytes it freed. */
void drop_worker_finish(uint64_t *ret_id, int *ret_result, uint64_t *ret_freed);

#endif
