/* host.c - see host.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <libcgroup.h>
#include "host.h"
#include "log.h"
#include "macro.h"

int host_read_meminfo(const char *path, uint64_t *ret_total, uint64_t *ret_available) {
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	bool have_total = false, have_available = false;
	uint64_t total = 0, available = 0, kib;
	char line[256], key[64];

	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%63[^:]: %" SCNu64 " kB", key, &kib) != 2)
			continue;
		if (kib > UINT64_MAX / 1024)
			return -EBADMSG;
		if (strcmp(key, "MemTotal") == 0) {
			total = kib * 1024;
			have_total = true;
		} else if (strcmp(key, "MemAvailable") == 0) {
			available = kib * 1024;
			have_available = true;
		}
	}
	if (!have_total || !have_available || available > total)
		return -EBADMSG;
	*ret_total = total;
	*ret_available = available;
	return 0;
}

int host_read_psi(const char *path, double *ret_some_avg10, double *ret_full_avg10) {
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	double some = -1, full = -1, v;
	char line[256], kind[8];

	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%7s avg10=%lf", kind, &v) != 2 || v < 0 || v > 100)
			continue;
		if (strcmp(kind, "some") == 0)
			some = v;
		else if (strcmp(kind, "full") == 0)
			full = v;
	}
	if (some < 0)
		return -EBADMSG;
	*ret_some_avg10 = some;
	*ret_full_avg10 = full < 0 ? 0 : full;
	return 0;
}

static int cgroup_errno(int ecg) {
	/* libcgroup reports ECG* codes; ECGOTHER means errno holds the cause. */
	if (ecg == ECGOTHER)
		return -cgroup_get_last_errno();
	if (ecg == ECGROUPNOTEXIST)
		return -ENOENT;
	return -EIO;
}

int host_read_cgroup(const char *cgroup_path, uint64_t *ret_usage, uint64_t *ret_limit) {
	static bool initialized;
	struct cgroup *cg;
	struct cgroup_controller *ctl;
	uint64_t usage = 0, limit = UINT64_MAX;
	char *value = NULL;
	int r;

	if (!initialized) {
		r = cgroup_init();
		if (r != 0)
			return log_error_errno(cgroup_errno(r), "libcgroup: %s", cgroup_strerror(r));
		initialized = true;
	}
	cg = cgroup_new_cgroup(cgroup_path);
	if (!cg)
		return -ENOMEM;
	r = cgroup_get_cgroup(cg);
	if (r != 0) {
		r = cgroup_errno(r);
		goto finish;
	}
	ctl = cgroup_get_controller(cg, "memory");
	if (!ctl) {
		r = -ENOENT;
		goto finish;
	}
	/* v2 names first, then v1. */
	if (cgroup_get_value_uint64(ctl, "memory.current", &usage) != 0 &&
	    cgroup_get_value_uint64(ctl, "memory.usage_in_bytes", &usage) != 0) {
		r = -ENODATA;
		goto finish;
	}
	if (cgroup_get_value_string(ctl, "memory.max", &value) == 0 ||
	    cgroup_get_value_string(ctl, "memory.limit_in_bytes", &value) == 0) {
		if (strncmp(value, "max", 3) != 0 && sscanf(value, "%" SCNu64, &limit) != 1)
			limit = UINT64_MAX;
		free(value);
	}
	/* v1 reports "no limit" as a huge page-rounded number. */
	if (limit >= (UINT64_MAX >> 2))
		limit = UINT64_MAX;
	*ret_usage = usage;
	*ret_limit = limit;
	r = 0;
finish:
	cgroup_free(&cg);
	return r;
}
