/* test-hintctl-format.c - hintctl's value formatting, argument parsers,
 * tables and JSON output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "format.h"
#include "harness.h"
#include "json-output.h"
#include "parse.h"
#include "snapshot.h"
#include "table.h"

static const char *size(uint64_t b) {
	static char buf[CTL_FORMAT_MAX];
	return ctl_format_size(buf, sizeof buf, b, false);
}

TEST(size_human) {
	CHECK_STREQ(size(0), "0");
	CHECK_STREQ(size(1), "1B");
	CHECK_STREQ(size(1023), "1023B");
	CHECK_STREQ(size(1024), "1K");
	CHECK_STREQ(size(1536), "1.5K");
	CHECK_STREQ(size(512ULL << 20), "512M");
	CHECK_STREQ(size(3ULL << 29), "1.5G");
	CHECK_STREQ(size(1ULL << 30), "1G");
	CHECK_STREQ(size(8ULL << 30), "8G");
	CHECK_STREQ(size(12ULL << 40), "12T");
	/* One decimal below 100 units, whole units above. */
	CHECK_STREQ(size((99ULL << 20) + (1ULL << 19)), "99.5M");
	CHECK_STREQ(size((100ULL << 20) + (1ULL << 19)), "101M");
	CHECK_STREQ(size((1ULL << 30) + (1ULL << 20)), "1G");	/* 1.001G */
	/* Rounding up to the next unit. */
	CHECK_STREQ(size((1ULL << 30) - 1), "1G");
	CHECK_STREQ(size(1023ULL << 20), "1023M");
	CHECK_STREQ(size(UINT64_MAX), "16E");
}

TEST(size_exact) {
	char buf[CTL_FORMAT_MAX];

	CHECK_STREQ(ctl_format_size(buf, sizeof buf, 0, true), "0");
	CHECK_STREQ(ctl_format_size(buf, sizeof buf, 3ULL << 29, true), "1610612736");
	CHECK_STREQ(ctl_format_size(buf, sizeof buf, UINT64_MAX, true), "18446744073709551615");
}

TEST(size_is_short_and_reads_back) {
	static const uint64_t values[] = {
		1, 999, 1024, 4095, 123456, 1ULL << 20, 5ULL << 29, 123456789, 99999999999ULL,
		(1ULL << 40) * 3 / 2, 1000ULL << 40,
	};

	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		const char *s = size(values[i]);
		uint64_t back;

		CHECK(strlen(s) <= 5);
		if (parse_size(s, &back) < 0) {
			FAIL_AT("\"%s\" does not read back", s);
			continue;
		}
		/* Within the rounding of one decimal: 5%. */
		CHECK(back >= values[i] - values[i] / 20 && back <= values[i] + values[i] / 20);
	}
}

TEST(rate) {
	char buf[CTL_FORMAT_MAX];

	CHECK_STREQ(ctl_format_rate(buf, sizeof buf, 0, false), "0/s");
	CHECK_STREQ(ctl_format_rate(buf, sizeof buf, -5, false), "0/s");
	CHECK_STREQ(ctl_format_rate(buf, sizeof buf, 12.0 * 1048576, false), "12M/s");
	CHECK_STREQ(ctl_format_rate(buf, sizeof buf, 1536.4, true), "1536/s");
	CHECK_STREQ(ctl_format_rate(buf, sizeof buf, 0.0 / 0.0, false), "0/s");
}

TEST(duration) {
	char buf[CTL_FORMAT_MAX];

	CHECK_STREQ(ctl_format_duration(buf, sizeof buf, 0), "0");
	CHECK_STREQ(ctl_format_duration(buf, sizeof buf, 1000000), "1s");
	CHECK_STREQ(ctl_format_duration(buf, sizeof buf, 1500000), "1.5s");
	CHECK_STREQ(ctl_format_duration(buf, sizeof buf, 500000), "500ms");
	CHECK_STREQ(ctl_format_duration(buf, sizeof buf, 120000000), "2min");
	CHECK_STREQ(ctl_format_duration(buf, sizeof buf, 90), "90us");
}

