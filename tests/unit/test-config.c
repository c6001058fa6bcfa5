/* test-config.c - value parsers and hintd.conf loading: good files, drop-in
 * overrides, VM section precedence, and bad files refused with file:line. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "macro.h"
#include "parse.h"

/* ---- value parsers ------------------------------------------------------ */

#define CHECK_SIZE(s, want)                                                     \
	do {                                                                    \
		uint64_t _v = 0;                                                \
		CHECK_EQ_INT(parse_size((s), &_v), 0);                         \
		CHECK_EQ_U64(_v, (want));                                       \
	} while (0)

/* Refused with -e; *ret untouched. */
#define CHECK_SIZE_BAD(s, e)                                                    \
	do {                                                                    \
		uint64_t _v = 12345;                                            \
		CHECK_EQ_INT(parse_size((s), &_v), -(e));                       \
		CHECK_EQ_U64(_v, 12345);                                        \
	} while (0)

TEST(parse_size_good) {
	CHECK_SIZE("0", 0);
	CHECK_SIZE("4096", 4096);
	CHECK_SIZE("512B", 512);
	CHECK_SIZE("1K", 1024);
	CHECK_SIZE("1KB", 1024);
	CHECK_SIZE("1KiB", 1024);
	CHECK_SIZE("512M", MiB(512));
	CHECK_SIZE("512 M", MiB(512));
	CHECK_SIZE("2GiB", GiB(2));
	CHECK_SIZE("6G", GiB(6));
	CHECK_SIZE("1T", GiB(1024));
	CHECK_SIZE("1.5G", GiB(1) + MiB(512));
	CHECK_SIZE("0.5K", 512);
	CHECK_SIZE("0.3K", 307);		/* 307.2, rounded down */
	CHECK_SIZE("1.0000000000000000000001K", 1024);
	CHECK_SIZE("18446744073709551615", UINT64_MAX);
	CHECK_SIZE("16777215.999999T", UINT64_C(18446744073708452104)); /* just under 16 EiB */
}

TEST(parse_size_bad) {
	CHECK_SIZE_BAD("", EINVAL);
	CHECK_SIZE_BAD(NULL, EINVAL);
	CHECK_SIZE_BAD("-1", EINVAL);
	CHECK_SIZE_BAD("-1G", EINVAL);
	CHECK_SIZE_BAD("+1G", EINVAL);
	CHECK_SIZE_BAD(" 1G", EINVAL);
	CHECK_SIZE_BAD("1G ", EINVAL);
	CHECK_SIZE_BAD("12 ", EINVAL);
	CHECK_SIZE_BAD("G", EINVAL);
	CHECK_SIZE_BAD("1g", EINVAL);		/* units are upper case */
	CHECK_SIZE_BAD("1Q", EINVAL);
	CHECK_SIZE_BAD("1GB2", EINVAL);
	CHECK_SIZE_BAD("1Gi", EINVAL);
	CHECK_SIZE_BAD("1GiBs", EINVAL);
	CHECK_SIZE_BAD("1.5", EINVAL);		/* a fraction needs a unit */
	CHECK_SIZE_BAD("1.5B", EINVAL);
	CHECK_SIZE_BAD("1.G", EINVAL);
	CHECK_SIZE_BAD(".5G", EINVAL);
	CHECK_SIZE_BAD("1,5G", EINVAL);
	CHECK_SIZE_BAD("0x10", EINVAL);
	CHECK_SIZE_BAD("1e3", EINVAL);
	CHECK_SIZE_BAD("18446744073709551616", ERANGE);
	CHECK_SIZE_BAD("99999999999999999999999", ERANGE);
	CHECK_SIZE_BAD("16777216T", ERANGE);
	CHECK_SIZE_BAD("17179869184G", ERANGE);
}

#define CHECK_USEC(s, want)                                                     \
	do {                                                                    \
		uint64_t _v = 0;                                                \
		CHECK_EQ_INT(parse_duration_usec((s), &_v), 0);                \
		CHECK_EQ_U64(_v, (want));                                       \
	} while (0)

#define CHECK_USEC_BAD(s, e)                                                    \
	do {                                                                    \
		uint64_t _v = 12345;                                            \
		CHECK_EQ_INT(parse_duration_usec((s), &_v), -(e));              \
		CHECK_EQ_U64(_v, 12345);                                        \
	} while (0)

TEST(parse_duration_good) {
	CHECK_USEC("0", 0);
	CHECK_USEC("2", 2 * USEC_PER_SEC);		/* a bare number is seconds */
	CHECK_USEC("1.5", 1500 * USEC_PER_MSEC);
	CHECK_USEC("500ms", 500 * USEC_PER_MSEC);
	CHECK_USEC("500 ms", 500 * USEC_PER_MSEC);
	CHECK_USEC("250msec", 250 * USEC_PER_MSEC);
	CHECK_USEC("2s", 2 * USEC_PER_SEC);
	CHECK_USEC("2sec", 2 * USEC_PER_SEC);
	CHECK_USEC("1min", 60 * USEC_PER_SEC);
	CHECK_USEC("1h", 3600 * USEC_PER_SEC);
	CHECK_USEC("1.5h", 5400 * USEC_PER_SEC);
	CHECK_USEC("100us", 100);
	CHECK_USEC("7usec", 7);
	CHECK_USEC("1min 30s", 90 * USEC_PER_SEC);
	CHECK_USEC("1min30s", 90 * USEC_PER_SEC);
	CHECK_USEC("1h 1min 1s 1ms 1us", 3661 * USEC_PER_SEC + 1001);
}

