/* bus-auth.c - see bus-auth.h. */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "bus-auth.h"
#include "macro.h"

void bus_admin_group_resolve(const char *name, struct bus_admin_group *ret) {
	const struct group *g;
	char *end;
	unsigned long v;

	*ret = (struct bus_admin_group) { .name = name };
	if (!name)
		return;
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name >= '0' && *name <= '9' && !*end && errno == 0 && v == (gid_t) v &&
	    (gid_t) v != (gid_t) -1) {
		ret->exists = true;
		ret->gid = (gid_t) v;
		return;
	}
	g = getgrnam(name);
	if (g) {
		ret->exists = true;
		ret->gid = g->gr_gid;
	}
}

static bool caller_in_group(const struct bus_caller *c, gid_t gid) {
	for (size_t i = 0; i < c->n_gids; i++)
		if (c->gids[i] == gid)
			return true;
	return false;
}

_printf_(2, 3)
static int refuse(char **ret_why, const char *fmt, ...) {
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret_why, fmt, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : 0;
}

int bus_auth_decide(const struct bus_caller *c, const struct bus_admin_group *admin,
		    const char *what, char **ret_why) {
	if (!c->has_uid)
		return refuse(ret_why, "%s is refused: the bus did not say which user the caller "
			      "is.", what);
	if (c->uid == 0)
		return 1;
	if (!admin->name)
		return refuse(ret_why, "%s is allowed to root only (AdminGroup= in hintd.conf can "
			      "allow a group).", what);
	if (!admin->exists)
		return refuse(ret_why, "%s is allowed to root only: AdminGroup=%s in hintd.conf "
			      "names no group on this host.", what, admin->name);
	/* Without the bus's list, membership could only be guessed from
	 * /proc or the group database, neither of which is the caller's
	 * identity at the time of the call. */
	if (!c->has_gids)
		return refuse(ret_why, "%s is allowed to root only on this bus: it does not tell "
			      "the caller's groups (UnixGroupIDs, dbus-daemon 1.12 or later on "
			      "Linux), so membership of '%s' (AdminGroup= in hintd.conf) cannot "
			      "be checked.", what, admin->name);
	if (caller_in_group(c, admin->gid))
		return 1;
	return refuse(ret_why, "%s is allowed to root and to members of group '%s' "
		      "(AdminGroup= in hintd.conf) only.", what, admin->name);
}
