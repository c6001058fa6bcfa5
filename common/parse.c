/* parse.c - see parse.h. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse.h"

static bool is_digit(char c) {
	return c >= '0' && c <= '9';
}

static bool is_letter(char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "digits[.digits]", as spans of the input. */
struct decimal {
	const char *whole, *whole_end;
	const char *frac, *frac_end;	/* empty when there is no '.' */
};

/* Scans a decimal at *p and moves *p past it. */
static int scan_decimal(const char **p, struct decimal *ret) {
	const char *s = *p;
	struct decimal d = {};

	if (!is_digit(*s))
		return -EINVAL;
	d.whole = s;
	while (is_digit(*s))
		s++;
	d.whole_end = d.frac = d.frac_end = s;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return -EINVAL;
		d.frac = s;
		while (is_digit(*s))
			s++;
		d.frac_end = s;
	}
	*p = s;
	*ret = d;
	return 0;
}

static bool decimal_has_fraction(const struct decimal *d) {
	return d->frac_end > d->frac;
}

/* d * unit, rounded down, exactly: the fraction is folded in from its last
 * digit, x = (x + digit * unit) / 10, which never exceeds 10 * unit.
 * unit must be at most UINT64_MAX / 10. */
static int decimal_scale(const struct decimal *d, uint64_t unit, uint64_t *ret) {
	uint64_t whole = 0, frac = 0;

	for (const char *q = d->whole; q < d->whole_end; q++) {
		unsigned digit = *q - '0';

		if (whole > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		whole = whole * 10 + digit;
	}
	for (const char *q = d->frac_end; q > d->frac; q--)
		frac = (frac + (uint64_t) (q[-1] - '0') * unit) / 10;

	if (unit != 0 && whole > (UINT64_MAX - frac) / unit)
		return -ERANGE;
	*ret = whole * unit + frac;
	return 0;
}

/* Moves *p past a run of letters; returns its length. */
static size_t scan_word(const char **p) {
	const char *s = *p;

	while (is_letter(*s))
		s++;
	size_t n = s - *p;
	*p = s;
	return n;
}

static bool word_is(const char *w, size_t n, const char *name) {
	return strlen(name) == n && strncmp(w, name, n) == 0;
}

static void skip_spaces(const char **p) {
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

int parse_size(const char *s, uint64_t *ret_bytes) {
	static const char prefixes[] = "KMGT";
	struct decimal d;
	uint64_t unit = 1, bytes;
	const char *w;
	size_t n;
	int r;

	if (!s)
		return -EINVAL;
	r = scan_decimal(&s, &d);
	if (r < 0)
		return r;
	skip_spaces(&s);
	w = s;
	n = scan_word(&s);
	if (*s != '\0')
		return -EINVAL;

	if (n > 0 && !word_is(w, n, "B")) {
		const char *prefix = memchr(prefixes, w[0], strlen(prefixes));

		if (!prefix)
			return -EINVAL;
		if (!word_is(w + 1, n - 1, "") && !word_is(w + 1, n - 1, "B") &&
		    !word_is(w + 1, n - 1, "iB"))
			return -EINVAL;
		unit = UINT64_C(1) << (10 * (prefix - prefixes + 1));
	} else if (n == 0 && w > d.frac_end)
		return -EINVAL;		/* "12 " */

	/* Half a byte is a typo for a unit, not a size. */
	if (unit == 1 && decimal_has_fraction(&d))
		return -EINVAL;

	r = decimal_scale(&d, unit, &bytes);
	if (r < 0)
		return r;
	*ret_bytes = bytes;
	return 0;
}

static const struct {
	const char *name;
	uint64_t usec;
} duration_units[] = {
	{ "us", 1 },
	{ "usec", 1 },
	{ "ms", 1000 },
	{ "msec", 1000 },
	{ "s", UINT64_C(1000000) },
	{ "sec", UINT64_C(1000000) },
	{ "min", UINT64_C(60000000) },
	{ "h", UINT64_C(3600000000) },
};

int parse_duration_usec(const char *s, uint64_t *ret_usec) {
	uint64_t total = 0;
	int r;

	if (!s || *s == '\0')
		return -EINVAL;

	for (unsigned items = 0;; items++) {
		struct decimal d;
		uint64_t unit = 0, usec;
		const char *w;
		size_t n;

		r = scan_decimal(&s, &d);
		if (r < 0)
			return r;
		skip_spaces(&s);
		w = s;
		n = scan_word(&s);
		if (n == 0) {
			/* A bare number is seconds, and only as the whole value. */
			if (items > 0 || *s != '\0' || w > d.frac_end)
				return -EINVAL;
			unit = UINT64_C(1000000);
		} else
			for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
				if (word_is(w, n, duration_units[i].name))
					unit = duration_units[i].usec;
		if (unit == 0)
			return -EINVAL;

		r = decimal_scale(&d, unit, &usec);
		if (r < 0)
			return r;
		if (usec > UINT64_MAX - total)
			return -ERANGE;
		total += usec;

		if (*s == '\0')
			break;
		skip_spaces(&s);
		if (!is_digit(*s))
			return -EINVAL;
	}

	*ret_usec = total;
	return 0;
}

int parse_boolean(const char *s) {
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < ELEMENTSOF(no); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -EINVAL;
}

int parse_percent(const char *s, unsigned *ret_permyriad) {
	struct decimal d;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = scan_decimal(&s, &d);
	if (r < 0)
		return r;
	if (strcmp(s, "%") != 0 || d.frac_end - d.frac > 2)
		return -EINVAL;

	/* Hundredths: "2.5" -> 250, exactly. */
	r = decimal_scale(&d, 100, &v);
	if (r < 0)
		return r;
	if (v > 10000)
		return -ERANGE;
	*ret_permyriad = (unsigned) v;
	return 0;
}

int parse_number(const char *s, double *ret) {
	struct decimal d;
	uint64_t mantissa = 0;
	int exponent = 0;
	double v;
	int r;

	if (!s)
		return -EINVAL;
	r = scan_decimal(&s, &d);
	if (r < 0)
		return r;
	if (*s != '\0')
		return -EINVAL;

	/* Up to 18 significant digits as an integer, then one multiplication or
	 * division by a power of ten: "0.75" is 75 / 100, rounded once. */
	for (const char *q = d.whole; q < d.whole_end; q++) {
		if (mantissa < UINT64_C(100000000000000000))
			mantissa = mantissa * 10 + (*q - '0');
		else
			exponent++;
	}
	for (const char *q = d.frac; q < d.frac_end; q++)
		if (mantissa < UINT64_C(100000000000000000)) {
			mantissa = mantissa * 10 + (*q - '0');
			exponent--;
		}

	if (exponent > 300)
		return -ERANGE;
	v = (double) mantissa;
	if (exponent > 0) {
		double scale = 1;
		for (int i = 0; i < exponent; i++)
			scale *= 10;
		v *= scale;
	} else if (exponent < 0) {
		double scale = 1;
		for (int i = 0; i < -exponent; i++)
			scale *= 10;
		v /= scale;
	}
	*ret = v;
	return 0;
}

int parse_int(const char *s, int *ret) {
	char *end;
	long v;

	if (!s || !(is_digit(*s) || (*s == '-' && is_digit(s[1]))))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	*ret = (int) v;
	return 0;
}

int parse_unsigned(const char *s, unsigned *ret) {
	char *end;
	unsigned long v;

	if (!s)
		return -EINVAL;
	if (*s == '-' && is_digit(s[1]))
		return -ERANGE;		/* negative: a number, just not in range */
	if (!is_digit(*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > UINT_MAX)
		return -ERANGE;
	*ret = (unsigned) v;
	return 0;
}