TEST(parse_duration_bad) {
	CHECK_USEC_BAD("", EINVAL);
	CHECK_USEC_BAD(NULL, EINVAL);
	CHECK_USEC_BAD("-1s", EINVAL);
	CHECK_USEC_BAD("s", EINVAL);
	CHECK_USEC_BAD("1x", EINVAL);
	CHECK_USEC_BAD("1m", EINVAL);			/* minutes are "min" */
	CHECK_USEC_BAD("1S", EINVAL);
	CHECK_USEC_BAD("1s junk", EINVAL);
	CHECK_USEC_BAD("1s ", EINVAL);
	CHECK_USEC_BAD(" 1s", EINVAL);
	CHECK_USEC_BAD("1 2", EINVAL);		/* bare seconds only alone */
	CHECK_USEC_BAD("1min 30", EINVAL);
	CHECK_USEC_BAD("1.s", EINVAL);
	CHECK_USEC_BAD("99999999999999999999s", ERANGE);
	CHECK_USEC_BAD("6000000000h", ERANGE);
	CHECK_USEC_BAD("3000000000h 3000000000h", ERANGE);
}

TEST(parse_boolean) {
	static const char *const yes[] = { "yes", "YES", "true", "True", "on", "1" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "off", "0" };
	static const char *const bad[] = { "", "y", "n", "2", "yes ", "enable", "nope" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++)
		CHECK_EQ_INT(parse_boolean(yes[i]), 1);
	for (size_t i = 0; i < ELEMENTSOF(no); i++)
		CHECK_EQ_INT(parse_boolean(no[i]), 0);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		CHECK_EQ_INT(parse_boolean(bad[i]), -EINVAL);
	CHECK_EQ_INT(parse_boolean(NULL), -EINVAL);
}

TEST(parse_percent) {
	unsigned v = 0;

	CHECK_EQ_INT(parse_percent("10%", &v), 0);
	CHECK_EQ_INT(v, 1000);
	CHECK_EQ_INT(parse_percent("2.5%", &v), 0);
	CHECK_EQ_INT(v, 250);
	CHECK_EQ_INT(parse_percent("0.01%", &v), 0);
	CHECK_EQ_INT(v, 1);
	CHECK_EQ_INT(parse_percent("0%", &v), 0);
	CHECK_EQ_INT(v, 0);
	CHECK_EQ_INT(parse_percent("100%", &v), 0);
	CHECK_EQ_INT(v, 10000);

	v = 7;
	CHECK_EQ_INT(parse_percent("100.01%", &v), -ERANGE);
	CHECK_EQ_INT(parse_percent("99999999999999999999999%", &v), -ERANGE);
	CHECK_EQ_INT(parse_percent("10", &v), -EINVAL);
	CHECK_EQ_INT(parse_percent("10 %", &v), -EINVAL);
	CHECK_EQ_INT(parse_percent("10%%", &v), -EINVAL);
	CHECK_EQ_INT(parse_percent("-1%", &v), -EINVAL);
	CHECK_EQ_INT(parse_percent("1.234%", &v), -EINVAL);
	CHECK_EQ_INT(parse_percent("%", &v), -EINVAL);
	CHECK_EQ_INT(parse_percent("", &v), -EINVAL);
	CHECK_EQ_INT(v, 7);
}

TEST(parse_number) {
	double v = 0;

	CHECK_EQ_INT(parse_number("0.75", &v), 0);
	CHECK(v == 0.75);
	CHECK_EQ_INT(parse_number("0.99", &v), 0);
	CHECK(v == 0.99);
	CHECK_EQ_INT(parse_number("250.5", &v), 0);
	CHECK(v == 250.5);
	CHECK_EQ_INT(parse_number("10", &v), 0);
	CHECK(v == 10);
	CHECK_EQ_INT(parse_number("0.1", &v), 0);
	CHECK(v == 0.1);
	CHECK_EQ_INT(parse_number("123456789012345678901234", &v), 0);
	CHECK(v > 1.2e23 && v < 1.3e23);

	v = 7;
	CHECK_EQ_INT(parse_number("-1", &v), -EINVAL);
	CHECK_EQ_INT(parse_number("1e3", &v), -EINVAL);
	CHECK_EQ_INT(parse_number("inf", &v), -EINVAL);
	CHECK_EQ_INT(parse_number("nan", &v), -EINVAL);
	CHECK_EQ_INT(parse_number("0,5", &v), -EINVAL);
	CHECK_EQ_INT(parse_number("1.", &v), -EINVAL);
	CHECK_EQ_INT(parse_number("", &v), -EINVAL);
	CHECK_EQ_INT(parse_number("1 ", &v), -EINVAL);
	CHECK(v == 7);
}

