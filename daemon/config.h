/* config.h - hintd.conf(5): /etc/hintd/hintd.conf, then the drop-ins in
 * /etc/hintd/hintd.conf.d/NAME.conf in name order, later files overriding
 * earlier keys.
 *
 * config_load() builds a whole new configuration or fails with a message
 * naming file:line, the key and what is wrong; a reload swaps the result in
 * only on success, so a bad edit keeps the running configuration. */
#ifndef HINTD_CONFIG_H
#define HINTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "model.h"
#include "policy.h"

#define HINTD_CONFIG_PATH "/etc/hintd/hintd.conf"
#define HINTD_CONFIG_DROPIN_DIR "/etc/hintd/hintd.conf.d"

#define CONFIG_DEFAULT_URI "qemu:///system"
#define CONFIG_DEFAULT_TICK_INTERVAL_USEC (1 * USEC_PER_SEC)
#define CONFIG_TICK_INTERVAL_MIN_USEC (100 * USEC_PER_MSEC)
#define CONFIG_TICK_INTERVAL_MAX_USEC (60 * USEC_PER_SEC)
#define CONFIG_DEFAULT_LOW_WATERMARK_PERMYRIAD 500	/* 5% */
#define CONFIG_DEFAULT_HIGH_WATERMARK_PERMYRIAD 1000	/* 10% */
#define CONFIG_DEFAULT_PRESSURE_LIMIT 10.0		/* percent */

/* A watermark as written: bytes, or a share of the budget (or of the host's
 * MemTotal when there is no budget), until config_resolve_watermarks(). */
struct config_watermark {
	bool is_percent;
	uint64_t bytes;		/* when !is_percent */
	unsigned permyriad;	/* when is_percent: hundredths of a percent */
};

/* The keys of a [VM ...] section, as bits of config_vm.set. */
enum config_vm_key {
	CONFIG_VM_MIN_MEMORY,
	CONFIG_VM_MAX_MEMORY,
	CONFIG_VM_SHARES,
	CONFIG_VM_PRIORITY,
	CONFIG_VM_RECLAIM,
	CONFIG_VM_MANAGE,
	CONFIG_VM_PROACTIVE,
	_CONFIG_VM_KEY_MAX,
};
#define CONFIG_VM_BIT(k) (1u << (k))

/* One [VM pattern] section, merged over all files: a later file's section
 * with the same pattern overrides the keys it sets, in place. */
struct config_vm {
	char *pattern;		/* a domain name, or an fnmatch() glob ("db-*", "*") */
	unsigned set;		/* CONFIG_VM_BIT()s of the keys given */
	struct vm_settings settings;	/* meaningful where set */
	bool manage;		/* Manage=, meaningful where set */
};

struct hintd_config {
	/* [Host] */
	char *uri;			/* libvirt connection URI */
	usec_t tick_interval_usec;
	uint64_t budget;		/* bytes the VMs must fit in; 0 = none */
	char *budget_cgroup;		/* e.g. "/machine"; NULL = none */
	struct config_watermark low_watermark, high_watermark;
	bool dry_run;
	char *admin_group;		/* may change settings over D-Bus; NULL = none */
	char *metrics_listen;		/* ADDRESS:PORT of the metrics endpoint; NULL = off */

	/* [Policy], and [Host] PressureLimit= as psi_limit. Its watermarks are
	 * filled by config_resolve_policy(). */
	struct policy_config policy;

	/* [VM ...] sections, in the order they first appear. */
	struct config_vm *vms;
	size_t n_vms;
};

/* Reads main_path, then dropin_dir/NAME.conf sorted by NAME (either may be
 * NULL). A missing main file or drop-in directory means built-in defaults.
 * On success *ret gets the configuration (free with config_free()). On
 * failure returns -EINVAL for a bad file, -errno when a file cannot be read,
 * -ENOMEM; *ret is untouched and, if ret_error is not NULL, *ret_error gets
 * the whole message (free() it; NULL only when that allocation failed). */
int config_load(const char *main_path, const char *dropin_dir, struct hintd_config **ret,
		char **ret_error);

/* Watermarks in bytes, percents taken of total_bytes (the budget, or the
 * host's MemTotal when there is none). -EINVAL if low >= high. */
int config_resolve_watermarks(const struct hintd_config *c, uint64_t total_bytes,
			      uint64_t *ret_low, uint64_t *ret_high);

/* c->policy with its watermarks resolved against total_bytes, as above. */
int config_resolve_policy(const struct hintd_config *c, uint64_t total_bytes,
			  struct policy_config *ret);

/* The settings of domain vm_name: the built-in defaults, then [VM *], then
 * every matching glob section in order (a later one wins), then the section
 * naming it exactly; each section overrides only the keys it sets.
 * ret_manage (may be NULL) gets Manage=, default true. */
void config_vm_settings(const struct hintd_config *c, const char *vm_name,
			struct vm_settings *ret, bool *ret_manage);

void config_free(struct hintd_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct hintd_config *, config_free);
#define _cleanup_config_free_ _cleanup_(config_freep)

#endif /* HINTD_CONFIG_H */
