/* stats.h - what the agent reports about its guest, read from procfs and
 * the module's sysfs directory. Every reader takes the path it reads, so
 * other roots (fixtures, a test tree) work the same. */
#ifndef HINT_AGENT_STATS_H
#define HINT_AGENT_STATS_H

#include <stdint.h>

#include "protocol.h"

/* /proc/meminfo into s->mem (bytes). */
int stats_read_meminfo(const char *path, struct hint_stats *s);
/* /proc/pressure/memory into s->psi. -ENOENT/-EOPNOTSUPP without PSI. */
int stats_read_psi(const char *path, struct hint_stats *s);
/* /proc/vmstat counters into s->vmstat. */
int stats_read_vmstat(const char *path, struct hint_stats *s);
/* The module's page states and counters, from dir/<field>_bytes (field as
 * in the protocol); sets has_pages/has_module when found. */
int stats_read_module(const char *dir, struct hint_stats *s);
/* Everything above with the standard paths; only meminfo is required. */
int stats_collect(struct hint_stats *s, bool module);

/* Sum of the "System RAM" ranges in /proc/iomem (0 when hidden). */
int stats_read_ram_bytes(const char *iomem, uint64_t *ret);

/* A one-line sysfs file, without its newline. */
int read_one_line(const char *path, char *buf, size_t size);
/* A sysfs file holding one unsigned decimal number. */
int read_u64_file(const char *path, uint64_t *ret);

#endif
