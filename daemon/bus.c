/* bus.c - see bus.h. The API is the two vtables below; the handlers check
 * who calls and what they pass, call into the manager and reply.
 *
 * Every property lives in struct bus_manager_props or bus_machine_props at
 * the vtable's offset: numbers as themselves (b as int), strings as char
 * arrays, the Reclaim rungs as RUNG_BIT()s. That is what lets one loop over
 * a vtable find the properties whose value changed since the last tick. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include "agent.h"
#include "bus-auth.h"
#include "bus.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "ratelimit.h"

#define BUS_MANAGER_INTERFACE "org.hintd1.Manager"
#define BUS_MACHINE_INTERFACE "org.hintd1.Machine"
#define BUS_ERROR_NO_SUCH_MACHINE "org.hintd1.Error.NoSuchMachine"
#define BUS_ERROR_BAD_CONFIG "org.hintd1.Error.BadConfig"

_Static_assert(sizeof(int) == 4, "sd-bus reads b as int");

/* ---- properties --------------------------------------------------------- */

static uint64_t sub_sat(uint64_t a, uint64_t b) {
	return a > b ? a - b : 0;
}

static void manager_props_fill(struct manager *m, struct bus_manager_props *p) {
	const struct host_state *h = &m->host;

	*p = (struct bus_manager_props) {
		.manager = m,
		.dry_run = m->dry_run,
		.tick_interval_usec = m->config->tick_interval_usec,
		.mem_total = h->mem_total,
		.mem_available = h->mem_available,
		.psi_some_avg10 = h->psi_some_avg10,
		.psi_full_avg10 = h->psi_full_avg10,
		.budget_limit = h->budget_set ? h->budget_limit : 0,
		.budget_usage = h->budget_set ? h->budget_usage : 0,
		/* As policy counts it. */
		.free = h->budget_set ? sub_sat(h->budget_limit, h->budget_usage) : h->mem_available,
		.low_watermark = m->policy.low_watermark,
		.high_watermark = m->policy.high_watermark,
		.reclaiming = m->reclaiming,
	};
	snprintf(p->version, sizeof p->version, "%s", HINTD_VERSION);
	memcpy(p->reclaimed, m->reclaimed, sizeof p->reclaimed);
	memcpy(p->rate, m->rate, sizeof p->rate);
	snprintf(p->plan, sizeof p->plan, "%s", m->plan_reason);
	snprintf(p->libvirt, sizeof p->libvirt, "%s", manager_libvirt_state(m));
}

static void machine_props_fill(struct vm *vm, struct bus_machine_props *p) {
	const struct vm_state *s = &vm->state;
	const struct guest_memory *g = &s->guest;

	*p = (struct bus_machine_props) {
		.vm = vm,
		.running = s->running,
		.max_memory = s->max_memory,
		.balloon_actual = s->balloon_actual,
		.balloon_target = s->balloon_target,
		.backed = s->backed,
		.unused = g->valid ? g->unused : 0,
		.volatile_ = g->valid ? g->volatile_ : 0,
		.stable = g->valid ? g->stable : 0,
		.hinted = s->hinted,
		.psi_some_avg10 = g->valid ? g->psi_some_avg10 : 0,
		.swapin_rate = s->swapin_rate,
		.min_memory = s->settings.min_memory,
		.max_memory_setting = s->settings.max_memory,
		.shares = s->settings.shares,
		.priority = s->settings.priority,
		.rungs = s->settings.rungs,
		.managed = vm->manage,
		.module = s->module,
		.discard_capable = s->discard_capable,
		.last_decision_usec = vm->last_decision_usec,
		.agent_rejected = vm->agent ? agent_rejected(vm->agent) : 0,
	};
	memcpy(p->reclaimed, s->reclaimed, sizeof p->reclaimed);
	snprintf(p->name, sizeof p->name, "%s", s->name);
	snprintf(p->agent_state, sizeof p->agent_state, "%s", agent_state_to_string(s->agent));
	snprintf(p->discard_reason, sizeof p->discard_reason, "%s", vm->discard_reason);
	snprintf(p->libvirt, sizeof p->libvirt, "%s", vm_libvirt_state(vm));
	snprintf(p->last_decision, sizeof p->last_decision, "%s", vm->last_decision);
}