TEST(parse_integers) {
	unsigned u = 0;
	int i = 0;

	CHECK_EQ_INT(parse_unsigned("10000", &u), 0);
	CHECK_EQ_INT(u, 10000);
	CHECK_EQ_INT(parse_int("-100", &i), 0);
	CHECK_EQ_INT(i, -100);
	CHECK_EQ_INT(parse_int("42", &i), 0);
	CHECK_EQ_INT(i, 42);

	u = 7;
	i = 7;
	CHECK_EQ_INT(parse_unsigned("-1", &u), -ERANGE);
	CHECK_EQ_INT(parse_unsigned("4294967296", &u), -ERANGE);
	CHECK_EQ_INT(parse_unsigned("", &u), -EINVAL);
	CHECK_EQ_INT(parse_unsigned(" 1", &u), -EINVAL);
	CHECK_EQ_INT(parse_unsigned("1x", &u), -EINVAL);
	CHECK_EQ_INT(parse_unsigned("1.5", &u), -EINVAL);
	CHECK_EQ_INT(parse_int("2147483648", &i), -ERANGE);
	CHECK_EQ_INT(parse_int("-2147483649", &i), -ERANGE);
	CHECK_EQ_INT(parse_int("-", &i), -EINVAL);
	CHECK_EQ_INT(parse_int("--1", &i), -EINVAL);
	CHECK_EQ_INT(parse_int("1 ", &i), -EINVAL);
	CHECK_EQ_INT(u, 7);
	CHECK_EQ_INT(i, 7);
}

/* ---- loading ------------------------------------------------------------ */

/* FIXTURE("config/" name), unparenthesised so that it joins other literals. */
#define CONFIG_FIXTURE(name) TEST_FIXTURE_DIR "/config/" name

/* Loads a file that must be good (and no drop-ins unless dir). */
static struct hintd_config *load_good(const char *path, const char *dir) {
	struct hintd_config *c = NULL;
	char *error = NULL;
	int r;

	r = config_load(path, dir, &c, &error);
	if (r < 0 || !c) {
		fprintf(stderr, "  config_load(%s) = %d: %s\n", path, r, error ? error : "(no message)");
		free(error);
		return NULL;
	}
	CHECK(!error);
	return c;
}

/* Loads a file that must be refused with -EINVAL and a message starting with
 * "prefix" (file:line:) and containing "what". */
#define CHECK_BAD_FILE(path, dir, prefix, what)                                 \
	do {                                                                    \
		struct hintd_config *_c = (struct hintd_config *) 0x1;          \
		char *_e = NULL;                                                \
		int _r = config_load((path), (dir), &_c, &_e);                  \
		CHECK_EQ_INT(_r, -EINVAL);                                      \
		CHECK(_c == (struct hintd_config *) 0x1);                       \
		if (!_e)                                                        \
			FAIL_AT("no error message");                            \
		else if (strncmp(_e, (prefix), strlen(prefix)) != 0 || !strstr(_e, (what))) \
			FAIL_AT("error \"%s\" does not start with \"%s\" or lacks \"%s\"", \
				_e, (prefix), (what));                          \
		free(_e);                                                       \
	} while (0)

#define CHECK_BAD(name, line, what)                                             \
	CHECK_BAD_FILE(CONFIG_FIXTURE(name), NULL, CONFIG_FIXTURE(name) ":" #line ": ", what)

TEST(defaults) {
	_cleanup_config_free_ struct hintd_config *c = load_good(NULL, NULL);
	struct policy_config def;
	struct vm_settings s, vdef;
	bool manage = false;

	if (!c)
		{ FAIL_AT("no config"); return; }
	policy_config_init(&def);
	CHECK_STREQ(c->uri, "qemu:///system");
	CHECK_EQ_U64(c->tick_interval_usec, USEC_PER_SEC);
	CHECK_EQ_U64(c->budget, 0);
	CHECK(!c->budget_cgroup);
	CHECK(c->low_watermark.is_percent);
	CHECK_EQ_INT(c->low_watermark.permyriad, 500);
	CHECK(c->high_watermark.is_percent);
	CHECK_EQ_INT(c->high_watermark.permyriad, 1000);
	CHECK(c->policy.psi_limit == 10);
	CHECK(!c->dry_run);
	CHECK(!c->admin_group);
	CHECK_EQ_INT(c->policy.discard_unused, DISCARD_ALWAYS);
	CHECK_EQ_U64(c->policy.guest_headroom, def.guest_headroom);
	CHECK(c->policy.idle_tax == def.idle_tax);
	CHECK_EQ_INT(c->n_vms, 0);

	config_vm_settings(c, "anything", &s, &manage);
	vm_settings_init(&vdef);
	CHECK_EQ_U64(s.min_memory, vdef.min_memory);
	CHECK_EQ_U64(s.max_memory, vdef.max_memory);
	CHECK_EQ_INT(s.shares, vdef.shares);
	CHECK_EQ_INT(s.priority, vdef.priority);
	CHECK_EQ_INT(s.rungs, vdef.rungs);
	CHECK(manage);
}

TEST(missing_main_file_is_defaults) {
	_cleanup_config_free_ struct hintd_config *c =
		load_good(CONFIG_FIXTURE("does-not-exist.conf"), CONFIG_FIXTURE("no-such-dir"));

	CHECK(c);
	if (c)
		CHECK_STREQ(c->uri, "qemu:///system");
}

TEST(good_file) {
	_cleanup_config_free_ struct hintd_config *c = load_good(CONFIG_FIXTURE("good.conf"), NULL);
	struct vm_settings s;
	bool manage;

	if (!c)
		{ FAIL_AT("no config"); return; }
	CHECK_STREQ(c->uri, "qemu+ssh://root@host1/system");
	CHECK_EQ_U64(c->tick_interval_usec, 500 * USEC_PER_MSEC);
	CHECK_EQ_U64(c->budget, GiB(6));
	CHECK(!c->low_watermark.is_percent);
	CHECK_EQ_U64(c->low_watermark.bytes, MiB(256));
	CHECK(!c->high_watermark.is_percent);
	CHECK_EQ_U64(c->high_watermark.bytes, GiB(1) + MiB(512));
	CHECK(c->policy.psi_limit == 20);
	CHECK(c->dry_run);
	CHECK_STREQ(c->admin_group, "hintd-admin");

	CHECK_EQ_INT(c->policy.discard_unused, DISCARD_ON_PRESSURE);
	CHECK_EQ_U64(c->policy.guest_headroom, MiB(96));
	CHECK_EQ_U64(c->policy.guest_floor, MiB(256));
	CHECK_EQ_U64(c->policy.balloon_step, MiB(32));
	CHECK_EQ_U64(c->policy.volatile_step, MiB(64));
	CHECK_EQ_U64(c->policy.reverse_holdoff, 90 * USEC_PER_SEC);
	CHECK(c->policy.idle_tax == 0.5);
	CHECK(c->policy.guest_psi_limit == 5.5);
	CHECK(c->policy.guest_swapin_limit == 100);
	CHECK(c->policy.guest_refault_limit == 250.5);

	CHECK_EQ_INT(c->n_vms, 4);

	config_vm_settings(c, "db-1", &s, &manage);
	CHECK_EQ_U64(s.min_memory, MiB(512));
	CHECK_EQ_U64(s.max_memory, 0);
	CHECK_EQ_INT(s.shares, 2000);
	CHECK_EQ_INT(s.priority, 50);
	CHECK_EQ_INT(s.rungs, RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_VOLATILE));
	CHECK(manage);

	config_vm_settings(c, "web1", &s, NULL);
	CHECK_EQ_U64(s.min_memory, MiB(512));
	CHECK_EQ_U64(s.max_memory, GiB(4));
	CHECK_EQ_INT(s.shares, 500);
	CHECK_EQ_INT(s.priority, -20);
	CHECK_EQ_INT(s.rungs, 0);

	config_vm_settings(c, "build", &s, &manage);
	CHECK(!manage);
	CHECK_EQ_INT(s.shares, 500);
}

