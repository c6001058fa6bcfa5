/* monitor.c - `hintctl monitor`: hintd's signals as lines, until Ctrl-C.
 * Reclaimed and PressureChanged, the Manager's Reclaiming property when it
 * changes, and hintd leaving or coming back on the bus. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-event.h>
#include "bus.h"
#include "format.h"
#include "json-output.h"
#include "log.h"
#include "macro.h"
#include "verbs.h"

struct monitor {
	const struct ctl_options *opts;
	int failed;
};

static uint64_t now_realtime_usec(void) {
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* "12:34:56.789 " before each human line. */
static void print_time(uint64_t usec) {
	time_t t = (time_t) (usec / 1000000);
	struct tm tm;
	char buf[16];

	if (!localtime_r(&t, &tm) || strftime(buf, sizeof buf, "%H:%M:%S", &tm) == 0)
		snprintf(buf, sizeof buf, "?");
	printf("%s.%03u ", buf, (unsigned) (usec % 1000000 / 1000));
}

/* Emits one event: JSON with "time" (µs, CLOCK_REALTIME) and "event", or a
 * timestamped line. */
static int emit(struct monitor *mon, json_t *j, const char *line) {
	uint64_t now = now_realtime_usec();

	if (mon->opts->json) {
		if (!j || json_object_set_new(j, "time", json_integer((json_int_t) now)) < 0) {
			json_decref(j);
			return -ENOMEM;
		}
		return ctl_json_print(j, stdout, true);
	}
	json_decref(j);
	print_time(now);
	printf("%s\n", line);
	return fflush(stdout) == EOF ? -EIO : 0;
}

static int on_emit_result(struct monitor *mon, sd_bus_message *m, int r) {
	if (r < 0) {
		log_error_errno(r, "hintctl: writing the event failed: %m");
		mon->failed = CTL_EXIT_FAILURE;
		return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), r);
	}
	return 0;
}

static int on_reclaimed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct monitor *mon = userdata;
	const char *machine, *rung;
	char line[512], size[CTL_FORMAT_MAX];
	uint64_t bytes;
	int r;

	r = sd_bus_message_read(m, "sst", &machine, &rung, &bytes);
	if (r < 0) {
		log_warning_errno(r, "hintctl: unreadable Reclaimed signal, ignoring: %m");
		return 0;
	}
	snprintf(line, sizeof line, "reclaimed %s from %s (%s)",
		 ctl_format_size(size, sizeof size, bytes, mon->opts->exact_bytes), machine, rung);
	r = emit(mon, json_pack("{s:s, s:s, s:s, s:I}", "event", "Reclaimed", "machine", machine,
				"rung", rung, "bytes", (json_int_t) bytes), line);
	return on_emit_result(mon, m, r);
}

static int on_pressure_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct monitor *mon = userdata;
	char line[512], f[CTL_FORMAT_MAX], n[CTL_FORMAT_MAX];
	uint64_t free_bytes, need;
	int reclaiming, r;

	r = sd_bus_message_read(m, "btt", &reclaiming, &free_bytes, &need);
	if (r < 0) {
		log_warning_errno(r, "hintctl: unreadable PressureChanged signal, ignoring: %m");
		return 0;
	}
	snprintf(line, sizeof line, "pressure: %s, free %s, need %s",
		 reclaiming ? "reclaiming" : "not reclaiming",
		 ctl_format_size(f, sizeof f, free_bytes, mon->opts->exact_bytes),
		 ctl_format_size(n, sizeof n, need, mon->opts->exact_bytes));
	r = emit(mon, json_pack("{s:s, s:b, s:I, s:I}", "event", "PressureChanged",
				"reclaiming", reclaiming, "free", (json_int_t) free_bytes,
				"need", (json_int_t) need), line);
	return on_emit_result(mon, m, r);
}

/* PropertiesChanged(s interface, a{sv} changed, as invalidated): only
 * Reclaiming, when it is among the changed values. */