TEST(virtio_mem) {
	char buf[CTL_FORMAT_MAX];

	/* No device: a dash, whatever the other figures say. */
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 0, 0, 0, false), "-");
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 0, 0, 0, true), "-");
	/* Settled: plugged of size. */
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 3ULL << 29, 3ULL << 29, 4ULL << 30, false),
		    "1.5G/4G");
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 0, 0, 4ULL << 30, false), "0/4G");
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 4ULL << 30, 4ULL << 30, 4ULL << 30, false),
		    "4G/4G");
	/* A change in flight, either way: plugged, then what it goes to. */
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 3ULL << 29, 1ULL << 30, 4ULL << 30, false),
		    "1.5G->1G/4G");
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 0, 1ULL << 30, 4ULL << 30, false),
		    "0->1G/4G");
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, 1ULL << 30, 3ULL << 29, 4ULL << 30, true),
		    "1073741824->1610612736/4294967296");
	/* The longest there can be still fits CTL_FORMAT_MAX whole. */
	CHECK_STREQ(ctl_format_virtio_mem(buf, sizeof buf, UINT64_MAX - 1, UINT64_MAX - 2, UINT64_MAX, true),
		    "18446744073709551614->18446744073709551613/18446744073709551615");
	/* Short sizes: never more than 17 characters. */
	CHECK(strlen(ctl_format_virtio_mem(buf, sizeof buf, 1023ULL << 50, 1022ULL << 50, 1024ULL << 50,
					   false)) <= 17);
}

TEST(machine_virtio_mem) {
	struct ctl_machine vms[2] = {
		{ .name = (char *) "plain" },
		{ .name = (char *) "resized", .virtio_mem_size = 4ULL << 30, .virtio_mem_block_size = 2ULL << 20,
		  .virtio_mem_requested = 2ULL << 30, .virtio_mem_plugged = 2ULL << 30 },
	};
	struct ctl_snapshot s = { .machines = vms, .n_machines = 1 };
	char buf[CTL_FORMAT_MAX];

	CHECK(!ctl_machine_has_virtio_mem(&vms[0]));
	CHECK(ctl_machine_has_virtio_mem(&vms[1]));
	CHECK(!ctl_snapshot_has_virtio_mem(&s));
	s.n_machines = 2;
	CHECK(ctl_snapshot_has_virtio_mem(&s));
	CHECK_STREQ(ctl_machine_virtio_mem(&vms[0], false, buf, sizeof buf), "-");
	CHECK_STREQ(ctl_machine_virtio_mem(&vms[1], false, buf, sizeof buf), "2G/4G");
	vms[1].virtio_mem_requested = 3ULL << 30;
	CHECK_STREQ(ctl_machine_virtio_mem(&vms[1], false, buf, sizeof buf), "2G->3G/4G");
}

TEST(timestamp_and_age) {
	char buf[128];

	CHECK_STREQ(ctl_format_timestamp(buf, sizeof buf, 0, 0), "never");
	ctl_format_timestamp(buf, sizeof buf, 1700000000000000ULL, 1700000005000000ULL);
	CHECK(strstr(buf, " (5s ago)") != NULL);
	CHECK(strncmp(buf, "2023-11-1", 9) == 0);
	ctl_format_timestamp(buf, sizeof buf, 1700000000000000ULL, 0);
	CHECK(strchr(buf, '(') == NULL);
	CHECK_STREQ(ctl_format_age(buf, sizeof buf, 59000000), "59s");
	CHECK_STREQ(ctl_format_age(buf, sizeof buf, 180000000), "3min");
	CHECK_STREQ(ctl_format_age(buf, sizeof buf, 7200ULL * 1000000), "2h");
	CHECK_STREQ(ctl_format_age(buf, sizeof buf, 4ULL * 86400 * 1000000), "4d");
}

