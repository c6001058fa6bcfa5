/* args.c - see args.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "args.h"
#include "macro.h"
#include "parse.h"

int ctl_rungs_parse(const char *s, unsigned *ret) {
	return rungs_parse(s, RUNGS_PARSE_LENIENT, ret);
}

static int fail(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(ret_error, fmt, ap) < 0)
		*ret_error = NULL;
	va_end(ap);
	return -EINVAL;
}

static int parse_memory(const char *v, uint64_t *ret) {
	if (strcasecmp(v, "none") == 0) {
		*ret = 0;
		return 0;
	}
	return parse_size(v, ret);
}

/* The has_ flag of setting key (any case) in s; NULL for no such setting. */
static bool *setting_flag(struct ctl_settings *s, const char *key) {
	if (strcasecmp(key, "MinMemory") == 0)
		return &s->has_min_memory;
	if (strcasecmp(key, "MaxMemory") == 0)
		return &s->has_max_memory;
	if (strcasecmp(key, "Shares") == 0)
		return &s->has_shares;
	if (strcasecmp(key, "Priority") == 0)
		return &s->has_priority;
	if (strcasecmp(key, "Reclaim") == 0)
		return &s->has_reclaim;
	if (strcasecmp(key, "Manage") == 0)
		return &s->has_manage;
	if (strcasecmp(key, "Proactive") == 0)
		return &s->has_proactive;
	return NULL;
}

/* The value v of setting has (a flag of s) from argument arg. */
static int parse_setting_value(struct ctl_settings *s, const bool *has, const char *arg,
			       const char *v, char **ret_error) {
	unsigned u;
	int i, r;

	if (has == &s->has_min_memory || has == &s->has_max_memory) {
		bool min = has == &s->has_min_memory;

		if (parse_memory(v, min ? &s->min_memory : &s->max_memory) < 0)
			return fail(ret_error, "'%s': %s must be a size such as 512M or 4G "
				    "(0 or none to unset)", arg, min ? "MinMemory" : "MaxMemory");
	} else if (has == &s->has_shares) {
		r = parse_unsigned(v, &u);
		if (r < 0 || u < CTL_SHARES_MIN || u > CTL_SHARES_MAX)
			return fail(ret_error, "'%s': Shares must be an integer %d..%d",
				    arg, CTL_SHARES_MIN, CTL_SHARES_MAX);
		s->shares = u;
	} else if (has == &s->has_priority) {
		r = parse_int(v, &i);
		if (r < 0 || i < CTL_PRIORITY_MIN || i > CTL_PRIORITY_MAX)
			return fail(ret_error, "'%s': Priority must be an integer %d..%d",
				    arg, CTL_PRIORITY_MIN, CTL_PRIORITY_MAX);
		s->priority = i;
	} else if (has == &s->has_reclaim) {
		r = ctl_rungs_parse(v, &s->reclaim);
		if (r < 0)
			return fail(ret_error, "'%s': Reclaim must be a comma-separated list of "
				    "unused, volatile, balloon, or none", arg);
	} else {	/* Manage, Proactive */
		bool manage = has == &s->has_manage;

		r = parse_boolean(v);
		if (r < 0)
			return fail(ret_error, "'%s': %s must be yes or no", arg, manage ? "Manage" : "Proactive");
		*(manage ? &s->manage : &s->proactive) = r;
	}
	return 0;
}

/* One KEY=VALUE argument into s. */
static int parse_setting(struct ctl_settings *s, const char *arg, char **ret_error) {
	const char *eq = strchr(arg, '=');
	_cleanup_free_ char *key = NULL;
	bool *has;
	int r;

	if (!eq || eq == arg)
		return fail(ret_error, "'%s': expected KEY=VALUE", arg);
	key = strndup(arg, (size_t) (eq - arg));
	if (!key)
		return -ENOMEM;
	has = setting_flag(s, key);
	if (!has)
		return fail(ret_error, "'%s': unknown setting '%s' (MinMemory, MaxMemory, "
			    "Shares, Priority, Reclaim, Manage, Proactive)", arg, key);
	if (*has)
		return fail(ret_error, "'%s': %s given twice", arg, key);
	r = parse_setting_value(s, has, arg, eq + 1, ret_error);
	if (r < 0)
		return r;
	*has = true;
	return 0;
}

int ctl_settings_parse(char *const *args, size_t n_args, struct ctl_settings *ret, char **ret_error) {
	struct ctl_settings s = {};
	int r;

	if (n_args == 0)
		return fail(ret_error, "no settings given (KEY=VALUE: MinMemory, MaxMemory, "
			    "Shares, Priority, Reclaim, Manage, Proactive)");
	for (size_t i = 0; i < n_args; i++) {
		r = parse_setting(&s, args[i], ret_error);
		if (r < 0)
			return r;
	}
	if (s.has_min_memory && s.has_max_memory && s.max_memory > 0 && s.min_memory > s.max_memory)
		return fail(ret_error, "MinMemory= is above MaxMemory=");

	*ret = s;
	return 0;
}

int ctl_interval_parse(const char *s, double *ret_sec) {
	double v;
	int r;

	r = parse_number(s, &v);
	if (r < 0)
		return r;
	if (v < CTL_INTERVAL_MIN || v > CTL_INTERVAL_MAX)
		return -ERANGE;
	*ret_sec = v;
	return 0;
}

int ctl_reclaim_bytes_parse(const char *s, uint64_t *ret_bytes) {
	uint64_t b;
	int r;

	r = parse_size(s, &b);
	if (r < 0)
		return r;
	if (b == 0)
		return -ERANGE;
	*ret_bytes = b;
	return 0;
}
