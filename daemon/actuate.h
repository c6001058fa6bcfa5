/* actuate.h - carrying out the plan (actuate.c). */
#ifndef HINTD_ACTUATE_H
#define HINTD_ACTUATE_H

#include <stdbool.h>
#include "policy.h"

struct manager;
struct vm;

void actuate(struct manager *m, struct vm *vm, const struct action *a);
/* Asks a connected agent for stats faster while its guest is ballooned. */
void actuate_stats_pace(struct vm *vm);

#endif /* HINTD_ACTUATE_H */
