/* parse.h - values as people write them in configuration files and on the
 * command line: sizes, durations, percents, booleans and plain numbers.
 *
 * Every parser takes the whole string (no surrounding whitespace, no
 * trailing junk), is independent of the locale, returns 0 or a negative
 * errno (-EINVAL: not that kind of value; -ERANGE: well formed but out of
 * range) and writes its ret_ argument only on success. */
#ifndef HINTD_PARSE_H
#define HINTD_PARSE_H

#include <stdint.h>

/* Bytes: "4096", or a number with a binary unit K, M, G or T, optionally
 * followed by "iB" or "B" ("512M", "1.5G", "2GiB", "64KB"), or "B" alone.
 * A fraction needs a unit and is rounded down to a whole byte. */
int parse_size(const char *s, uint64_t *ret_bytes);

/* Microseconds: one or more number-unit pairs, optionally separated by
 * spaces ("500ms", "1.5s", "1min 30s"). Units: us, usec, ms, msec, s, sec,
 * min, h. A number without a unit is seconds. */
int parse_duration_usec(const char *s, uint64_t *ret_usec);

/* "yes", "true", "on", "1" -> 1; "no", "false", "off", "0" -> 0 (letters in
 * any case); -EINVAL otherwise. */
int parse_boolean(const char *s);

/* "10%", "2.5%", "0.01%": at most two decimals, 0..100%, as permyriad
 * (hundredths of a percent: "2.5%" -> 250). */
int parse_percent(const char *s, unsigned *ret_permyriad);

/* A non-negative decimal number: "3", "0.75" (no sign, no exponent). */
int parse_number(const char *s, double *ret);

/* Decimal integers, optionally negative for parse_int. */
int parse_int(const char *s, int *ret);
int parse_unsigned(const char *s, unsigned *ret);

#endif /* HINTD_PARSE_H */
