/* bus-methods.c - the handlers of org.hintd1.Manager's methods: they check
 * who calls (changes only: bus-auth.h) and what they pass, call into the
 * manager and reply. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include "bus-caller.h"
#include "bus-methods.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "metrics.h"
#include "rungs.h"


/* ---- methods ------------------------------------------------------------ */

static int find_machine(struct manager *m, const char *name, struct vm **ret,
			sd_bus_error *error) {
	struct vm *vm = manager_find_vm(m, name);

	if (!vm)
		return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_MACHINE,
					 "No running domain '%s' is known to hintd.", name);
	*ret = vm;
	return 0;
}

/* Reads the machine's name from msg and finds it: NoSuchMachine otherwise. */
static int read_machine(sd_bus_message *msg, struct manager *m, const char **ret_name, struct vm **ret,
			sd_bus_error *error) {
	int r = sd_bus_message_read(msg, "s", ret_name);

	if (r < 0)
		return r;
	return find_machine(m, *ret_name, ret, error);
}

int method_get_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = ((struct bus_manager_props *) userdata)->manager;
	_cleanup_free_ char *path = NULL;
	struct vm *vm = NULL;
	const char *name;
	int r;

	r = read_machine(msg, m, &name, &vm, error);
	if (r < 0)
		return r;
	r = sd_bus_path_encode(BUS_MACHINE_PREFIX, name, &path);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "o", path);
}


enum setting {
	SETTING_MIN_MEMORY,
	SETTING_MAX_MEMORY,
	SETTING_SHARES,
	SETTING_PRIORITY,
	SETTING_RECLAIM,
	SETTING_MANAGE,
	SETTING_PROACTIVE,
	_SETTING_MAX,
};

static const struct {
	const char *name;
	const char *type;
} settings_keys[_SETTING_MAX] = {
	[SETTING_MIN_MEMORY] = { "MinMemory", "t" },
	[SETTING_MAX_MEMORY] = { "MaxMemory", "t" },
	[SETTING_SHARES] = { "Shares", "u" },
	[SETTING_PRIORITY] = { "Priority", "i" },
	[SETTING_RECLAIM] = { "Reclaim", "as" },
	[SETTING_MANAGE] = { "Manage", "b" },
	[SETTING_PROACTIVE] = { "Proactive", "b" },
};

/* Reads the variant of one a{sv} entry, the message positioned on it, into
 * s / manage. Every failure is InvalidArgs naming the key. */
static int read_setting(sd_bus_message *msg, const char *key, struct vm_settings *s,
			bool *manage, unsigned *seen, sd_bus_error *error) {
	_cleanup_(strv_freep) char **rungs = NULL;
	const char *contents;
	unsigned k;
	uint64_t t;
	uint32_t u;
	int32_t i;
	int b, r;

	for (k = 0; k < _SETTING_MAX; k++)
		if (strcmp(settings_keys[k].name, key) == 0)
			break;
	if (k == _SETTING_MAX)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "Unknown setting '%s' (known: MinMemory, MaxMemory, Shares, "
					 "Priority, Reclaim, Manage, Proactive).", key);
	if (*seen & (1u << k))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s given twice.", key);
	*seen |= 1u << k;

	r = sd_bus_message_peek_type(msg, NULL, &contents);
	if (r < 0)
		return r;
	if (strcmp(contents, settings_keys[k].type) != 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "%s must be of type '%s', not '%s'.", key,
					 settings_keys[k].type, contents);
	r = sd_bus_message_enter_container(msg, 'v', contents);
	if (r < 0)
		return r;

	switch (k) {
	case SETTING_MIN_MEMORY:
	case SETTING_MAX_MEMORY:
		r = sd_bus_message_read_basic(msg, 't', &t);
		if (r < 0)
			return r;
		*(k == SETTING_MIN_MEMORY ? &s->min_memory : &s->max_memory) = t;
		break;
	case SETTING_SHARES:
		r = sd_bus_message_read_basic(msg, 'u', &u);
		if (r < 0)
			return r;
		if (u < 1 || u > 10000)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
						 "Shares must be 1..10000, not %" PRIu32 ".", u);
		s->shares = u;
		break;
	case SETTING_PRIORITY:
		r = sd_bus_message_read_basic(msg, 'i', &i);
		if (r < 0)
			return r;
		if (i < -100 || i > 100)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
						 "Priority must be -100..100, not %" PRIi32 ".", i);
		s->priority = i;
		break;
	case SETTING_RECLAIM:
		r = sd_bus_message_read_strv(msg, &rungs);
		if (r < 0)
			return r;
		s->rungs = 0;
		for (char **p = rungs; p && *p; p++) {
			unsigned bit;
			if (rungs_from_string(*p, &bit) < 0 || bit == 0 || (bit & (bit - 1)))
				return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
							 "Reclaim: unknown rung '%s' (unused, volatile, "
							 "balloon; an empty array for none).", *p);
			s->rungs |= bit;
		}
		break;
	case SETTING_MANAGE:
	case SETTING_PROACTIVE:
		r = sd_bus_message_read_basic(msg, 'b', &b);
		if (r < 0)
			return r;
		*(k == SETTING_MANAGE ? manage : &s->proactive) = b;
		break;
	}
	return sd_bus_message_exit_container(msg);
}