static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct monitor *mon = userdata;
	const char *iface;
	int r, reclaiming = -1;

	r = sd_bus_message_read_basic(m, 's', &iface);
	if (r < 0 || strcmp(iface, HINTD_MANAGER_IFACE) != 0)
		return 0;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return 0;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *name;

		if (sd_bus_message_read_basic(m, 's', &name) < 0)
			return 0;
		if (strcmp(name, "Reclaiming") == 0) {
			if (sd_bus_message_read(m, "v", "b", &reclaiming) < 0)
				return 0;
		} else if (sd_bus_message_skip(m, "v") < 0)
			return 0;
		if (sd_bus_message_exit_container(m) < 0)
			return 0;
	}
	if (reclaiming < 0)
		return 0;
	r = emit(mon, json_pack("{s:s, s:s, s:b}", "event", "PropertiesChanged",
				"property", "Reclaiming", "value", reclaiming),
		 reclaiming ? "Reclaiming=yes" : "Reclaiming=no");
	return on_emit_result(mon, m, r);
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct monitor *mon = userdata;
	const char *name, *old_owner, *new_owner;
	bool running;
	int r;

	r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
	if (r < 0 || strcmp(name, HINTD_BUS_NAME) != 0)
		return 0;
	running = *new_owner != '\0';
	r = emit(mon, json_pack("{s:s, s:b}", "event", "hintd", "running", running),
		 running ? "hintd started" : "hintd stopped");
	return on_emit_result(mon, m, r);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

int verb_monitor(const struct ctl_options *opts) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_event_unrefp) sd_event *event = NULL;
	struct monitor mon = { .opts = opts };
	sigset_t mask;
	int r;

	r = ctl_bus_connect(opts, &bus);
	if (r != 0)
		return r;

	/* Subscribe first, then check hintd is there: nothing is missed. */
	r = sd_bus_match_signal(bus, NULL, HINTD_BUS_NAME, HINTD_MANAGER_PATH, HINTD_MANAGER_IFACE,
				"Reclaimed", on_reclaimed, &mon);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, HINTD_BUS_NAME, HINTD_MANAGER_PATH,
					HINTD_MANAGER_IFACE, "PressureChanged", on_pressure_changed, &mon);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, HINTD_BUS_NAME, HINTD_MANAGER_PATH,
					"org.freedesktop.DBus.Properties", "PropertiesChanged",
					on_properties_changed, &mon);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					"org.freedesktop.DBus", "NameOwnerChanged",
					on_name_owner_changed, &mon);
	if (r < 0)
		return ctl_bus_fail(opts, r, NULL, "subscribing to hintd's signals", NULL);

	r = sd_bus_call_method(bus, HINTD_BUS_NAME, HINTD_MANAGER_PATH,
			       "org.freedesktop.DBus.Peer", "Ping", &error, NULL, NULL);
	if (r < 0)
		return ctl_bus_fail(opts, r, &error, "reaching hintd", NULL);

	r = sd_event_default(&event);
	if (r < 0)
		return log_error_errno(r, "hintctl: creating the event loop failed: %m"),
		       CTL_EXIT_FAILURE;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL);
	if (r >= 0)
		r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_bus_set_exit_on_disconnect(bus, true);
	if (r < 0)
		return log_error_errno(r, "hintctl: setting up the event loop failed: %m"),
		       CTL_EXIT_FAILURE;
	if (!opts->json) {
		printf("Monitoring hintd on %s; Ctrl-C ends.\n", ctl_bus_description(opts));
		fflush(stdout);
	}

	r = sd_event_loop(event);
	if (mon.failed)
		return mon.failed;
	/* sd-bus ends the loop with EXIT_FAILURE when the connection closes;
	 * Ctrl-C ends it with 0. */
	if (r == EXIT_FAILURE) {
		log_error("hintctl: the connection to %s was closed", ctl_bus_description(opts));
		return CTL_EXIT_NOT_RUNNING;
	}
	if (r < 0)
		return log_error_errno(r, "hintctl: %m"), CTL_EXIT_FAILURE;
	return CTL_EXIT_OK;
}
