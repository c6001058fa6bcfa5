/* bus.c - see bus.h. */
#include <errno.h>
#include <string.h>
#include "bus.h"
#include "log.h"
#include "macro.h"

int ctl_bus_open(const struct ctl_options *opts, sd_bus **ret) {
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	int r;

	if (!opts->bus_address)
		return sd_bus_open_system(ret);

	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, opts->bus_address);
	if (r < 0)
		return r;
	r = sd_bus_set_bus_client(bus, true);
	if (r < 0)
		return r;
	r = sd_bus_start(bus);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(bus);
	return 0;
}

int ctl_bus_connect(const struct ctl_options *opts, sd_bus **ret) {
	int r;

	r = ctl_bus_open(opts, ret);
	if (r < 0) {
		log_error_errno(r, "hintctl: hintd is not running on %s (cannot connect: %m)",
				ctl_bus_description(opts));
		return CTL_EXIT_NOT_RUNNING;
	}
	return 0;
}

const char *ctl_bus_description(const struct ctl_options *opts) {
	return opts->bus_address ? opts->bus_address : "the system bus";
}

int ctl_call_text(const struct ctl_options *opts, const char *method, char **ret_text) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	const char *text;
	int r;

	r = ctl_bus_connect(opts, &bus);
	if (r != 0)
		return r;
	r = sd_bus_call_method(bus, HINTD_BUS_NAME, HINTD_MANAGER_PATH, HINTD_MANAGER_IFACE,
			       method, &error, &reply, NULL);
	if (r < 0)
		return ctl_bus_fail(opts, r, &error, method, NULL);
	r = sd_bus_message_read_basic(reply, 's', &text);
	if (r < 0)
		return ctl_bus_fail(opts, r, NULL, "reading the reply", NULL);
	*ret_text = strdup(text);
	if (!*ret_text)
		return ctl_bus_fail(opts, -ENOMEM, NULL, "reading the reply", NULL);
	return 0;
}

/* Errors of a connection that failed or went away. */
static bool connection_errno(int r) {
	switch (-r) {
	case ENOENT:		/* no socket at that path */
	case ECONNREFUSED:
	case ECONNRESET:
	case ENOTCONN:
	case EPIPE:
	case ESHUTDOWN:
	case ENOMEDIUM:		/* no bus address at all */
	case EHOSTUNREACH:
		return true;
	default:
		return false;
	}
}

static bool not_running(int r, const sd_bus_error *error) {
	static const char *const names[] = {
		SD_BUS_ERROR_SERVICE_UNKNOWN,
		SD_BUS_ERROR_NAME_HAS_NO_OWNER,
		SD_BUS_ERROR_DISCONNECTED,
		SD_BUS_ERROR_NO_SERVER,
		"org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
	};

	if (error && sd_bus_error_is_set(error)) {
		for (size_t i = 0; i < ELEMENTSOF(names); i++)
			if (sd_bus_error_has_name(error, names[i]))
				return true;
		/* sd-bus names local failures "System.Error.E…". */
		if (!error->name || strncmp(error->name, "System.Error.", 13) != 0)
			return false;
	}
	return connection_errno(r);
}

int ctl_bus_exit_code(int r, const sd_bus_error *error) {
	if (not_running(r, error))
		return CTL_EXIT_NOT_RUNNING;
	if (error && sd_bus_error_has_name(error, HINTD_ERROR_NO_SUCH_MACHINE))
		return CTL_EXIT_NO_MACHINE;
	if (error && sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
		return CTL_EXIT_DENIED;
	if (error && sd_bus_error_has_name(error, SD_BUS_ERROR_INVALID_ARGS))
		return CTL_EXIT_USAGE;
	return CTL_EXIT_FAILURE;
}

int ctl_bus_fail(const struct ctl_options *opts, int r, const sd_bus_error *error,
		 const char *what, const char *machine) {
	bool has = error && sd_bus_error_is_set(error);
	const char *msg = has && error->message ? error->message : NULL;
	int code = ctl_bus_exit_code(r, error);

	switch (code) {
	case CTL_EXIT_NOT_RUNNING:
		log_error("hintctl: hintd is not running on %s%s%s%s", ctl_bus_description(opts),
			  msg || !has ? " (" : "", msg ? msg : !has ? strerror(-r) : "",
			  msg || !has ? ")" : "");
		break;
	case CTL_EXIT_NO_MACHINE:
		if (machine)
			log_error("hintctl: no VM named '%s' is known to hintd", machine);
		else
			log_error("hintctl: %s", msg ? msg : "unknown VM");
		break;
	case CTL_EXIT_DENIED:
		log_error("hintctl: %s: changing settings needs root or membership of "
			  "hintd's AdminGroup%s%s%s", what, msg ? " (hintd: " : "",
			  msg ? msg : "", msg ? ")" : "");
		break;
	case CTL_EXIT_USAGE:
		log_error("hintctl: %s: hintd refused an argument: %s", what,
			  msg ? msg : "invalid arguments");
		break;
	default:
		if (has)
			log_error("hintctl: %s failed: %s%s%s", what, msg ? msg : error->name,
				  msg ? " (" : "", msg ? error->name : "");
		else
			log_error_errno(r, "hintctl: %s failed: %m", what);
		break;
	}
	return code;
}