/* userdata points at the property's field (sd-bus adds the offset). */
static int property_get_chars(sd_bus *bus, const char *path, const char *interface,
			      const char *property, sd_bus_message *reply, void *userdata,
			      sd_bus_error *error) {
	return sd_bus_message_append_basic(reply, 's', userdata);
}

static int property_get_rungs(sd_bus *bus, const char *path, const char *interface,
			      const char *property, sd_bus_message *reply, void *userdata,
			      sd_bus_error *error) {
	const uint32_t *rungs = userdata;
	int r;

	r = sd_bus_message_open_container(reply, 'a', "s");
	for (unsigned i = 0; r >= 0 && i < _RUNG_MAX; i++)
		if (*rungs & RUNG_BIT(i))
			r = sd_bus_message_append_basic(reply, 's', rung_to_string(i));
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* ---- methods ------------------------------------------------------------ */

/* ---- who may change things ----------------------------------------------
 * A method that changes something runs only once the bus has said who sent
 * it: hintd asks org.freedesktop.DBus.GetConnectionCredentials(sender) and
 * bus-auth.c decides from that answer alone, never from /proc/PID, which a
 * caller can change under hintd (exec, exit and PID reuse).
 *
 * The question is asynchronous: the handler returns at once, and the
 * method's body, or the refusal, runs from the answer's callback. A blocking
 * call from inside a handler would hold the event loop (and the discard
 * path with it) for as long as the bus takes. The bus answers hintd's
 * questions in the order they were asked, so changes still run in the order
 * they were sent; reads are not held, so a read sent before a change's reply
 * may see the old value. */

#define CALLER_CREDS_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define REFUSED_LOG_INTERVAL_USEC (60 * USEC_PER_SEC)
#define REFUSED_LOG_BURST 10

_Static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4, "the bus sends UIDs and GIDs as u");

/* A method call held until the bus says who sent it. */
struct admin_call {
	sd_bus_message *msg;
	void *userdata;			/* the method's, for body */
	const char *what;		/* "Reclaiming": starts the refusal */
	sd_bus_message_handler_t body;
	struct manager *m;
};

static void admin_call_free(void *userdata) {
	struct admin_call *c = userdata;

	sd_bus_message_unref(c->msg);
	free(c);
}

static int read_caller_gids(sd_bus_message *reply, struct bus_caller *c) {
	const void *gids;
	size_t size;
	int r;

	r = sd_bus_message_enter_container(reply, 'v', "au");
	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'u', &gids, &size);
	if (r < 0)
		return r;
	c->has_gids = true;
	c->gids = size ? gids : NULL;
	c->n_gids = size / sizeof(gid_t);
	return sd_bus_message_exit_container(reply);
}

/* The a{sv} of GetConnectionCredentials: UnixUserID and UnixGroupIDs, the
 * rest skipped. The GIDs point into reply. */