TEST(glob_precedence) {
	_cleanup_config_free_ struct hintd_config *c = load_good(CONFIG_FIXTURE("glob.conf"), NULL);
	struct vm_settings s;

	if (!c)
		{ FAIL_AT("no config"); return; }

	/* Only [VM *]. */
	config_vm_settings(c, "web", &s, NULL);
	CHECK_EQ_U64(s.min_memory, GiB(1));
	CHECK_EQ_INT(s.shares, 100);
	CHECK_EQ_INT(s.priority, 1);
	CHECK_EQ_INT(s.rungs, RUNGS_ALL);

	/* [VM *], then db-*, then the later db-? wins for Shares. */
	config_vm_settings(c, "db-x", &s, NULL);
	CHECK_EQ_U64(s.min_memory, GiB(1));
	CHECK_EQ_INT(s.shares, 50);
	CHECK_EQ_INT(s.priority, 1);
	CHECK_EQ_INT(s.rungs, RUNG_BIT(RUNG_BALLOON));

	/* db-* < db-prod* for Shares; the exact section wins for Priority. */
	config_vm_settings(c, "db-prod", &s, NULL);
	CHECK_EQ_U64(s.min_memory, GiB(1));
	CHECK_EQ_INT(s.shares, 3000);
	CHECK_EQ_INT(s.priority, 90);
	CHECK_EQ_INT(s.rungs, RUNG_BIT(RUNG_BALLOON));

	config_vm_settings(c, "db-prod2", &s, NULL);
	CHECK_EQ_INT(s.shares, 3000);
	CHECK_EQ_INT(s.priority, -5);

	/* Globs match whole names. */
	config_vm_settings(c, "xdb-prod", &s, NULL);
	CHECK_EQ_INT(s.shares, 100);
}

TEST(dropins_override) {
	_cleanup_config_free_ struct hintd_config *c =
		load_good(CONFIG_FIXTURE("dropin/hintd.conf"), CONFIG_FIXTURE("dropin/hintd.conf.d"));
	struct vm_settings s;
	bool manage;

	if (!c)
		{ FAIL_AT("no config"); return; }
	/* 10-budget.conf: Budget cleared, a cgroup instead, tick back to 1s. */
	CHECK_EQ_U64(c->budget, 0);
	CHECK_STREQ(c->budget_cgroup, "/machine.slice");
	CHECK_EQ_U64(c->tick_interval_usec, USEC_PER_SEC);
	CHECK(c->dry_run);
	/* 30-later.conf comes last. */
	CHECK(c->policy.idle_tax == 0.1);

	/* 20-vms.conf set Shares, 30-later.conf cleared MinMemory. */
	config_vm_settings(c, "db-1", &s, &manage);
	CHECK_EQ_INT(s.shares, 600);
	CHECK_EQ_U64(s.min_memory, 0);
	CHECK(manage);

	/* db-* keeps its place before db-prod* when a drop-in changes it. */
	config_vm_settings(c, "db-prod1", &s, NULL);
	CHECK_EQ_INT(s.shares, 2000);

	config_vm_settings(c, "new-1", &s, &manage);
	CHECK(!manage);
}

