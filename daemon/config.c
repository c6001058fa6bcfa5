/* config.c - see config.h.
 *
 * libinih splits lines into Key=Value pairs and strips comments; the rest is
 * here. inih tells its handler no line numbers and cuts section names at 49
 * bytes, so lines reach it through loader_read_line(), which counts them,
 * reads section headers itself (whole VM names, checked even when the
 * section stays empty) and strips leading whitespace so that nothing becomes
 * a continuation line. Loading stops at the first error. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "parse.h"

enum section_kind {
	SECTION_NONE,		/* before the first header */
	SECTION_HOST,
	SECTION_POLICY,
	SECTION_VM,
};

static const char *const section_names[] = {
	[SECTION_HOST] = "Host",
	[SECTION_POLICY] = "Policy",
	[SECTION_VM] = "VM",
};

/* Where a key was last set, for checks between keys. */
struct origin {
	bool set;
	size_t file;		/* index in loader.paths */
	unsigned line;
	char *value;
};

struct loader;
struct key_def;

typedef int (*key_parser)(struct loader *l, const struct key_def *k, const char *value,
			  void *field);

struct key_def {
	enum section_kind section;
	const char *name;
	key_parser parse;
	size_t offset;		/* in struct hintd_config, or struct config_vm for [VM] */
	size_t size;		/* of the field, to restore its default */
	long long min, max;	/* integers, sizes (min only) and durations */
	double dmin, dmax;	/* numbers */
	enum config_vm_key vm_key;
	bool parse_empty;	/* the parser handles an empty value itself */
};

#define MAX_KEYS 64

struct header {
	char *name;		/* "Host", "VM db-*" */
	unsigned line;
};

struct loader {
	struct hintd_config *config;
	struct hintd_config defaults;	/* scalar fields only: what an empty value restores */

	char **paths;			/* every file read so far */
	size_t n_paths;

	/* The file being read. */
	FILE *f;
	unsigned line;
	char *buf;
	size_t buf_size;
	int read_error;			/* errno of a failed read */
	struct header *headers;		/* this file's section headers */
	size_t n_headers;

	/* The section being read. */
	enum section_kind section;
	size_t vm;			/* index in config->vms */
	uint64_t keys_seen;		/* bits: indexes in keys[] set in this section */
	unsigned key_line[MAX_KEYS];

	struct origin budget, budget_cgroup, low_watermark, high_watermark;

	char *error;			/* the first error; loading stops there */
	unsigned error_line;
	bool oom;
};

static void *mfree(void *p) {
	free(p);
	return NULL;
}

static bool loader_failed(const struct loader *l) {
	return l->error || l->oom;
}

/* Records "path:line: Key=value: message" (or without Key=value) as the
 * error, if it is the first; returns -EINVAL. */
_printf_(6, 0)
static int loader_verror(struct loader *l, size_t file, unsigned line, const char *key,
			 const char *value, const char *fmt, va_list ap) {
	_cleanup_free_ char *msg = NULL;
	int r;

	if (loader_failed(l))
		return -EINVAL;
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL;
		l->oom = true;
		return -ENOMEM;
	}
	if (line == 0)
		r = asprintf(&l->error, "%s: %s", l->paths[file], msg);
	else if (key)
		r = asprintf(&l->error, "%s:%u: %s=%s: %s", l->paths[file], line, key, value, msg);
	else
		r = asprintf(&l->error, "%s:%u: %s", l->paths[file], line, msg);
	if (r < 0) {
		l->error = NULL;
		l->oom = true;
		return -ENOMEM;
	}
	l->error_line = line;
	return -EINVAL;
}

_printf_(4, 5)
static int loader_error(struct loader *l, const char *key, const char *value, const char *fmt,
			...) {
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = loader_verror(l, l->n_paths - 1, l->line, key, value, fmt, ap);
	va_end(ap);
	return r;
}

_printf_(4, 5)
static int loader_error_at(struct loader *l, const struct origin *o, const char *key,
			   const char *fmt, ...) {
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = loader_verror(l, o->file, o->line, key, o->value, fmt, ap);
	va_end(ap);
	return r;
}

#define key_error(l, k, value, ...) loader_error((l), (k)->name, (value), __VA_ARGS__)

static int loader_oom(struct loader *l) {
	l->oom = true;
	return -ENOMEM;
}

static void origin_clear(struct origin *o) {
	o->set = false;
	o->value = mfree(o->value);
}