TEST(truncate_name) {
	char buf[64];

	CHECK_STREQ(ctl_truncate_name(buf, sizeof buf, "web", 10), "web");
	CHECK_STREQ(ctl_truncate_name(buf, sizeof buf, "0123456789", 10), "0123456789");
	CHECK_STREQ(ctl_truncate_name(buf, sizeof buf, "web-server-prod-01", 10), "web-s~d-01");
	CHECK_EQ_INT(strlen(ctl_truncate_name(buf, sizeof buf, "web-server-prod-01", 9)), 9);
	CHECK_STREQ(ctl_truncate_name(buf, sizeof buf, "abcdef", 2), "ab");
	CHECK_STREQ(ctl_truncate_name(buf, sizeof buf, "abcdef", 0), "");
	/* A small buffer bounds the width. */
	CHECK_STREQ(ctl_truncate_name(buf, 6, "abcdefghij", 20), "ab~ij");
	/* UTF-8 sequences are not cut: "é" is two bytes. */
	ctl_truncate_name(buf, sizeof buf, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 6);
	for (const char *p = buf; *p; p++)
		if (*p == '~') {
			CHECK(((unsigned char) p[1] & 0xC0) != 0x80);
			CHECK(p == buf || ((unsigned char) p[-1] & 0xE0) != 0xC0);
		}
}

static int settings(const char *a, const char *b, struct ctl_settings *s, char **err) {
	char *args[2] = { (char *) a, (char *) b };
	return ctl_settings_parse(args, b ? 2 : 1, s, err);
}

TEST(settings_valid) {
	struct ctl_settings s;
	char *err = NULL;
	char *all[] = {
		"MinMemory=1G", "MaxMemory=4G", "Shares=500", "Priority=-5",
		"Reclaim=unused,balloon", "Manage=no",
	};

	CHECK_EQ_INT(ctl_settings_parse(all, 6, &s, &err), 0);
	CHECK(err == NULL);
	CHECK(s.has_min_memory && s.has_max_memory && s.has_shares && s.has_priority);
	CHECK(s.has_reclaim && s.has_manage);
	CHECK_EQ_U64(s.min_memory, 1ULL << 30);
	CHECK_EQ_U64(s.max_memory, 4ULL << 30);
	CHECK_EQ_INT(s.shares, 500);
	CHECK_EQ_INT(s.priority, -5);
	CHECK_EQ_INT(s.reclaim, (1u << CTL_RUNG_UNUSED) | (1u << CTL_RUNG_BALLOON));
	CHECK(!s.manage);

	/* Only what is given is set; keys in any case; "none" unsets. */
	CHECK_EQ_INT(settings("shares=1", "MINMEMORY=none", &s, &err), 0);
	CHECK(s.has_shares && s.has_min_memory && !s.has_max_memory && !s.has_reclaim);
	CHECK_EQ_U64(s.min_memory, 0);
	CHECK_EQ_INT(settings("Reclaim=none", NULL, &s, &err), 0);
	CHECK(s.has_reclaim);
	CHECK_EQ_INT(s.reclaim, 0);
	CHECK_EQ_INT(settings("Priority=100", "Shares=10000", &s, &err), 0);
	CHECK_EQ_INT(settings("Priority=-100", "Manage=yes", &s, &err), 0);
	CHECK(s.manage);
	/* MaxMemory=0 means unset: no conflict with MinMemory. */
	CHECK_EQ_INT(settings("MinMemory=1G", "MaxMemory=0", &s, &err), 0);
}

/* Each bad argument fails with -EINVAL and a message naming it. */
static void check_bad(const char *a, const char *b, const char *named) {
	struct ctl_settings s = { .shares = 77 };
	char *err = NULL;

	CHECK_EQ_INT(settings(a, b, &s, &err), -EINVAL);
	CHECK(err != NULL);
	if (err && !strstr(err, named))
		FAIL_AT("'%s' does not name '%s'", err, named);
	CHECK_EQ_INT(s.shares, 77);	/* untouched */
	free(err);
}

