/* drop-worker.c - see drop-worker.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>
#include "drop-worker.h"
#include "dropcache.h"
#include "macro.h"

/* A drop and a compaction are independent: each has a slot. */
enum { SLOT_DROP, SLOT_COMPACT, N_SLOTS };

struct slot {
	pthread_t thread;
	bool running;		/* started and not yet joined */
	atomic_bool ended;	/* set by the thread just before its byte */
	struct slow_job_result job;
};

static struct {
	int done[2];		/* each thread writes a byte to done[1] when it ends */
	struct slot slot[N_SLOTS];
} w = { .done = { -1, -1 } };

static void *run(void *arg) {
	struct slot *s = arg;
	struct slow_job_result *j = &s->job;

	if (j->cmd.name == HINT_CMD_DROP_CACHE)
		j->result = drop_clean_cache(j->cmd.bytes, &j->freed);
	else
		j->result = compact_guest_memory();
	atomic_store(&s->ended, true);
	(void) !write(w.done[1], "x", 1);
	return NULL;
}

int slow_job_start(const struct hint_cmd *c) {
	struct slot *s = &w.slot[c->name == HINT_CMD_DROP_CACHE ? SLOT_DROP : SLOT_COMPACT];
	int r;

	if (s->running)
		return -EBUSY;
	if (w.done[0] < 0 && pipe2(w.done, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	s->job = (struct slow_job_result) { .cmd = *c };
	atomic_store(&s->ended, false);
	r = pthread_create(&s->thread, NULL, run, s);
	if (r != 0)
		return -r;
	s->running = true;
	return 0;
}

int slow_job_fd(void) {
	for (size_t i = 0; i < ELEMENTSOF(w.slot); i++)
		if (w.slot[i].running)
			return w.done[0];
	return -1;
}

bool slow_job_finish(struct slow_job_result *ret) {
	char c;

	if (read(w.done[0], &c, 1) != 1)
		return false;
	/* A byte is written only after its slot is marked ended. */
	for (size_t i = 0; i < ELEMENTSOF(w.slot); i++) {
		struct slot *s = &w.slot[i];
		if (s->running && atomic_load(&s->ended)) {
			pthread_join(s->thread, NULL);
			s->running = false;
			*ret = s->job;
			return true;
		}
	}
	return false;
}
