/* balloon-io.c - libvirt for the baseline balloon controllers. */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libvirt/virterror.h>

#include "balloon-io.h"
#include "macro.h"
#include "parse.h"

static const char *last_error(void) {
	virErrorPtr e = virGetLastError();
	return e && e->message ? e->message : "unknown libvirt error";
}

static void usage(const char *prog, unsigned default_interval) {
	printf("Usage: %s --budget SIZE [--uri URI] [--interval SEC] [--min SIZE] [--dry-run]\n"
	       "  --budget SIZE   the host memory the guests' QEMU processes must fit in (e.g. 2G)\n"
	       "  --uri URI       libvirt connection (default: libvirt's default)\n"
	       "  --interval SEC  policy interval (default %u)\n"
	       "  --min SIZE      each VM's minimum, never ballooned below (default 0)\n"
	       "  --dry-run       log the actions without setting balloons\n",
	       prog, default_interval);
}

static int bad(const char *prog, const char *what, const char *value) {
	fprintf(stderr, "%s: %s: '%s'\n", prog, what, value);
	return -EINVAL;
}

int balloon_opts_parse(int argc, char **argv, const char *prog, unsigned default_interval,
		       struct balloon_opts *ret) {
	static const struct option longopts[] = {
		{ "uri", required_argument, NULL, 'u' }, { "interval", required_argument, NULL, 'i' },
		{ "budget", required_argument, NULL, 'b' }, { "min", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, {}
	};
	struct balloon_opts o = { .interval_sec = default_interval };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
		switch (c) {
		case 'u': o.uri = optarg; break;
		case 'i':
			if (parse_unsigned(optarg, &o.interval_sec) < 0 || o.interval_sec == 0 || o.interval_sec > 3600)
				return bad(prog, "--interval must be 1..3600 seconds", optarg);
			break;
		case 'b':
			if (parse_size(optarg, &o.budget) < 0 || o.budget < MiB(64))
				return bad(prog, "--budget must be a size of at least 64M", optarg);
			break;
		case 'm':
			if (parse_size(optarg, &o.min_memory) < 0)
				return bad(prog, "--min must be a size", optarg);
			break;
		case 'n': o.dry_run = true; break;
		case 'h': usage(prog, default_interval); return 1;
		default: return -EINVAL;
		}
	}
	if (optind < argc)
		return bad(prog, "unexpected argument", argv[optind]);
	if (o.budget == 0) {
		fprintf(stderr, "%s: --budget SIZE is required: the host memory the guests must fit in\n", prog);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

int balloon_io_connect(const char *uri, virConnectPtr *ret) {
	virConnectPtr c = virConnectOpen(uri);

	if (!c) {
		fprintf(stderr, "Failed to connect to libvirt %s: %s\n", uri ? uri : "(default)", last_error());
		return -ECONNREFUSED;
	}
	*ret = c;
	return 0;
}

/* Balloon fields are in KiB. */
static void read_fields(virDomainStatsRecordPtr rec, struct dom_sample *d) {
	for (int i = 0; i < rec->nparams; i++) {
		const virTypedParameter *p = &rec->params[i];
		uint64_t v = p->type == VIR_TYPED_PARAM_ULLONG ? p->value.ul : 0;
		if (strcmp(p->field, "balloon.current") == 0)
			d->actual = KiB(v);
		else if (strcmp(p->field, "balloon.maximum") == 0)
			d->maximum = KiB(v);
		else if (strcmp(p->field, "balloon.unused") == 0) {
			d->unused = KiB(v);
			d->has_unused = true;
		} else if (strcmp(p->field, "balloon.rss") == 0)
			d->rss = KiB(v);
	}
}

int balloon_io_sample(virConnectPtr conn, struct dom_samples *ret) {
	struct dom_samples s = {};

	s.n = virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_BALLOON, &s.records,
					  VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
	if (s.n < 0) {
		fprintf(stderr, "Failed to read domain statistics: %s\n", last_error());
		return -EIO;
	}
	s.dom = calloc(s.n ? s.n : 1, sizeof *s.dom);
	if (!s.dom) {
		virDomainStatsRecordListFree(s.records);
		return -ENOMEM;
	}
	for (int i = 0; i < s.n; i++) {
		s.dom[i].dom = s.records[i]->dom;
		s.dom[i].name = virDomainGetName(s.records[i]->dom);
		read_fields(s.records[i], &s.dom[i]);
	}
	*ret = s;
	return 0;
}

void balloon_io_free(struct dom_samples *s) {
	if (s->records)
		virDomainStatsRecordListFree(s->records);
	free(s->dom);
	*s = (struct dom_samples) {};
}

uint64_t balloon_io_used(const struct dom_samples *s) {
	uint64_t used = 0;

	for (int i = 0; i < s->n; i++)
		used += s->dom[i].rss;
	return used;
}

int balloon_io_set(const struct balloon_opts *o, const char *prog, const struct dom_sample *d,
		   uint64_t bytes, const char *why) {
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%lld.%03ld %s: %s balloon %" PRIu64 " -> %" PRIu64 " MiB (%s)%s\n", (long long) ts.tv_sec,
	       ts.tv_nsec / 1000000, prog, d->name, d->actual >> 20, bytes >> 20, why,
	       o->dry_run ? " [dry run]" : "");
	fflush(stdout);
	if (o->dry_run)
		return 0;
	if (virDomainSetMemoryFlags(d->dom, bytes >> 10, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		fprintf(stderr, "%s: Failed to set the balloon of %s to %" PRIu64 " MiB: %s, ignoring\n", prog,
			d->name, bytes >> 20, last_error());
		return -EIO;
	}
	return 0;
}
