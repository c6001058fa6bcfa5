/* libvirt-calls.c - what runs off the loop: each call's libvirt work, in a
 * worker thread, and libvirt's domain events, in libvirt's event thread,
 * handed to the loop as messages. Nothing here touches hintd's state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/virterror.h>
#include "libvirt-call.h"
#include "log.h"
#include "macro.h"
#include "virt-mem.h"

#define BALLOON_STATS_PERIOD_SEC 2

/* ---- domain events, from libvirt's thread ------------------------------ */

static void post_event(struct virt_conn *c, virConnectPtr conn, int type, virDomainPtr dom,
		       enum virt_domain_event ev, uint64_t bytes, const char *alias) {
	struct virt_call *call = calloc(1, sizeof *call);

	if (!call)
		return;
	call->job = (struct job) { .done = virt_call_done, .discard = virt_call_discard };
	call->c = c;
	call->kind = CALL_EVENT;
	call->u.event.type = type;
	call->u.event.ev = ev;
	call->bytes = bytes;
	snprintf(call->alias, sizeof call->alias, "%s", alias ? alias : "");
	/* Which connection it came from: one that was replaced is not news. */
	call->from = conn;
	if (dom) {
		const char *name = virDomainGetName(dom);
		virDomainGetUUIDString(dom, call->u.event.id.uuid);
		virDomainGetUUID(dom, call->u.event.id.raw_uuid);
		snprintf(call->u.event.id.name, sizeof call->u.event.id.name, "%s", name ? name : "");
	}
	worker_post(c->worker, &call->job);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		post_event(opaque, conn, 0, dom, VIRT_DOMAIN_STARTED, 0, NULL);
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
	case VIR_DOMAIN_EVENT_CRASHED:
		post_event(opaque, conn, 0, dom, VIRT_DOMAIN_STOPPED, 0, NULL);
		break;
	default:
		break;
	}
	return 0;
}

static int on_balloon_change(virConnectPtr conn, virDomainPtr dom, unsigned long long actual_kib,
			     void *opaque) {
	post_event(opaque, conn, 1, dom, 0, (uint64_t) actual_kib * 1024, NULL);
	return 0;
}

static int on_memory_device_size_change(virConnectPtr conn, virDomainPtr dom, const char *alias,
					unsigned long long size_kib, void *opaque) {
	struct virt_conn *c = opaque;

	post_event(c, conn, 3, dom, 0, (uint64_t) size_kib * 1024, alias);
	return 0;
}

static void on_closed(virConnectPtr conn, int reason, void *opaque) {
	post_event(opaque, conn, 2, NULL, 0, 0, NULL);
}

/* ---- what runs in worker threads --------------------------------------- */

static void run_connect(struct virt_call *call) {
	struct virt_conn *c = call->c;
	virDomainPtr *domains = NULL;
	int n;

	call->conn = virConnectOpen(c->uri);
	if (!call->conn) {
		call->r = virt_error("Failed to connect to libvirt", c->uri);
		return;
	}
	/* No client keepalive: libvirt 9.0's client, closing a connection on a
	 * keepalive timeout while calls wait on it, frees what those calls
	 * still use (valgrind: invalid reads in virNetClientIOEventLoop; hintd
	 * crashed once after libvirtd resumed from a stop). hintd only talks to
	 * the libvirtd of its own host, over a local socket: one that dies
	 * closes it (EOF), and one that hangs is seen by the calls' deadline
	 * (virt_conn_answering()); a reconnect would hang just the same. */
	virConnectRegisterCloseCallback(call->conn, on_closed, c, NULL);
	call->u.connect.callbacks[0] = virConnectDomainEventRegisterAny(call->conn, NULL,
		VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), c, NULL);
	call->u.connect.callbacks[1] = virConnectDomainEventRegisterAny(call->conn, NULL,
		VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon_change), c, NULL);
	call->u.connect.callbacks[2] = virConnectDomainEventRegisterAny(call->conn, NULL,
		VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
		VIR_DOMAIN_EVENT_CALLBACK(on_memory_device_size_change), c, NULL);
	if (call->u.connect.callbacks[0] < 0)
		virt_error("Failed to follow the domain events", c->uri);

	n = virConnectListAllDomains(call->conn, &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		call->r = virt_error("Failed to list the domains", c->uri);
		return;
	}
	call->u.connect.ids = calloc((size_t) n + 1, sizeof *call->u.connect.ids);
	for (int i = 0; i < n; i++) {
		if (call->u.connect.ids) {
			struct virt_domain_id *id = &call->u.connect.ids[call->u.connect.n_ids++];
			virDomainGetUUIDString(domains[i], id->uuid);
			virDomainGetUUID(domains[i], id->raw_uuid);
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
	/* The connection's own reference is the call's: virt_call_run() drops it. */
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
		call->u.discovery = (struct virt_discovery) { .r = call->r };
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

static void run_virtio_mem(struct virt_call *call) {
	virDomainPtr dom = lookup(call);

	if (!dom)
		return;
	call->r = virt_mem_set_requested(dom, call->alias, call->bytes);
	virDomainFree(dom);
}

static void stats_from_record(const virDomainStatsRecord *rec, struct virt_domain_stats *d) {
	struct virt_memstats *ms = &d->ms;

	virDomainGetUUID(rec->dom, d->raw_uuid);
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
		call->r = virt_error("Failed to read the domain statistics", virt_conn_uri(call->c));
		return;
	}
	call->u.stats.domains = calloc((size_t) n + 1, sizeof *call->u.stats.domains);
	if (!call->u.stats.domains)
		call->r = -ENOMEM;
	for (int i = 0; i < n && call->u.stats.domains; i++)
		stats_from_record(records[i], &call->u.stats.domains[call->u.stats.n++]);
	virDomainStatsRecordListFree(records);
	/* Sorted here, off the loop, which then looks each VM up. */
	if (call->u.stats.domains)
		qsort(call->u.stats.domains, call->u.stats.n, sizeof *call->u.stats.domains,
		      virt_domain_stats_cmp);
}

int virt_domain_stats_cmp(const void *a, const void *b) {
	/* raw_uuid is the first member: a key or a struct compare alike. */
	return memcmp(((const struct virt_domain_stats *) a)->raw_uuid,
		      ((const struct virt_domain_stats *) b)->raw_uuid, VIR_UUID_BUFLEN);
}

void virt_call_run(struct job *j) {
	struct virt_call *call = (struct virt_call *) j;

	switch (call->kind) {
	case CALL_CONNECT: run_connect(call); break;
	case CALL_CLOSE: run_close(call); break;
	case CALL_DISCOVER: run_discover(call); break;
	case CALL_BALLOON: run_balloon(call); break;
	case CALL_VIRTIO_MEM: run_virtio_mem(call); break;
	case CALL_STATS: run_stats(call); break;
	case CALL_EVENT: break;
	}
	/* A call that failed on a connection libvirt has closed says so: the
	 * close callback may come later than its answer. */
	if (call->kind != CALL_CONNECT && call->kind != CALL_CLOSE) {
		call->from = call->conn;
		call->dead = call->r < 0 && call->conn && virConnectIsAlive(call->conn) == 0;
	}
	/* Dropped here, not on the loop: the last reference to a connection
	 * closes it, which talks to libvirtd. A new connection is the result. */
	if (call->conn && call->kind != CALL_CONNECT) {
		virConnectClose(call->conn);
		call->conn = NULL;
	}
}

