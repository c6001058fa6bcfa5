/* libvirt-conn.c - see libvirt-conn.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libvirt/virterror.h>
#include "libvirt-conn.h"
#include "clock.h"
#include "log.h"
#include "macro.h"

#define RECONNECT_USEC (5 * USEC_PER_SEC)
#define BALLOON_STATS_PERIOD_SEC 2
#define KEEPALIVE_INTERVAL_SEC 5
#define KEEPALIVE_COUNT 3
/* At exit, how long closing the connection may take. */
#define CLOSE_GRACE_USEC (2 * USEC_PER_SEC)

enum call_kind { CALL_CONNECT, CALL_CLOSE, CALL_DISCOVER, CALL_BALLOON, CALL_STATS, CALL_EVENT };

struct virt_call {
	struct job job;
	struct virt_conn *c;
	enum call_kind kind;
	virConnectPtr conn;		/* a reference of the call's own, dropped
					 * by the worker when the call returns */
	virConnectPtr from;		/* EVENT: the connection it came from (no
					 * reference: only compared) */
	struct virt_call *prev, *next;	/* c->calls: in flight */
	bool cancelled;
	void *owner;
	union {
		void (*discovered)(void *owner, struct virt_discovery *d);
		void (*balloon_set)(void *owner, int r);
		void (*stats_read)(void *owner, const struct virt_stats *s);
	} done;
	char uuid[VIR_UUID_STRING_BUFLEN];
	uint64_t bytes;
	int r;
	union {
		struct virt_discovery discovery;
		struct virt_stats stats;
		struct {			/* CONNECT */
			struct virt_domain_id *ids;
			size_t n_ids;
			int callbacks[2];
		} connect;
		struct {			/* EVENT from libvirt's thread */
			int type;		/* 0: lifecycle, 1: balloon, 2: closed */
			struct virt_domain_id id;
			enum virt_domain_event ev;
		} event;
	} u;
};

struct virt_conn {
	sd_event *event;
	struct worker *worker;
	char *uri;
	const struct virt_conn_callbacks *cb;
	void *userdata;

	virConnectPtr conn;		/* NULL while not connected */
	int callbacks[2];		/* lifecycle, balloon change */
	struct virt_call *connecting;	/* the connection attempt in flight */
	sd_event_source *reconnect;
	struct virt_call *calls;	/* in flight, newest first */
	usec_t last_answer;		/* when a call last came back */

	pthread_t event_thread;
	bool event_thread_started;
	volatile int quit;
	int wake_timer;
};

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
		backing_close(&call->u.discovery.backing);
	if (call->kind == CALL_STATS)
		free(call->u.stats.domains);
	if (call->kind == CALL_CONNECT)
		free(call->u.connect.ids);
	free(call);
}