static int set_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = ((struct bus_manager_props *) userdata)->manager;
	struct vm_settings s;
	const char *name, *key;
	unsigned seen = 0;
	struct vm *vm = NULL;
	bool manage;
	int r;

	r = read_machine(msg, m, &name, &vm, error);
	if (r < 0)
		return r;

	/* Everything is checked on a copy; the VM changes only if all is valid. */
	vm_get_settings(vm, &s, &manage);
	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		r = sd_bus_message_read(msg, "s", &key);
		if (r < 0)
			return r;
		r = read_setting(msg, key, &s, &manage, &seen, error);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(msg);
	if (r < 0)
		return r;
	if (s.min_memory > 0 && s.max_memory > 0 && s.min_memory > s.max_memory)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "MinMemory (%" PRIu64 ") is larger than MaxMemory (%" PRIu64 ").",
					 s.min_memory, s.max_memory);

	r = manager_set_vm_settings(m, vm, &s, manage);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Settings of '%s' not changed: %m", name);
	bus_emit_changes(((struct bus_manager_props *) userdata)->bus);
	return sd_bus_reply_method_return(msg, NULL);
}

int method_set_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_admin_only(msg, userdata, "Changing a machine's settings", set_machine, error);
}

static int reclaim(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = ((struct bus_manager_props *) userdata)->manager;
	struct vm *vm = NULL;
	bool manage;
	const char *name;
	uint64_t bytes;
	int r;

	r = sd_bus_message_read(msg, "st", &name, &bytes);
	if (r < 0)
		return r;
	if (bytes == 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "bytes must be more than 0.");
	if (name[0]) {
		r = find_machine(m, name, &vm, error);
		if (r < 0)
			return r;
		vm_get_settings(vm, &(struct vm_settings) {}, &manage);
		if (!manage)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
						 "'%s' is not managed (Manage=no): hintd reclaims "
						 "nothing from it.", name);
	}
	r = manager_request_reclaim(m, vm, bytes);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "t", bytes);
}

int method_reclaim(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_admin_only(msg, userdata, "Reclaiming", reclaim, error);
}

static int reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = ((struct bus_manager_props *) userdata)->manager;
	_cleanup_free_ char *why = NULL;
	int r;

	r = manager_reload(m, &why);
	if (r < 0)
		return sd_bus_error_setf(error, BUS_ERROR_BAD_CONFIG,
					 "Configuration not reloaded, the old one is kept: %s",
					 why ? why : strerror(-r));
	bus_emit_changes(((struct bus_manager_props *) userdata)->bus);
	return sd_bus_reply_method_return(msg, NULL);
}

int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_admin_only(msg, userdata, "Reloading the configuration", reload, error);
}

/* The manager's state rendered as text (Dump, Metrics), as the reply. */
static int reply_text(sd_bus_message *msg, void *userdata, int (*render)(struct manager *, char **)) {
	_cleanup_free_ char *text = NULL;
	int r;

	r = render(((struct bus_manager_props *) userdata)->manager, &text);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "s", text);
}

int method_dump(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return reply_text(msg, userdata, manager_dump);
}

int method_metrics(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return reply_text(msg, userdata, manager_metrics);
}