TEST(settings_invalid) {
	check_bad("Shares=0", NULL, "'Shares=0'");
	check_bad("Shares=10001", NULL, "Shares=10001");
	check_bad("Shares=-1", NULL, "Shares=-1");
	check_bad("Shares=ten", NULL, "Shares=ten");
	check_bad("Priority=101", NULL, "Priority=101");
	check_bad("Priority=-101", NULL, "Priority=-101");
	check_bad("Priority=1.5", NULL, "Priority=1.5");
	check_bad("MinMemory=lots", NULL, "MinMemory=lots");
	check_bad("MaxMemory=-1G", NULL, "MaxMemory=-1G");
	check_bad("Reclaim=swap", NULL, "Reclaim=swap");
	check_bad("Reclaim=", NULL, "Reclaim=");
	check_bad("Reclaim=unused,,balloon", NULL, "Reclaim=unused,,balloon");
	check_bad("Reclaim=unused,", NULL, "Reclaim=unused,");
	check_bad("Manage=maybe", NULL, "Manage=maybe");
	check_bad("Frobs=1", NULL, "Frobs");
	check_bad("Shares", NULL, "'Shares'");
	check_bad("=5", NULL, "'=5'");
	check_bad("Shares=1", "shares=2", "given twice");
	check_bad("MinMemory=4G", "MaxMemory=1G", "MinMemory");
}

TEST(settings_none_given) {
	struct ctl_settings s;
	char *err = NULL;

	CHECK_EQ_INT(ctl_settings_parse(NULL, 0, &s, &err), -EINVAL);
	CHECK(err && strstr(err, "KEY=VALUE"));
	free(err);
}

TEST(rungs) {
	unsigned bits;

	CHECK_EQ_INT(ctl_rungs_parse("unused,volatile,balloon", &bits), 0);
	CHECK_EQ_INT(bits, 7);
	CHECK_EQ_INT(ctl_rungs_parse("balloon", &bits), 0);
	CHECK_EQ_INT(bits, 1u << CTL_RUNG_BALLOON);
	CHECK_EQ_INT(ctl_rungs_parse("Volatile,unused,volatile", &bits), 0);
	CHECK_EQ_INT(bits, 3);
	CHECK_EQ_INT(ctl_rungs_parse("NONE", &bits), 0);
	CHECK_EQ_INT(bits, 0);
	CHECK_EQ_INT(ctl_rungs_parse("", &bits), -EINVAL);
	CHECK_EQ_INT(ctl_rungs_parse(",unused", &bits), -EINVAL);
	CHECK_EQ_INT(ctl_rungs_parse("unused balloon", &bits), -EINVAL);
}

TEST(interval) {
	double v = -1;

	CHECK_EQ_INT(ctl_interval_parse("1", &v), 0);
	CHECK(v == 1.0);
	CHECK_EQ_INT(ctl_interval_parse("0.2", &v), 0);
	CHECK(v == 0.2);
	CHECK_EQ_INT(ctl_interval_parse("60", &v), 0);
	CHECK_EQ_INT(ctl_interval_parse("2.5", &v), 0);
	CHECK(v == 2.5);
	CHECK_EQ_INT(ctl_interval_parse("0.1", &v), -ERANGE);
	CHECK_EQ_INT(ctl_interval_parse("61", &v), -ERANGE);
	CHECK_EQ_INT(ctl_interval_parse("0", &v), -ERANGE);
	CHECK(v == 2.5);
	CHECK(ctl_interval_parse("-1", &v) < 0);
	CHECK(ctl_interval_parse("1s", &v) < 0);
	CHECK(ctl_interval_parse("", &v) < 0);
}

