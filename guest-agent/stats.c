/* stats.c - see stats.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "stats.h"

int read_one_line(const char *path, char *buf, size_t size) {
	_cleanup_fclose_ FILE *f = NULL;
	size_t n;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, size, f))
		return ferror(f) ? -EIO : -ENODATA;
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int parse_u64(const char *s, uint64_t *ret) {
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end != '\0' && *end != '\n' && *end != ' ')
		return -EINVAL;
	*ret = v;
	return 0;
}

int read_u64_file(const char *path, uint64_t *ret) {
	char buf[64];
	int r;

	r = read_one_line(path, buf, sizeof buf);
	if (r < 0)
		return r;
	return parse_u64(buf, ret);
}

/* A number of the wire must not exceed 2^63-1; procfs never gets there, but
 * a broken sysfs file must not make the whole stats message unsendable. */
static uint64_t clamp(uint64_t v) {
	return MIN(v, HINT_NUMBER_MAX);
}

int stats_read_meminfo(const char *path, struct hint_stats *s) {
	static const struct {
		const char *key;
		size_t offset;
	} keys[] = {
		{ "MemTotal", offsetof(struct hint_stats, mem.total) },
		{ "MemFree", offsetof(struct hint_stats, mem.free) },
		{ "MemAvailable", offsetof(struct hint_stats, mem.available) },
		{ "Cached", offsetof(struct hint_stats, mem.cached) },
		{ "Active(file)", offsetof(struct hint_stats, mem.active_file) },
		{ "Inactive(file)", offsetof(struct hint_stats, mem.inactive_file) },
		{ "Dirty", offsetof(struct hint_stats, mem.dirty) },
		{ "Writeback", offsetof(struct hint_stats, mem.writeback) },
		{ "Mlocked", offsetof(struct hint_stats, mem.mlocked) },
		{ "AnonPages", offsetof(struct hint_stats, mem.anon) },
		{ "SwapTotal", offsetof(struct hint_stats, mem.swap_total) },
		{ "SwapFree", offsetof(struct hint_stats, mem.swap_free) },
	};
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];
	unsigned found = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		uint64_t kib;

		if (!colon)
			continue;
		*colon = '\0';
		for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
			if (strcmp(line, keys[i].key) != 0)
				continue;
			if (parse_u64(colon + 1 + strspn(colon + 1, " "), &kib) < 0)
				return -EBADMSG;
			*(uint64_t *) ((char *) s + keys[i].offset) = clamp(kib * 1024);
			found++;
			break;
		}
	}
	/* MemTotal is always there; without it this is not meminfo. */
	return found > 0 && s->mem.total > 0 ? 0 : -EBADMSG;
}

/* "12.34" (what the kernel prints for avg10, in percent) -> 1234 permyriad. */
static int parse_avg(const char *p, uint64_t *ret) {
	uint64_t whole = 0, frac = 0;
	unsigned digits = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9')
		whole = whole * 10 + (*p++ - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits < 2) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
	while (digits++ < 2)
		frac *= 10;
	*ret = MIN(whole * 100 + frac, 10000);
	return 0;
}

int stats_read_psi(const char *path, struct hint_stats *s) {
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		uint64_t *avg, *total;
		char *p;

		if (strncmp(line, "some ", 5) == 0) {
			avg = &s->psi.some_avg10_permyriad;
			total = &s->psi.some_total_us;
		} else if (strncmp(line, "full ", 5) == 0) {
			avg = &s->psi.full_avg10_permyriad;
			total = &s->psi.full_total_us;
		} else
			continue;
		p = strstr(line, "avg10=");
		if (!p || parse_avg(p + 6, avg) < 0)
			return -EBADMSG;
		p = strstr(line, "total=");
		if (!p || parse_u64(p + 6, total) < 0)
			return -EBADMSG;
		*total = clamp(*total);
	}
	/* Reading fails with EOPNOTSUPP when PSI is compiled in but off. */
	return ferror(f) ? -errno : 0;
}

int stats_read_vmstat(const char *path, struct hint_stats *s) {
	static const struct {
		const char *key;
		size_t offset;
	} keys[] = {
		{ "pgmajfault", offsetof(struct hint_stats, vmstat.pgmajfault) },
		{ "pswpin", offsetof(struct hint_stats, vmstat.pswpin) },
		{ "pswpout", offsetof(struct hint_stats, vmstat.pswpout) },
		{ "workingset_refault_file", offsetof(struct hint_stats, vmstat.workingset_refault_file) },
		{ "workingset_refault_anon", offsetof(struct hint_stats, vmstat.workingset_refault_anon) },
	};
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		char *sp = strchr(line, ' ');
		uint64_t v;

		if (!sp)
			continue;
		*sp = '\0';
		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			if (strcmp(line, keys[i].key) == 0 && parse_u64(sp + 1, &v) == 0)
				*(uint64_t *) ((char *) s + keys[i].offset) = clamp(v);
	}
	return 0;
}

int stats_read_module(const char *dir, struct hint_stats *s) {
	static const struct {
		const char *file;
		size_t offset;
		bool page_state;
	} files[] = {
		{ "unused", offsetof(struct hint_stats, pages.unused), true },
		{ "volatile", offsetof(struct hint_stats, pages.volatile_), true },
		{ "stable", offsetof(struct hint_stats, pages.stable), true },
		{ "mlocked", offsetof(struct hint_stats, pages.mlocked), true },
		{ "reported", offsetof(struct hint_stats, module.reported), false },
		{ "acked", offsetof(struct hint_stats, module.acked), false },
		{ "released", offsetof(struct hint_stats, module.released), false },
		{ "timed_out", offsetof(struct hint_stats, module.timed_out), false },
		{ "held", offsetof(struct hint_stats, module.held), false },
	};

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		char path[512];
		uint64_t v;

		snprintf(path, sizeof path, "%s/%s_bytes", dir, files[i].file);
		if (read_u64_file(path, &v) < 0)
			continue;
		*(uint64_t *) ((char *) s + files[i].offset) = clamp(v);
		if (files[i].page_state)
			s->has_pages = true;
		else
			s->has_module = true;
	}
	return s->has_pages || s->has_module ? 0 : -ENOENT;
}

int stats_collect(struct hint_stats *s, bool module) {
	int r;

	r = stats_read_meminfo("/proc/meminfo", s);
	if (r < 0)
		return r;
	(void) stats_read_psi("/proc/pressure/memory", s);
	(void) stats_read_vmstat("/proc/vmstat", s);
	if (module)
		(void) stats_read_module(PAGEHINT_SYSFS_DIR, s);
	return 0;
}

int stats_read_ram_bytes(const char *iomem, uint64_t *ret) {
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];
	uint64_t sum = 0;

	f = fopen(iomem, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		uint64_t start, end;

		/* Top level only: nested entries (kernel code, ...) lie inside. */
		if (line[0] == ' ' || !strstr(line, " : System RAM"))
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && end > start)
			sum += end - start + 1;
	}
	if (sum == 0)
		return -ENODATA;	/* addresses read as 0 without CAP_SYS_ADMIN */
	*ret = sum;
	return 0;
}
