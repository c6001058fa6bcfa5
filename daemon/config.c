/* config.c - see config.h. Which files are read, in which order
 * (config-loader.c reads each), and what the result says about a VM. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-loader.h"
#include "config.h"
#include "log.h"

static int config_new(struct hintd_config **ret) {
	struct hintd_config *c;

	c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->uri = strdup(CONFIG_DEFAULT_URI);
	if (!c->uri)
		return free(c), -ENOMEM;
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

static int compare_names(const void *a, const void *b) {
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void free_names(char **names, size_t n) {
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool is_dropin_name(const char *name) {
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

/* dir/NAME.conf for every NAME.conf in dir, sorted by NAME; none when dir
 * does not exist. */
static int list_dropins(struct config_loader *l, const char *dir, char ***ret, size_t *ret_n) {
	_cleanup_(closedirp_) DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int r;

	d = opendir(dir);
	if (!d && errno == ENOENT)
		return *ret = NULL, *ret_n = 0, 0;
	if (!d)
		return config_loader_fail(l, dir, "cannot open directory", -errno);
	while ((errno = 0, de = readdir(d))) {
		char **more;

		if (!is_dropin_name(de->d_name))
			continue;
		more = reallocarray(names, n + 1, sizeof *names);
		if (!more || asprintf(&more[n], "%s/%s", dir, de->d_name) < 0) {
			free_names(more ?: names, n);
			return -ENOMEM;
		}
		names = more;
		n++;
	}
	if (errno) {
		r = -errno;
		free_names(names, n);
		return config_loader_fail(l, dir, "cannot read directory", r);
	}
	qsort(names, n, sizeof *names, compare_names);
	*ret = names;
	*ret_n = n;
	return 0;
}

/* The main file, then the drop-ins in name order. */
static int read_all(struct config_loader *l, const char *main_path, const char *dropin_dir) {
	char **dropins = NULL;
	size_t n_dropins = 0;
	int r;

	if (main_path) {
		r = config_loader_read_file(l, main_path, true);
		if (r < 0)
			return r;
		if (r == 0)
			log_info("%s does not exist, using built-in defaults.", main_path);
	}
	if (!dropin_dir)
		return 0;
	r = list_dropins(l, dropin_dir, &dropins, &n_dropins);
	for (size_t i = 0; r >= 0 && i < n_dropins; i++)
		/* One removed since it was listed is as if it had not been there. */
		r = config_loader_read_file(l, dropins[i], true);
	free_names(dropins, n_dropins);
	return r < 0 ? r : 0;
}

int config_load(const char *main_path, const char *dropin_dir, struct hintd_config **ret,
		char **ret_error) {
	_cleanup_config_free_ struct hintd_config *c = NULL;
	struct config_loader *l = NULL;
	char *error = NULL;
	int r;

	r = config_new(&c);
	if (r >= 0)
		r = config_loader_new(c, &l);
	if (r >= 0)
		r = read_all(l, main_path, dropin_dir);
	if (r < 0 && ret_error) {
		error = l ? config_loader_take_error(l) : NULL;
		*ret_error = error ?: r == -ENOMEM ? NULL : strdup(strerror(-r));
	}
	config_loader_free(l);
	if (r < 0)
		return r;
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
	if (v->set & CONFIG_VM_BIT(CONFIG_VM_PROACTIVE))
		s->proactive = v->settings.proactive;
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
	free(c->metrics_listen);
	for (size_t i = 0; i < c->n_vms; i++)
		free(c->vms[i].pattern);
	free(c->vms);
	free(c);
}
