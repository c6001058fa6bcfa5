/* bus-auth.h - who may change hintd over D-Bus.
 *
 * Decided only from the bus's own record of the caller, the answer to
 * org.freedesktop.DBus.GetConnectionCredentials: the UID and the groups
 * (primary and supplementary) that dbus-daemon took from the socket when
 * the caller connected (SO_PEERCRED, SO_PEERGROUPS). Nothing here reads
 * /proc/PID: between sending a call and being looked at, a caller can exec
 * another program, or exit and have its PID reused, but it cannot change
 * what the bus recorded at connect time.
 *
 * Allowed: UID 0, or a member of AdminGroup=. When the bus does not give the
 * groups (dbus-daemon before 1.12, or not Linux), membership cannot be
 * decided without guessing, so only root is allowed and the refusal says
 * why. Pure: no sd-bus, no I/O but the group lookup. */
#ifndef HINTD_BUS_AUTH_H
#define HINTD_BUS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The bus's record of one caller. */
struct bus_caller {
	bool has_uid;		/* UnixUserID was given */
	uid_t uid;
	bool has_gids;		/* UnixGroupIDs was given (may be empty) */
	const gid_t *gids;
	size_t n_gids;
};

/* AdminGroup= as found at the time of the call. */
struct bus_admin_group {
	const char *name;	/* as configured; NULL: none configured */
	bool exists;		/* a number, or a name the host knows */
	gid_t gid;
};

/* Fills *ret for AdminGroup=name (NULL: none). A number is a GID as it is;
 * a name is looked up now (getgrnam), so a group created after hintd
 * started counts. */
void bus_admin_group_resolve(const char *name, struct bus_admin_group *ret);

/* Whether caller c may do `what` ("Reclaiming", said first in the message).
 * Returns 1 when allowed; 0 when refused, with *ret_why (to free) saying who
 * may and, where it matters, why the caller could not be judged; -ENOMEM. */
int bus_auth_decide(const struct bus_caller *c, const struct bus_admin_group *admin,
		    const char *what, char **ret_why);

#endif /* HINTD_BUS_AUTH_H */