TEST(bad_files) {
	CHECK_BAD("bad-unknown-key.conf", 3, "TickIntervall=2s: unknown key in [Host]");
	CHECK_BAD("bad-size.conf", 2, "Budget=6Q: must be a size");
	CHECK_BAD("bad-shares.conf", 4, "Shares=0: must be between 1 and 10000");
	CHECK_BAD("bad-budget-both.conf", 3, "Budget=6G: BudgetCgroup= is set too");
	CHECK_BAD("bad-reclaim.conf", 2, "Reclaim=unused,balloons: must be a comma-separated list");
	CHECK_BAD("bad-boolean.conf", 2, "DryRun=maybe: must be a boolean");
	CHECK_BAD("bad-section.conf", 4, "unknown section [Hosts]");
	CHECK_BAD("bad-empty-section.conf", 2, "unknown section [Polcy]");
	CHECK_BAD("bad-vm-noname.conf", 1, "[VM] needs a domain name or a pattern");
	CHECK_BAD("bad-watermarks.conf", 3,
		  "HighWatermark=8%: must be greater than LowWatermark= (" CONFIG_FIXTURE("bad-watermarks.conf") ":2)");
	CHECK_BAD("bad-watermark-default.conf", 3,
		  "LowWatermark=12%: must be less than HighWatermark= (the default)");
	CHECK_BAD("bad-syntax.conf", 3, "syntax error");
	CHECK_BAD("bad-dup-section.conf", 7, "section [VM web] appears twice in this file (first at line 1)");
	CHECK_BAD("bad-dup-key.conf", 3, "IdleTax=0.6: already set in this section at line 2");
	CHECK_BAD("bad-outside.conf", 1, "Budget=6G: outside of any section; it belongs in [Host]");
	CHECK_BAD("bad-wrong-section.conf", 2, "Budget=6G: unknown key in [Policy]; it belongs in [Host]");
	CHECK_BAD("bad-minmax.conf", 3, "[VM web]: MinMemory= is larger than MaxMemory=");
	CHECK_BAD("bad-tick.conf", 2, "TickInterval=50ms: must be between 100ms and 60s");
	CHECK_BAD("bad-idletax.conf", 2, "IdleTax=100%: must be a number between 0 and 0.99, or a percent between 0% and 99%");
}

TEST(bad_dropins) {
	/* The drop-in sets BudgetCgroup while the main file keeps Budget. */
	CHECK_BAD_FILE(CONFIG_FIXTURE("dropin-conflict/hintd.conf"),
		       CONFIG_FIXTURE("dropin-conflict/hintd.conf.d"),
		       CONFIG_FIXTURE("dropin-conflict/hintd.conf.d/50-cgroup.conf") ":3: ",
		       "BudgetCgroup=/machine: Budget= is set too (" CONFIG_FIXTURE("dropin-conflict/hintd.conf") ":2)");
	CHECK_BAD_FILE(CONFIG_FIXTURE("dropin-bad/hintd.conf"), CONFIG_FIXTURE("dropin-bad/hintd.conf.d"),
		       CONFIG_FIXTURE("dropin-bad/hintd.conf.d/20-typo.conf") ":3: ",
		       "Prioriy=5: unknown key in [VM web]");
}

TEST(man_page_example) {
	/* The EXAMPLE of hintd.conf(5), as printed there. */
	_cleanup_config_free_ struct hintd_config *c =
		load_good(CONFIG_FIXTURE("man-example/hintd.conf"),
			  CONFIG_FIXTURE("man-example/hintd.conf.d"));
	struct vm_settings s;
	bool manage;

	if (!c)
		{ FAIL_AT("no config"); return; }
	CHECK_EQ_U64(c->budget, 0);
	CHECK_STREQ(c->budget_cgroup, "/machine.slice");
	CHECK(c->policy.idle_tax == 0.5);
	config_vm_settings(c, "db-test", &s, &manage);
	CHECK_EQ_U64(s.min_memory, GiB(8));
	CHECK_EQ_INT(s.shares, 4000);
	CHECK_EQ_INT(s.priority, -50);
	CHECK_EQ_INT(s.rungs, RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_VOLATILE));
	CHECK(manage);
	config_vm_settings(c, "web1", &s, &manage);
	CHECK_EQ_U64(s.min_memory, GiB(1));
	CHECK_EQ_INT(s.shares, 1000);
	config_vm_settings(c, "build", &s, &manage);
	CHECK(!manage);
}

/* ---- files written by the tests ------------------------------------------ */

static char tmpdir[] = "/tmp/test-config-XXXXXX";

static const char *tmpdir_get(void) {
	static bool made;

	if (!made) {
		if (!mkdtemp(tmpdir))
			abort();
		made = true;
	}
	return tmpdir;
}

/* Writes len bytes of text to a fresh file; returns its path (free it). */
static char *write_file(const char *text, size_t len) {
	static unsigned n;
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%u.conf", tmpdir_get(), n++) < 0)
		abort();
	f = fopen(path, "we");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0)
		abort();
	return path;
}

static int load_text(const char *text, size_t len, char **ret_error) {
	_cleanup_free_ char *path = write_file(text, len);
	struct hintd_config *c = NULL;
	int r;

	r = config_load(path, NULL, &c, ret_error);
	config_free(c);
	unlink(path);
	return r;
}

#define CHECK_TEXT_BAD(text, what)                                              \
	do {                                                                    \
		char *_e = NULL;                                                \
		CHECK_EQ_INT(load_text((text), sizeof(text) - 1, &_e), -EINVAL);\
		if (!_e || !strstr(_e, (what)))                                 \
			FAIL_AT("error \"%s\" lacks \"%s\"", _e ? _e : "(null)", (what)); \
		free(_e);                                                       \
	} while (0)

