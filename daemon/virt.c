/* virt.c - see virt.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "virt.h"

static void ignore_error(void *userdata, virErrorPtr err) {
}

void virt_silence_errors(void) {
	virSetErrorFunc(NULL, ignore_error);
}

int virt_error(const char *what, const char *name) {
	virErrorPtr e = virGetLastError();
	int r = -EIO;

	if (e && e->code == VIR_ERR_NO_DOMAIN)
		r = -ENOENT;
	else if (e && (e->code == VIR_ERR_SYSTEM_ERROR && e->int1 > 0))
		r = -e->int1;
	else if (e && e->code == VIR_ERR_OPERATION_INVALID)
		r = -ESRCH;	/* e.g. the domain is not running any more */
	return log_warning_errno(r, "%s%s%s: %s", what, name ? " of " : "", name ? name : "",
				 e && e->message ? e->message : "unknown libvirt error");
}

char *virt_xpath_string(void *ctx, const char *expr) {
	xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *) expr, ctx);
	char *s = NULL;

	if (obj) {
		xmlChar *v = xmlXPathCastToString(obj);
		if (v && *v)
			s = strdup((const char *) v);
		xmlFree(v);
		xmlXPathFreeObject(obj);
	}
	return s;
}

uint64_t virt_memory_bytes(const char *value, const char *unit) {
	static const struct { const char *unit; uint64_t mul; } units[] = {
		{ "b", 1 }, { "bytes", 1 }, { "KiB", 1024 }, { "k", 1024 }, { "MiB", 1 << 20 },
		{ "M", 1 << 20 }, { "GiB", 1 << 30 }, { "G", 1 << 30 }, { "KB", 1000 },
		{ "MB", 1000000 }, { "GB", 1000000000 },
	};
	uint64_t n = strtoull(value, NULL, 10), mul = 1024; /* libvirt's default: KiB */

	for (size_t i = 0; unit && i < ELEMENTSOF(units); i++)
		if (strcmp(unit, units[i].unit) == 0)
			mul = units[i].mul;
	return n > UINT64_MAX / mul ? 0 : n * mul;
}

int virt_parse_domain_xml(const char *xml, struct virt_domain_info *ret) {
	struct virt_domain_info info = { 0 };
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	int r = 0;

	doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -EBADMSG;
	ctx = xmlXPathNewContext(doc);
	if (!ctx) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}

	_cleanup_free_ char *name = virt_xpath_string(ctx, "string(/domain/name)");
	_cleanup_free_ char *uuid = virt_xpath_string(ctx, "string(/domain/uuid)");
	_cleanup_free_ char *mem = virt_xpath_string(ctx, "string(/domain/memory)");
	_cleanup_free_ char *mem_unit = virt_xpath_string(ctx, "string(/domain/memory/@unit)");
	_cleanup_free_ char *balloon = virt_xpath_string(ctx, "string(/domain/devices/memballoon/@model)");
	_cleanup_free_ char *fpr = virt_xpath_string(ctx, "string(/domain/devices/memballoon/@freePageReporting)");
	_cleanup_free_ char *source = virt_xpath_string(ctx, "string(/domain/memoryBacking/source/@type)");
	_cleanup_free_ char *access = virt_xpath_string(ctx, "string(/domain/memoryBacking/access/@mode)");
	_cleanup_free_ char *hugepages = virt_xpath_string(ctx, "name(/domain/memoryBacking/hugepages)");
	_cleanup_free_ char *sock = virt_xpath_string(ctx,
		"string(/domain/devices/channel[@type='unix'][target/@type='virtio']"
		"[target/@name='" HINT_AGENT_PORT_NAME "']/source/@path)");

	if (!name || !mem) {
		r = -EBADMSG;
		goto finish;
	}
	snprintf(info.name, sizeof info.name, "%s", name);
	snprintf(info.uuid, sizeof info.uuid, "%s", uuid ? uuid : "");
	info.max_memory = virt_memory_bytes(mem, mem_unit);
	info.balloon = balloon && strcmp(balloon, "virtio") == 0;
	info.free_page_reporting = fpr && strcmp(fpr, "on") == 0;
	info.shared_file_backing = access && strcmp(access, "shared") == 0 &&
		((source && (strcmp(source, "memfd") == 0 || strcmp(source, "file") == 0)) || hugepages);
	if (sock && strlen(sock) < sizeof info.agent_socket)
		strcpy(info.agent_socket, sock);
	/* An unusable device is no reason not to manage the rest. */
	(void) virt_mem_parse(xml, &info.vmem, info.vmem_problem, sizeof info.vmem_problem);
	*ret = info;
finish:
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return r;
}

int virt_domain_info(virDomainPtr dom, struct virt_domain_info *ret) {
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	int r;

	if (!xml)
		return virt_error("Failed to read the XML", virDomainGetName(dom));
	r = virt_parse_domain_xml(xml, ret);
	if (r < 0)
		return log_warning_errno(r, "Failed to parse the XML of %s: %m", virDomainGetName(dom));
	return 0;
}

