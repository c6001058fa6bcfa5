/* main.c - hintd: arguments, configuration, the event loop. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include "bus.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

/* Exit codes, as hintd(8) lists them. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
};

static const char *arg_config = HINTD_CONFIG_PATH;
static const char *arg_config_dir = HINTD_CONFIG_DROPIN_DIR;
static const char *arg_uri;
static const char *arg_bus_address;	/* NULL: the system bus */
static bool arg_no_bus;
static bool arg_dry_run;
static bool arg_check_config;

static void help(void) {
	printf("Usage: hintd [OPTIONS]\n\n"
	       "Memory overcommit manager for KVM/QEMU hosts.\n\n"
	       "  -c --config=PATH       configuration file (default %s)\n"
	       "     --config-dir=DIR    drop-in directory (default %s)\n"
	       "  -u --uri=URI          libvirt URI (overrides Uri= of [Host])\n"
	       "  -n --dry-run          decide and log, touch nothing\n"
	       "     --bus-address=ADDRESS\n"
	       "                        serve org.hintd1 on this D-Bus bus (default: system bus)\n"
	       "     --no-bus           no D-Bus service at all\n"
	       "     --check-config     check the configuration and exit\n"
	       "     --log-level=LEVEL  debug, info, notice, warning or err (default info)\n"
	       "  -h --help             show this help\n"
	       "     --version          show the version\n\n"
	       "Exit status: 0 success, 1 runtime failure, 2 bad arguments, 3 bad configuration.\n",
	       HINTD_CONFIG_PATH, HINTD_CONFIG_DROPIN_DIR);
}

static int parse_log_level(const char *s) {
	static const struct { const char *name; int level; } levels[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
		{ "warning", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR },
	};
	for (size_t i = 0; i < ELEMENTSOF(levels); i++)
		if (strcmp(s, levels[i].name) == 0)
			return levels[i].level;
	return -EINVAL;
}

static int parse_argv(int argc, char *argv[]) {
	enum {
		ARG_CONFIG_DIR = 0x100,
		ARG_CHECK_CONFIG,
		ARG_LOG_LEVEL,
		ARG_VERSION,
		ARG_BUS_ADDRESS,
		ARG_NO_BUS,
	};
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
		{ "uri", required_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
		{ "no-bus", no_argument, NULL, ARG_NO_BUS },
		{ "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
		{ "log-level", required_argument, NULL, ARG_LOG_LEVEL },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{}
	};
	int c, level;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:u:nh", options, NULL)) >= 0)
		switch (c) {
		case 'c': arg_config = optarg; break;
		case ARG_CONFIG_DIR: arg_config_dir = optarg; break;
		case 'u': arg_uri = optarg; break;
		case 'n': arg_dry_run = true; break;
		case ARG_BUS_ADDRESS: arg_bus_address = optarg; break;
		case ARG_NO_BUS: arg_no_bus = true; break;
		case ARG_CHECK_CONFIG: arg_check_config = true; break;
		case ARG_LOG_LEVEL:
			level = parse_log_level(optarg);
			if (level < 0) {
				log_error("hintd: --log-level: unknown level '%s' "
					  "(debug, info, notice, warning, err)", optarg);
				return -EINVAL;
			}
			log_set_max_level(level);
			break;
		case 'h': help(); return 0;
		case ARG_VERSION: printf("hintd %s\n", HINTD_VERSION); return 0;
		case ':':
			log_error("hintd: option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			log_error("hintd: unknown option '%s' (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
	if (arg_no_bus && arg_bus_address) {
		log_error("hintd: --bus-address and --no-bus exclude each other");
		return -EINVAL;
	}
	if (optind < argc) {
		log_error("hintd: unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	return 1;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
	struct manager *m = userdata;

	sd_notify(false, "STOPPING=1\nSTATUS=Stopping, giving back held batches");
	log_info("Stopping on %s", strsignal((int) si->ssi_signo));
	manager_stop(m);
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
	sd_notify(false, "RELOADING=1");
	manager_reload(userdata, NULL);
	sd_notify(false, "READY=1\nSTATUS=Running");
	return 0;
}

int main(int argc, char *argv[]) {
	_cleanup_(sd_event_unrefp) sd_event *event = NULL;
	struct hintd_config *config = NULL;
	struct manager *m = NULL;
	struct bus *bus = NULL;
	char *error = NULL;
	int r;

	/* Worker threads spend their lives waiting on libvirt: an arena of
	 * their own would hold memory for nothing. */
	mallopt(M_ARENA_MAX, 1);
	/* Under systemd stderr goes to the journal: mark each line's priority. */
	log_set_prefix_priority(getenv("JOURNAL_STREAM") != NULL);

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;

	r = config_load(arg_config, arg_config_dir, &config, &error);
	if (r < 0) {
		log_error("hintd: %s", error ? error : strerror(-r));
		free(error);
		return EXIT_CONFIG;
	}
	if (arg_check_config) {
		printf("%s: configuration is valid\n", arg_config);
		config_free(config);
		return EXIT_OK;
	}
	if (arg_uri) {
		free(config->uri);
		config->uri = strdup(arg_uri);
	}

	r = sd_event_default(&event);
	if (r < 0) {
		log_error_errno(r, "Failed to create the event loop: %m");
		config_free(config);
		return EXIT_FAILURE_RUNTIME;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = manager_new(event, arg_config, arg_config_dir, config, arg_dry_run, &m);
	if (r < 0) {
		config_free(config);
		return EXIT_FAILURE_RUNTIME;
	}
	sd_event_add_signal(event, NULL, SIGTERM, on_sigterm, m);
	sd_event_add_signal(event, NULL, SIGINT, on_sigterm, m);
	sd_event_add_signal(event, NULL, SIGHUP, on_sighup, m);

	r = manager_start(m);
	if (r >= 0 && !arg_no_bus)
		r = bus_open(m, event, arg_bus_address, &bus);
	if (r >= 0 && bus)
		manager_set_bus(m, bus);
	if (r < 0) {
		manager_free(m);
		return EXIT_FAILURE_RUNTIME;
	}
	sd_notify(false, "READY=1\nSTATUS=Running");
	log_info("hintd %s running%s", HINTD_VERSION, manager_dry_run(m) ? " (dry run: no action taken)" : "");

	r = sd_event_loop(event);
	manager_free(m);
	if (r < 0) {
		log_error_errno(r, "Event loop failed: %m");
		return EXIT_FAILURE_RUNTIME;
	}
	return EXIT_OK;
}