#define CHECK_TEXT_GOOD(text)                                                   \
	do {                                                                    \
		char *_e = NULL;                                                \
		CHECK_EQ_INT(load_text((text), sizeof(text) - 1, &_e), 0);      \
		if (_e)                                                         \
			FAIL_AT("unexpected error \"%s\"", _e);                  \
		free(_e);                                                       \
	} while (0)

TEST(values_in_files) {
	CHECK_TEXT_GOOD("[Host]\nPressureLimit=0\nLowWatermark=1G\nHighWatermark=2G\n");
	CHECK_TEXT_GOOD("[Host]\nPressureLimit=10%\nLowWatermark=1G\nHighWatermark=10%\n");
	CHECK_TEXT_GOOD("[Host]\nTickInterval=100ms\n[Policy]\nIdleTax=0\n");
	CHECK_TEXT_GOOD("[Policy]\nIdleTax=\nGuestFloor=\n[VM a]\nShares=\n");
	CHECK_TEXT_GOOD("\xef\xbb\xbf[Host]\r\nDryRun=on\r\n");
	CHECK_TEXT_GOOD("[Host]\nUri=\nBudgetCgroup=\nAdminGroup=\nBudget=\n");
	CHECK_TEXT_GOOD("[VM a]\nShares=1\n[VM b]\nShares=10000\nPriority=-100\n[VM c]\nPriority=100\n");
	CHECK_TEXT_GOOD("[Host]\nAdminGroup=1000\n[Policy]\nGuestSwapInLimit=0\n");
	CHECK_TEXT_GOOD("[Host]\nMetricsListen=127.0.0.1:9848\n");
	CHECK_TEXT_GOOD("[Host]\nMetricsListen=[::1]:9848\n[VM a]\n");
	CHECK_TEXT_GOOD("[Host]\nMetricsListen=\n");
	CHECK_TEXT_GOOD("[VM x]\nReclaim = balloon , unused\nMaxMemory=0\nMinMemory=4G\n");
	CHECK_TEXT_GOOD("[VM web]\n[VM web*]\n");

	CHECK_TEXT_BAD("[Host]\nTickInterval=61s\n", ":2: TickInterval=61s: must be between 100ms and 60s");
	CHECK_TEXT_BAD("[Host]\nBudget=0\n", ":2: Budget=0: must be greater than 0");
	CHECK_TEXT_BAD("[Host]\nBudget=1.5\n", "Budget=1.5: must be a size");
	CHECK_TEXT_BAD("[Host]\nBudget=99999999T\n", "Budget=99999999T: too large");
	CHECK_TEXT_BAD("[Host]\nBudgetCgroup=machine\n", "BudgetCgroup=machine: must be an absolute cgroup path");
	CHECK_TEXT_BAD("[Host]\nBudgetCgroup=/a/../b\n", "must not contain");
	CHECK_TEXT_BAD("[Host]\nLowWatermark=101%\n", "LowWatermark=101%: must be between 0% and 100%");
	CHECK_TEXT_BAD("[Host]\nLowWatermark=5 percent\n", "LowWatermark=5 percent: must be a size");
	CHECK_TEXT_BAD("[Host]\nLowWatermark=2G\nHighWatermark=1G\n", ":3: HighWatermark=1G: must be greater");
	CHECK_TEXT_BAD("[Host]\nPressureLimit=101\n", "PressureLimit=101: must be a number between 0 and 100");
	CHECK_TEXT_BAD("[Host]\nPressureLimit=-1\n", "PressureLimit=-1: must be a number");
	CHECK_TEXT_BAD("[Host]\nAdminGroup=wheel admins\n", "AdminGroup=wheel admins: must be a group name");
	CHECK_TEXT_BAD("[Host]\nMetricsListen=9848\n", "MetricsListen=9848: must be ADDRESS:PORT");
	CHECK_TEXT_BAD("[Host]\nMetricsListen=localhost:9848\n", "MetricsListen=localhost:9848: must be ADDRESS:PORT with a literal address");
	CHECK_TEXT_BAD("[Policy]\nDiscardUnused=sometimes\n", "DiscardUnused=sometimes: must be always or on-pressure");
	CHECK_TEXT_BAD("[Policy]\nBalloonStep=0\n", "BalloonStep=0: must be greater than 0");
	CHECK_TEXT_BAD("[Policy]\nReverseHoldoff=soon\n", "ReverseHoldoff=soon: must be a duration");
	CHECK_TEXT_BAD("[Policy]\nIdleTax=1\n", "IdleTax=1: must be a number between 0 and 0.99");
	CHECK_TEXT_BAD("[Policy]\nGuestRefaultLimit=-5\n", "GuestRefaultLimit=-5: must be a number of at least 0");
	CHECK_TEXT_BAD("[VM a]\nShares=10001\n", "Shares=10001: must be between 1 and 10000");
	CHECK_TEXT_BAD("[VM a]\nShares=-1\n", "Shares=-1: must be between 1 and 10000");
	CHECK_TEXT_BAD("[VM a]\nShares=many\n", "Shares=many: must be a whole number between 1 and 10000");
	CHECK_TEXT_BAD("[VM a]\nPriority=101\n", "Priority=101: must be between -100 and 100");
	CHECK_TEXT_BAD("[VM a]\nReclaim=none,balloon\n", "Reclaim=none,balloon: must be");
	CHECK_TEXT_BAD("[VM a]\nManage=perhaps\n", "Manage=perhaps: must be a boolean");
	CHECK_TEXT_BAD("[VM a]\nMinMemory=lots\n", "MinMemory=lots: must be a size");
	CHECK_TEXT_BAD("[VM a/b]\n", ":1: [VM a/b]: domain names cannot contain '/'");
	CHECK_TEXT_BAD("[Host\nDryRun=no\n", ":1: section header without ']'");
	CHECK_TEXT_BAD("[Host] junk\n", ":1: unexpected text after the section header");
	CHECK_TEXT_BAD("[host]\n", ":1: unknown section [host]");
	CHECK_TEXT_BAD("[Host]\n=5\n", ":2: missing key name");
	CHECK_TEXT_BAD("[Host]\nDryRun=no # a comment\n", "DryRun=no # a comment: must be a boolean");
}