TEST(reclaim_bytes) {
	uint64_t b = 42;

	CHECK_EQ_INT(ctl_reclaim_bytes_parse("256M", &b), 0);
	CHECK_EQ_U64(b, 256ULL << 20);
	CHECK_EQ_INT(ctl_reclaim_bytes_parse("4096", &b), 0);
	CHECK_EQ_U64(b, 4096);
	CHECK_EQ_INT(ctl_reclaim_bytes_parse("0", &b), -ERANGE);
	CHECK(ctl_reclaim_bytes_parse("much", &b) < 0);
	CHECK(ctl_reclaim_bytes_parse("-1M", &b) < 0);
	CHECK_EQ_U64(b, 4096);
}

static char *print_table(const struct ctl_table *t, bool legend) {
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ctl_table_print(t, f, legend);
	fclose(f);
	return buf;
}

TEST(table) {
	static const char *const headers[] = { "NAME", ">SIZE", "STATE" };
	struct ctl_table *t = NULL;
	const char *r1[] = { "a-long-name", "1.5G", "connected" };
	const char *r2[] = { "b", "512M", NULL };
	char *out;

	CHECK_EQ_INT(ctl_table_new(headers, 3, &t), 0);
	CHECK_EQ_INT(ctl_table_add_row(t, r1), 0);
	CHECK_EQ_INT(ctl_table_add_row(t, r2), 0);
	CHECK_EQ_INT(ctl_table_rows(t), 2);
	out = print_table(t, true);
	CHECK_STREQ(out,
		    "NAME         SIZE  STATE\n"
		    "a-long-name  1.5G  connected\n"
		    "b            512M  -\n");
	free(out);
	out = print_table(t, false);
	CHECK_STREQ(out,
		    "a-long-name  1.5G  connected\n"
		    "b            512M  -\n");
	free(out);
	/* A hidden column takes no room; the last shown one is not padded. */
	ctl_table_hide_column(t, 2);
	out = print_table(t, true);
	CHECK_STREQ(out,
		    "NAME         SIZE\n"
		    "a-long-name  1.5G\n"
		    "b            512M\n");
	free(out);
	ctl_table_hide_column(t, 1);
	ctl_table_hide_column(t, 3);	/* no such column: nothing happens */
	out = print_table(t, true);
	CHECK_STREQ(out,
		    "NAME\n"
		    "a-long-name\n"
		    "b\n");
	free(out);
	ctl_table_free(t);
}

TEST(table_hides_a_middle_column) {
	static const char *const headers[] = { "NAME", ">VMEM", "AGENT" };
	struct ctl_table *t = NULL;
	const char *r1[] = { "web", "0->1G/4G", "absent" };
	char *out;

	CHECK_EQ_INT(ctl_table_new(headers, 3, &t), 0);
	CHECK_EQ_INT(ctl_table_add_row(t, r1), 0);
	out = print_table(t, true);
	CHECK_STREQ(out,
		    "NAME      VMEM  AGENT\n"
		    "web   0->1G/4G  absent\n");
	free(out);
	ctl_table_hide_column(t, 1);
	out = print_table(t, true);
	CHECK_STREQ(out,
		    "NAME  AGENT\n"
		    "web   absent\n");
	free(out);
	ctl_table_free(t);
}

