/* balloon-io.h - what the baseline balloon controllers (mom, pve) read from
 * and do through libvirt: each running domain's balloon statistics, the
 * host's memory as a budget, and setting a balloon. Errors are converted to
 * negative errno here, once, and logged with the domain's name. */
#ifndef HINTD_BALLOON_IO_H
#define HINTD_BALLOON_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <libvirt/libvirt.h>

struct dom_sample {
	virDomainPtr dom;	/* valid until balloon_io_free() */
	const char *name;
	uint64_t actual;	/* balloon size now, bytes */
	uint64_t maximum;	/* the domain's maximum memory, bytes */
	uint64_t unused;	/* guest free memory (MemFree), bytes */
	uint64_t rss;		/* QEMU's resident memory on the host, bytes */
	bool has_unused;	/* the guest's balloon driver reports statistics */
};

struct dom_samples {
	virDomainStatsRecordPtr *records;
	struct dom_sample *dom;
	int n;
};

/* Shared options of both controllers. */
struct balloon_opts {
	const char *uri;		/* NULL: libvirt's default */
	unsigned interval_sec;		/* policy interval */
	uint64_t budget;		/* the host memory the controller sees, bytes */
	uint64_t min_memory;		/* per VM guarantee, bytes */
	bool dry_run;			/* log what would be done, do nothing */
};

/* Parses --uri, --interval, --budget, --min, --dry-run; PROG and EXTRA_HELP
 * name the program in messages. Returns 0, 1 after --help, or -EINVAL after
 * a message naming what is wrong. */
int balloon_opts_parse(int argc, char **argv, const char *prog, unsigned default_interval,
		       struct balloon_opts *ret);

int balloon_io_connect(const char *uri, virConnectPtr *ret);

/* Every running domain's balloon statistics. */
int balloon_io_sample(virConnectPtr conn, struct dom_samples *ret);
void balloon_io_free(struct dom_samples *s);

/* The budget's use: the sum of the domains' QEMU resident memory. */
uint64_t balloon_io_used(const struct dom_samples *s);

/* Sets the domain's balloon (live) to BYTES, logging PROG's action line
 * with WHY; in a dry run only logs. */
int balloon_io_set(const struct balloon_opts *o, const char *prog, const struct dom_sample *d,
		   uint64_t bytes, const char *why);

#endif /* HINTD_BALLOON_IO_H */
