/* virt.h - the libvirt boundary. libvirt reports -1 and virGetLastError();
 * everything here returns negative errno and logs libvirt's message once.
 * Every call here can block on libvirtd or on QEMU: they run in worker
 * threads only (libvirt-conn.c), never on the event loop. The parsers are
 * pure, for tests. */
#ifndef HINTD_VIRT_H
#define HINTD_VIRT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/un.h>
#include <stdint.h>
#include <libvirt/libvirt.h>
#include "backing.h"
#include "ram-map.h"
#include "virt-mem.h"

struct virt_domain_info {
	char name[128];
	char uuid[VIR_UUID_STRING_BUFLEN];
	uint64_t max_memory;		/* bytes */
	bool balloon;			/* a virtio memballoon */
	bool free_page_reporting;	/* its freePageReporting='on': QEMU discards
					 * what the guest reports, hintd gets no hints */
	bool shared_file_backing;	/* memfd/file source with shared access */
	/* Host end of org.hintd.agent.0, "" when none (or when longer than a
	 * unix socket address can be: nothing could connect to it). */
	char agent_socket[sizeof(((struct sockaddr_un *) 0)->sun_path)];
	struct virt_mem_device vmem;	/* alias "" when none (or unusable) */
	char vmem_problem[128];		/* why a device there is unusable; "" */
};

/* The string value of an XPath expression in ctx, or NULL (libxml2's
 * xmlXPathContextPtr; void here so users need not include libxml2). */
char *virt_xpath_string(void *ctx, const char *expr);
/* A libvirt memory size (value in unit, KiB when unit is NULL) in bytes;
 * 0 for a unit-less overflow. */
uint64_t virt_memory_bytes(const char *value, const char *unit);

/* Parses what hintd needs from a domain's live XML. Pure: tests feed XML. */
int virt_parse_domain_xml(const char *xml, struct virt_domain_info *ret);

int virt_domain_info(virDomainPtr dom, struct virt_domain_info *ret);

struct virt_memstats {
	uint64_t actual;		/* balloon: what the guest has */
	uint64_t unused, available, usable, disk_caches, rss;	/* 0 when not reported */
	uint64_t swap_in, major_fault;	/* counters */
	bool guest_stats;		/* the balloon driver reported unused/available */
};

int virt_memstats(virDomainPtr dom, struct virt_memstats *ret);
int virt_set_balloon(virDomainPtr dom, uint64_t bytes);

/* What discovery found: the domain, and its discard path or why not. */
struct virt_discovery {
	int r;				/* < 0: the domain could not be read */
	struct virt_domain_info info;
	pid_t qemu_pid;			/* 0 when unknown */
	struct backing_set backings;	/* none open when there is no discard path */
	struct ram_map map;
	char discard_reason[256];	/* "" when the discard path is open */
};

/* Reads the domain's XML, sets the balloon statistics period, and opens the
 * discard path: QEMU's process from its vCPU threads, the RAM backends and
 * their layout from the monitor, each backing file proven by the addresses
 * QEMU gives for guest RAM. Leaves no backing open, with the reason, when
 * any of it fails or disagrees. */
void virt_discover(virDomainPtr dom, int stats_period_sec, struct virt_discovery *ret);

/* Parsers of QEMU's answers. */
int virt_parse_vcpu_thread(const char *query_cpus_fast_json, pid_t *ret_tid);
int virt_parse_gpa2hva(const char *text, char *region, size_t region_len, uint64_t *ret_hva);
/* Marks the backends of the virtio-mem devices in a query-memory-devices
 * answer as pluggable. Returns how many devices, -EBADMSG for an answer it
 * cannot read, -ENOENT when a device's backend is not among backends. */
int virt_parse_memory_devices(const char *query_memory_devices_json, struct ram_backend *backends,
			      size_t n_backends);

/* The last libvirt error as a negative errno, logged with what failed. */
int virt_error(const char *what, const char *name);

/* Keeps libvirt from printing errors itself: hintd logs them once. */
void virt_silence_errors(void);

#endif /* HINTD_VIRT_H */
