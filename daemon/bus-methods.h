/* bus-methods.h - org.hintd1.Manager's method handlers (bus-methods.c).
 * userdata is the manager's struct bus_manager_props. */
#ifndef HINTD_BUS_METHODS_H
#define HINTD_BUS_METHODS_H

#include <systemd/sd-bus.h>
#include "bus.h"

#define BUS_ERROR_NO_SUCH_MACHINE "org.hintd1.Error.NoSuchMachine"
#define BUS_ERROR_BAD_CONFIG "org.hintd1.Error.BadConfig"

int method_get_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_set_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_reclaim(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_dump(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_metrics(sd_bus_message *msg, void *userdata, sd_bus_error *error);

#endif /* HINTD_BUS_METHODS_H */