TEST(lines) {
	char long_line[400], long_comment[400];

	/* Indented lines are plain lines, not continuations. */
	CHECK_TEXT_GOOD("[Host]\n  DryRun = yes\n    Uri = test:///default\n");
	/* A line inih would cut is refused, but a long comment is fine. */
	snprintf(long_comment, sizeof long_comment, "# %0300d\n[Host]\n", 0);
	CHECK_EQ_INT(load_text(long_comment, strlen(long_comment), NULL), 0);
	snprintf(long_line, sizeof long_line, "[Host]\nUri=test:///%0300d\n", 0);
	{
		char *e = NULL;
		CHECK_EQ_INT(load_text(long_line, strlen(long_line), &e), -EINVAL);
		CHECK(e && strstr(e, ":2: line longer than"));
		free(e);
	}
	/* A NUL byte in the middle of a line. */
	{
		static const char text[] = "[Host]\nDryRun=no\0yes\n";
		char *e = NULL;
		CHECK_EQ_INT(load_text(text, sizeof text - 1, &e), -EINVAL);
		CHECK(e && strstr(e, ":2: contains a NUL byte"));
		free(e);
	}
	/* A VM name longer than libvirt names hintd keeps. */
	{
		char text[300];
		char *e = NULL;
		snprintf(text, sizeof text, "[VM %0130d]\n", 0);
		CHECK_EQ_INT(load_text(text, strlen(text), &e), -EINVAL);
		CHECK(e && strstr(e, "name longer than 127 characters"));
		free(e);
	}
	/* VM names longer than inih's 50-byte section names stay whole. */
	{
		static const char text[] =
			"[VM a-very-long-domain-name-that-inih-would-truncate-0001]\nShares=1\n"
			"[VM a-very-long-domain-name-that-inih-would-truncate-0002]\nShares=2\n";
		_cleanup_free_ char *path = write_file(text, sizeof text - 1);
		_cleanup_config_free_ struct hintd_config *c = load_good(path, NULL);
		struct vm_settings s;

		unlink(path);
		if (!c)
			{ FAIL_AT("no config"); return; }
		config_vm_settings(c, "a-very-long-domain-name-that-inih-would-truncate-0001", &s, NULL);
		CHECK_EQ_INT(s.shares, 1);
		config_vm_settings(c, "a-very-long-domain-name-that-inih-would-truncate-0002", &s, NULL);
		CHECK_EQ_INT(s.shares, 2);
	}
}

TEST(unreadable) {
	struct hintd_config *c = (struct hintd_config *) 0x1;
	char *e = NULL;
	int r;

	/* A directory where the main file should be. */
	r = config_load(CONFIG_FIXTURE("dropin"), NULL, &c, &e);
	CHECK(r < 0);
	CHECK(c == (struct hintd_config *) 0x1);
	CHECK(e && strstr(e, CONFIG_FIXTURE("dropin") ": "));
	free(e);

	/* Not readable (unless we are root, who reads anything). */
	if (geteuid() != 0) {
		_cleanup_free_ char *path = write_file("[Host]\n", 7);

		chmod(path, 0);
		e = NULL;
		r = config_load(path, NULL, &c, &e);
		CHECK_EQ_INT(r, -EACCES);
		CHECK(e && strstr(e, "cannot open: Permission denied"));
		free(e);
		unlink(path);
	}

	/* The drop-in directory is a file. */
	e = NULL;
	r = config_load(NULL, CONFIG_FIXTURE("good.conf"), &c, &e);
	CHECK_EQ_INT(r, -ENOTDIR);
	CHECK(e && strstr(e, "cannot open directory"));
	free(e);
	CHECK(c == (struct hintd_config *) 0x1);
}

/* etc/hintd.conf loads, and with every "#Key=" line uncommented it still
 * gives the built-in defaults: the defaults it shows are the real ones. */
