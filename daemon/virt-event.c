/* virt-event.c - see virt-event.h.
 *
 * libvirt identifies handles and timeouts by small integers; each maps to one
 * sd-event source. Free callbacks must not run inside libvirt's remove call
 * (libvirt may hold locks there), so they run from a deferred source. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <libvirt/libvirt.h>
#include "log.h"
#include "macro.h"
#include "virt-event.h"

struct watch {
	int id;
	bool is_timeout;
	int frequency_ms;		/* timeouts: -1 off, 0 every iteration, > 0 period */
	sd_event_source *source;
	sd_event_source *free_source;	/* runs ff once libvirt's remove call returned */
	virEventHandleCallback handle_cb;
	virEventTimeoutCallback timeout_cb;
	void *opaque;
	virFreeCallback ff;
	struct watch *next;
};

static sd_event *event;
static struct watch *watches;
static struct watch *freeing;		/* removed, free callback still to run */
static int next_id = 1;

static struct watch *watch_find(int id, bool is_timeout) {
	for (struct watch *w = watches; w; w = w->next)
		if (w->id == id && w->is_timeout == is_timeout)
			return w;
	return NULL;
}

static void list_unlink(struct watch **list, struct watch *w) {
	for (struct watch **p = list; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

static uint32_t to_epoll(int events) {
	uint32_t e = 0;
	if (events & VIR_EVENT_HANDLE_READABLE)
		e |= EPOLLIN;
	if (events & VIR_EVENT_HANDLE_WRITABLE)
		e |= EPOLLOUT;
	return e;
}

static int from_epoll(uint32_t e) {
	int events = 0;
	if (e & EPOLLIN)
		events |= VIR_EVENT_HANDLE_READABLE;
	if (e & EPOLLOUT)
		events |= VIR_EVENT_HANDLE_WRITABLE;
	if (e & EPOLLERR)
		events |= VIR_EVENT_HANDLE_ERROR;
	if (e & EPOLLHUP)
		events |= VIR_EVENT_HANDLE_HANGUP;
	return events;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct watch *w = userdata;
	w->handle_cb(w->id, fd, from_epoll(revents), w->opaque);
	return 0;
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff) {
	struct watch *w = calloc(1, sizeof *w);
	int r;

	if (!w)
		return -1;
	*w = (struct watch) { .id = next_id++, .handle_cb = cb, .opaque = opaque, .ff = ff };
	r = sd_event_add_io(event, &w->source, fd, to_epoll(events), on_io, w);
	if (r < 0) {
		log_error_errno(r, "libvirt event: cannot watch fd %d: %m", fd);
		free(w);
		return -1;
	}
	if (events == 0)
		sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
	w->next = watches;
	watches = w;
	return w->id;
}

static void update_handle(int id, int events) {
	struct watch *w = watch_find(id, false);
	if (!w)
		return;
	if (events == 0) {
		sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_io_events(w->source, to_epoll(events));
	sd_event_source_set_enabled(w->source, SD_EVENT_ON);
}

static void run_free(struct watch *w) {
	list_unlink(&freeing, w);
	if (w->ff)
		w->ff(w->opaque);
	sd_event_source_disable_unref(w->free_source);
	free(w);
}

static int on_deferred_free(sd_event_source *s, void *userdata) {
	run_free(userdata);
	return 0;
}

static int remove_watch(struct watch *w) {
	list_unlink(&watches, w);
	w->source = sd_event_source_disable_unref(w->source);
	/* Fails once the loop has finished (at exit) or without memory: the
	 * callback then waits for virt_event_unregister(). Never run it here,
	 * under libvirt's locks. */
	if (sd_event_add_defer(event, &w->free_source, on_deferred_free, w) < 0)
		w->free_source = NULL;
	w->next = freeing;
	freeing = w;
	return 0;
}

static int remove_handle(int id) {
	struct watch *w = watch_find(id, false);
	return w ? remove_watch(w) : -1;
}

static int arm_timeout(struct watch *w) {
	uint64_t now;
	if (w->frequency_ms < 0)
		return sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
	sd_event_now(event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(w->source, now + (uint64_t) w->frequency_ms * 1000);
	return sd_event_source_set_enabled(w->source, SD_EVENT_ONESHOT);
}

static int on_time(sd_event_source *s, uint64_t usec, void *userdata) {
	struct watch *w = userdata;
	int id = w->id;

	/* Re-arm first: the callback may update or remove this very timeout. */
	arm_timeout(w);
	w->timeout_cb(id, w->opaque);
	return 0;
}

static int add_timeout(int frequency, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) {
	struct watch *w = calloc(1, sizeof *w);
	int r;

	if (!w)
		return -1;
	*w = (struct watch) { .id = next_id++, .is_timeout = true, .frequency_ms = frequency,
			      .timeout_cb = cb, .opaque = opaque, .ff = ff };
	r = sd_event_add_time(event, &w->source, CLOCK_MONOTONIC, 0, 1000, on_time, w);
	if (r < 0) {
		free(w);
		return -1;
	}
	arm_timeout(w);
	w->next = watches;
	watches = w;
	return w->id;
}

static void update_timeout(int id, int frequency) {
	struct watch *w = watch_find(id, true);
	if (!w)
		return;
	w->frequency_ms = frequency;
	arm_timeout(w);
}

static int remove_timeout(int id) {
	struct watch *w = watch_find(id, true);
	return w ? remove_watch(w) : -1;
}

int virt_event_register(sd_event *e) {
	event = e;
	virEventRegisterImpl(add_handle, update_handle, remove_handle,
			     add_timeout, update_timeout, remove_timeout);
	return 0;
}

void virt_event_unregister(void) {
	/* The loop will not run again: free callbacks still pending run now,
	 * outside any libvirt call. They release the connection's last
	 * references (its client, keepalive and event state). */
	unsigned pending = 0, left = 0;

	for (; freeing; pending++)
		run_free(freeing);
	for (struct watch *w = watches; w; w = w->next)
		left++;
	log_debug("libvirt event loop: %u free callbacks run at exit, %u sources left", pending, left);
	while (watches) {
		struct watch *w = watches;
		watches = w->next;
		sd_event_source_disable_unref(w->source);
		sd_event_source_disable_unref(w->free_source);
		free(w);
	}
}