TEST(property_format) {
	struct ctl_machine vm = {
		.name = "test", .backed = 3ULL << 29, .shares = 1000, .priority = -5,
		.guest_psi_some_avg10 = 1.25, .discard_capable = true,
	};
	char *rungs[] = { "unused", "balloon", NULL };
	char buf[256];

	vm.reclaim = rungs;
	for (size_t i = 0; i < ctl_machine_properties_n; i++) {
		const struct ctl_property *p = &ctl_machine_properties[i];

		ctl_property_format(p, &vm, false, 0, buf, sizeof buf);
		if (strcmp(p->name, "Name") == 0)
			CHECK_STREQ(buf, "test");
		else if (strcmp(p->name, "Backed") == 0)
			CHECK_STREQ(buf, "1.5G");
		else if (strcmp(p->name, "Priority") == 0)
			CHECK_STREQ(buf, "-5");
		else if (strcmp(p->name, "Reclaim") == 0)
			CHECK_STREQ(buf, "unused,balloon");
		else if (strcmp(p->name, "GuestPressureSomeAvg10") == 0)
			CHECK_STREQ(buf, "1.25%");
		else if (strcmp(p->name, "DiscardCapable") == 0)
			CHECK_STREQ(buf, "yes");
		else if (strcmp(p->name, "DiscardReason") == 0)
			CHECK_STREQ(buf, "");
		else if (strcmp(p->name, "LastDecisionTimestamp") == 0)
			CHECK_STREQ(buf, "never");
		ctl_property_format(p, &vm, true, 0, buf, sizeof buf);
		if (strcmp(p->name, "Backed") == 0)
			CHECK_STREQ(buf, "1610612736");
	}
	vm.reclaim = NULL;
	for (size_t i = 0; i < ctl_machine_properties_n; i++)
		if (strcmp(ctl_machine_properties[i].name, "Reclaim") == 0)
			CHECK_STREQ(ctl_property_format(&ctl_machine_properties[i], &vm, false, 0,
							buf, sizeof buf), "none");
}

/* Every property of docs/dbus-api.md, with its D-Bus type. */
TEST(property_tables_match_the_api) {
	static const char *const manager[] = {
		"Version s", "DryRun b", "TickIntervalUSec t", "MemoryTotal t", "MemoryAvailable t",
		"PressureSomeAvg10 d", "PressureFullAvg10 d", "BudgetLimit t", "BudgetUsage t",
		"Free t", "LowWatermark t", "HighWatermark t", "Reclaiming b", "ReclaimedUnused t",
		"ReclaimedVolatile t", "ReclaimedBalloon t", "RateUnused d", "RateVolatile d",
		"RateBalloon d", "Plan s", "Libvirt s",
	};
	static const char *const machine[] = {
		"Name s", "Running b", "MaxMemory t", "BalloonActual t", "BalloonTarget t",
		"VirtioMemSize t", "VirtioMemBlockSize t", "VirtioMemRequested t", "VirtioMemPlugged t",
		"LastInstrument s", "Backed t", "Unused t", "Volatile t", "Stable t", "Hinted t", "ReclaimedUnused t",
		"ReclaimedVolatile t", "ReclaimedBalloon t", "GuestPressureSomeAvg10 d",
		"SwapInRate d", "MinMemory t", "MaxMemorySetting t", "Shares u", "Priority i",
		"Reclaim as", "Managed b", "Proactive b", "AgentState s", "AgentRejected t", "Libvirt s", "Module b", "DiscardCapable b",
		"DiscardReason s", "Discard s", "LastDecision s", "LastDecisionTimestamp t",
	};
	char buf[64];

	CHECK_EQ_INT(ctl_manager_properties_n, sizeof manager / sizeof manager[0]);
	for (size_t i = 0; i < ctl_manager_properties_n && i < sizeof manager / sizeof manager[0]; i++) {
		snprintf(buf, sizeof buf, "%s %s", ctl_manager_properties[i].name,
			 ctl_property_signature(ctl_manager_properties[i].kind));
		CHECK_STREQ(buf, manager[i]);
	}
	CHECK_EQ_INT(ctl_machine_properties_n, sizeof machine / sizeof machine[0]);
	for (size_t i = 0; i < ctl_machine_properties_n && i < sizeof machine / sizeof machine[0]; i++) {
		snprintf(buf, sizeof buf, "%s %s", ctl_machine_properties[i].name,
			 ctl_property_signature(ctl_machine_properties[i].kind));
		CHECK_STREQ(buf, machine[i]);
	}
}

static const char *discard_why(const char *discard, const char *reason, const char *agent) {
	static char buf[512];
	struct ctl_machine vm = {
		.discard = (char *) discard, .discard_reason = (char *) reason, .agent_state = (char *) agent,
	};

	return ctl_machine_discard_why(&vm, buf, sizeof buf);
}

