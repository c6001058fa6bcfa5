/* virt-mem.c - see virt-mem.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include "log.h"
#include "macro.h"
#include "virt-mem.h"
#include "virt.h"

#define DEVICES "/domain/devices/memory[@model='virtio-mem']"

static xmlDocPtr read_xml(const char *xml) {
	return xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* A size element under the device node ("target/size"): bytes, and whether
 * it was there. */
static bool device_size(xmlXPathContextPtr ctx, const char *element, uint64_t *ret) {
	char expr[96];

	snprintf(expr, sizeof expr, "string(%s)", element);
	_cleanup_free_ char *value = virt_xpath_string(ctx, expr);
	snprintf(expr, sizeof expr, "string(%s/@unit)", element);
	_cleanup_free_ char *unit = virt_xpath_string(ctx, expr);

	*ret = value ? virt_memory_bytes(value, unit) : 0;
	return value != NULL;
}

/* What libvirt could not have written, said in why; 0 when all is well. */
static int check_device(const struct virt_mem_device *d, bool have_current, char *why, size_t why_size) {
	const char *bad = NULL;

	if (!d->alias[0])
		bad = "has no alias";
	else if (d->block_size < 4096 || (d->block_size & (d->block_size - 1)))
		bad = "has a block size that is not a power of two of at least 4 KiB";
	else if (d->size == 0 || d->size % d->block_size || d->requested % d->block_size ||
		 d->current % d->block_size)
		bad = "has sizes that are not whole blocks";
	else if (d->requested > d->size || d->current > d->size)
		bad = "is asked for (or has) more than its size";
	else if (!have_current)
		bad = "has no <current> size (not a live description)";
	if (!bad)
		return 0;
	snprintf(why, why_size, "virtio-mem device %.60s %s", d->alias[0] ? d->alias : "(unnamed)", bad);
	return -EBADMSG;
}

int virt_mem_parse(const char *domain_xml, struct virt_mem_device *ret, char *why, size_t why_size) {
	struct virt_mem_device d = {};
	xmlDocPtr doc = read_xml(domain_xml);
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr devices = NULL;
	bool have_current;
	int r = 0;

	if (why_size > 0)
		why[0] = '\0';
	if (!doc) {
		snprintf(why, why_size, "the domain XML is unreadable");
		return -EBADMSG;
	}
	ctx = xmlXPathNewContext(doc);
	devices = ctx ? xmlXPathEvalExpression((const xmlChar *) DEVICES, ctx) : NULL;
	if (!devices) {
		r = -ENOMEM;
		goto finish;
	}
	if (!devices->nodesetval || devices->nodesetval->nodeNr == 0) {
		*ret = d;
		goto finish;
	}
	d.count = (unsigned) devices->nodesetval->nodeNr;
	ctx->node = devices->nodesetval->nodeTab[0];
	{
		_cleanup_free_ char *alias = virt_xpath_string(ctx, "string(alias/@name)");

		if (alias && strlen(alias) < sizeof d.alias)
			strcpy(d.alias, alias);
	}
	device_size(ctx, "target/size", &d.size);
	device_size(ctx, "target/block", &d.block_size);
	device_size(ctx, "target/requested", &d.requested);
	have_current = device_size(ctx, "target/current", &d.current);
	r = check_device(&d, have_current, why, why_size);
	if (r == 0)
		*ret = d;
finish:
	xmlXPathFreeObject(devices);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return r;
}

/* The virtio-mem device named alias, or NULL. */
static xmlNodePtr find_device(xmlXPathContextPtr ctx, const char *alias) {
	xmlXPathObjectPtr devices = xmlXPathEvalExpression((const xmlChar *) DEVICES, ctx);
	xmlNodePtr found = NULL;

	for (int i = 0; devices && devices->nodesetval && i < devices->nodesetval->nodeNr && !found; i++) {
		ctx->node = devices->nodesetval->nodeTab[i];
		_cleanup_free_ char *name = virt_xpath_string(ctx, "string(alias/@name)");

		if (name && strcmp(name, alias) == 0)
			found = devices->nodesetval->nodeTab[i];
	}
	xmlXPathFreeObject(devices);
	return found;
}

/* Sets <target><requested unit='KiB'> of the device node, adding it if
 * libvirt left it out. */
static int set_requested(xmlNodePtr device, uint64_t requested) {
	char kib[32];
	xmlNodePtr target = NULL, node = NULL;

	for (xmlNodePtr n = device->children; n && !target; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *) "target"))
			target = n;
	if (!target)
		return -ENOENT;
	for (xmlNodePtr n = target->children; n && !node; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *) "requested"))
			node = n;
	snprintf(kib, sizeof kib, "%" PRIu64, requested >> 10);
	if (!node)
		node = xmlNewChild(target, NULL, (const xmlChar *) "requested", NULL);
	if (!node)
		return -ENOMEM;
	xmlNodeSetContent(node, (const xmlChar *) kib);
	return xmlSetProp(node, (const xmlChar *) "unit", (const xmlChar *) "KiB") ? 0 : -ENOMEM;
}

int virt_mem_request_xml(const char *domain_xml, const char *alias, uint64_t requested, char **ret) {
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	xmlBufferPtr buf = NULL;
	xmlNodePtr device;
	int r;

	if (requested % 1024)
		return -EINVAL;
	doc = read_xml(domain_xml);
	if (!doc)
		return -EBADMSG;
	ctx = xmlXPathNewContext(doc);
	device = ctx ? find_device(ctx, alias) : NULL;
	r = !ctx ? -ENOMEM : !device ? -ENOENT : set_requested(device, requested);
	if (r == 0) {
		buf = xmlBufferCreate();
		if (!buf || xmlNodeDump(buf, doc, device, 0, 0) < 0)
			r = -ENOMEM;
		else if (!(*ret = strdup((const char *) xmlBufferContent(buf))))
			r = -ENOMEM;
	}
	if (buf)
		xmlBufferFree(buf);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return r;
}

int virt_mem_set_requested(virDomainPtr dom, const char *alias, uint64_t requested) {
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0), *device = NULL;
	int r;

	if (!xml)
		return virt_error("Failed to read the XML", virDomainGetName(dom));
	r = virt_mem_request_xml(xml, alias, requested, &device);
	if (r < 0)
		return log_warning_errno(r, "Cannot ask virtio-mem device %s of %s for %" PRIu64 " MiB: %m",
					 alias, virDomainGetName(dom), requested >> 20);
	if (virDomainUpdateDeviceFlags(dom, device, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return virt_error("Failed to change the virtio-mem requested size", virDomainGetName(dom));
	return 0;
}