static void on_discard(struct job *j) {
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

static void run_call(struct job *j);
static void call_done(struct job *j);

static struct virt_call *call_new(struct virt_conn *c, enum call_kind kind, void *owner) {
	struct virt_call *call = calloc(1, sizeof *call);

	if (!call)
		return NULL;
	call->job = (struct job) { .run = run_call, .done = call_done, .discard = on_discard };
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

/* ---- domain events, from libvirt's thread ------------------------------ */

static void post_event(struct virt_conn *c, virConnectPtr conn, int type, virDomainPtr dom,
		       enum virt_domain_event ev, uint64_t bytes) {
	struct virt_call *call = calloc(1, sizeof *call);

	if (!call)
		return;
	call->job = (struct job) { .done = call_done, .discard = on_discard };
	call->c = c;
	call->kind = CALL_EVENT;
	call->u.event.type = type;
	call->u.event.ev = ev;
	call->bytes = bytes;
	/* Which connection it came from: one that was replaced is not news. */
	call->from = conn;
	if (dom) {
		const char *name = virDomainGetName(dom);
		virDomainGetUUIDString(dom, call->u.event.id.uuid);
		snprintf(call->u.event.id.name, sizeof call->u.event.id.name, "%s", name ? name : "");
	}
	worker_post(c->worker, &call->job);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		post_event(opaque, conn, 0, dom, VIRT_DOMAIN_STARTED, 0);
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
	case VIR_DOMAIN_EVENT_CRASHED:
		post_event(opaque, conn, 0, dom, VIRT_DOMAIN_STOPPED, 0);
		break;
	default:
		break;
	}
	return 0;
}

static int on_balloon_change(virConnectPtr conn, virDomainPtr dom, unsigned long long actual_kib,
			     void *opaque) {
	post_event(opaque, conn, 1, dom, 0, (uint64_t) actual_kib * 1024);
	return 0;
}

static void on_closed(virConnectPtr conn, int reason, void *opaque) {
	post_event(opaque, conn, 2, NULL, 0, 0);
}

/* ---- what runs in worker threads --------------------------------------- */

static void run_connect(struct virt_call *call) {
	struct virt_conn *c = call->c;
	virDomainPtr *domains = NULL;
	int n;

	call->conn = virConnectOpen(c->uri);
	if (!call->conn) {
		call->r = virt_error("Failed to connect to libvirt at", c->uri);
		return;
	}
	virConnectSetKeepAlive(call->conn, KEEPALIVE_INTERVAL_SEC, KEEPALIVE_COUNT);
	virConnectRegisterCloseCallback(call->conn, on_closed, c, NULL);
	call->u.connect.callbacks[0] = virConnectDomainEventRegisterAny(call->conn, NULL,
		VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), c, NULL);
	call->u.connect.callbacks[1] = virConnectDomainEventRegisterAny(call->conn, NULL,
		VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon_change), c, NULL);
	if (call->u.connect.callbacks[0] < 0)
		virt_error("Failed to follow domain events at", c->uri);

	n = virConnectListAllDomains(call->conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		call->r = virt_error("Failed to list domains at", c->uri);
		return;
	}
	call->u.connect.ids = calloc((size_t) n + 1, sizeof *call->u.connect.ids);
	for (int i = 0; i < n; i++) {
		if (call->u.connect.ids) {
			struct virt_domain_id *id = &call->u.connect.ids[call->u.connect.n_ids++];
			virDomainGetUUIDString(domains[i], id->uuid);
			snprintf(id->name, sizeof id->name, "%s", virDomainGetName(domains[i]));
		}
		virDomainFree(domains[i]);
	}
	free(domains);
	call->r = call->u.connect.ids ? 0 : -ENOMEM;
}

static void run_close(struct virt_call *call) {
	for (unsigned i = 0; i < ELEMENTSOF(call->u.connect.callbacks); i++)
		if (call->u.connect.callbacks[i] >= 0)
			virConnectDomainEventDeregisterAny(call->conn, call->u.connect.callbacks[i]);
	virConnectUnregisterCloseCallback(call->conn, on_closed);
	/* The connection's own reference is the call's: run_call() drops it. */
}

static virDomainPtr lookup(struct virt_call *call) {
	virDomainPtr dom = virDomainLookupByUUIDString(call->conn, call->uuid);
	if (!dom)
		call->r = virt_error("Failed to find domain", call->uuid);
	return dom;
}

static void run_discover(struct virt_call *call) {
	virDomainPtr dom = lookup(call);

	if (!dom) {
		call->u.discovery = (struct virt_discovery) { .r = call->r, .backing.fd = -1 };
		return;
	}
	virt_discover(dom, BALLOON_STATS_PERIOD_SEC, &call->u.discovery);
	virDomainFree(dom);
}

static void run_balloon(struct virt_call *call) {
	virDomainPtr dom = lookup(call);

	if (!dom)
		return;
	call->r = virt_set_balloon(dom, call->bytes);
	virDomainFree(dom);
}