/* What list and top show, and what show says about it. */
TEST(discard_state_and_why) {
	struct ctl_machine vm = { .discard = "no agent", .discard_capable = true };

	CHECK_STREQ(ctl_machine_discard(&vm), "no agent");
	/* A hintd without Discard: DiscardCapable is all there is. */
	vm.discard = NULL;
	CHECK_STREQ(ctl_machine_discard(&vm), "yes");
	vm.discard_capable = false;
	CHECK_STREQ(ctl_machine_discard(&vm), "no");
	vm.discard = "";
	CHECK_STREQ(ctl_machine_discard(&vm), "no");

	CHECK_STREQ(discard_why("no backing", "guest RAM is not a shared file mapping", "absent"),
		    "guest RAM is not a shared file mapping");
	CHECK_STREQ(discard_why("no backing", "", "absent"), "its RAM backing is not open");
	CHECK_STREQ(discard_why(NULL, "no QEMU process", NULL), "no QEMU process");
	CHECK(strstr(discard_why("fpr", "", "connected"), "free page reporting is on"));
	CHECK(strstr(discard_why("no agent", "", "absent"), "org.hintd.agent.0"));
	CHECK(strstr(discard_why("agent down", "", "failed"), "broke the protocol"));
	CHECK(strstr(discard_why("agent down", "", "disconnected"), "no agent answers"));
	CHECK(strstr(discard_why("no module", "", "connected"), "without pagehint.ko"));
	CHECK(strstr(discard_why("yes", "", "connected"), "pagehint.ko reports"));
	CHECK(strstr(discard_why("reading", "", "absent"), "not described"));
	/* A state this hintctl does not know: nothing made up. */
	CHECK_STREQ(discard_why("later", "", "connected"), "");
}

TEST(json_snapshot) {
	struct ctl_machine vms[2] = {
		{ .name = "a", .backed = 1ULL << 40, .priority = -3, .agent_state = "connected" },
		{ .name = "b", .reclaimed = { 1, 2, 3 } },
	};
	struct ctl_snapshot s = {
		.manager = { .version = "0.1", .memory_total = 1ULL << 35, .reclaiming = true,
			     .rate = { 0.5, 0, 0 } },
		.machines = vms, .n_machines = 2,
	};
	char *rungs[] = { "unused", NULL };
	json_t *j, *m;
	char *text;

	vms[0].reclaim = rungs;
	j = ctl_json_snapshot(&s);
	CHECK(j != NULL);
	if (!j)
		return;
	CHECK_STREQ(json_string_value(json_object_get(j, "Version")), "0.1");
	CHECK(json_integer_value(json_object_get(j, "MemoryTotal")) == (json_int_t) (1ULL << 35));
	CHECK(json_is_true(json_object_get(j, "Reclaiming")));
	CHECK(json_real_value(json_object_get(j, "RateUnused")) == 0.5);
	CHECK_STREQ(json_string_value(json_object_get(j, "Plan")), "");	/* NULL string */
	m = json_object_get(j, "Machines");
	CHECK_EQ_INT(json_array_size(m), 2);
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(m, 0), "Name")), "a");
	CHECK(json_integer_value(json_object_get(json_array_get(m, 0), "Backed")) == (json_int_t) (1ULL << 40));
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(m, 0), "Priority")), -3);
	CHECK_STREQ(json_string_value(json_array_get(json_object_get(json_array_get(m, 0), "Reclaim"), 0)),
		    "unused");
	CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(m, 1), "Reclaim")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(m, 1), "ReclaimedBalloon")), 3);
	text = json_dumps(j, JSON_COMPACT);
	CHECK(text && strchr(text, '\n') == NULL);
	free(text);
	json_decref(j);
}

TEST(json_print) {
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_EQ_INT(ctl_json_print(json_pack("{s:i}", "a", 1), f, true), 0);
	CHECK_EQ_INT(ctl_json_print(NULL, f, true), -ENOMEM);
	fclose(f);
	CHECK_STREQ(buf, "{\"a\":1}\n");
	free(buf);
}

int main(void) {
	return run_tests();
}
