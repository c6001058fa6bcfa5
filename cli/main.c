/* main.c - hintctl: options and commands; the commands live in verbs.c,
 * monitor.c and top.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "hintctl.h"
#include "log.h"
#include "macro.h"
#include "verbs.h"

static struct ctl_options arg_opts = { .legend = true };
static double arg_interval = 1.0;
static bool arg_interval_set;
static uint64_t arg_reclaim_bytes = CTL_RECLAIM_DEFAULT;
static bool arg_reclaim_bytes_set;
static const char *arg_output;

static void help(void) {
	printf("Usage: hintctl [OPTIONS] [COMMAND] [ARGS...]\n\n"
	       "Shows and changes what hintd, the memory overcommit manager, does.\n\n"
	       "Commands:\n"
	       "  status                   host memory, budget, reclaim, plan, and one line\n"
	       "                           per VM (the default)\n"
	       "  list                     a table of the VMs\n"
	       "  show [VM]                every property of a VM (of hintd without VM)\n"
	       "  set VM KEY=VALUE...      change a VM's settings until hintd reloads or\n"
	       "                           restarts: MinMemory=SIZE MaxMemory=SIZE\n"
	       "                           Shares=1..10000 Priority=-100..100\n"
	       "                           Reclaim=unused,volatile,balloon|none Manage=yes|no\n"
	       "                           Proactive=yes|no\n"
	       "  reclaim [--bytes SIZE] [VM]\n"
	       "                           reclaim SIZE (default 256M) now, from VM or from\n"
	       "                           the VMs hintd's policy chooses\n"
	       "  reload                   reload hintd's configuration\n"
	       "  monitor                  print reclaims and pressure changes as they\n"
	       "                           happen, until Ctrl-C\n"
	       "  dump                     hintd's state as text\n"
	       "  metrics [--output FILE]  hintd's metrics in the Prometheus text format;\n"
	       "                           --output replaces FILE atomically (for\n"
	       "                           node_exporter's textfile collector)\n"
	       "  top [--interval SEC]     a live view, refreshed every SEC seconds\n"
	       "                           (0.2..60, default 1)\n\n"
	       "Options:\n"
	       "     --bus-address=ADDRESS talk to hintd on this bus (default: the system bus)\n"
	       "     --json                JSON output; monitor writes one object per line\n"
	       "     --no-legend           no header and footer lines in tables\n"
	       "     --bytes               sizes in bytes instead of 1.5G, 512M\n"
	       "  -h --help                show this help\n"
	       "     --version             show the version\n\n"
	       "SIZE is bytes or a number with K, M, G or T (1024-based): 512M, 1.5G.\n\n"
	       "Exit status:\n"
	       "  0  success\n"
	       "  1  failure: a D-Bus error not listed below, with its message\n"
	       "  2  bad usage or argument\n"
	       "  3  hintd is not running, or the bus cannot be reached\n"
	       "  4  unknown VM\n"
	       "  5  access denied: changing settings needs root or membership of hintd's\n"
	       "     AdminGroup\n");
}

enum verb {
	VERB_STATUS, VERB_LIST, VERB_SHOW, VERB_SET, VERB_RECLAIM, VERB_RELOAD,
	VERB_MONITOR, VERB_DUMP, VERB_METRICS, VERB_TOP, _VERB_MAX,
};

static const struct {
	const char *name;
	size_t min_args, max_args;	/* after the verb */
	const char *usage;
} verbs[_VERB_MAX] = {
	[VERB_STATUS]  = { "status",  0, 0,        "status" },
	[VERB_LIST]    = { "list",    0, 0,        "list" },
	[VERB_SHOW]    = { "show",    0, 1,        "show [VM]" },
	[VERB_SET]     = { "set",     2, SIZE_MAX, "set VM KEY=VALUE..." },
	[VERB_RECLAIM] = { "reclaim", 0, 1,        "reclaim [--bytes SIZE] [VM]" },
	[VERB_RELOAD]  = { "reload",  0, 0,        "reload" },
	[VERB_MONITOR] = { "monitor", 0, 0,        "monitor" },
	[VERB_DUMP]    = { "dump",    0, 0,        "dump" },
	[VERB_METRICS] = { "metrics", 0, 0,        "metrics [--output FILE]" },
	[VERB_TOP]     = { "top",     0, 0,        "top [--interval SEC]" },
};

enum {
	ARG_BUS_ADDRESS = 0x100,
	ARG_JSON,
	ARG_NO_LEGEND,
	ARG_BYTES,
	ARG_VERSION,
	ARG_INTERVAL,
	ARG_RECLAIM_BYTES,
	ARG_OUTPUT,
};

/* Parses options from argv[optind...]. Before the command (stop_at_verb)
 * the first non-option ends them; after it options and arguments may mix,
 * and `reclaim` takes --bytes with a value. Returns 1 to go on, 0 when
 * done (--help, --version), -EINVAL on bad usage (said). */
