/* drop-worker.c - see drop-worker.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>
#include "drop-worker.h"
#include "dropcache.h"

static struct {
	pthread_t thread;
	bool running;
	int done[2];		/* the thread writes a byte to done[1] when it ends */
	struct slow_job_result job;
} w = { .done = { -1, -1 } };

static void *run(void *arg) {
	struct slow_job_result *j = &w.job;

	if (j->cmd.name == HINT_CMD_DROP_CACHE)
		j->result = drop_clean_cache(j->cmd.bytes, &j->freed);
	else
		j->result = compact_guest_memory();
	(void) !write(w.done[1], "x", 1);
	return NULL;
}

int slow_job_start(const struct hint_cmd *c) {
	int r;

	if (w.running)
		return -EBUSY;
	if (w.done[0] < 0 && pipe2(w.done, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	w.job = (struct slow_job_result) { .cmd = *c };
	r = pthread_create(&w.thread, NULL, run, NULL);
	if (r != 0)
		return -r;
	w.running = true;
	return 0;
}

int slow_job_fd(void) {
	return w.running ? w.done[0] : -1;
}

void slow_job_finish(struct slow_job_result *ret) {
	char c;

	(void) !read(w.done[0], &c, 1);
	pthread_join(w.thread, NULL);	/* the thread has written: it is ending */
	w.running = false;
	*ret = w.job;
}
