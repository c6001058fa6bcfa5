/* config-loader.h - reads hintd.conf files, one after another, into one
 * configuration: each file overrides the keys it sets. The first error
 * stops reading and is kept as "file:line: Key=value: what is wrong". */
#ifndef HINTD_CONFIG_LOADER_H
#define HINTD_CONFIG_LOADER_H

#include <stdbool.h>

#include "config.h"

struct config_loader;

/* A loader that fills c; the values c has now are the defaults that a key
 * given an empty value goes back to. */
int config_loader_new(struct hintd_config *c, struct config_loader **ret);

/* Reads path over what the files before it set: 1 when read, 0 when it is
 * missing and missing_ok. Fails with -EINVAL for a bad file, -errno when it
 * cannot be read, -ENOMEM; config_loader_take_error() then says why. */
int config_loader_read_file(struct config_loader *l, const char *path, bool missing_ok);

/* Records "path: what: strerror(-r)" as the error; returns r. For a
 * directory of drop-ins that cannot be read. */
int config_loader_fail(struct config_loader *l, const char *path, const char *what, int r);

/* The message of the first error (free() it); NULL when there is none. */
char *config_loader_take_error(struct config_loader *l);

void config_loader_free(struct config_loader *l);

#endif /* HINTD_CONFIG_LOADER_H */
