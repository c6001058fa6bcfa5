/* libvirt-conn.c - see libvirt-conn.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libvirt/virterror.h>
#include "libvirt-call.h"
#include "clock.h"
#include "log.h"
#include "macro.h"

#define RECONNECT_USEC (5 * USEC_PER_SEC)
/* At exit, how long closing the connection may take. */
#define CLOSE_GRACE_USEC (2 * USEC_PER_SEC)

/* ---- libvirt's event thread -------------------------------------------- */

static void *event_thread_main(void *userdata) {
	struct virt_conn *c = userdata;

	while (!c->quit)
		if (virEventRunDefaultImpl() < 0)
			log_warning("libvirt's event loop failed, retrying");
	return NULL;
}

static void on_wake(int timer, void *opaque) {
	virEventRemoveTimeout(timer);
}

/* ---- calls -------------------------------------------------------------- */

static void call_free(struct virt_call *call) {
	if (call->conn)
		virConnectClose(call->conn);	/* only a reference: never the last */
	if (call->kind == CALL_DISCOVER)
		backing_set_close(&call->u.discovery.backings);
	if (call->kind == CALL_STATS)
		free(call->u.stats.domains);
	if (call->kind == CALL_CONNECT)
		free(call->u.connect.ids);
	free(call);
}

void virt_call_discard(struct job *j) {
	call_free((struct virt_call *) j);
}

static void unlink_call(struct virt_call *call) {
	struct virt_conn *c = call->c;

	if (call->prev)
		call->prev->next = call->next;
	else if (c->calls == call)
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
}


static struct virt_call *call_new(struct virt_conn *c, enum call_kind kind, void *owner) {
	struct virt_call *call = calloc(1, sizeof *call);

	if (!call)
		return NULL;
	call->job = (struct job) { .run = virt_call_run, .done = virt_call_done, .discard = virt_call_discard };
	call->c = c;
	call->kind = kind;
	call->owner = owner;
	if (c->conn)
		call->conn = (virConnectRef(c->conn), c->conn);
	return call;
}

static void call_start(struct virt_call *call) {
	struct virt_conn *c = call->c;

	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	worker_submit(c->worker, &call->job);
}

void virt_call_cancel(struct virt_call *call) {
	if (call)
		call->cancelled = true;
}

usec_t virt_call_submitted(const struct virt_call *call) {
	return call->job.submitted;
}

/* ---- results, on the loop ---------------------------------------------- */

/* Deregisters and drops the connection's own reference, in a worker. */
static void close_conn(struct virt_conn *c, virConnectPtr conn, const int callbacks[VIRT_EVENT_CALLBACKS]) {
	struct virt_call *call = calloc(1, sizeof *call);

	if (!call)
		return;		/* leaked rather than closed on the loop */
	call->job = (struct job) { .run = virt_call_run, .done = virt_call_done, .discard = virt_call_discard,
				   .run_on_stop = true };
	call->c = c;
	call->kind = CALL_CLOSE;
	call->conn = conn;
	memcpy(call->u.connect.callbacks, callbacks, sizeof call->u.connect.callbacks);
	call_start(call);
}

static void schedule_reconnect(struct virt_conn *c);

static void connect_done(struct virt_conn *c, struct virt_call *call) {
	c->connecting = NULL;
	if (call->r < 0) {
		if (call->conn) {
			close_conn(c, call->conn, call->u.connect.callbacks);
			call->conn = NULL;
		}
		schedule_reconnect(c);
		return;
	}
	c->conn = TAKE_PTR(call->conn);
	memcpy(c->callbacks, call->u.connect.callbacks, sizeof c->callbacks);
	log_info("Connected to %s: %zu running domains", c->uri, call->u.connect.n_ids);
	c->cb->connected(c->userdata, call->u.connect.ids, call->u.connect.n_ids);
}

static void connection_lost(struct virt_conn *c) {
	log_warning("libvirt connection lost, reconnecting");
	close_conn(c, c->conn, c->callbacks);
	c->conn = NULL;
	c->cb->lost(c->userdata);
	schedule_reconnect(c);
}

static void event_done(struct virt_conn *c, struct virt_call *call) {
	if (call->from != c->conn || !c->conn)
		return;
	switch (call->u.event.type) {
	case 0:
		c->cb->domain_event(c->userdata, &call->u.event.id, call->u.event.ev);
		break;
	case 1:
		c->cb->balloon_changed(c->userdata, call->u.event.id.uuid, call->bytes);
		break;
	case 2:
		connection_lost(c);
		break;
	case 3:
		c->cb->virtio_mem_changed(c->userdata, call->u.event.id.uuid, call->alias, call->bytes);
		break;
	}
}

void virt_call_done(struct job *j) {
	struct virt_call *call = (struct virt_call *) j;
	struct virt_conn *c = call->c;

	if (call->kind == CALL_EVENT) {
		event_done(c, call);
		call_free(call);
		return;
	}
	unlink_call(call);
	c->last_answer = clock_usec(CLOCK_MONOTONIC);
	if (call->dead && c->conn && call->from == c->conn)
		connection_lost(c);
	switch (call->kind) {
	case CALL_CONNECT:
		connect_done(c, call);
		break;
	case CALL_DISCOVER:
		if (!call->cancelled)
			call->done.discovered(call->owner, &call->u.discovery);
		break;
	case CALL_BALLOON:
		if (!call->cancelled)
			call->done.balloon_set(call->owner, call->r);
		break;
	case CALL_VIRTIO_MEM:
		if (!call->cancelled)
			call->done.virtio_mem_set(call->owner, call->r);
		break;
	case CALL_STATS:
		if (!call->cancelled) {
			call->u.stats.r = call->r;
			call->u.stats.submitted = call->job.submitted;
			call->done.stats_read(call->owner, &call->u.stats);
		}
		break;
	default:
		break;
	}
	call_free(call);
}

