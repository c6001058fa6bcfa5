/* libvirt-conn.h - hintd's libvirt connection, kept off the event loop.
 *
 * A stopped QEMU blocks every libvirt call that talks to it, and a stopped
 * libvirtd blocks every call: so no libvirt call runs on the loop. libvirt's
 * own event loop runs in a thread of its own (domain events, closes);
 * calls run as jobs on the worker pool and report back on the loop. The
 * loop keeps no libvirt object but the connection, and only to hand
 * references to jobs; domains are named by UUID.
 *
 * Statistics come from one bulk call per tick that never waits for a
 * domain another call holds (VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT): a
 * QEMU that does not answer holds up at most the first such call, and
 * shows in the next ones as a domain whose statistics are missing. */
#ifndef HINTD_LIBVIRT_CONN_H
#define HINTD_LIBVIRT_CONN_H

#include <stdbool.h>
#include <systemd/sd-event.h>
#include <libvirt/libvirt.h>
#include "model.h"
#include "virt.h"
#include "worker.h"

/* A call, or a whole connection, that has not answered in this long is
 * taken as not answering. TCG guests answer statistics in milliseconds and
 * a balloon change in about 2 s. */
#define VIRT_DEADLINE_USEC (5 * USEC_PER_SEC)

struct virt_conn;
struct virt_call;

enum virt_domain_event {
	VIRT_DOMAIN_STARTED,
	VIRT_DOMAIN_STOPPED,
};

struct virt_domain_id {
	char uuid[VIR_UUID_STRING_BUFLEN];
	unsigned char raw_uuid[VIR_UUID_BUFLEN];	/* the same, as libvirt holds it */
	char name[128];
};

struct virt_conn_callbacks {
	/* (Re)connected: the running domains now. */
	void (*connected)(void *userdata, const struct virt_domain_id *domains, size_t n);
	/* The connection broke; a new one is tried every few seconds. */
	void (*lost)(void *userdata);
	void (*domain_event)(void *userdata, const struct virt_domain_id *id, enum virt_domain_event ev);
	/* QEMU moved a balloon: what the guest has now (libvirt's event). */
	void (*balloon_changed)(void *userdata, const char *uuid, uint64_t actual_bytes);
	/* The guest plugged or unplugged memory of a virtio-mem device: what it
	 * has plugged now (libvirt's event). */
	void (*virtio_mem_changed)(void *userdata, const char *uuid, const char *alias, uint64_t current_bytes);
};

/* Starts libvirt's event thread and connects to uri in the background. */
int virt_conn_new(sd_event *e, struct worker *w, const char *uri,
		  const struct virt_conn_callbacks *cb, void *userdata, struct virt_conn **ret);
/* Closes the connection within grace_usec (or leaves it to the exiting
 * process when libvirtd does not answer). Call before worker_free(). */
struct virt_conn *virt_conn_free(struct virt_conn *c);

bool virt_conn_connected(const struct virt_conn *c);
/* False while a call (or the connection attempt) has waited longer than
 * VIRT_DEADLINE_USEC and nothing answered meanwhile: libvirtd is stuck. */
bool virt_conn_answering(const struct virt_conn *c, usec_t now);
const char *virt_conn_uri(const struct virt_conn *c);

struct virt_domain_stats {
	unsigned char raw_uuid[VIR_UUID_BUFLEN];	/* first: the bsearch key */
	bool answered;			/* QEMU answered for it this time */
	struct virt_memstats ms;
};

/* Orders by raw UUID; the key may be a raw UUID (for bsearch). */
int virt_domain_stats_cmp(const void *a, const void *b);

struct virt_stats {
	int r;
	usec_t submitted;		/* when the call was made */
	size_t n;
	struct virt_domain_stats *domains;	/* sorted by UUID */
};

/* Each starts one call and returns it, or NULL when there is no connection
 * (or no memory). done() runs on the loop unless the call was cancelled. A
 * discovery's backing fd belongs to done(), which sets it to -1 to keep it. */
struct virt_call *virt_discover_call(struct virt_conn *c, const char *uuid,
				void (*done)(void *owner, struct virt_discovery *d), void *owner);
struct virt_call *virt_balloon_call(struct virt_conn *c, const char *uuid, uint64_t bytes,
			       void (*done)(void *owner, int r), void *owner);
/* Asks the virtio-mem device alias for requested bytes. */
struct virt_call *virt_virtio_mem_call(struct virt_conn *c, const char *uuid, const char *alias,
				       uint64_t requested, void (*done)(void *owner, int r), void *owner);
struct virt_call *virt_stats_call(struct virt_conn *c, void (*done)(void *owner, const struct virt_stats *s),
			     void *owner);
/* The owner is going away: done() is not called. */
void virt_call_cancel(struct virt_call *call);
usec_t virt_call_submitted(const struct virt_call *call);

#endif /* HINTD_LIBVIRT_CONN_H */