static int origin_set(struct loader *l, struct origin *o, const char *value) {
	char *v;

	if (*value == '\0') {
		origin_clear(o);
		return 0;
	}
	v = strdup(value);
	if (!v)
		return loader_oom(l);
	free(o->value);
	*o = (struct origin) { .set = true, .file = l->n_paths - 1, .line = l->line, .value = v };
	return 0;
}

/* The origin set later in the files; a (set or not). */
static const struct origin *origin_later(const struct origin *a, const struct origin *b) {
	if (!b->set)
		return a;
	if (!a->set)
		return b;
	if (a->file != b->file)
		return a->file > b->file ? a : b;
	return a->line > b->line ? a : b;
}

static struct config_vm *loader_vm(struct loader *l) {
	return &l->config->vms[l->vm];
}

/* The field a key sets, in the configuration or in the current VM section. */
static void *key_field(struct loader *l, const struct key_def *k) {
	if (k->section == SECTION_VM)
		return (char *) loader_vm(l) + k->offset;
	return (char *) l->config + k->offset;
}

static void format_usec(char *buf, size_t n, long long usec) {
	if (usec % (long long) USEC_PER_SEC == 0)
		snprintf(buf, n, "%llds", usec / (long long) USEC_PER_SEC);
	else if (usec % (long long) USEC_PER_MSEC == 0)
		snprintf(buf, n, "%lldms", usec / (long long) USEC_PER_MSEC);
	else
		snprintf(buf, n, "%lldus", usec);
}

/* Key parsers: set *field from a non-empty value (or an empty one when the
 * key says parse_empty), or record an error. */

static int key_uri(struct loader *l, const struct key_def *k, const char *value, void *field) {
	char **s = field, *v;

	v = strdup(*value ? value : CONFIG_DEFAULT_URI);
	if (!v)
		return loader_oom(l);
	free(*s);
	*s = v;
	return 0;
}

static int key_cgroup(struct loader *l, const struct key_def *k, const char *value, void *field) {
	char **s = field, *v = NULL;

	if (*value) {
		if (value[0] != '/')
			return key_error(l, k, value, "must be an absolute cgroup path, like /machine");
		for (const char *p = value; *p; p++)
			if (*p == ' ' || *p == '\t')
				return key_error(l, k, value, "must not contain whitespace");
		for (const char *p = value; p; p = strchr(p + 1, '/')) {
			size_t n = strcspn(p + 1, "/");

			if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
				return key_error(l, k, value, "must not contain \".\" or \"..\"");
		}
		v = strdup(value);
		if (!v)
			return loader_oom(l);
	}
	if (origin_set(l, &l->budget_cgroup, value) < 0) {
		free(v);
		return -ENOMEM;
	}
	free(*s);
	*s = v;
	return 0;
}

