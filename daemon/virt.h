/* virt.h - the libvirt boundary. libvirt reports -1 and virGetLastError();
 * everything here returns negative errno and logs libvirt's message once. */
#ifndef HINTD_VIRT_H
#define HINTD_VIRT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/un.h>
#include <stdint.h>
#include <libvirt/libvirt.h>
#include "ram-map.h"

struct virt_domain_info {
	char name[128];
	char uuid[VIR_UUID_STRING_BUFLEN];
	uint64_t max_memory;		/* bytes */
	bool balloon;			/* a virtio memballoon */
	bool shared_file_backing;	/* memfd/file source with shared access */
	/* Host end of org.hintd.agent.0, "" when none (or when longer than a
	 * unix socket address can be: nothing could connect to it). */
	char agent_socket[sizeof(((struct sockaddr_un *) 0)->sun_path)];
};

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
int virt_set_stats_period(virDomainPtr dom, int seconds);
int virt_set_balloon(virDomainPtr dom, uint64_t bytes);

/* The guest-physical layout of the domain's single RAM backend, read from
 * QEMU ("info memdev", "info mtree -f"). */
int virt_ram_map(virDomainPtr dom, uint64_t backing_size, struct ram_map *ret,
		 char *why, size_t whylen);

/* The last libvirt error as a negative errno, logged with what failed. */
int virt_error(const char *what, const char *name);

/* Keeps libvirt from printing errors itself: hintd logs them once. */
void virt_silence_errors(void);

#endif /* HINTD_VIRT_H */