int virt_memstats(virDomainPtr dom, struct virt_memstats *ret) {
	virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
	struct virt_memstats m = { 0 };
	int n;

	n = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
	if (n < 0)
		return virt_error("Failed to read memory statistics", virDomainGetName(dom));
	for (int i = 0; i < n; i++) {
		uint64_t kib = stats[i].val, bytes = kib * 1024;
		switch (stats[i].tag) {
		case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON: m.actual = bytes; break;
		case VIR_DOMAIN_MEMORY_STAT_UNUSED: m.unused = bytes; m.guest_stats = true; break;
		case VIR_DOMAIN_MEMORY_STAT_AVAILABLE: m.available = bytes; break;
		case VIR_DOMAIN_MEMORY_STAT_USABLE: m.usable = bytes; break;
		case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES: m.disk_caches = bytes; break;
		case VIR_DOMAIN_MEMORY_STAT_RSS: m.rss = bytes; break;
		case VIR_DOMAIN_MEMORY_STAT_SWAP_IN: m.swap_in = kib; break;
		case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT: m.major_fault = kib; break;
		default: break;
		}
	}
	*ret = m;
	return 0;
}

int virt_set_balloon(virDomainPtr dom, uint64_t bytes) {
	if (virDomainSetMemoryFlags(dom, bytes / 1024, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return virt_error("Failed to set the balloon", virDomainGetName(dom));
	return 0;
}

static int monitor(virDomainPtr dom, const char *cmd, bool hmp, char **ret) {
	if (virDomainQemuMonitorCommand(dom, cmd, ret, hmp ? VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP : 0) < 0)
		return virt_error("Failed to ask QEMU", virDomainGetName(dom));
	return 0;
}

int virt_parse_vcpu_thread(const char *json, pid_t *ret_tid) {
	json_t *root = json_loads(json, 0, NULL), *tid;
	int r = -EBADMSG;

	tid = json_object_get(json_array_get(json_object_get(root, "return"), 0), "thread-id");
	if (json_is_integer(tid) && json_integer_value(tid) > 0 && json_integer_value(tid) <= INT32_MAX) {
		*ret_tid = (pid_t) json_integer_value(tid);
		r = 0;
	}
	json_decref(root);
	return r;
}

int virt_parse_gpa2hva(const char *text, char *region, size_t region_len, uint64_t *ret_hva) {
	char name[128];
	uint64_t gpa, hva;

	if (sscanf(text, "Host virtual address for 0x%" SCNx64 " (%127[^)]) is 0x%" SCNx64, &gpa, name, &hva) != 3)
		return -EBADMSG;
	snprintf(region, region_len, "%s", name);
	*ret_hva = hva;
	return 0;
}

int virt_parse_memory_devices(const char *json, struct ram_backend *backends, size_t n_backends) {
	json_t *root = json_loads(json, 0, NULL), *devices = json_object_get(root, "return"), *dev;
	int r = 0;
	size_t i;

	if (!json_is_array(devices))
		r = -EBADMSG;
	json_array_foreach(devices, i, dev) {
		const char *type = json_string_value(json_object_get(dev, "type"));
		const char *memdev = json_string_value(json_object_get(json_object_get(dev, "data"), "memdev"));
		size_t b;

		if (!type) {
			r = -EBADMSG;
			break;
		}
		if (strcmp(type, "virtio-mem") != 0)
			continue;
		/* QEMU names the backend by its object path. */
		if (!memdev || strncmp(memdev, "/objects/", 9) != 0) {
			r = -EBADMSG;
			break;
		}
		for (b = 0; b < n_backends && strcmp(backends[b].name, memdev + 9) != 0; b++)
			;
		if (b == n_backends) {
			r = -ENOENT;
			break;
		}
		backends[b].pluggable = true;
		r++;
	}
	json_decref(root);
	return r;
}

/* Says why the discard path is not open; returns r. */
_printf_(3, 4) static int why(struct virt_discovery *d, int r, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->discard_reason, sizeof d->discard_reason, fmt, ap);
	va_end(ap);
	return r;
}

/* The QEMU process: the thread group of the first vCPU thread QEMU names. */
static int discover_pid(virDomainPtr dom, struct virt_discovery *d) {
	_cleanup_free_ char *cpus = NULL;
	pid_t tid;
	int r;

	r = monitor(dom, "{\"execute\":\"query-cpus-fast\"}", false, &cpus);
	if (r < 0)
		return why(d, r, "QEMU did not list its vCPU threads");
	r = virt_parse_vcpu_thread(cpus, &tid);
	if (r < 0)
		return why(d, r, "QEMU named no vCPU thread");
	r = process_of_thread("/proc", tid, &d->qemu_pid);
	if (r < 0)
		return why(d, r, "QEMU's vCPU thread %d is not visible in /proc (%s)", (int) tid, strerror(-r));
	return 0;
}

/* The RAM backends and where the guest sees each of them. */
static int discover_map(virDomainPtr dom, struct virt_discovery *d) {
	_cleanup_free_ char *memdev = NULL, *devices = NULL, *mtree = NULL;
	struct ram_backend backends[RAM_MAP_MAX_BACKENDS];
	int n, r;

	r = monitor(dom, "info memdev", true, &memdev);
	if (r < 0)
		return why(d, r, "QEMU did not list its memory backends");
	n = ram_map_parse_memdev(memdev, backends, ELEMENTSOF(backends));
	if (n < 0)
		return why(d, n, "QEMU's memory backend list is unusable: %s", strerror(-n));
	if (n == 0)
		return why(d, -ENOENT, "QEMU lists no memory backend");
	/* The guest hints free memory in what it plugged of a virtio-mem
	 * device as well: such backends are only punched where they hold data. */
	r = monitor(dom, "{\"execute\":\"query-memory-devices\"}", false, &devices);
	if (r < 0)
		return why(d, r, "QEMU did not list its memory devices");
	r = virt_parse_memory_devices(devices, backends, (size_t) n);
	if (r < 0)
		return why(d, r, "cannot tell which memory backends belong to virtio-mem devices: %s",
			   r == -ENOENT ? "a device's backend is not listed" : "unreadable answer");
	r = monitor(dom, "info mtree -f", true, &mtree);
	if (r < 0)
		return why(d, r, "QEMU did not show its memory tree");
	r = ram_map_parse_mtree(mtree, backends, (size_t) n, &d->map);
	if (r < 0)
		return why(d, r, "cannot map guest RAM of its %d memory backend%s: %s", n, n == 1 ? "" : "s",
			   strerror(-r));
	return 0;
}

/* Each RAM segment's host address, from QEMU: where its backend must be. */
static int discover_anchors(virDomainPtr dom, struct virt_discovery *d, struct backing_anchor *anchors) {
	for (size_t i = 0; i < d->map.n_segments; i++) {
		const struct ram_segment *seg = &d->map.segments[i];
		const char *backend = d->map.backends[seg->backend].name;
		_cleanup_free_ char *answer = NULL;
		char cmd[64], region[128];
		int r;

		snprintf(cmd, sizeof cmd, "gpa2hva 0x%" PRIx64, seg->gpa);
		r = monitor(dom, cmd, true, &answer);
		if (r < 0)
			return why(d, r, "QEMU did not give the host address of guest RAM");
		r = virt_parse_gpa2hva(answer, region, sizeof region, &anchors[i].hva);
		if (r < 0 || strcmp(region, backend) != 0)
			return why(d, -EBADMSG, "QEMU places guest address 0x%" PRIx64 " in %.60s, not in backend %.60s",
				   seg->gpa, r < 0 ? "no region" : region, backend);
		anchors[i].offset = seg->offset;
	}
	return 0;
}

/* Opens each backend's file from its own segments' anchors; two backends
 * must be two files. */
static int open_backings(struct virt_discovery *d, const struct backing_anchor *anchors) {
	for (unsigned b = 0; b < d->map.n_backends; b++) {
		struct backing_anchor own[RAM_MAP_MAX_SEGMENTS];
		struct backing *file = &d->backings.b[b];
		size_t n = 0;

		for (size_t i = 0; i < d->map.n_segments; i++)
			if (d->map.segments[i].backend == b)
				own[n++] = anchors[i];
		if (backing_open_mapped(d->qemu_pid, own, n, d->map.backends[b].size, file,
					d->discard_reason, sizeof d->discard_reason) < 0)
			return -EIO;
		d->backings.n = b + 1;
		for (unsigned o = 0; o < b; o++)
			if (d->backings.b[o].dev == file->dev && d->backings.b[o].ino == file->ino)
				return why(d, -EXDEV, "memory backends %.60s and %.60s are one file",
					   d->map.backends[o].name, d->map.backends[b].name);
	}
	return 0;
}

static void discover_backing(virDomainPtr dom, struct virt_discovery *d) {
	struct backing_anchor anchors[RAM_MAP_MAX_SEGMENTS];

	if (!d->info.shared_file_backing) {
		(void) why(d, 0, "guest RAM is not a shared file mapping (add <memoryBacking><source type='memfd'/>"
		    "<access mode='shared'/></memoryBacking>)");
		return;
	}
	if (discover_pid(dom, d) < 0 || discover_map(dom, d) < 0 || discover_anchors(dom, d, anchors) < 0)
		return;
	if (open_backings(d, anchors) < 0) {
		backing_set_close(&d->backings);
		return;
	}
	d->discard_reason[0] = '\0';
}

void virt_discover(virDomainPtr dom, int stats_period_sec, struct virt_discovery *d) {
	*d = (struct virt_discovery) { .r = 0 };
	d->r = virt_domain_info(dom, &d->info);
	if (d->r < 0) {
		(void) why(d, 0, "libvirt did not describe the domain");
		return;
	}
	if (d->info.balloon &&
	    virDomainSetMemoryStatsPeriod(dom, stats_period_sec, VIR_DOMAIN_AFFECT_LIVE) < 0)
		virt_error("Failed to set the balloon statistics period", d->info.name);
	discover_backing(dom, d);
}
