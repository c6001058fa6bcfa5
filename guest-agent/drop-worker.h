/* drop-worker.h - the agent's slow work in a thread of its own: cache drops
 * and memory compaction take seconds (the kernel reclaiming or moving
 * pages, a file scan); meanwhile the channel goes on: hints, acks and stats
 * are not held up. One drop and one compaction at a time, side by side: a
 * compaction (seconds under emulation) never holds up a drop the host is
 * waiting for. */
#ifndef HINT_AGENT_DROP_WORKER_H
#define HINT_AGENT_DROP_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include "protocol.h"

struct slow_job_result {
	struct hint_cmd cmd;	/* the command it was for */
	int result;		/* 0 or negative errno */
	uint64_t freed;		/* drop_cache: bytes of page cache that went */
};

/* Starts the work of a drop_cache, or of a give with compact (the
 * compaction; the caller asks the module for the pass when it is done):
 * -EBUSY while a job of that kind runs, negative errno when no thread could
 * start. */
int slow_job_start(const struct hint_cmd *c);

/* A descriptor that becomes readable when a job is done; -1 when none
 * runs. */
int slow_job_fd(void);

/* After slow_job_fd() polled readable: one job that ended, false if none
 * had (each one's end is read once). */
bool slow_job_finish(struct slow_job_result *ret);

#endif