static int read_caller(sd_bus_message *reply, struct bus_caller *ret) {
	struct bus_caller c = { 0 };
	const char *key;
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		r = sd_bus_message_read_basic(reply, 's', &key);
		if (r < 0)
			return r;
		if (strcmp(key, "UnixUserID") == 0) {
			r = sd_bus_message_read(reply, "v", "u", &c.uid);
			c.has_uid = r >= 0;
		} else if (strcmp(key, "UnixGroupIDs") == 0)
			r = read_caller_gids(reply, &c);
		else
			r = sd_bus_message_skip(reply, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(reply);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(reply);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

/* A caller can send refused calls as fast as it likes: at most
 * REFUSED_LOG_BURST lines a minute, one more saying the rest are held back,
 * and the next line after says how many were. One bus per hintd, so one
 * allowance for the file. */
static void log_refused(struct manager *m, const char *sender, const struct bus_caller *c,
			const char *why) {
	static struct ratelimit limit = { .interval_usec = REFUSED_LOG_INTERVAL_USEC,
					  .burst = REFUSED_LOG_BURST };
	char uid[16] = "unknown", held_text[64] = "";
	uint64_t now = 0;
	unsigned held;

	sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	if (!ratelimit_below(&limit, now, &held)) {
		if (limit.suppressed == 1)
			log_notice("More D-Bus calls refused; the next ones this minute are not logged.");
		return;
	}
	if (c->has_uid)
		snprintf(uid, sizeof uid, "%u", (unsigned) c->uid);
	if (held)
		snprintf(held_text, sizeof held_text, " (%u earlier refusals not logged)", held);
	log_notice("D-Bus call from %s (uid %s) refused: %s%s", sender ? sender : "?", uid, why,
		   held_text);
}

/* The bus answered (or failed to) who sent c->msg: run the method or refuse.
 * Returns 0 whatever happens: a negative return from a reply callback would
 * make sd-bus close hintd's connection. */
static int on_caller_creds(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
	struct admin_call *c = userdata;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *why = NULL;
	struct bus_admin_group admin;
	struct bus_caller caller = { 0 };
	int r;

	if (sd_bus_message_is_method_error(reply, NULL))
		r = asprintf(&why, "%s is refused: the bus did not say who the caller is (%s).",
			     c->what, sd_bus_message_get_error(reply)->message) < 0 ? -ENOMEM : 0;
	else if (read_caller(reply, &caller) < 0)
		r = asprintf(&why, "%s is refused: the bus's answer on who the caller is could not "
			     "be read.", c->what) < 0 ? -ENOMEM : 0;
	else {
		bus_admin_group_resolve(c->m->config->admin_group, &admin);
		r = bus_auth_decide(&caller, &admin, c->what, &why);
	}
	if (r < 0)
		r = sd_bus_reply_method_errno(c->msg, r, NULL);
	else if (r == 0) {
		log_refused(c->m, sd_bus_message_get_sender(c->msg), &caller, why);
		r = sd_bus_reply_method_errorf(c->msg, SD_BUS_ERROR_ACCESS_DENIED, "%s", why);
	} else {
		r = sd_bus_message_rewind(c->msg, true);
		if (r >= 0)
			r = c->body(c->msg, c->userdata, &error);
		if (r < 0 || sd_bus_error_is_set(&error))
			r = sd_bus_reply_method_errno(c->msg, r, &error);
	}
	if (r < 0)
		log_debug_errno(r, "Failed to answer %s: %m, ignoring", sd_bus_message_get_member(c->msg));
	return 0;
}

/* Runs body(msg, userdata, error) once the bus has said that the caller may
 * do `what` (see bus-auth.h); otherwise replies AccessDenied saying who may.
 * Returns 1 (the reply comes later) or negative errno. */
static int admin_only(sd_bus_message *msg, void *userdata, const char *what,
		      sd_bus_message_handler_t body, sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *question = NULL;
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	sd_bus *bus = sd_bus_message_get_bus(msg);
	const char *sender = sd_bus_message_get_sender(msg);
	struct admin_call *c;
	int r;

	if (!sender)
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
					 "%s is refused: the call has no sender to ask the bus about.",
					 what);
	r = sd_bus_message_new_method_call(bus, &question, "org.freedesktop.DBus",
					   "/org/freedesktop/DBus", "org.freedesktop.DBus",
					   "GetConnectionCredentials");
	if (r >= 0)
		r = sd_bus_message_append(question, "s", sender);
	if (r < 0)
		return r;
	c = malloc(sizeof *c);
	if (!c)
		return -ENOMEM;
	*c = (struct admin_call) { .msg = sd_bus_message_ref(msg), .userdata = userdata,
				   .what = what, .body = body,
				   .m = ((struct bus_manager_props *) userdata)->manager };
	r = sd_bus_call_async(bus, &slot, question, on_caller_creds, c, CALLER_CREDS_TIMEOUT_USEC);
	if (r < 0) {
		admin_call_free(c);
		return log_warning_errno(r, "Cannot ask the bus who sent a call: %m");
	}
	r = sd_bus_slot_set_destroy_callback(slot, admin_call_free);
	if (r < 0) {
		admin_call_free(c);
		return r;
	}
	/* The bus keeps the question, and c goes with it: answered, timed
	 * out or dropped when hintd closes the bus. Should that fail, our
	 * reference is the last: the question is cancelled and c freed. */
	r = sd_bus_slot_set_floating(slot, 1);
	if (r < 0)
		return r;
	return 1;
}

static int find_machine(struct manager *m, const char *name, struct vm **ret,
			sd_bus_error *error) {
	struct vm *vm = manager_find_vm(m, name);

	if (!vm)
		return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_MACHINE,
					 "No running domain '%s' is known to hintd.", name);
	*ret = vm;
	return 0;
}

