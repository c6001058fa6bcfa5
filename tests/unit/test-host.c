/* Host collectors: /proc/meminfo and PSI from fixtures (good and broken),
 * and the budget cgroup read through libcgroup from a real memory cgroup
 * when the machine has one (skipped, and said so, when it does not). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "host.h"
#include "macro.h"

TEST(meminfo_good) {
	uint64_t total, avail;
	CHECK_EQ_INT(host_read_meminfo(FIXTURE("host/meminfo-good"), &total, &avail), 0);
	CHECK_EQ_U64(total, 24592892ULL * 1024);
	CHECK_EQ_U64(avail, 22500000ULL * 1024);
}

TEST(meminfo_broken) {
	uint64_t total = 7, avail = 7;
	CHECK_EQ_INT(host_read_meminfo(FIXTURE("host/meminfo-no-available"), &total, &avail), -EBADMSG);
	CHECK_EQ_INT(host_read_meminfo(FIXTURE("host/meminfo-garbage"), &total, &avail), -EBADMSG);
	CHECK_EQ_INT(host_read_meminfo(FIXTURE("host/meminfo-available-above-total"), &total, &avail),
		     -EBADMSG);
	CHECK_EQ_INT(host_read_meminfo(FIXTURE("host/does-not-exist"), &total, &avail), -ENOENT);
	/* Outputs untouched on failure. */
	CHECK_EQ_U64(total, 7);
	CHECK_EQ_U64(avail, 7);
}

TEST(meminfo_of_this_host) {
	uint64_t total, avail;
	CHECK_EQ_INT(host_read_meminfo("/proc/meminfo", &total, &avail), 0);
	CHECK(total > 0 && avail <= total);
}

TEST(psi) {
	double some, full;
	CHECK_EQ_INT(host_read_psi(FIXTURE("host/psi-good"), &some, &full), 0);
	CHECK(some == 12.5 && full == 2.25);
	CHECK_EQ_INT(host_read_psi(FIXTURE("host/psi-no-some"), &some, &full), -EBADMSG);
	CHECK_EQ_INT(host_read_psi(FIXTURE("host/psi-out-of-range"), &some, &full), -EBADMSG);
	CHECK_EQ_INT(host_read_psi(FIXTURE("host/does-not-exist"), &some, &full), -ENOENT);
}

/* A memory cgroup of our own, v1 or v2, with a limit, read back through
 * libcgroup. */
TEST(budget_cgroup) {
	static const struct { const char *dir, *limit_file; } layouts[] = {
		{ "/sys/fs/cgroup/memory", "memory.limit_in_bytes" },	/* v1 */
		{ "/sys/fs/cgroup", "memory.max" },			/* v2 */
	};
	char name[64], path[256], file[320];
	uint64_t usage, limit;
	FILE *f;

	for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
		snprintf(file, sizeof file, "%s/%s", layouts[i].dir,
			 i == 0 ? "memory.usage_in_bytes" : "cgroup.controllers");
		if (access(file, R_OK) < 0)
			continue;
		snprintf(name, sizeof name, "hintd-test-%d", (int) getpid());
		snprintf(path, sizeof path, "%s/%s", layouts[i].dir, name);
		if (mkdir(path, 0755) < 0) {
			printf("  # skipped %s: %s\n", layouts[i].dir, strerror(errno));
			continue;
		}
		snprintf(file, sizeof file, "%s/%s", path, layouts[i].limit_file);
		f = fopen(file, "we");
		if (f) {
			fputs("268435456", f);
			fclose(f);
		}
		CHECK_EQ_INT(host_read_cgroup(name, &usage, &limit), 0);
		CHECK_EQ_U64(limit, MiB(256));
		CHECK(usage < MiB(256));
		rmdir(path);
		/* Gone: a clear error, not a crash. */
		CHECK(host_read_cgroup(name, &usage, &limit) < 0);
		return;
	}
	printf("  # skipped: no writable memory cgroup on this machine\n");
}

int main(void) {
	return run_tests();
}
