/* size.h - sizes in bytes written for people. The one formatter of sizes:
 * hintctl's columns, hintd's reasons and logs. They read back with
 * parse_size() (parse.h), the one parser. Pure. */
#ifndef HINTD_SIZE_H
#define HINTD_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Long enough for any size in any style: "18446744073709551615". */
#define SIZE_FORMAT_MAX 32

enum size_style {
	/* Binary units with one letter: "0", "512B", "1.5K", "512M", "1.5G",
	 * "12T". One decimal below 100 units when it is not zero, whole units
	 * above; rounded to nearest, at most 5 characters below 1024P. */
	SIZE_SHORT,
	/* The plain number of bytes: "1610612736". */
	SIZE_BYTES,
	/* Whole MiB, rounded to nearest, or KiB below a MiB: "180 MiB",
	 * "512 KiB", "0 MiB". For sentences a sysadmin reads. */
	SIZE_MIB,
};

/* Writes bytes into buf (size bytes) in style; returns buf. */
char *format_size(char *buf, size_t size, uint64_t bytes, enum size_style style);

#endif /* HINTD_SIZE_H */
