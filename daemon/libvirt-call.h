/* libvirt-call.h - a libvirt call in flight and the connection it belongs
 * to: shared by libvirt-conn.c (the loop's side) and libvirt-calls.c (what
 * runs in worker threads and libvirt's event thread). */
#ifndef HINTD_LIBVIRT_CALL_H
#define HINTD_LIBVIRT_CALL_H

#include <pthread.h>
#include "libvirt-conn.h"

enum call_kind { CALL_CONNECT, CALL_CLOSE, CALL_DISCOVER, CALL_BALLOON, CALL_VIRTIO_MEM, CALL_STATS, CALL_EVENT };

/* Domain events followed: lifecycle, balloon change, memory device size change. */
#define VIRT_EVENT_CALLBACKS 3

struct virt_call {
	struct job job;
	struct virt_conn *c;
	enum call_kind kind;
	virConnectPtr conn;		/* a reference of the call's own, dropped
					 * by the worker when the call returns */
	bool dead;			/* failed on a connection no longer alive */
	virConnectPtr from;		/* EVENT: the connection it came from (no
					 * reference: only compared) */
	struct virt_call *prev, *next;	/* c->calls: in flight */
	bool cancelled;
	void *owner;
	union {
		void (*discovered)(void *owner, struct virt_discovery *d);
		void (*balloon_set)(void *owner, int r);
		void (*virtio_mem_set)(void *owner, int r);
		void (*stats_read)(void *owner, const struct virt_stats *s);
	} done;
	char uuid[VIR_UUID_STRING_BUFLEN];
	uint64_t bytes;
	char alias[64];			/* VIRTIO_MEM, EVENT type 3: the device */
	int r;
	union {
		struct virt_discovery discovery;
		struct virt_stats stats;
		struct {			/* CONNECT */
			struct virt_domain_id *ids;
			size_t n_ids;
			int callbacks[VIRT_EVENT_CALLBACKS];
		} connect;
		struct {			/* EVENT from libvirt's thread */
			int type;		/* 0: lifecycle, 1: balloon, 2: closed,
						 * 3: memory device size */
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
	int callbacks[VIRT_EVENT_CALLBACKS];	/* lifecycle, balloon, memory device */
	struct virt_call *connecting;	/* the connection attempt in flight */
	sd_event_source *reconnect;
	struct virt_call *calls;	/* in flight, newest first */
	usec_t last_answer;		/* when a call last came back */

	pthread_t event_thread;
	bool event_thread_started;
	volatile int quit;
	int wake_timer;
};

/* In a worker thread: the call's libvirt work (libvirt-calls.c). */
void virt_call_run(struct job *j);
/* On the loop: the call's result (libvirt-conn.c). */
void virt_call_done(struct job *j);
void virt_call_discard(struct job *j);

#endif /* HINTD_LIBVIRT_CALL_H */