static int method_get_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = ((struct bus_manager_props *) userdata)->manager;
	_cleanup_free_ char *path = NULL;
	struct vm *vm = NULL;
	const char *name;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	r = find_machine(m, name, &vm, error);
	if (r < 0)
		return r;
	r = sd_bus_path_encode(BUS_MACHINE_PREFIX, name, &path);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "o", path);
}

static void strv_free(char **l) {
	for (char **p = l; p && *p; p++)
		free(*p);
	free(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

enum setting {
	SETTING_MIN_MEMORY,
	SETTING_MAX_MEMORY,
	SETTING_SHARES,
	SETTING_PRIORITY,
	SETTING_RECLAIM,
	SETTING_MANAGE,
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
					 "Priority, Reclaim, Manage).", key);
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
		r = sd_bus_message_read_basic(msg, 'b', &b);
		if (r < 0)
			return r;
		*manage = b;
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

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	r = find_machine(m, name, &vm, error);
	if (r < 0)
		return r;

	/* Everything is checked on a copy; the VM changes only if all is valid. */
	s = vm->state.settings;
	manage = vm->manage;
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
	bus_emit_changes(m);
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return admin_only(msg, userdata, "Changing a machine's settings", set_machine, error);
}

static int reclaim(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = ((struct bus_manager_props *) userdata)->manager;
	struct vm *vm = NULL;
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
		if (!vm->manage)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
						 "'%s' is not managed (Manage=no): hintd reclaims "
						 "nothing from it.", name);
	}
	r = manager_request_reclaim(m, vm, bytes);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "t", bytes);
}

static int method_reclaim(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return admin_only(msg, userdata, "Reclaiming", reclaim, error);
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
	bus_emit_changes(m);
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return admin_only(msg, userdata, "Reloading the configuration", reload, error);
}

static int method_dump(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = ((struct bus_manager_props *) userdata)->manager;
	_cleanup_free_ char *text = NULL;
	int r;

	r = manager_dump(m, &text);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "s", text);
}

/* ---- the API ------------------------------------------------------------ */

