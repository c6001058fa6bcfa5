/* bus-caller.h - methods that change hintd run only for callers the bus
 * itself vouches for (bus-auth.h decides; this asks the bus). */
#ifndef HINTD_BUS_CALLER_H
#define HINTD_BUS_CALLER_H

#include <systemd/sd-bus.h>
#include "bus.h"

/* Runs body(msg, userdata, error) once the bus has said that the caller may
 * do `what` (userdata: the manager's struct bus_manager_props); otherwise
 * replies AccessDenied saying who may. Returns 1 (the reply comes later) or
 * negative errno. */
int bus_admin_only(sd_bus_message *msg, void *userdata, const char *what,
		   sd_bus_message_handler_t body, sd_bus_error *error);

#endif /* HINTD_BUS_CALLER_H */
