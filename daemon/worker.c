/* worker.c - see worker.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "worker.h"

/* One lock guards everything below it; the loop and the threads both take
 * it, never while calling run(), done() or discard(). The struct lives as
 * long as its last reference: the loop's, and one per thread, since a
 * thread stuck in a call may outlive worker_free(). */
struct worker {
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* a job is queued, or the pool stops */
	pthread_cond_t gone;		/* a thread left */
	struct job *queue, **queue_tail;
	struct job *results, **results_tail;
	unsigned threads, busy, max_threads, refs;
	bool stopping;
	int efd;			/* results are waiting */
	sd_event_source *io;
};

static void job_discard(struct job *j) {
	if (j->discard)
		j->discard(j);
	else
		free(j);
}

static void discard_list(struct job *j) {
	while (j) {
		struct job *next = j->next;
		job_discard(j);
		j = next;
	}
}

static void push(struct job ***tail, struct job *j) {
	j->next = NULL;
	**tail = j;
	*tail = &j->next;
}

/* Drops one reference; called with the lock held, which it releases. */
static void unref_unlock(struct worker *w) {
	bool last = --w->refs == 0;

	pthread_mutex_unlock(&w->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->gone);
	free(w);
}

static void *thread_main(void *userdata) {
	struct worker *w = userdata;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job *j;

		while (!w->queue && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		/* Stopping: what is still queued must run (run_on_stop). */
		if (!w->queue)
			break;
		j = w->queue;
		w->queue = j->next;
		if (!w->queue)
			w->queue_tail = &w->queue;
		w->busy++;
		pthread_mutex_unlock(&w->lock);

		j->run(j);

		pthread_mutex_lock(&w->lock);
		w->busy--;
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			job_discard(j);
			pthread_mutex_lock(&w->lock);
			continue;
		}
		push(&w->results_tail, j);
		(void) !write(w->efd, &(uint64_t) { 1 }, sizeof(uint64_t));
	}
	w->threads--;
	pthread_cond_broadcast(&w->gone);
	unref_unlock(w);
	return NULL;
}

/* With the lock held: one more thread when every thread is busy. */
static void maybe_spawn(struct worker *w) {
	pthread_attr_t attr;
	pthread_t t;

	if (w->threads - w->busy > 0 || w->threads >= w->max_threads)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* libvirt's calls need little stack; 1000 VMs must not cost 8 MiB each. */
	pthread_attr_setstacksize(&attr, 512 * 1024);
	w->refs++;
	w->threads++;
	if (pthread_create(&t, &attr, thread_main, w) != 0) {
		w->refs--;
		w->threads--;
		log_warning("Cannot start a worker thread, %u running", w->threads);
	}
	pthread_attr_destroy(&attr);
}

static int on_results(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct worker *w = userdata;
	struct job *j;
	uint64_t n;

	(void) !read(w->efd, &n, sizeof n);
	pthread_mutex_lock(&w->lock);
	j = w->results;
	w->results = NULL;
	w->results_tail = &w->results;
	pthread_mutex_unlock(&w->lock);
	while (j) {
		struct job *next = j->next;
		j->done(j);
		j = next;
	}
	return 0;
}

int worker_new(sd_event *e, unsigned max_threads, struct worker **ret) {
	struct worker *w = calloc(1, sizeof *w);
	int r;

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->gone, NULL);
	w->queue_tail = &w->queue;
	w->results_tail = &w->results;
	w->max_threads = MAX(max_threads, 1u);
	w->refs = 1;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	r = sd_event_add_io(e, &w->io, w->efd, EPOLLIN, on_results, w);
	if (r < 0) {
		close(w->efd);
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

/* With the lock held: leaves the jobs that must still run queued and
 * returns the others, to be discarded. */
static struct job *keep_run_on_stop(struct worker *w) {
	struct job *drop = NULL, *j = w->queue;

	w->queue = NULL;
	w->queue_tail = &w->queue;
	while (j) {
		struct job *next = j->next;
		if (j->run_on_stop)
			push(&w->queue_tail, j);
		else {
			j->next = drop;
			drop = j;
		}
		j = next;
	}
	return drop;
}

/* Takes j in, to run (to_run) or as a result to deliver; with the lock
 * held on success. False when the pool is stopping: j was discarded. */
static bool take_locked(struct worker *w, struct job *j, bool to_run) {
	j->submitted = clock_usec(CLOCK_MONOTONIC);
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		job_discard(j);
		return false;
	}
	push(to_run ? &w->queue_tail : &w->results_tail, j);
	return true;
}

void worker_submit(struct worker *w, struct job *j) {
	if (!take_locked(w, j, true))
		return;
	maybe_spawn(w);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void worker_post(struct worker *w, struct job *j) {
	if (!take_locked(w, j, false))
		return;
	(void) !write(w->efd, &(uint64_t) { 1 }, sizeof(uint64_t));
	pthread_mutex_unlock(&w->lock);
}

struct worker *worker_free(struct worker *w, usec_t grace_usec) {
	struct job *queued, *results, *left;
	struct timespec deadline;

	if (!w)
		return NULL;
	w->io = sd_event_source_disable_unref(w->io);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t) (grace_usec / USEC_PER_SEC);
	deadline.tv_nsec += (long) (grace_usec % USEC_PER_SEC) * 1000;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	queued = keep_run_on_stop(w);
	results = w->results;
	w->results = NULL;
	w->results_tail = &w->results;
	if (w->queue)
		maybe_spawn(w);
	pthread_cond_broadcast(&w->wake);
	while (w->threads > 0)
		if (pthread_cond_timedwait(&w->gone, &w->lock, &deadline) == ETIMEDOUT)
			break;
	/* Whatever a stuck pool could not start is dropped. */
	left = w->queue;
	w->queue = NULL;
	w->queue_tail = &w->queue;
	if (w->threads > 0)
		log_warning("%u worker thread%s still blocked in a call, leaving %s behind", w->threads,
			    w->threads == 1 ? "" : "s", w->threads == 1 ? "it" : "them");
	/* No thread writes it once stopping is set. */
	close(w->efd);
	unref_unlock(w);

	discard_list(queued);
	discard_list(results);
	discard_list(left);
	return NULL;
}
