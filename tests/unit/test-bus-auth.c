/* test-bus-auth.c - who may change hintd, from the bus's record of the caller. */
#include "bus-auth.h"
#include "harness.h"
#include "macro.h"

static const gid_t nobody_groups[] = { 65534 };
static const gid_t admin_groups[] = { 1, 100, 4242 };

static const struct bus_admin_group no_group = { 0 };
static const struct bus_admin_group admins = { .name = "hintadm", .exists = true, .gid = 4242 };

#define CALLER(u, g) ((struct bus_caller) { .has_uid = true, .uid = (u), .has_gids = true, \
					    .gids = (g), .n_gids = ELEMENTSOF(g) })

/* Runs the decision; returns its result and leaves the refusal in *why. */
static int decide(struct bus_caller c, const struct bus_admin_group *g, char **why) {
	*why = NULL;
	return bus_auth_decide(&c, g, "Reclaiming", why);
}

TEST(root_is_allowed_whatever_the_bus_says_of_groups) {
	_cleanup_free_ char *why = NULL;

	CHECK_EQ_INT(decide(CALLER(0, nobody_groups), &no_group, &why), 1);
	CHECK(!why);
	CHECK_EQ_INT(decide((struct bus_caller) { .has_uid = true, .uid = 0 }, &admins, &why), 1);
	CHECK(!why);
}

TEST(without_admin_group_only_root) {
	_cleanup_free_ char *why = NULL;

	CHECK_EQ_INT(decide(CALLER(1000, admin_groups), &no_group, &why), 0);
	CHECK_STREQ(why, "Reclaiming is allowed to root only (AdminGroup= in hintd.conf can "
		    "allow a group).");
}

TEST(admin_group_member_allowed_by_any_of_its_groups) {
	static const gid_t primary_only[] = { 4242 };
	_cleanup_free_ char *why = NULL;

	CHECK_EQ_INT(decide(CALLER(1000, admin_groups), &admins, &why), 1);
	CHECK_EQ_INT(decide(CALLER(65534, primary_only), &admins, &why), 1);
	CHECK(!why);
}

TEST(not_a_member_is_told_who_may) {
	_cleanup_free_ char *why = NULL;

	CHECK_EQ_INT(decide(CALLER(65534, nobody_groups), &admins, &why), 0);
	CHECK_STREQ(why, "Reclaiming is allowed to root and to members of group 'hintadm' "
		    "(AdminGroup= in hintd.conf) only.");
}

TEST(empty_group_list_is_a_list_and_not_a_member) {
	_cleanup_free_ char *why = NULL;
	struct bus_caller c = { .has_uid = true, .uid = 1000, .has_gids = true };

	CHECK_EQ_INT(bus_auth_decide(&c, &admins, "Reclaiming", &why), 0);
	CHECK(why && strstr(why, "members of group 'hintadm'"));
}

TEST(no_group_list_from_the_bus_allows_root_only_and_says_why) {
	_cleanup_free_ char *why = NULL;
	/* Even a caller whose UID happens to match the admin GID. */
	struct bus_caller c = { .has_uid = true, .uid = 4242 };

	CHECK_EQ_INT(bus_auth_decide(&c, &admins, "Changing a machine's settings", &why), 0);
	CHECK_STREQ(why, "Changing a machine's settings is allowed to root only on this bus: it "
		    "does not tell the caller's groups (UnixGroupIDs, dbus-daemon 1.12 or later on "
		    "Linux), so membership of 'hintadm' (AdminGroup= in hintd.conf) cannot be "
		    "checked.");
}

TEST(no_uid_from_the_bus_is_refused_even_with_the_admin_group) {
	_cleanup_free_ char *why = NULL;
	struct bus_caller c = { .has_gids = true, .gids = admin_groups,
				.n_gids = ELEMENTSOF(admin_groups) };

	CHECK_EQ_INT(bus_auth_decide(&c, &admins, "Reclaiming", &why), 0);
	CHECK_STREQ(why, "Reclaiming is refused: the bus did not say which user the caller is.");
}

TEST(admin_group_that_does_not_exist_allows_root_only) {
	_cleanup_free_ char *why = NULL;
	const struct bus_admin_group gone = { .name = "hintadm", .exists = false, .gid = 0 };
	static const gid_t root_group[] = { 0 };

	/* gid 0 of a non-root caller must not match the unset gid. */
	CHECK_EQ_INT(decide(CALLER(1000, root_group), &gone, &why), 0);
	CHECK_STREQ(why, "Reclaiming is allowed to root only: AdminGroup=hintadm in hintd.conf "
		    "names no group on this host.");
}

TEST(resolve_numbers_as_gids_names_through_the_group_database) {
	struct bus_admin_group g;

	bus_admin_group_resolve(NULL, &g);
	CHECK(!g.name && !g.exists);
	bus_admin_group_resolve("4242", &g);
	CHECK(g.exists);
	CHECK_EQ_INT(g.gid, 4242);
	bus_admin_group_resolve("root", &g);	/* in every group database */
	CHECK(g.exists);
	CHECK_EQ_INT(g.gid, 0);
	bus_admin_group_resolve("no-such-group-hintd-test", &g);
	CHECK_STREQ(g.name, "no-such-group-hintd-test");
	CHECK(!g.exists);
	/* Not numbers: out of range, (gid_t) -1, a sign. */
	bus_admin_group_resolve("99999999999", &g);
	CHECK(!g.exists);
	bus_admin_group_resolve("4294967295", &g);
	CHECK(!g.exists);
	bus_admin_group_resolve("+5", &g);
	CHECK(!g.exists);
}

int main(void) {
	return run_tests();
}
