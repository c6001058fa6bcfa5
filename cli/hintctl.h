/* hintctl.h - what every hintctl verb shares: the global options, the exit
 * codes (hintctl --help and hintctl(1) list them) and the bus names. */
#ifndef HINTCTL_H
#define HINTCTL_H

#include <stdbool.h>

#define HINTCTL_VERSION "0.1"

#define HINTD_BUS_NAME       "org.hintd1"
#define HINTD_MANAGER_PATH   "/org/hintd1"
#define HINTD_MANAGER_IFACE  "org.hintd1.Manager"
#define HINTD_MACHINE_IFACE  "org.hintd1.Machine"
#define HINTD_ERROR_NO_SUCH_MACHINE "org.hintd1.Error.NoSuchMachine"
#define HINTD_ERROR_BAD_CONFIG      "org.hintd1.Error.BadConfig"

enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILURE = 1,		/* a D-Bus error not listed below */
	CTL_EXIT_USAGE = 2,		/* bad usage or argument */
	CTL_EXIT_NOT_RUNNING = 3,	/* hintd not running, bus unreachable */
	CTL_EXIT_NO_MACHINE = 4,	/* unknown VM */
	CTL_EXIT_DENIED = 5,		/* not root nor in hintd's AdminGroup */
};

struct ctl_options {
	const char *bus_address;	/* NULL: the system bus */
	bool json;
	bool legend;			/* header and footer lines of tables */
	bool exact_bytes;		/* sizes in bytes instead of "1.5G" */
};

#endif /* HINTCTL_H */