TEST(shipped_config_shows_defaults) {
	_cleanup_config_free_ struct hintd_config *def = load_good(NULL, NULL);
	_cleanup_config_free_ struct hintd_config *shipped = load_good("etc/hintd.conf", NULL);
	_cleanup_config_free_ struct hintd_config *c = NULL;
	_cleanup_free_ char *text = NULL, *path = NULL;
	_cleanup_fclose_ FILE *f = fopen("etc/hintd.conf", "re");
	size_t len = 0, n;
	char line[512], *e = NULL;
	struct vm_settings s, vdef;
	bool manage = false;

	CHECK(shipped);
	if (!f || !def)
		{ FAIL_AT("cannot read etc/hintd.conf"); return; }
	text = calloc(1, 65536);
	if (!text)
		abort();
	while (fgets(line, sizeof line, f)) {
		const char *p = line[0] == '#' && (line[1] == '[' || (line[1] >= 'A' && line[1] <= 'Z')) ?
				line + 1 : line;
		n = strlen(p);
		if (len + n >= 65536)
			abort();
		memcpy(text + len, p, n);
		len += n;
	}
	CHECK(strstr(text, "\n[VM *]\n"));
	path = write_file(text, len);
	CHECK_EQ_INT(config_load(path, NULL, &c, &e), 0);
	if (e)
		FAIL_AT("%s", e);
	free(e);
	unlink(path);
	if (!c)
		return;

	CHECK_STREQ(c->uri, def->uri);
	CHECK_EQ_U64(c->tick_interval_usec, def->tick_interval_usec);
	CHECK_EQ_U64(c->budget, def->budget);
	CHECK(!c->budget_cgroup);
	CHECK(!c->admin_group);
	CHECK(c->low_watermark.is_percent && def->low_watermark.is_percent);
	CHECK_EQ_INT(c->low_watermark.permyriad, def->low_watermark.permyriad);
	CHECK(c->high_watermark.is_percent && def->high_watermark.is_percent);
	CHECK_EQ_INT(c->high_watermark.permyriad, def->high_watermark.permyriad);
	CHECK(c->dry_run == def->dry_run);
	CHECK(c->policy.psi_limit == def->policy.psi_limit);
	CHECK_EQ_INT(c->policy.discard_unused, def->policy.discard_unused);
	CHECK_EQ_U64(c->policy.guest_headroom, def->policy.guest_headroom);
	CHECK_EQ_U64(c->policy.guest_floor, def->policy.guest_floor);
	CHECK_EQ_U64(c->policy.balloon_step, def->policy.balloon_step);
	CHECK_EQ_U64(c->policy.volatile_step, def->policy.volatile_step);
	CHECK_EQ_U64(c->policy.reverse_holdoff, def->policy.reverse_holdoff);
	CHECK(c->policy.idle_tax == def->policy.idle_tax);
	CHECK(c->policy.guest_psi_limit == def->policy.guest_psi_limit);
	CHECK(c->policy.guest_swapin_limit == def->policy.guest_swapin_limit);
	CHECK(c->policy.guest_refault_limit == def->policy.guest_refault_limit);

	vm_settings_init(&vdef);
	config_vm_settings(c, "any", &s, &manage);
	CHECK_EQ_U64(s.min_memory, vdef.min_memory);
	CHECK_EQ_U64(s.max_memory, vdef.max_memory);
	CHECK_EQ_INT(s.shares, vdef.shares);
	CHECK_EQ_INT(s.priority, vdef.priority);
	CHECK_EQ_INT(s.rungs, vdef.rungs);
	CHECK(manage);
}

TEST(resolve_watermarks) {
	_cleanup_config_free_ struct hintd_config *c = load_good(NULL, NULL);
	struct policy_config p;
	uint64_t low = 1, high = 2;

	if (!c)
		{ FAIL_AT("no config"); return; }
	CHECK_EQ_INT(config_resolve_watermarks(c, GiB(100), &low, &high), 0);
	CHECK_EQ_U64(low, GiB(5));
	CHECK_EQ_U64(high, GiB(10));

	/* No overflow on absurd totals. */
	CHECK_EQ_INT(config_resolve_watermarks(c, UINT64_MAX, &low, &high), 0);
	CHECK_EQ_U64(low, UINT64_MAX / 20);
	CHECK_EQ_U64(high, UINT64_MAX / 10);

	CHECK_EQ_INT(config_resolve_policy(c, GiB(10), &p), 0);
	CHECK_EQ_U64(p.low_watermark, GiB(10) / 20);
	CHECK_EQ_U64(p.high_watermark, GiB(1));
	CHECK(p.idle_tax == c->policy.idle_tax);

	/* Mixed kinds are only checked here: 1G is not below 5% of 10G. */
	c->low_watermark = (struct config_watermark) { .is_percent = false, .bytes = GiB(1) };
	low = high = 7;
	CHECK_EQ_INT(config_resolve_watermarks(c, GiB(10), &low, &high), -EINVAL);
	CHECK_EQ_U64(low, 7);
	CHECK_EQ_U64(high, 7);
	CHECK_EQ_INT(config_resolve_watermarks(c, GiB(100), &low, &high), 0);
	CHECK_EQ_U64(low, GiB(1));
	CHECK_EQ_U64(high, GiB(10));

	/* A zero total leaves percents at zero: low is not below high. */
	c->low_watermark = (struct config_watermark) { .is_percent = true, .permyriad = 500 };
	CHECK_EQ_INT(config_resolve_watermarks(c, 0, &low, &high), -EINVAL);
}

TEST(reload_keeps_nothing_on_failure) {
	/* Loading the same good file twice gives equal, independent configs; a
	 * bad load hands nothing back, so the caller keeps what it has. */
	_cleanup_config_free_ struct hintd_config *a = load_good(CONFIG_FIXTURE("good.conf"), NULL);
	_cleanup_config_free_ struct hintd_config *b = load_good(CONFIG_FIXTURE("good.conf"), NULL);
	struct hintd_config *keep = a;

	if (!a || !b)
		{ FAIL_AT("no config"); return; }
	CHECK(a->uri != b->uri);
	CHECK_STREQ(a->uri, b->uri);
	CHECK_EQ_INT(config_load(CONFIG_FIXTURE("bad-size.conf"), NULL, &keep, NULL), -EINVAL);
	CHECK(keep == a);
}

static void remove_tmpdir(void) {
	rmdir(tmpdir);
}

int main(void) {
	int r = run_tests();

	remove_tmpdir();
	return r;
}
