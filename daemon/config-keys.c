/* config-keys.c - see config-keys.h. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-keys.h"
#include "listen-address.h"
#include "macro.h"
#include "parse.h"
#include "rungs.h"

_printf_(2, 3)
static int why_f(char why[static CONFIG_WHY_MAX], const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, CONFIG_WHY_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Replaces the string *field with a copy of value, or with NULL for "". */
static int set_string(char **field, const char *value) {
	char *v = NULL;

	if (*value) {
		v = strdup(value);
		if (!v)
			return -ENOMEM;
	}
	free(*field);
	*field = v;
	return 0;
}

static int key_uri(const struct config_key *k, const char *value, void *field,
		   char why[static CONFIG_WHY_MAX]) {
	return set_string(field, *value ? value : CONFIG_DEFAULT_URI);
}

static int key_cgroup(const struct config_key *k, const char *value, void *field,
		      char why[static CONFIG_WHY_MAX]) {
	if (*value == '\0')
		return set_string(field, value);
	if (value[0] != '/')
		return why_f(why, "must be an absolute cgroup path, like /machine");
	if (strpbrk(value, " \t"))
		return why_f(why, "must not contain whitespace");
	for (const char *p = value; p; p = strchr(p + 1, '/')) {
		size_t n = strcspn(p + 1, "/");

		if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return why_f(why, "must not contain \".\" or \"..\"");
	}
	return set_string(field, value);
}

static int key_group(const struct config_key *k, const char *value, void *field,
		     char why[static CONFIG_WHY_MAX]) {
	static const char group_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789_.-";

	if (*value && (strlen(value) > 64 || value[0] == '-' ||
		       value[strspn(value, group_chars)] != '\0'))
		return why_f(why, "must be a group name or a numeric GID");
	return set_string(field, value);
}

static int key_listen(const struct config_key *k, const char *value, void *field,
		      char why[static CONFIG_WHY_MAX]) {
	struct listen_address a;

	if (*value && listen_address_parse(value, &a) < 0)
		return why_f(why, "must be ADDRESS:PORT with a literal address, like 127.0.0.1:9848 or [::1]:9848");
	return set_string(field, value);
}

static void format_usec(char *buf, size_t n, long long usec) {
	if (usec % (long long) USEC_PER_SEC == 0)
		snprintf(buf, n, "%llds", usec / (long long) USEC_PER_SEC);
	else if (usec % (long long) USEC_PER_MSEC == 0)
		snprintf(buf, n, "%lldms", usec / (long long) USEC_PER_MSEC);
	else
		snprintf(buf, n, "%lldus", usec);
}

static int key_duration(const struct config_key *k, const char *value, void *field,
			char why[static CONFIG_WHY_MAX]) {
	char lo[32], hi[32];
	uint64_t usec;
	int r;

	r = parse_duration_usec(value, &usec);
	if (r == -ERANGE)
		return why_f(why, "too long");
	if (r < 0)
		return why_f(why, "must be a duration, like 500ms, 2s or 1min");
	if (usec < (uint64_t) k->min || usec > (uint64_t) k->max) {
		format_usec(lo, sizeof lo, k->min);
		format_usec(hi, sizeof hi, k->max);
		return why_f(why, "must be between %s and %s", lo, hi);
	}
	*(usec_t *) field = usec;
	return 0;
}

static int key_size(const struct config_key *k, const char *value, void *field,
		    char why[static CONFIG_WHY_MAX]) {
	uint64_t bytes;
	int r;

	r = parse_size(value, &bytes);
	if (r == -ERANGE)
		return why_f(why, "too large");
	if (r < 0)
		return why_f(why, "must be a size in bytes, or with a unit K, M, G or T, like 512M or 1.5G");
	if (bytes < (uint64_t) k->min)
		return why_f(why, "must be greater than 0");
	*(uint64_t *) field = bytes;
	return 0;
}

