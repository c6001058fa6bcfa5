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
	uint64_t id, bytes, freed;
	int result;
} w = { .done = { -1, -1 } };

static void *run(void *arg) {
	w.result = drop_clean_cache(w.bytes, &w.freed);
	(void) !write(w.done[1], "x", 1);
	return NULL;
}

int drop_worker_start(uint64_t id, uint64_t bytes) {
	int r;

	if (w.running)
		return -EBUSY;
	if (w.done[0] < 0 && pipe2(w.done, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	w.id = id;
	w.bytes = bytes;
	w.freed = 0;
	w.result = 0;
	r = pthread_create(&w.thread, NULL, run, NULL);
	if (r != 0)
		return -r;
	w.running = true;
	return 0;
}

int drop_worker_fd(void) {
	return w.running ? w.done[0] : -1;
}

void drop_worker_finish(uint64_t *ret_id, int *ret_result, uint64_t *ret_freed) {
	char c;

	(void) !read(w.done[0], &c, 1);
	pthread_join(w.thread, NULL);	/* the thread has written: it is ending */
	w.running = false;
	*ret_id = w.id;
	*ret_result = w.result;
	*ret_freed = w.freed;
}
