/* verbs.h - hintctl's commands. Each connects, calls hintd, prints and
 * returns an exit code (hintctl.h); arguments are already checked in
 * number, values are checked here before anything is sent. */
#ifndef HINTCTL_VERBS_H
#define HINTCTL_VERBS_H

#include <stdint.h>
#include "hintctl.h"

int verb_status(const struct ctl_options *opts);
int verb_list(const struct ctl_options *opts);
int verb_show(const struct ctl_options *opts, const char *machine);	/* NULL: hintd itself */
int verb_dump(const struct ctl_options *opts);
/* To stdout, or to output replaced atomically (metrics.c). */
int verb_metrics(const struct ctl_options *opts, const char *output);
int verb_set(const struct ctl_options *opts, const char *machine, char *const *args, size_t n_args);
int verb_reclaim(const struct ctl_options *opts, const char *machine, uint64_t bytes);
int verb_reload(const struct ctl_options *opts);
int verb_monitor(const struct ctl_options *opts);
int verb_top(const struct ctl_options *opts, double interval_sec);

#define CTL_RECLAIM_DEFAULT (UINT64_C(256) << 20)

#endif /* HINTCTL_VERBS_H */