static int key_watermark(const struct config_key *k, const char *value, void *field,
			 char why[static CONFIG_WHY_MAX]) {
	struct config_watermark w = { .is_percent = strchr(value, '%') != NULL };
	int r;

	if (w.is_percent)
		r = parse_percent(value, &w.permyriad);
	else
		r = parse_size(value, &w.bytes);
	if (r == -ERANGE)
		return why_f(why, w.is_percent ? "must be between 0%% and 100%%" : "too large");
	if (r < 0)
		return why_f(why, "must be a size, like 512M, or a percent of the budget or of MemTotal, like 5%%");
	*(struct config_watermark *) field = w;
	return 0;
}

/* A number, or a percent turned into the same unit (scale 1: "10%" is 10;
 * scale 100: "75%" is 0.75), between k->dmin and k->dmax. */
static int number_or_percent(const struct config_key *k, const char *value, double scale,
			     double *field, char why[static CONFIG_WHY_MAX]) {
	double v;
	int r;

	if (strchr(value, '%')) {
		unsigned permyriad;

		r = parse_percent(value, &permyriad);
		v = permyriad / 100.0 / scale;
	} else
		r = parse_number(value, &v);
	if (r < 0 || v < k->dmin || v > k->dmax) {
		if (scale == 1)
			return why_f(why, "must be a number between %g and %g", k->dmin, k->dmax);
		return why_f(why, "must be a number between %g and %g, or a percent between %g%% and %g%%",
			     k->dmin, k->dmax, k->dmin * scale, k->dmax * scale);
	}
	*field = v;
	return 0;
}

static int key_percent_limit(const struct config_key *k, const char *value, void *field,
			     char why[static CONFIG_WHY_MAX]) {
	return number_or_percent(k, value, 1, field, why);
}

static int key_fraction(const struct config_key *k, const char *value, void *field,
			char why[static CONFIG_WHY_MAX]) {
	return number_or_percent(k, value, 100, field, why);
}

static int key_rate(const struct config_key *k, const char *value, void *field,
		    char why[static CONFIG_WHY_MAX]) {
	if (parse_number(value, field) < 0)
		return why_f(why, "must be a number of at least 0, like 100 or 0.5");
	return 0;
}

static int key_bool(const struct config_key *k, const char *value, void *field,
		    char why[static CONFIG_WHY_MAX]) {
	int r = parse_boolean(value);

	if (r < 0)
		return why_f(why, "must be a boolean: yes, no, true, false, on, off, 1 or 0");
	*(bool *) field = r;
	return 0;
}

static int key_discard(const struct config_key *k, const char *value, void *field,
		       char why[static CONFIG_WHY_MAX]) {
	if (strcmp(value, "always") == 0)
		*(enum discard_mode *) field = DISCARD_ALWAYS;
	else if (strcmp(value, "on-pressure") == 0)
		*(enum discard_mode *) field = DISCARD_ON_PRESSURE;
	else
		return why_f(why, "must be always or on-pressure");
	return 0;
}

/* An integer between k->min and k->max, parsed as int or unsigned. */
static int integer_in_range(const struct config_key *k, const char *value, bool is_signed,
			    void *field, char why[static CONFIG_WHY_MAX]) {
	long long v;
	int r;

	if (is_signed) {
		int i;

		r = parse_int(value, &i);
		v = i;
	} else {
		unsigned u;

		r = parse_unsigned(value, &u);
		v = u;
	}
	if (r == -EINVAL)
		return why_f(why, "must be a whole number between %lld and %lld", k->min, k->max);
	if (r < 0 || v < k->min || v > k->max)
		return why_f(why, "must be between %lld and %lld", k->min, k->max);
	if (is_signed)
		*(int *) field = (int) v;
	else
		*(unsigned *) field = (unsigned) v;
	return 0;
}

static int key_unsigned(const struct config_key *k, const char *value, void *field,
			char why[static CONFIG_WHY_MAX]) {
	return integer_in_range(k, value, false, field, why);
}

static int key_int(const struct config_key *k, const char *value, void *field,
		   char why[static CONFIG_WHY_MAX]) {
	return integer_in_range(k, value, true, field, why);
}

static int key_reclaim(const struct config_key *k, const char *value, void *field,
		       char why[static CONFIG_WHY_MAX]) {
	if (rungs_from_string(value, field) < 0)
		return why_f(why, "must be a comma-separated list of unused, volatile and balloon, or none");
	return 0;
}