static int key_group(struct loader *l, const struct key_def *k, const char *value, void *field) {
	char **s = field, *v = NULL;

	if (*value) {
		if (strlen(value) > 64 || value[0] == '-' ||
		    value[strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789_.-")] != '\0')
			return key_error(l, k, value, "must be a group name or a numeric GID");
		v = strdup(value);
		if (!v)
			return loader_oom(l);
	}
	free(*s);
	*s = v;
	return 0;
}

static int key_duration(struct loader *l, const struct key_def *k, const char *value,
			void *field) {
	char lo[32], hi[32];
	uint64_t usec;
	int r;

	r = parse_duration_usec(value, &usec);
	if (r == -ERANGE)
		return key_error(l, k, value, "too long");
	if (r < 0)
		return key_error(l, k, value, "must be a duration, like 500ms, 2s or 1min");
	if (usec < (uint64_t) k->min || usec > (uint64_t) k->max) {
		format_usec(lo, sizeof lo, k->min);
		format_usec(hi, sizeof hi, k->max);
		return key_error(l, k, value, "must be between %s and %s", lo, hi);
	}
	*(usec_t *) field = usec;
	return 0;
}

static int key_size(struct loader *l, const struct key_def *k, const char *value, void *field) {
	uint64_t bytes;
	int r;

	r = parse_size(value, &bytes);
	if (r == -ERANGE)
		return key_error(l, k, value, "too large");
	if (r < 0)
		return key_error(l, k, value, "must be a size in bytes, or with a unit K, M, G or T, like 512M or 1.5G");
	if (bytes < (uint64_t) k->min)
		return key_error(l, k, value, "must be greater than 0");
	*(uint64_t *) field = bytes;
	return 0;
}

static int key_budget(struct loader *l, const struct key_def *k, const char *value, void *field) {
	int r;

	if (*value == '\0') {
		*(uint64_t *) field = 0;
		origin_clear(&l->budget);
		return 0;
	}
	r = key_size(l, k, value, field);
	if (r < 0)
		return r;
	return origin_set(l, &l->budget, value);
}

static int key_watermark(struct loader *l, const struct key_def *k, const char *value,
			 void *field) {
	struct config_watermark w = { .is_percent = strchr(value, '%') != NULL };
	bool high = field == &l->config->high_watermark;
	int r;

	if (*value == '\0') {
		*(struct config_watermark *) field = high ? l->defaults.high_watermark :
							    l->defaults.low_watermark;
		origin_clear(high ? &l->high_watermark : &l->low_watermark);
		return 0;
	}
	if (w.is_percent)
		r = parse_percent(value, &w.permyriad);
	else
		r = parse_size(value, &w.bytes);
	if (r == -ERANGE)
		return key_error(l, k, value, w.is_percent ? "must be between 0%% and 100%%" : "too large");
	if (r < 0)
		return key_error(l, k, value, "must be a size, like 512M, or a percent of the budget or of MemTotal, like 5%%");
	*(struct config_watermark *) field = w;
	return origin_set(l, high ? &l->high_watermark : &l->low_watermark, value);
}

/* A number, or a percent turned into the same unit (scale 1: "10%" is 10;
 * scale 100: "75%" is 0.75), between k->dmin and k->dmax. */
static int number_or_percent(struct loader *l, const struct key_def *k, const char *value,
			     double scale, double *ret) {
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
			return key_error(l, k, value, "must be a number between %g and %g", k->dmin,
					 k->dmax);
		return key_error(l, k, value, "must be a number between %g and %g, or a percent between %g%% and %g%%",
				 k->dmin, k->dmax, k->dmin * scale, k->dmax * scale);
	}
	*ret = v;
	return 0;
}

static int key_percent_limit(struct loader *l, const struct key_def *k, const char *value,
			     void *field) {
	return number_or_percent(l, k, value, 1, field);
}

static int key_fraction(struct loader *l, const struct key_def *k, const char *value,
			void *field) {
	return number_or_percent(l, k, value, 100, field);
}

static int key_rate(struct loader *l, const struct key_def *k, const char *value, void *field) {
	double v;
	int r;

	r = parse_number(value, &v);
	if (r < 0)
		return key_error(l, k, value, "must be a number of at least 0, like 100 or 0.5");
	*(double *) field = v;
	return 0;
}

static int key_bool(struct loader *l, const struct key_def *k, const char *value, void *field) {
	int r;

	r = parse_boolean(value);
	if (r < 0)
		return key_error(l, k, value, "must be a boolean: yes, no, true, false, on, off, 1 or 0");
	*(bool *) field = r;
	return 0;
}

static int key_discard(struct loader *l, const struct key_def *k, const char *value,
		       void *field) {
	if (strcmp(value, "always") == 0)
		*(enum discard_mode *) field = DISCARD_ALWAYS;
	else if (strcmp(value, "on-pressure") == 0)
		*(enum discard_mode *) field = DISCARD_ON_PRESSURE;
	else
		return key_error(l, k, value, "must be always or on-pressure");
	return 0;
}

static int key_unsigned(struct loader *l, const struct key_def *k, const char *value,
			void *field) {
	unsigned v;
	int r;

	r = parse_unsigned(value, &v);
	if (r == -EINVAL)
		return key_error(l, k, value, "must be a whole number between %lld and %lld", k->min,
				 k->max);
	if (r < 0 || v < k->min || v > k->max)
		return key_error(l, k, value, "must be between %lld and %lld", k->min, k->max);
	*(unsigned *) field = v;
	return 0;
}

static int key_int(struct loader *l, const struct key_def *k, const char *value, void *field) {
	int v, r;

	r = parse_int(value, &v);
	if (r == -EINVAL)
		return key_error(l, k, value, "must be a whole number between %lld and %lld", k->min,
				 k->max);
	if (r < 0 || v < k->min || v > k->max)
		return key_error(l, k, value, "must be between %lld and %lld", k->min, k->max);
	*(int *) field = v;
	return 0;
}

static int key_reclaim(struct loader *l, const struct key_def *k, const char *value,
		       void *field) {
	unsigned rungs;

	if (rungs_from_string(value, &rungs) < 0)
		return key_error(l, k, value, "must be a comma-separated list of unused, volatile and balloon, or none");
	*(unsigned *) field = rungs;
	return 0;
}

#define HOST(n, p, field, ...)                                                           \
	{ .section = SECTION_HOST, .name = n, .parse = p,                               \
	  .offset = offsetof(struct hintd_config, field),                                \
	  .size = sizeof(((struct hintd_config *) 0)->field), __VA_ARGS__ }
#define POLICY(n, p, field, ...)                                                         \
	{ .section = SECTION_POLICY, .name = n, .parse = p,                             \
	  .offset = offsetof(struct hintd_config, policy.field),                         \
	  .size = sizeof(((struct hintd_config *) 0)->policy.field), __VA_ARGS__ }
#define VM(n, p, key, field, ...)                                                        \
	{ .section = SECTION_VM, .name = n, .parse = p, .vm_key = key,                  \
	  .offset = offsetof(struct config_vm, field),                                   \
	  .size = sizeof(((struct config_vm *) 0)->field), __VA_ARGS__ }

static const struct key_def keys[] = {
	HOST("Uri", key_uri, uri, .parse_empty = true),
	HOST("TickInterval", key_duration, tick_interval_usec,
	     .min = CONFIG_TICK_INTERVAL_MIN_USEC, .max = CONFIG_TICK_INTERVAL_MAX_USEC),
	HOST("Budget", key_budget, budget, .min = 1, .parse_empty = true),
	HOST("BudgetCgroup", key_cgroup, budget_cgroup, .parse_empty = true),
	HOST("LowWatermark", key_watermark, low_watermark, .parse_empty = true),
	HOST("HighWatermark", key_watermark, high_watermark, .parse_empty = true),
	HOST("PressureLimit", key_percent_limit, policy.psi_limit, .dmin = 0, .dmax = 100),
	HOST("DryRun", key_bool, dry_run),
	HOST("AdminGroup", key_group, admin_group, .parse_empty = true),

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
};

_Static_assert(ELEMENTSOF(keys) <= MAX_KEYS, "loader.keys_seen has a bit per key");

static const struct key_def *key_find(enum section_kind section, const char *name) {
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (keys[i].section == section && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static const char *section_display(enum section_kind s) {
	return s == SECTION_VM ? "VM name" : section_names[s];
}

/* Checks between keys, once a section is complete. */
static int loader_end_section(struct loader *l) {
	struct hintd_config *c = l->config;

	if (loader_failed(l))
		return -EINVAL;

	if (l->section == SECTION_HOST) {
		const struct config_watermark *lo = &c->low_watermark, *hi = &c->high_watermark;

		if (c->budget > 0 && c->budget_cgroup) {
			const struct origin *o = origin_later(&l->budget, &l->budget_cgroup);
			const struct origin *other = o == &l->budget ? &l->budget_cgroup : &l->budget;

			return loader_error_at(l, o, o == &l->budget ? "Budget" : "BudgetCgroup",
					       "%s= is set too (%s:%u); use one or the other",
					       o == &l->budget ? "BudgetCgroup" : "Budget",
					       l->paths[other->file], other->line);
		}
		if (lo->is_percent == hi->is_percent &&
		    (lo->is_percent ? hi->permyriad <= lo->permyriad : hi->bytes <= lo->bytes)) {
			const struct origin *o = origin_later(&l->low_watermark, &l->high_watermark);
			bool is_high = o == &l->high_watermark;
			const struct origin *other = is_high ? &l->low_watermark : &l->high_watermark;
			char other_at[PATH_MAX + 32] = "the default";

			if (other->set)
				snprintf(other_at, sizeof other_at, "%s:%u", l->paths[other->file],
					 other->line);
			if (is_high)
				return loader_error_at(l, o, "HighWatermark",
						       "must be greater than LowWatermark= (%s)",
						       other_at);
			return loader_error_at(l, o, "LowWatermark",
					       "must be less than HighWatermark= (%s)", other_at);
		}
	}

	if (l->section == SECTION_VM) {
		const struct config_vm *v = loader_vm(l);
		size_t imin = key_find(SECTION_VM, "MinMemory") - keys;
		size_t imax = key_find(SECTION_VM, "MaxMemory") - keys;
		unsigned both = CONFIG_VM_BIT(CONFIG_VM_MIN_MEMORY) | CONFIG_VM_BIT(CONFIG_VM_MAX_MEMORY);

		if ((v->set & both) == both && v->settings.max_memory > 0 &&
		    v->settings.min_memory > v->settings.max_memory &&
		    (l->keys_seen & ((UINT64_C(1) << imin) | (UINT64_C(1) << imax)))) {
			unsigned line_min = (l->keys_seen >> imin) & 1 ? l->key_line[imin] : 0;
			unsigned line_max = (l->keys_seen >> imax) & 1 ? l->key_line[imax] : 0;
			struct origin o = { .set = true, .file = l->n_paths - 1,
					    .line = MAX(line_min, line_max), .value = (char *) "" };

			return loader_error_at(l, &o, NULL,
					       "[VM %s]: MinMemory= is larger than MaxMemory=",
					       v->pattern);
		}
	}
	return 0;
}

static int loader_add_vm(struct loader *l, const char *pattern, size_t *ret) {
	struct hintd_config *c = l->config;
	struct config_vm *vms;
	char *p;

	for (size_t i = 0; i < c->n_vms; i++)
		if (strcmp(c->vms[i].pattern, pattern) == 0) {
			*ret = i;
			return 0;
		}

	p = strdup(pattern);
	vms = p ? reallocarray(c->vms, c->n_vms + 1, sizeof *vms) : NULL;
	if (!vms) {
		free(p);
		return loader_oom(l);
	}
	c->vms = vms;
	vms[c->n_vms] = (struct config_vm) { .pattern = p, .manage = true };
	vm_settings_init(&vms[c->n_vms].settings);
	*ret = c->n_vms++;
	return 0;
}

static char *strip(char *s) {
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* A "[...]" line: starts a section. */
static int loader_section(struct loader *l, const char *line) {
	_cleanup_free_ char *copy = strdup(line), *header = NULL;
	enum section_kind kind;
	struct header *headers;
	char *name, *end, *rest;
	size_t vm = 0;
	int r;

	if (!copy)
		return loader_oom(l);
	r = loader_end_section(l);
	if (r < 0)
		return r;

	end = strchr(copy, ']');
	if (!end)
		return loader_error(l, NULL, NULL, "section header without ']'");
	*end = '\0';
	rest = end + 1;
	rest += strspn(rest, " \t\r\n");
	if (*rest != '\0' && *rest != '#' && *rest != ';')
		return loader_error(l, NULL, NULL, "unexpected text after the section header");
	name = strip(copy + 1);

	if (strcmp(name, "Host") == 0)
		kind = SECTION_HOST;
	else if (strcmp(name, "Policy") == 0)
		kind = SECTION_POLICY;
	else if (strncmp(name, "VM", 2) == 0 && (name[2] == '\0' || name[2] == ' ' || name[2] == '\t')) {
		char *pattern = strip(name + 2);

		if (*pattern == '\0')
			return loader_error(l, NULL, NULL,
					    "[VM] needs a domain name or a pattern, like [VM web] or [VM db-*]");
		if (strlen(pattern) >= sizeof(((struct vm_state *) 0)->name))
			return loader_error(l, NULL, NULL, "[VM %s]: name longer than %zu characters",
					    pattern, sizeof(((struct vm_state *) 0)->name) - 1);
		if (strchr(pattern, '/'))
			return loader_error(l, NULL, NULL,
					    "[VM %s]: domain names cannot contain '/'", pattern);
		r = loader_add_vm(l, pattern, &vm);
		if (r < 0)
			return r;
		kind = SECTION_VM;
		name = pattern;
	} else
		return loader_error(l, NULL, NULL,
				    "unknown section [%s]; sections are [Host], [Policy] and [VM name]",
				    name);

	if (asprintf(&header, "%s%s%s", section_names[kind], kind == SECTION_VM ? " " : "",
		     kind == SECTION_VM ? name : "") < 0) {
		header = NULL;
		return loader_oom(l);
	}
	for (size_t i = 0; i < l->n_headers; i++)
		if (strcmp(l->headers[i].name, header) == 0)
			return loader_error(l, NULL, NULL,
					    "section [%s] appears twice in this file (first at line %u)",
					    header, l->headers[i].line);
	headers = reallocarray(l->headers, l->n_headers + 1, sizeof *headers);
	if (!headers)
		return loader_oom(l);
	l->headers = headers;
	headers[l->n_headers++] = (struct header) { .name = TAKE_PTR(header), .line = l->line };

	l->section = kind;
	l->vm = vm;
	l->keys_seen = 0;
	return 0;
}

/* inih's fgets(): hands it one line at a time, never a partial one. */
static char *loader_read_line(char *str, int num, void *userdata) {
	struct loader *l = userdata;
	ssize_t n;
	char *p;

	if (loader_failed(l))
		return NULL;

	errno = 0;
	n = getline(&l->buf, &l->buf_size, l->f);
	if (n < 0) {
		if (errno == ENOMEM)
			l->oom = true;
		else if (ferror(l->f))
			l->read_error = errno ? errno : EIO;
		return NULL;
	}
	l->line++;

	if (memchr(l->buf, '\0', n)) {
		loader_error(l, NULL, NULL, "contains a NUL byte");
		return NULL;
	}
	p = l->buf;
	if (l->line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	/* No continuation lines: an indented Key=Value is just a Key=Value. */
	p += strspn(p, " \t\r\v\f");

	/* Comments may be long; inih only needs to see one. */
	if (*p == '#' || *p == ';')
		p = (char *) "#\n";
	else if (strlen(p) + 1 >= (size_t) num) {
		loader_error(l, NULL, NULL, "line longer than %d characters", num - 3);
		return NULL;
	} else if (*p == '[' && loader_section(l, p) < 0)
		return NULL;

	memcpy(str, p, strlen(p) + 1);
	return str;
}

/* Any section's key with this name, to say where a misplaced key belongs. */
static const struct key_def *key_find_any(const char *name) {
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* One Key=Value line of the current section. */
static int loader_key(struct loader *l, const char *name, const char *value) {
	const struct key_def *k, *elsewhere;
	size_t index;
	void *field;

	if (*name == '\0')
		return loader_error(l, NULL, NULL, "missing key name before '='");

	elsewhere = key_find_any(name);
	if (l->section == SECTION_NONE) {
		if (elsewhere)
			return key_error(l, elsewhere, value, "outside of any section; it belongs in [%s]",
					 section_display(elsewhere->section));
		return loader_error(l, name, value, "outside of any section");
	}

	k = key_find(l->section, name);
	if (!k) {
		const char *header = l->headers[l->n_headers - 1].name;

		if (elsewhere)
			return key_error(l, elsewhere, value, "unknown key in [%s]; it belongs in [%s]",
					 header, section_display(elsewhere->section));
		return loader_error(l, name, value, "unknown key in [%s]", header);
	}

	index = k - keys;
	if (l->keys_seen & (UINT64_C(1) << index))
		return key_error(l, k, value, "already set in this section at line %u",
				 l->key_line[index]);
	l->keys_seen |= UINT64_C(1) << index;
	l->key_line[index] = l->line;

	field = key_field(l, k);
	if (*value == '\0' && !k->parse_empty) {
		/* An empty value restores the default: for a VM section, the key is
		 * no longer set there and comes from a wider section. */
		if (k->section == SECTION_VM) {
			struct config_vm def = { .manage = true };

			vm_settings_init(&def.settings);
			memcpy(field, (char *) &def + k->offset, k->size);
			loader_vm(l)->set &= ~CONFIG_VM_BIT(k->vm_key);
		} else
			memcpy(field, (char *) &l->defaults + k->offset, k->size);
		return 0;
	}

	if (k->parse(l, k, value, field) < 0)
		return -EINVAL;
	if (k->section == SECTION_VM)
		loader_vm(l)->set |= CONFIG_VM_BIT(k->vm_key);
	return 0;
}

/* inih's handler: nonzero when the line is good. The section comes from our
 * own reading of the headers, not inih's (which may be cut short). */
static int loader_handle(void *userdata, const char *section, const char *name,
			 const char *value) {
	struct loader *l = userdata;

	if (loader_failed(l))
		return 0;
	return loader_key(l, name, value) >= 0;
}

static void loader_done(struct loader *l) {
	for (size_t i = 0; i < l->n_paths; i++)
		free(l->paths[i]);
	free(l->paths);
	for (size_t i = 0; i < l->n_headers; i++)
		free(l->headers[i].name);
	free(l->headers);
	free(l->buf);
	origin_clear(&l->budget);
	origin_clear(&l->budget_cgroup);
	origin_clear(&l->low_watermark);
	origin_clear(&l->high_watermark);
	free(l->error);
}

static int loader_add_path(struct loader *l, const char *path) {
	char **paths, *p;

	p = strdup(path);
	paths = p ? reallocarray(l->paths, l->n_paths + 1, sizeof *paths) : NULL;
	if (!paths) {
		free(p);
		return loader_oom(l);
	}
	l->paths = paths;
	paths[l->n_paths++] = p;
	return 0;
}

/* Reads one file: 1 when read, 0 when missing and missing_ok. */
static int loader_read_file(struct loader *l, const char *path, bool missing_ok) {
	_cleanup_fclose_ FILE *f = NULL;
	struct stat st;
	int r;

	r = loader_add_path(l, path);
	if (r < 0)
		return r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		if (r == -ENOENT && missing_ok) {
			free(l->paths[--l->n_paths]);
			return 0;
		}
		return loader_error(l, NULL, NULL, "cannot open: %s", strerror(-r)), r;
	}
	if (fstat(fileno(f), &st) < 0) {
		r = -errno;
		return loader_error(l, NULL, NULL, "cannot stat: %s", strerror(-r)), r;
	}
	if (S_ISDIR(st.st_mode))
		return loader_error(l, NULL, NULL, "is a directory"), -EISDIR;

	l->f = f;
	l->line = 0;
	l->read_error = 0;
	l->section = SECTION_NONE;
	l->keys_seen = 0;
	for (size_t i = 0; i < l->n_headers; i++)
		free(l->headers[i].name);
	l->n_headers = 0;

	r = ini_parse_stream(loader_read_line, l, loader_handle, l);
	l->f = NULL;
	if (l->oom || r == -2)
		return loader_oom(l);
	if (r > 0 && (!l->error || (unsigned) r < l->error_line)) {
		/* inih found a line that is no section, no Key=Value and no
		 * comment, before any error of ours. */
		l->error = mfree(l->error);
		l->line = r;
		return loader_error(l, NULL, NULL,
				    "syntax error: expected [Section], Key=Value or a # comment");
	}
	if (l->error)
		return -EINVAL;
	if (l->read_error) {
		l->line = 0;
		return loader_error(l, NULL, NULL, "read error: %s", strerror(l->read_error)),
		       -l->read_error;
	}
	r = loader_end_section(l);
	return r < 0 ? r : 1;
}

static int compare_names(const void *a, const void *b) {
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void free_names(char **names, size_t n) {
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* dir/NAME.conf for every NAME.conf in dir, sorted by NAME. */
static int list_dropins(struct loader *l, const char *dir, char ***ret, size_t *ret_n) {
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			*ret = NULL;
			*ret_n = 0;
			return 0;
		}
		r = -errno;
		if (loader_add_path(l, dir) < 0)
			return -ENOMEM;
		return loader_error(l, NULL, NULL, "cannot open directory: %s", strerror(-r)), r;
	}

	while ((errno = 0, de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **more;

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		more = reallocarray(names, n + 1, sizeof *names);
		if (!more || asprintf(&more[n], "%s/%s", dir, de->d_name) < 0) {
			names = more ? more : names;
			r = loader_oom(l);
			goto fail;
		}
		names = more;
		n++;
	}
	if (errno) {
		r = -errno;
		if (loader_add_path(l, dir) < 0)
			r = -ENOMEM;
		else
			loader_error(l, NULL, NULL, "cannot read directory: %s", strerror(-r));
		goto fail;
	}
	closedir(d);

	qsort(names, n, sizeof *names, compare_names);
	*ret = names;
	*ret_n = n;
	return 0;

fail:
	closedir(d);
	free_names(names, n);
	return r;
}

static int config_new(struct hintd_config **ret) {
	struct hintd_config *c;

	c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->uri = strdup(CONFIG_DEFAULT_URI);
	if (!c->uri) {
		free(c);
		return -ENOMEM;
	}
	c->tick_interval_usec = CONFIG_DEFAULT_TICK_INTERVAL_USEC;
	c->low_watermark = (struct config_watermark) {
		.is_percent = true, .permyriad = CONFIG_DEFAULT_LOW_WATERMARK_PERMYRIAD };
	c->high_watermark = (struct config_watermark) {
		.is_percent = true, .permyriad = CONFIG_DEFAULT_HIGH_WATERMARK_PERMYRIAD };
	policy_config_init(&c->policy);
	c->policy.psi_limit = CONFIG_DEFAULT_PRESSURE_LIMIT;
	*ret = c;
	return 0;
}

int config_load(const char *main_path, const char *dropin_dir, struct hintd_config **ret,
		char **ret_error) {
	_cleanup_config_free_ struct hintd_config *c = NULL;
	struct loader l = {};
	char **dropins = NULL;
	size_t n_dropins = 0;
	int r;

	r = config_new(&c);
	if (r < 0)
		goto finish;
	l.config = c;
	l.defaults = *c;
	l.defaults.uri = NULL;

	if (main_path) {
		r = loader_read_file(&l, main_path, true);
		if (r < 0)
			goto finish;
		if (r == 0)
			log_info("%s does not exist, using built-in defaults.", main_path);
	}

	if (dropin_dir) {
		r = list_dropins(&l, dropin_dir, &dropins, &n_dropins);
		if (r < 0)
			goto finish;
		for (size_t i = 0; i < n_dropins; i++) {
			/* One removed since it was listed is as if it had not been there. */
			r = loader_read_file(&l, dropins[i], true);
			if (r < 0)
				goto finish;
		}
	}
	r = 0;

finish:
	free_names(dropins, n_dropins);
	if (r < 0) {
		if (l.oom)
			r = -ENOMEM;
		if (ret_error)
			*ret_error = l.error ? TAKE_PTR(l.error) :
				     r == -ENOMEM ? NULL : strdup(strerror(-r));
		loader_done(&l);
		return r;
	}
	loader_done(&l);
	*ret = TAKE_PTR(c);
	return 0;
}

static uint64_t watermark_bytes(const struct config_watermark *w, uint64_t total) {
	if (!w->is_percent)
		return w->bytes;
	/* total * permyriad / 10000 without overflowing. */
	return total / 10000 * w->permyriad + total % 10000 * w->permyriad / 10000;
}

int config_resolve_watermarks(const struct hintd_config *c, uint64_t total_bytes,
			      uint64_t *ret_low, uint64_t *ret_high) {
	uint64_t low = watermark_bytes(&c->low_watermark, total_bytes);
	uint64_t high = watermark_bytes(&c->high_watermark, total_bytes);

	if (low >= high)
		return -EINVAL;
	*ret_low = low;
	*ret_high = high;
	return 0;
}

int config_resolve_policy(const struct hintd_config *c, uint64_t total_bytes,
			  struct policy_config *ret) {
	struct policy_config p = c->policy;
	int r;

	r = config_resolve_watermarks(c, total_bytes, &p.low_watermark, &p.high_watermark);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

static bool pattern_is_glob(const char *pattern) {
	return strpbrk(pattern, "*?[") != NULL;
}

static void vm_apply(const struct config_vm *v, struct vm_settings *s, bool *manage) {
	if (v->set & CONFIG_VM_BIT(CONFIG_VM_MIN_MEMORY))
		s->min_memory = v->settings.min_memory;
	if (v->set & CONFIG_VM_BIT(CONFIG_VM_MAX_MEMORY))
		s->max_memory = v->settings.max_memory;
	if (v->set & CONFIG_VM_BIT(CONFIG_VM_SHARES))
		s->shares = v->settings.shares;
	if (v->set & CONFIG_VM_BIT(CONFIG_VM_PRIORITY))
		s->priority = v->settings.priority;
	if (v->set & CONFIG_VM_BIT(CONFIG_VM_RECLAIM))
		s->rungs = v->settings.rungs;
	if (v->set & CONFIG_VM_BIT(CONFIG_VM_MANAGE))
		*manage = v->manage;
}

void config_vm_settings(const struct hintd_config *c, const char *vm_name,
			struct vm_settings *ret, bool *ret_manage) {
	struct vm_settings s;
	bool manage = true;

	vm_settings_init(&s);
	for (size_t i = 0; i < c->n_vms; i++)
		if (strcmp(c->vms[i].pattern, "*") == 0)
			vm_apply(&c->vms[i], &s, &manage);
	for (size_t i = 0; i < c->n_vms; i++) {
		const char *p = c->vms[i].pattern;

		if (strcmp(p, "*") != 0 && pattern_is_glob(p) && fnmatch(p, vm_name, 0) == 0)
			vm_apply(&c->vms[i], &s, &manage);
	}
	for (size_t i = 0; i < c->n_vms; i++) {
		const char *p = c->vms[i].pattern;

		if (!pattern_is_glob(p) && strcmp(p, vm_name) == 0)
			vm_apply(&c->vms[i], &s, &manage);
	}

	*ret = s;
	if (ret_manage)
		*ret_manage = manage;
}

void config_free(struct hintd_config *c) {
	if (!c)
		return;
	free(c->uri);
	free(c->budget_cgroup);
	free(c->admin_group);
	for (size_t i = 0; i < c->n_vms; i++)
		free(c->vms[i].pattern);
	free(c->vms);
	free(c);
}
