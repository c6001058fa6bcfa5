/* virt.c - see virt.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
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

/* The string value of an XPath expression, or NULL. */
static char *xpath_string(xmlXPathContextPtr ctx, const char *expr) {
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

static uint64_t memory_bytes(const char *value, const char *unit) {
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

	_cleanup_free_ char *name = xpath_string(ctx, "string(/domain/name)");
	_cleanup_free_ char *uuid = xpath_string(ctx, "string(/domain/uuid)");
	_cleanup_free_ char *mem = xpath_string(ctx, "string(/domain/memory)");
	_cleanup_free_ char *mem_unit = xpath_string(ctx, "string(/domain/memory/@unit)");
	_cleanup_free_ char *balloon = xpath_string(ctx, "string(/domain/devices/memballoon/@model)");
	_cleanup_free_ char *source = xpath_string(ctx, "string(/domain/memoryBacking/source/@type)");
	_cleanup_free_ char *access = xpath_string(ctx, "string(/domain/memoryBacking/access/@mode)");
	_cleanup_free_ char *hugepages = xpath_string(ctx, "name(/domain/memoryBacking/hugepages)");
	_cleanup_free_ char *sock = xpath_string(ctx,
		"string(/domain/devices/channel[@type='unix'][target/@type='virtio']"
		"[target/@name='" HINT_AGENT_PORT_NAME "']/source/@path)");

	if (!name || !mem) {
		r = -EBADMSG;
		goto finish;
	}
	snprintf(info.name, sizeof info.name, "%s", name);
	snprintf(info.uuid, sizeof info.uuid, "%s", uuid ? uuid : "");
	info.max_memory = memory_bytes(mem, mem_unit);
	info.balloon = balloon && strcmp(balloon, "virtio") == 0;
	info.shared_file_backing = access && strcmp(access, "shared") == 0 &&
		((source && (strcmp(source, "memfd") == 0 || strcmp(source, "file") == 0)) || hugepages);
	if (sock && strlen(sock) < sizeof info.agent_socket)
		strcpy(info.agent_socket, sock);
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

int virt_set_stats_period(virDomainPtr dom, int seconds) {
	if (virDomainSetMemoryStatsPeriod(dom, seconds, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return virt_error("Failed to set the balloon statistics period", virDomainGetName(dom));
	return 0;
}

int virt_set_balloon(virDomainPtr dom, uint64_t bytes) {
	if (virDomainSetMemoryFlags(dom, bytes / 1024, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return virt_error("Failed to set the balloon", virDomainGetName(dom));
	return 0;
}

static int hmp(virDomainPtr dom, const char *cmd, char **ret) {
	if (virDomainQemuMonitorCommand(dom, cmd, ret, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0)
		return virt_error("Failed to ask QEMU", virDomainGetName(dom));
	return 0;
}

int virt_ram_map(virDomainPtr dom, uint64_t backing_size, struct ram_map *ret,
		 char *why, size_t whylen) {
	_cleanup_free_ char *memdev = NULL, *mtree = NULL;
	char backend[128] = "";
	int backends = 0, r;

	r = hmp(dom, "info memdev", &memdev);
	if (r < 0) {
		snprintf(why, whylen, "QEMU did not list its memory backends");
		return r;
	}
	for (const char *p = memdev; (p = strstr(p, "memory backend: ")); p++) {
		if (sscanf(p, "memory backend: %127s", backend) == 1)
			backends++;
	}
	if (backends != 1) {
		snprintf(why, whylen, "%d memory backends (one per NUMA node is not supported yet)", backends);
		return -EOPNOTSUPP;
	}
	r = hmp(dom, "info mtree -f", &mtree);
	if (r < 0) {
		snprintf(why, whylen, "QEMU did not show its memory tree");
		return r;
	}
	r = ram_map_parse_mtree(mtree, backend, backing_size, ret);
	if (r < 0)
		snprintf(why, whylen, "cannot map guest RAM of backend %s: %s", backend, strerror(-r));
	return r;
}