static int parse_options(int argc, char *argv[], bool stop_at_verb, enum verb verb) {
	const struct option options[] = {
		{ "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
		{ "json", no_argument, NULL, ARG_JSON },
		{ "no-legend", no_argument, NULL, ARG_NO_LEGEND },
		{ "bytes", verb == VERB_RECLAIM ? required_argument : no_argument, NULL,
		  verb == VERB_RECLAIM ? ARG_RECLAIM_BYTES : ARG_BYTES },
		{ "interval", required_argument, NULL, ARG_INTERVAL },
		{ "output", required_argument, NULL, ARG_OUTPUT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{}
	};
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, stop_at_verb ? "+:h" : ":h", options, NULL)) >= 0)
		switch (c) {
		case ARG_BUS_ADDRESS:
			if (!*optarg) {
				log_error("hintctl: --bus-address: needs an address");
				return -EINVAL;
			}
			arg_opts.bus_address = optarg;
			break;
		case ARG_JSON: arg_opts.json = true; break;
		case ARG_NO_LEGEND: arg_opts.legend = false; break;
		case ARG_BYTES: arg_opts.exact_bytes = true; break;
		case ARG_INTERVAL:
			r = ctl_interval_parse(optarg, &arg_interval);
			if (r < 0) {
				log_error("hintctl: --interval: '%s' is not a number of seconds "
					  "from 0.2 to 60", optarg);
				return -EINVAL;
			}
			arg_interval_set = true;
			break;
		case ARG_RECLAIM_BYTES:
			r = ctl_reclaim_bytes_parse(optarg, &arg_reclaim_bytes);
			if (r < 0) {
				log_error("hintctl: reclaim: --bytes: '%s' is not a size above 0 "
					  "(such as 256M or 1G)", optarg);
				return -EINVAL;
			}
			arg_reclaim_bytes_set = true;
			break;
		case ARG_OUTPUT:
			if (!*optarg) {
				log_error("hintctl: --output: needs a file name");
				return -EINVAL;
			}
			arg_output = optarg;
			break;
		case 'h': help(); return 0;
		case ARG_VERSION: printf("hintctl %s\n", HINTCTL_VERSION); return 0;
		case ':':
			log_error("hintctl: option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			log_error("hintctl: unknown option '%s' (see hintctl --help)", argv[optind - 1]);
			return -EINVAL;
		}
	return 1;
}

static int find_verb(const char *name) {
	for (size_t i = 0; i < _VERB_MAX; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return (int) i;
	return -EINVAL;
}

int main(int argc, char *argv[]) {
	enum verb verb = VERB_STATUS;
	char **args;
	size_t n_args = 0;
	int r;

	r = parse_options(argc, argv, true, _VERB_MAX);
	if (r <= 0)
		return r < 0 ? CTL_EXIT_USAGE : CTL_EXIT_OK;

	if (optind < argc) {
		int v = find_verb(argv[optind]);

		if (v < 0) {
			log_error("hintctl: unknown command '%s' (see hintctl --help)", argv[optind]);
			return CTL_EXIT_USAGE;
		}
		verb = (enum verb) v;
		/* The command's own arguments, options mixed in: argv[0] is the verb. */
		argc -= optind;
		argv += optind;
		optind = 0;
		r = parse_options(argc, argv, false, verb);
		if (r <= 0)
			return r < 0 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	args = argv + optind;
	n_args = optind < argc ? (size_t) (argc - optind) : 0;

	if (n_args < verbs[verb].min_args || n_args > verbs[verb].max_args) {
		if (n_args > verbs[verb].max_args)
			log_error("hintctl: %s: unexpected argument '%s' (usage: hintctl %s)",
				  verbs[verb].name, args[verbs[verb].max_args], verbs[verb].usage);
		else
			log_error("hintctl: %s: missing argument (usage: hintctl %s)",
				  verbs[verb].name, verbs[verb].usage);
		return CTL_EXIT_USAGE;
	}
	if (arg_interval_set && verb != VERB_TOP) {
		log_error("hintctl: --interval applies to top only");
		return CTL_EXIT_USAGE;
	}
	if (arg_output && verb != VERB_METRICS) {
		log_error("hintctl: --output applies to metrics only");
		return CTL_EXIT_USAGE;
	}
	if (verb == VERB_METRICS && arg_opts.json) {
		log_error("hintctl: metrics: --json does not apply (the output is the Prometheus text format)");
		return CTL_EXIT_USAGE;
	}
	if (verb == VERB_MONITOR || verb == VERB_TOP)
		setvbuf(stdout, NULL, _IOLBF, 0);

	switch (verb) {
	case VERB_STATUS: return verb_status(&arg_opts);
	case VERB_LIST: return verb_list(&arg_opts);
	case VERB_SHOW: return verb_show(&arg_opts, n_args > 0 ? args[0] : NULL);
	case VERB_SET: return verb_set(&arg_opts, args[0], args + 1, n_args - 1);
	case VERB_RECLAIM:
		return verb_reclaim(&arg_opts, n_args > 0 ? args[0] : NULL, arg_reclaim_bytes);
	case VERB_RELOAD: return verb_reload(&arg_opts);
	case VERB_MONITOR: return verb_monitor(&arg_opts);
	case VERB_DUMP: return verb_dump(&arg_opts);
	case VERB_METRICS: return verb_metrics(&arg_opts, arg_output);
	case VERB_TOP: return verb_top(&arg_opts, arg_interval);
	case _VERB_MAX: break;
	}
	return CTL_EXIT_USAGE;
}
