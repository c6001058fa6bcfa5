/* config-keys.h - the keys of hintd.conf(5) and their value parsers.
 *
 * config_keys[] is the one list of keys: the loader parses with it, and
 * test-config-keys checks that man/hintd.conf.5 and etc/hintd.conf describe
 * exactly these keys, each in its section. */
#ifndef HINTD_CONFIG_KEYS_H
#define HINTD_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum config_section {
	CONFIG_SECTION_NONE,	/* before the first header; in lookups: any section */
	CONFIG_SECTION_HOST,
	CONFIG_SECTION_POLICY,
	CONFIG_SECTION_VM,
};

/* Room for what a parser says is wrong: "must be between 1 and 10000". */
#define CONFIG_WHY_MAX 192

struct config_key;

/* Sets *field from value, which is not empty unless k->parse_empty. Returns
 * 0, -EINVAL with why filled in, or -ENOMEM. */
typedef int (*config_value_parser)(const struct config_key *k, const char *value, void *field,
				   char why[static CONFIG_WHY_MAX]);

struct config_key {
	enum config_section section;
	const char *name;
	config_value_parser parse;
	size_t offset;		/* in struct hintd_config, or struct config_vm for [VM] */
	size_t size;		/* of the field, to restore its default */
	long long min, max;	/* integers, sizes (min only) and durations */
	double dmin, dmax;	/* numbers */
	enum config_vm_key vm_key;	/* [VM] keys: the bit in config_vm.set */
	bool parse_empty;	/* the parser takes an empty value (strings) */
};

/* The loader keeps a line per key in arrays of this size. */
#define CONFIG_KEYS_MAX 64

extern const struct config_key config_keys[];
extern const size_t config_n_keys;

/* "Host", "Policy", "VM"; NULL for CONFIG_SECTION_NONE. */
const char *config_section_name(enum config_section s);

/* The key of section s called name (of any section for CONFIG_SECTION_NONE);
 * NULL when there is none. Names are case-sensitive. */
const struct config_key *config_key_find(enum config_section s, const char *name);

#endif /* HINTD_CONFIG_KEYS_H */
