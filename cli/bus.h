/* bus.h - hintctl's connection to hintd and how D-Bus failures become
 * messages and exit codes (see hintctl.h). */
#ifndef HINTCTL_BUS_H
#define HINTCTL_BUS_H

#include <systemd/sd-bus.h>
#include "hintctl.h"

/* The system bus, or opts->bus_address. */
int ctl_bus_open(const struct ctl_options *opts, sd_bus **ret);

/* ctl_bus_open(), saying "hintd is not running on BUS" when it fails:
 * returns 0 or CTL_EXIT_NOT_RUNNING. */
int ctl_bus_connect(const struct ctl_options *opts, sd_bus **ret);

/* "the system bus" or the address given. */
const char *ctl_bus_description(const struct ctl_options *opts);

/* Says on stderr why a call failed and returns the exit code: r is the
 * negative errno of the call, error its D-Bus error (may be unset). what
 * names the operation ("reading hintd's state"); machine the VM the call
 * was about, or NULL. */
int ctl_bus_fail(const struct ctl_options *opts, int r, const sd_bus_error *error,
		 const char *what, const char *machine);

/* Calls a Manager method that takes nothing and returns text (Dump,
 * Metrics); *ret_text is a copy to free(). Returns 0 or the exit code,
 * having said what failed. */
int ctl_call_text(const struct ctl_options *opts, const char *method, char **ret_text);

/* The exit code alone, for callers that report differently (top). */
int ctl_bus_exit_code(int r, const sd_bus_error *error);

#endif /* HINTCTL_BUS_H */