static void start_connect(struct virt_conn *c) {
	struct virt_call *call;

	if (c->connecting || c->conn)
		return;
	call = call_new(c, CALL_CONNECT, NULL);
	if (!call) {
		schedule_reconnect(c);
		return;
	}
	for (unsigned i = 0; i < VIRT_EVENT_CALLBACKS; i++)
		call->u.connect.callbacks[i] = -1;
	c->connecting = call;
	call_start(call);
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
	struct virt_conn *c = userdata;

	c->reconnect = sd_event_source_disable_unref(c->reconnect);
	start_connect(c);
	return 0;
}

static void schedule_reconnect(struct virt_conn *c) {
	if (c->reconnect)
		return;
	if (sd_event_add_time_relative(c->event, &c->reconnect, CLOCK_MONOTONIC, RECONNECT_USEC, 0,
				       on_reconnect, c) < 0)
		log_error("Cannot schedule a reconnect to libvirt");
}

/* ---- the public face ---------------------------------------------------- */

static void ignore_error(void *userdata, virErrorPtr err) {
}

int virt_conn_new(sd_event *e, struct worker *w, const char *uri,
		  const struct virt_conn_callbacks *cb, void *userdata, struct virt_conn **ret) {
	struct virt_conn *c = calloc(1, sizeof *c);

	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(e);
	c->worker = w;
	c->uri = strdup(uri);
	c->cb = cb;
	c->userdata = userdata;
	for (unsigned i = 0; i < VIRT_EVENT_CALLBACKS; i++)
		c->callbacks[i] = -1;
	if (!c->uri) {
		virt_conn_free(c);
		return -ENOMEM;
	}
	/* hintd logs libvirt's errors itself, once. */
	virSetErrorFunc(NULL, ignore_error);
	if (virEventRegisterDefaultImpl() < 0) {
		virt_conn_free(c);
		return virt_error("Failed to start libvirt's event loop", NULL);
	}
	if (pthread_create(&c->event_thread, NULL, event_thread_main, c) != 0) {
		virt_conn_free(c);
		return log_error_errno(-EAGAIN, "Failed to start libvirt's event thread");
	}
	c->event_thread_started = true;
	start_connect(c);
	*ret = c;
	return 0;
}

struct virt_conn *virt_conn_free(struct virt_conn *c) {
	if (!c)
		return NULL;
	c->reconnect = sd_event_source_disable_unref(c->reconnect);
	for (struct virt_call *call = c->calls; call; call = call->next)
		call->cancelled = true;
	if (c->conn) {
		close_conn(c, c->conn, c->callbacks);
		c->conn = NULL;
	}
	c->worker = worker_free(c->worker, CLOSE_GRACE_USEC);
	if (c->event_thread_started) {
		/* One more turn of libvirt's loop runs the free callbacks of what
		 * the closed connection left; the timer wakes it to see quit. */
		c->quit = 1;
		virEventAddTimeout(0, on_wake, NULL, NULL);
		pthread_join(c->event_thread, NULL);
	}
	free(c->uri);
	sd_event_unref(c->event);
	free(c);
	return NULL;
}

bool virt_conn_connected(const struct virt_conn *c) {
	return c->conn != NULL;
}

bool virt_conn_answering(const struct virt_conn *c, usec_t now) {
	usec_t oldest = 0;

	for (const struct virt_call *call = c->calls; call; call = call->next)
		oldest = call->job.submitted;	/* the list is newest first */
	if (!oldest || now < oldest + VIRT_DEADLINE_USEC)
		return true;
	return c->last_answer > oldest || now < c->last_answer + VIRT_DEADLINE_USEC;
}

const char *virt_conn_uri(const struct virt_conn *c) {
	return c->uri;
}

struct virt_call *virt_discover_call(struct virt_conn *c, const char *uuid,
				     void (*done)(void *owner, struct virt_discovery *d), void *owner) {
	struct virt_call *call;

	if (!c->conn || !(call = call_new(c, CALL_DISCOVER, owner)))
		return NULL;
	snprintf(call->uuid, sizeof call->uuid, "%s", uuid);
	call->done.discovered = done;
	call_start(call);
	return call;
}

struct virt_call *virt_balloon_call(struct virt_conn *c, const char *uuid, uint64_t bytes,
				    void (*done)(void *owner, int r), void *owner) {
	struct virt_call *call;

	if (!c->conn || !(call = call_new(c, CALL_BALLOON, owner)))
		return NULL;
	snprintf(call->uuid, sizeof call->uuid, "%s", uuid);
	call->bytes = bytes;
	call->done.balloon_set = done;
	call_start(call);
	return call;
}

struct virt_call *virt_virtio_mem_call(struct virt_conn *c, const char *uuid, const char *alias,
					uint64_t requested, void (*done)(void *owner, int r), void *owner) {
	struct virt_call *call;

	if (!c->conn || !(call = call_new(c, CALL_VIRTIO_MEM, owner)))
		return NULL;
	snprintf(call->uuid, sizeof call->uuid, "%s", uuid);
	snprintf(call->alias, sizeof call->alias, "%s", alias);
	call->bytes = requested;
	call->done.virtio_mem_set = done;
	call_start(call);
	return call;
}

struct virt_call *virt_stats_call(struct virt_conn *c, void (*done)(void *owner, const struct virt_stats *s),
				  void *owner) {
	struct virt_call *call;

	if (!c->conn || !(call = call_new(c, CALL_STATS, owner)))
		return NULL;
	call->done.stats_read = done;
	call_start(call);
	return call;
}