#define MGR(field) offsetof(struct bus_manager_props, field)
#define MCH(field) offsetof(struct bus_machine_props, field)
#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_get_chars, MGR(version), CONST),
	SD_BUS_PROPERTY("DryRun", "b", NULL, MGR(dry_run), CONST),
	SD_BUS_PROPERTY("TickIntervalUSec", "t", NULL, MGR(tick_interval_usec), EMITS),
	SD_BUS_PROPERTY("MemoryTotal", "t", NULL, MGR(mem_total), EMITS),
	SD_BUS_PROPERTY("MemoryAvailable", "t", NULL, MGR(mem_available), EMITS),
	SD_BUS_PROPERTY("PressureSomeAvg10", "d", NULL, MGR(psi_some_avg10), EMITS),
	SD_BUS_PROPERTY("PressureFullAvg10", "d", NULL, MGR(psi_full_avg10), EMITS),
	SD_BUS_PROPERTY("BudgetLimit", "t", NULL, MGR(budget_limit), EMITS),
	SD_BUS_PROPERTY("BudgetUsage", "t", NULL, MGR(budget_usage), EMITS),
	SD_BUS_PROPERTY("Free", "t", NULL, MGR(free), EMITS),
	SD_BUS_PROPERTY("LowWatermark", "t", NULL, MGR(low_watermark), EMITS),
	SD_BUS_PROPERTY("HighWatermark", "t", NULL, MGR(high_watermark), EMITS),
	SD_BUS_PROPERTY("Reclaiming", "b", NULL, MGR(reclaiming), EMITS),
	SD_BUS_PROPERTY("ReclaimedUnused", "t", NULL, MGR(reclaimed[RUNG_UNUSED]), EMITS),
	SD_BUS_PROPERTY("ReclaimedVolatile", "t", NULL, MGR(reclaimed[RUNG_VOLATILE]), EMITS),
	SD_BUS_PROPERTY("ReclaimedBalloon", "t", NULL, MGR(reclaimed[RUNG_BALLOON]), EMITS),
	SD_BUS_PROPERTY("RateUnused", "d", NULL, MGR(rate[RUNG_UNUSED]), EMITS),
	SD_BUS_PROPERTY("RateVolatile", "d", NULL, MGR(rate[RUNG_VOLATILE]), EMITS),
	SD_BUS_PROPERTY("RateBalloon", "d", NULL, MGR(rate[RUNG_BALLOON]), EMITS),
	SD_BUS_PROPERTY("Plan", "s", property_get_chars, MGR(plan), EMITS),
	SD_BUS_PROPERTY("Libvirt", "s", property_get_chars, MGR(libvirt), EMITS),

	SD_BUS_METHOD_WITH_NAMES("GetMachine", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(path),
				 method_get_machine, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetMachine", "sa{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(settings),
				 "", "", method_set_machine, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Reclaim", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(bytes),
				 "t", SD_BUS_PARAM(target), method_reclaim, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Dump", "", "", "s", SD_BUS_PARAM(text),
				 method_dump, SD_BUS_VTABLE_UNPRIVILEGED),

	SD_BUS_SIGNAL_WITH_NAMES("Reclaimed", "sst",
				 SD_BUS_PARAM(machine) SD_BUS_PARAM(rung) SD_BUS_PARAM(bytes), 0),
	SD_BUS_SIGNAL_WITH_NAMES("PressureChanged", "btt",
				 SD_BUS_PARAM(reclaiming) SD_BUS_PARAM(free) SD_BUS_PARAM(need), 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable machine_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", property_get_chars, MCH(name), CONST),
	SD_BUS_PROPERTY("Running", "b", NULL, MCH(running), EMITS),
	SD_BUS_PROPERTY("MaxMemory", "t", NULL, MCH(max_memory), CONST),
	SD_BUS_PROPERTY("BalloonActual", "t", NULL, MCH(balloon_actual), EMITS),
	SD_BUS_PROPERTY("BalloonTarget", "t", NULL, MCH(balloon_target), EMITS),
	SD_BUS_PROPERTY("Backed", "t", NULL, MCH(backed), EMITS),
	SD_BUS_PROPERTY("Unused", "t", NULL, MCH(unused), EMITS),
	SD_BUS_PROPERTY("Volatile", "t", NULL, MCH(volatile_), EMITS),
	SD_BUS_PROPERTY("Stable", "t", NULL, MCH(stable), EMITS),
	SD_BUS_PROPERTY("Hinted", "t", NULL, MCH(hinted), EMITS),
	SD_BUS_PROPERTY("ReclaimedUnused", "t", NULL, MCH(reclaimed[RUNG_UNUSED]), EMITS),
	SD_BUS_PROPERTY("ReclaimedVolatile", "t", NULL, MCH(reclaimed[RUNG_VOLATILE]), EMITS),
	SD_BUS_PROPERTY("ReclaimedBalloon", "t", NULL, MCH(reclaimed[RUNG_BALLOON]), EMITS),
	SD_BUS_PROPERTY("GuestPressureSomeAvg10", "d", NULL, MCH(psi_some_avg10), EMITS),
	SD_BUS_PROPERTY("SwapInRate", "d", NULL, MCH(swapin_rate), EMITS),
	SD_BUS_PROPERTY("MinMemory", "t", NULL, MCH(min_memory), EMITS),
	SD_BUS_PROPERTY("MaxMemorySetting", "t", NULL, MCH(max_memory_setting), EMITS),
	SD_BUS_PROPERTY("Shares", "u", NULL, MCH(shares), EMITS),
	SD_BUS_PROPERTY("Priority", "i", NULL, MCH(priority), EMITS),
	SD_BUS_PROPERTY("Reclaim", "as", property_get_rungs, MCH(rungs), EMITS),
	SD_BUS_PROPERTY("Managed", "b", NULL, MCH(managed), EMITS),
	SD_BUS_PROPERTY("AgentState", "s", property_get_chars, MCH(agent_state), EMITS),
	SD_BUS_PROPERTY("AgentRejected", "t", NULL, MCH(agent_rejected), EMITS),
	SD_BUS_PROPERTY("Libvirt", "s", property_get_chars, MCH(libvirt), EMITS),
	SD_BUS_PROPERTY("Module", "b", NULL, MCH(module), EMITS),
	SD_BUS_PROPERTY("DiscardCapable", "b", NULL, MCH(discard_capable), EMITS),
	SD_BUS_PROPERTY("DiscardReason", "s", property_get_chars, MCH(discard_reason), EMITS),
	SD_BUS_PROPERTY("LastDecision", "s", property_get_chars, MCH(last_decision), EMITS),
	SD_BUS_PROPERTY("LastDecisionTimestamp", "t", NULL, MCH(last_decision_usec), EMITS),
	SD_BUS_VTABLE_END,
};

/* ---- objects ------------------------------------------------------------ */

static int manager_object_find(sd_bus *bus, const char *path, const char *interface,
			       void *userdata, void **found, sd_bus_error *error) {
	struct manager *m = userdata;

	if (strcmp(path, BUS_MANAGER_PATH) != 0)
		return 0;
	manager_props_fill(m, &m->bus_now);
	*found = &m->bus_now;
	return 1;
}

static int machine_object_find(sd_bus *bus, const char *path, const char *interface,
			       void *userdata, void **found, sd_bus_error *error) {
	_cleanup_free_ char *name = NULL;
	struct vm *vm;
	int r;

	r = sd_bus_path_decode(path, BUS_MACHINE_PREFIX, &name);
	if (r <= 0)
		return r;
	vm = manager_find_vm(userdata, name);
	if (!vm)
		return 0;
	machine_props_fill(vm, &vm->bus_now);
	*found = &vm->bus_now;
	return 1;
}

static int machine_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			     sd_bus_error *error) {
	struct manager *m = userdata;
	_cleanup_(strv_freep) char **l = calloc(m->n_vms + 1, sizeof *l);
	int r;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_vms; i++) {
		r = sd_bus_path_encode(BUS_MACHINE_PREFIX, m->vms[i]->id.name, &l[i]);
		if (r < 0)
			return r;
	}
	*nodes = TAKE_PTR(l);
	return 0;
}

