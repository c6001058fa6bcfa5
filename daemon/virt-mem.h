/* virt-mem.h - a domain's virtio-mem device, as libvirt describes it, and
 * the change of its requested size. virtio-mem resizes a guest in whole
 * blocks: the guest plugs or unplugs them and QEMU discards what it
 * unplugged at once. hintd drives the first such device of a domain. The
 * parsers are pure, for tests; virt_mem_set_requested() talks to libvirt and
 * runs in a worker thread only. */
#ifndef HINTD_VIRT_MEM_H
#define HINTD_VIRT_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <libvirt/libvirt.h>

struct virt_mem_device {
	char alias[64];		/* libvirt's name for it ("virtiomem0"); "" = none */
	uint64_t block_size;	/* bytes: the unit the guest plugs in */
	uint64_t size;		/* bytes: the most it can plug */
	uint64_t requested;	/* bytes the guest is asked to plug */
	uint64_t current;	/* bytes it has plugged (libvirt's <current>) */
	unsigned count;		/* virtio-mem devices in the domain */
};

/* Reads the first <memory model='virtio-mem'> device of a domain's live
 * XML. 0 with alias "" when there is none; -EBADMSG for unreadable XML or a
 * device libvirt could not have written (no alias, a block size that is not
 * a power of two of at least 4 KiB, sizes not whole blocks, requested or
 * current above size), with what is wrong in why. */
int virt_mem_parse(const char *domain_xml, struct virt_mem_device *ret, char *why, size_t why_size);

/* The device XML that asks the device named alias in domain_xml for
 * requested bytes: the device as libvirt wrote it with <requested> changed,
 * as `virsh update-memory-device` sends it. -ENOENT when there is no such
 * device, -EINVAL when requested is not whole KiB. */
int virt_mem_request_xml(const char *domain_xml, const char *alias, uint64_t requested, char **ret);

/* Asks the running domain's device alias for requested bytes
 * (virDomainUpdateDeviceFlags, live). Blocks on libvirtd and QEMU. */
int virt_mem_set_requested(virDomainPtr dom, const char *alias, uint64_t requested);

#endif /* HINTD_VIRT_MEM_H */
