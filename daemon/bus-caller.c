/* bus-caller.c - see bus-caller.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bus-auth.h"
#include "bus-caller.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "ratelimit.h"

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

	now = clock_usec(CLOCK_MONOTONIC);
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
		bus_admin_group_resolve(manager_admin_group(c->m), &admin);
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
int bus_admin_only(sd_bus_message *msg, void *userdata, const char *what,
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