/* ---- signals ------------------------------------------------------------ */

static bool property_differs(const char *signature, const void *a, const void *b) {
	switch (signature[0]) {
	case 's':
		return strcmp(a, b) != 0;
	case 't':
	case 'd':
		return memcmp(a, b, 8) != 0;
	case 'a':	/* "as": RUNG_BIT()s */
	case 'b':
	case 'u':
	case 'i':
		return memcmp(a, b, 4) != 0;
	}
	return true;
}

/* Compares now with sent property by property, announces the ones that
 * differ (their values read from now, through the find function), and
 * remembers now as sent. */
static void emit_changes(sd_bus *bus, const char *path, const char *interface,
			 const sd_bus_vtable *vtable, void *sent, const void *now, size_t size,
			 bool *announced) {
	const char *names[64];
	size_t n = 0;
	int r;

	if (*announced) {
		for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
			if (v->type != _SD_BUS_VTABLE_PROPERTY ||
			    !(v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
				continue;
			if (n + 1 < ELEMENTSOF(names) &&
			    property_differs(v->x.property.signature,
					     (const uint8_t *) sent + v->x.property.offset,
					     (const uint8_t *) now + v->x.property.offset))
				names[n++] = v->x.property.member;
		}
		names[n] = NULL;
		if (n > 0) {
			r = sd_bus_emit_properties_changed_strv(bus, path, interface, (char **) names);
			if (r < 0)
				log_debug_errno(r, "Failed to announce changes of %s: %m", path);
		}
	}
	memcpy(sent, now, size);
	*announced = true;
}

void bus_emit_changes(struct manager *m) {
	if (!m->bus)
		return;
	manager_props_fill(m, &m->bus_now);
	emit_changes(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, manager_vtable,
		     &m->bus_sent, &m->bus_now, sizeof m->bus_now, &m->bus_announced);
	for (size_t i = 0; i < m->n_vms; i++) {
		struct vm *vm = m->vms[i];
		_cleanup_free_ char *path = NULL;

		if (sd_bus_path_encode(BUS_MACHINE_PREFIX, vm->id.name, &path) < 0)
			continue;
		machine_props_fill(vm, &vm->bus_now);
		emit_changes(m->bus, path, BUS_MACHINE_INTERFACE, machine_vtable, &vm->bus_sent,
			     &vm->bus_now, sizeof vm->bus_now, &vm->bus_announced);
	}
}

void bus_machine_added(struct manager *m, struct vm *vm) {
	_cleanup_free_ char *path = NULL;
	int r;

	if (!m->bus)
		return;
	/* InterfacesAdded carries every value: the next changes compare with these. */
	machine_props_fill(vm, &vm->bus_sent);
	vm->bus_announced = true;
	r = sd_bus_path_encode(BUS_MACHINE_PREFIX, vm->id.name, &path);
	if (r >= 0)
		r = sd_bus_emit_object_added(m->bus, path);
	if (r < 0)
		log_warning_errno(r, "%s: failed to announce its object: %m, ignoring", vm->id.name);
}

void bus_machine_removed(struct manager *m, struct vm *vm) {
	_cleanup_free_ char *path = NULL;
	int r;

	if (!m->bus)
		return;
	r = sd_bus_path_encode(BUS_MACHINE_PREFIX, vm->id.name, &path);
	if (r >= 0)
		r = sd_bus_emit_object_removed(m->bus, path);
	if (r < 0)
		log_debug_errno(r, "%s: failed to announce its removal: %m", vm->id.name);
}

void bus_emit_reclaimed(struct manager *m, struct vm *vm, enum rung rung, uint64_t bytes) {
	int r;

	if (!m->bus)
		return;
	r = sd_bus_emit_signal(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, "Reclaimed", "sst",
			       vm->id.name, rung_to_string(rung), bytes);
	if (r < 0)
		log_debug_errno(r, "Failed to emit Reclaimed: %m");
}

void bus_emit_pressure_changed(struct manager *m, bool reclaiming, uint64_t free_bytes,
			       uint64_t need) {
	int r;

	if (!m->bus)
		return;
	r = sd_bus_emit_signal(m->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE, "PressureChanged",
			       "btt", (int) reclaiming, free_bytes, need);
	if (r < 0)
		log_debug_errno(r, "Failed to emit PressureChanged: %m");
}

/* ---- connection --------------------------------------------------------- */

int bus_open(struct manager *m, const char *address) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	const char *where = address ? address : "the system bus";
	int r;

	if (address) {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, address);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, 1);
		if (r >= 0)
			r = sd_bus_start(bus);
	} else
		r = sd_bus_open_system(&bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to %s: %m", where);

	r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach %s to the event loop: %m", where);
	r = sd_bus_add_fallback_vtable(bus, NULL, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE,
				       manager_vtable, manager_object_find, m);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, BUS_MACHINE_PREFIX, BUS_MACHINE_INTERFACE,
					       machine_vtable, machine_object_find, m);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, NULL, BUS_MACHINE_PREFIX, machine_enumerate, m);
	if (r >= 0)
		r = sd_bus_add_object_manager(bus, NULL, BUS_MANAGER_PATH);
	if (r < 0)
		return log_error_errno(r, "Failed to publish the D-Bus objects: %m");

	r = sd_bus_request_name(bus, BUS_NAME, 0);
	if (r < 0)
		return log_error_errno(r, "Failed to own %s on %s: %m%s", BUS_NAME, where,
				       r == -EEXIST ? " (is another hintd running?)" :
				       r == -EACCES ? " (is the D-Bus policy org.hintd1.conf installed?)" :
				       "");
	m->bus = TAKE_PTR(bus);
	return 0;
}

void bus_close(struct manager *m) {
	m->bus = sd_bus_flush_close_unref(m->bus);
}
