/* worker.h - blocking calls off the event loop.
 *
 * A call that can block on something hintd does not control (libvirt, a
 * QEMU monitor, /proc of a process stuck in the kernel) runs as a job on a
 * small pool of threads. The job's run() executes in a worker thread and
 * must touch nothing of hintd's state; its done() runs later on the event
 * loop with the result. The loop never waits for a job: a job that never
 * returns costs one thread, and the pool grows (up to its limit) so that
 * the others still run. Jobs posted with worker_post() skip the threads:
 * that is how another thread (libvirt's event thread) hands the loop a
 * message. */
#ifndef HINTD_WORKER_H
#define HINTD_WORKER_H

#include <stdbool.h>
#include <systemd/sd-event.h>
#include "model.h"

struct worker;

struct job {
	struct job *next;
	/* In a worker thread; NULL for a job that only carries a message. */
	void (*run)(struct job *j);
	/* On the loop, once run() returned; owns j from then on (frees it). */
	void (*done)(struct job *j);
	/* Instead of done() when the pool stops first: releases what the job
	 * holds and frees it; NULL means free(j). Any thread. */
	void (*discard)(struct job *j);
	usec_t submitted;		/* CLOCK_MONOTONIC, set by worker_submit() */
	bool run_on_stop;		/* still run when queued as the pool stops
					 * (e.g. closing a connection) */
};

/* A pool of at most max_threads threads, delivering results to e. */
int worker_new(sd_event *e, unsigned max_threads, struct worker **ret);

/* Stops the pool: threads that are idle or finish within grace_usec are
 * joined; a thread stuck in a call is left behind (the process is exiting)
 * and discards its job when the call returns. Jobs not yet run, and results
 * not yet delivered, are discarded: done() is never called after this. */
struct worker *worker_free(struct worker *w, usec_t grace_usec);

/* Queues j to run; done() follows on the loop. Safe from the loop only. */
void worker_submit(struct worker *w, struct job *j);

/* Hands j to the loop from any thread: done() runs on the loop. */
void worker_post(struct worker *w, struct job *j);

#endif /* HINTD_WORKER_H */