static void stats_from_record(const virDomainStatsRecord *rec, struct virt_domain_stats *d) {
	struct virt_memstats *ms = &d->ms;

	virDomainGetUUIDString(rec->dom, d->uuid);
	for (int i = 0; i < rec->nparams; i++) {
		const virTypedParameter *p = &rec->params[i];
		uint64_t kib = p->value.ul;

		if (p->type != VIR_TYPED_PARAM_ULLONG)
			continue;
		if (!strcmp(p->field, "balloon.current"))
			ms->actual = kib * 1024;
		else if (!strcmp(p->field, "balloon.rss")) {
			ms->rss = kib * 1024;
			d->answered = true;	/* only read when QEMU answered */
		} else if (!strcmp(p->field, "balloon.unused")) {
			ms->unused = kib * 1024;
			ms->guest_stats = true;
		} else if (!strcmp(p->field, "balloon.available"))
			ms->available = kib * 1024;
		else if (!strcmp(p->field, "balloon.usable"))
			ms->usable = kib * 1024;
		else if (!strcmp(p->field, "balloon.disk_caches"))
			ms->disk_caches = kib * 1024;
		else if (!strcmp(p->field, "balloon.swap_in"))
			ms->swap_in = kib;
		else if (!strcmp(p->field, "balloon.major_fault"))
			ms->major_fault = kib;
	}
	/* Drivers without bulk balloon statistics (libvirt's test driver)
	 * answer the per-domain call instead. */
	if (!ms->actual && virt_memstats(rec->dom, ms) == 0)
		d->answered = true;
}

static void run_stats(struct virt_call *call) {
	virDomainStatsRecordPtr *records = NULL;
	int n;

	n = virConnectGetAllDomainStats(call->conn, VIR_DOMAIN_STATS_BALLOON, &records,
					VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
					VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
	if (n < 0) {
		call->r = virt_error("Failed to read domain statistics at", virt_conn_uri(call->c));
		return;
	}
	call->u.stats.domains = calloc((size_t) n + 1, sizeof *call->u.stats.domains);
	if (!call->u.stats.domains)
		call->r = -ENOMEM;
	for (int i = 0; i < n && call->u.stats.domains; i++)
		stats_from_record(records[i], &call->u.stats.domains[call->u.stats.n++]);
	virDomainStatsRecordListFree(records);
}

static void run_call(struct job *j) {
	struct virt_call *call = (struct virt_call *) j;

	switch (call->kind) {
	case CALL_CONNECT: run_connect(call); break;
	case CALL_CLOSE: run_close(call); break;
	case CALL_DISCOVER: run_discover(call); break;
	case CALL_BALLOON: run_balloon(call); break;
	case CALL_STATS: run_stats(call); break;
	case CALL_EVENT: break;
	}
	/* Dropped here, not on the loop: the last reference to a connection
	 * closes it, which talks to libvirtd. A new connection is the result. */
	if (call->conn && call->kind != CALL_CONNECT) {
		virConnectClose(call->conn);
		call->conn = NULL;
	}
}

/* ---- results, on the loop ---------------------------------------------- */

/* Deregisters and drops the connection's own reference, in a worker. */
static void close_conn(struct virt_conn *c, virConnectPtr conn, const int callbacks[2]) {
	struct virt_call *call = calloc(1, sizeof *call);

	if (!call)
		return;		/* leaked rather than closed on the loop */
	call->job = (struct job) { .run = run_call, .done = call_done, .discard = on_discard,
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
		log_warning("libvirt connection lost, reconnecting");
		close_conn(c, c->conn, c->callbacks);
		c->conn = NULL;
		c->cb->lost(c->userdata);
		schedule_reconnect(c);
		break;
	}
}

static void call_done(struct job *j) {
	struct virt_call *call = (struct virt_call *) j;
	struct virt_conn *c = call->c;

	if (call->kind == CALL_EVENT) {
		event_done(c, call);
		call_free(call);
		return;
	}
	unlink_call(call);
	c->last_answer = clock_usec(CLOCK_MONOTONIC);
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
	call->u.connect.callbacks[0] = call->u.connect.callbacks[1] = -1;
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
	c->callbacks[0] = c->callbacks[1] = -1;
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

struct virt_call *virt_stats_call(struct virt_conn *c, void (*done)(void *owner, const struct virt_stats *s),
				  void *owner) {
	struct virt_call *call;

	if (!c->conn || !(call = call_new(c, CALL_STATS, owner)))
		return NULL;
	call->done.stats_read = done;
	call_start(call);
	return call;
}
