/* json-output.h - --json: properties under their D-Bus names, sizes in
 * bytes, times in µs, through jansson. */
#ifndef HINTCTL_JSON_OUTPUT_H
#define HINTCTL_JSON_OUTPUT_H

#include <jansson.h>
#include <stdio.h>
#include "snapshot.h"

/* An object of every property in table read from obj. */
json_t *ctl_json_properties(const struct ctl_property *table, size_t n, const void *obj);
/* The Manager's properties and "Machines": [ each machine ]. */
json_t *ctl_json_snapshot(const struct ctl_snapshot *s);
json_t *ctl_json_machines(const struct ctl_snapshot *s);

/* Prints j (indented, or on one line when compact) and a newline, and
 * drops the reference. -ENOMEM when j is NULL, -EIO when writing fails. */
int ctl_json_print(json_t *j, FILE *f, bool compact);

#endif /* HINTCTL_JSON_OUTPUT_H */
