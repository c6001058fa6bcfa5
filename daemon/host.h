/* host.h - what the host has: /proc/meminfo, memory PSI, and the budget
 * cgroup the VMs live in. Readers take the file they read, so tests feed
 * fixtures (including broken ones, which must fail). */
#ifndef HINTD_HOST_H
#define HINTD_HOST_H

#include <stdint.h>

/* MemTotal and MemAvailable in bytes. -EBADMSG when either is missing. */
int host_read_meminfo(const char *path, uint64_t *ret_total, uint64_t *ret_available);

/* "some avg10" and "full avg10" of a PSI file, in percent. */
int host_read_psi(const char *path, double *ret_some_avg10, double *ret_full_avg10);

/* Usage and limit of the memory cgroup at path (e.g. "/machine"), v1 or v2,
 * through libcgroup. limit is UINT64_MAX when unlimited. */
int host_read_cgroup(const char *cgroup, uint64_t *ret_usage, uint64_t *ret_limit);

#endif /* HINTD_HOST_H */
