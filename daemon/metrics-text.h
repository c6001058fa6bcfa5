/* metrics-text.h - hintd's state in the Prometheus text exposition format
 * (version 0.0.4), the text `hintctl metrics` prints and the MetricsListen=
 * endpoint serves. Pure: it formats what D-Bus shows (struct
 * bus_manager_props, bus_machine_props) and reads nothing itself.
 *
 * Names follow Prometheus' conventions: hintd_ first, base units (bytes,
 * ratios rather than percents), _total on counters, one `vm` label per VM;
 * text states (agent, libvirt, discard, last instrument) are _info metrics
 * with the state as a label and the value 1. A VM's virtio-mem figures
 * have samples only when it has a device. */
#ifndef HINTD_METRICS_TEXT_H
#define HINTD_METRICS_TEXT_H

#include <stddef.h>
#include <stdio.h>
#include "bus.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes the exposition of the manager and its n VMs to f. */
void metrics_format(FILE *f, const struct bus_manager_props *mgr,
		    const struct bus_machine_props *vms, size_t n);

/* A label value as the format wants it: \ " and newline escaped. */
void metrics_write_label_value(FILE *f, const char *value);

#endif /* HINTD_METRICS_TEXT_H */