#define HOST(n, p, field, ...)                                                           \
	{ .section = CONFIG_SECTION_HOST, .name = n, .parse = p,                        \
	  .offset = offsetof(struct hintd_config, field),                                \
	  .size = sizeof(((struct hintd_config *) 0)->field), __VA_ARGS__ }
#define POLICY(n, p, field, ...)                                                         \
	{ .section = CONFIG_SECTION_POLICY, .name = n, .parse = p,                      \
	  .offset = offsetof(struct hintd_config, policy.field),                         \
	  .size = sizeof(((struct hintd_config *) 0)->policy.field), __VA_ARGS__ }
#define VM(n, p, key, field, ...)                                                        \
	{ .section = CONFIG_SECTION_VM, .name = n, .parse = p, .vm_key = key,           \
	  .offset = offsetof(struct config_vm, field),                                   \
	  .size = sizeof(((struct config_vm *) 0)->field), __VA_ARGS__ }

const struct config_key config_keys[] = {
	HOST("Uri", key_uri, uri, .parse_empty = true),
	HOST("TickInterval", key_duration, tick_interval_usec,
	     .min = CONFIG_TICK_INTERVAL_MIN_USEC, .max = CONFIG_TICK_INTERVAL_MAX_USEC),
	HOST("Budget", key_size, budget, .min = 1),
	HOST("BudgetCgroup", key_cgroup, budget_cgroup, .parse_empty = true),
	HOST("LowWatermark", key_watermark, low_watermark),
	HOST("HighWatermark", key_watermark, high_watermark),
	HOST("PressureLimit", key_percent_limit, policy.psi_limit, .dmin = 0, .dmax = 100),
	HOST("DryRun", key_bool, dry_run),
	HOST("AdminGroup", key_group, admin_group, .parse_empty = true),
	HOST("MetricsListen", key_listen, metrics_listen, .parse_empty = true),

	POLICY("DiscardUnused", key_discard, discard_unused),
	POLICY("GuestHeadroom", key_size, guest_headroom),
	POLICY("GuestFloor", key_size, guest_floor),
	POLICY("BalloonStep", key_size, balloon_step, .min = 1),
	POLICY("VolatileStep", key_size, volatile_step, .min = 1),
	POLICY("ReverseHoldoff", key_duration, reverse_holdoff, .min = 0, .max = LLONG_MAX),
	POLICY("IdleTax", key_fraction, idle_tax, .dmin = 0, .dmax = 0.99),
	POLICY("GuestPressureLimit", key_percent_limit, guest_psi_limit, .dmin = 0, .dmax = 100),
	POLICY("GuestSwapInLimit", key_rate, guest_swapin_limit),
	POLICY("GuestRefaultLimit", key_rate, guest_refault_limit),

	VM("MinMemory", key_size, CONFIG_VM_MIN_MEMORY, settings.min_memory),
	VM("MaxMemory", key_size, CONFIG_VM_MAX_MEMORY, settings.max_memory),
	VM("Shares", key_unsigned, CONFIG_VM_SHARES, settings.shares, .min = 1, .max = 10000),
	VM("Priority", key_int, CONFIG_VM_PRIORITY, settings.priority, .min = -100, .max = 100),
	VM("Reclaim", key_reclaim, CONFIG_VM_RECLAIM, settings.rungs),
	VM("Manage", key_bool, CONFIG_VM_MANAGE, manage),
	VM("Proactive", key_bool, CONFIG_VM_PROACTIVE, settings.proactive),
};

const size_t config_n_keys = ELEMENTSOF(config_keys);

_Static_assert(ELEMENTSOF(config_keys) <= CONFIG_KEYS_MAX, "the loader has a slot per key");

const char *config_section_name(enum config_section s) {
	static const char *const names[] = {
		[CONFIG_SECTION_HOST] = "Host",
		[CONFIG_SECTION_POLICY] = "Policy",
		[CONFIG_SECTION_VM] = "VM",
	};

	return (size_t) s < ELEMENTSOF(names) ? names[s] : NULL;
}

const struct config_key *config_key_find(enum config_section s, const char *name) {
	for (size_t i = 0; i < config_n_keys; i++)
		if ((s == CONFIG_SECTION_NONE || config_keys[i].section == s) &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}
