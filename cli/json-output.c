/* json-output.c - see json-output.h. */
#include <errno.h>
#include <stdint.h>
#include "json-output.h"
#include "macro.h"

#define CFIELD(obj, p, type) ((const __typeof__(type) *) ((const char *) (obj) + (p)->offset))

static json_t *json_u64(uint64_t v) {
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t) v);
}

static json_t *property_value(const struct ctl_property *p, const void *obj) {
	switch (p->kind) {
	case CTL_PROP_STRING: {
		const char *s = *CFIELD(obj, p, char *);
		return json_string(s ? s : "");
	}
	case CTL_PROP_BOOL:
		return json_boolean(*CFIELD(obj, p, bool));
	case CTL_PROP_SIZE:
	case CTL_PROP_COUNT:
	case CTL_PROP_DURATION:
	case CTL_PROP_TIMESTAMP:
		return json_u64(*CFIELD(obj, p, uint64_t));
	case CTL_PROP_PERCENT:
	case CTL_PROP_RATE:
	case CTL_PROP_DOUBLE:
		return json_real(*CFIELD(obj, p, double));
	case CTL_PROP_U32:
		return json_integer(*CFIELD(obj, p, uint32_t));
	case CTL_PROP_I32:
		return json_integer(*CFIELD(obj, p, int32_t));
	case CTL_PROP_STRV: {
		json_t *a = json_array();

		for (char *const *l = *CFIELD(obj, p, char **); a && l && *l; l++)
			if (json_array_append_new(a, json_string(*l)) < 0) {
				json_decref(a);
				return NULL;
			}
		return a;
	}
	}
	return NULL;
}

json_t *ctl_json_properties(const struct ctl_property *table, size_t n, const void *obj) {
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		if (json_object_set_new(o, table[i].name, property_value(&table[i], obj)) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

json_t *ctl_json_machines(const struct ctl_snapshot *s) {
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->n_machines; i++)
		if (json_array_append_new(a, ctl_json_properties(ctl_machine_properties,
								 ctl_machine_properties_n,
								 &s->machines[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *ctl_json_snapshot(const struct ctl_snapshot *s) {
	json_t *o = ctl_json_properties(ctl_manager_properties, ctl_manager_properties_n,
					&s->manager);

	if (o && json_object_set_new(o, "Machines", ctl_json_machines(s)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int ctl_json_print(json_t *j, FILE *f, bool compact) {
	_cleanup_(json_decrefp) json_t *ref = j;
	size_t flags = JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10) |
		       (compact ? JSON_COMPACT : JSON_INDENT(2));

	if (!j)
		return -ENOMEM;
	if (json_dumpf(j, f, flags) < 0 || fputc('\n', f) == EOF || fflush(f) == EOF)
		return -EIO;
	return 0;
}
