/* format.h - how hintctl writes values for people: sizes ("1.5G", "512M",
 * or exact bytes), rates, percents, durations and timestamps. Pure. */
#ifndef HINTCTL_FORMAT_H
#define HINTCTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Long enough for any value below, including "18446744073709551615B/s". */
#define CTL_FORMAT_MAX 64

/* format_size() SIZE_SHORT ("1.5G", "512M"), or SIZE_BYTES when exact. */
char *ctl_format_size(char *buf, size_t size, uint64_t bytes, bool exact);

/* A rate in bytes per second: ctl_format_size() of the rounded rate + "/s". */
char *ctl_format_rate(char *buf, size_t size, double bytes_per_sec, bool exact);

/* Microseconds as "1s", "500ms", "1.5s", "2min", "90us". */
char *ctl_format_duration(char *buf, size_t size, uint64_t usec);

/* A CLOCK_REALTIME timestamp in µs as local "YYYY-MM-DD HH:MM:SS", followed
 * by " (5s ago)" when now_usec is not 0; "never" for 0. */
char *ctl_format_timestamp(char *buf, size_t size, uint64_t usec, uint64_t now_usec);

/* How long ago, coarse: "5s", "3min", "2h", "4d". */
char *ctl_format_age(char *buf, size_t size, uint64_t age_usec);

/* A virtio-mem device for a table cell: "PLUGGED/SIZE" ("1.5G/4G"), or
 * "PLUGGED->REQUESTED/SIZE" ("1.5G->1G/4G") while the guest has not yet
 * plugged what it is asked for; "-" without a device (size 0). Sizes per
 * ctl_format_size(): at most 17 characters short, 63 exact, so
 * CTL_FORMAT_MAX holds it. */
char *ctl_format_virtio_mem(char *buf, size_t size, uint64_t plugged, uint64_t requested,
			    uint64_t device_size, bool exact);

const char *ctl_yes_no(bool b);

/* Fits name into width columns (bytes; names are assumed to be mostly
 * ASCII, UTF-8 sequences are not cut): unchanged when short enough, else
 * its head and tail joined by "~" ("web-server-prod-01" in 10 -> "web-s~d-01").
 * buf must hold width + 1 bytes. */
char *ctl_truncate_name(char *buf, size_t size, const char *name, size_t width);

#endif /* HINTCTL_FORMAT_H */
