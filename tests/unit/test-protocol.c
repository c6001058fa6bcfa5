/* test-protocol.c - wire protocol encode/decode, including what must be refused. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "harness.h"
#include "macro.h"
#include "protocol.h"

static char err[512];

static int parse(const char *s, struct hint_msg *m) {
	err[0] = '\0';
	return hint_msg_parse(s, strlen(s), m, err, sizeof err);
}

/* Refused with errno e and, when given, a reason mentioning `what`. */
#define CHECK_REJECT(line, e, what)                                             \
	do {                                                                    \
		struct hint_msg _m;                                             \
		memset(&_m, 0xa5, sizeof _m);                                   \
		int _r = parse((line), &_m);                                    \
		CHECK_EQ_INT(_r, -(e));                                         \
		CHECK(err[0] != '\0');                                          \
		const char *_w = (what);                                        \
		if (_w && !strstr(err, _w))                                     \
			FAIL_AT("reason \"%s\" does not mention \"%s\"", err, _w); \
		/* ret is written only on success. */                           \
		unsigned char *_p = (unsigned char *) &_m;                      \
		for (size_t _i = 0; _i < sizeof _m; _i++)                       \
			if (_p[_i] != 0xa5) {                                   \
				FAIL_AT("ret written on failure");              \
				break;                                          \
			}                                                       \
	} while (0)

static char *format(const struct hint_msg *m) {
	char *line = NULL;
	int r = hint_msg_format(m, &line, err, sizeof err);

	if (r < 0)
		FAIL_AT("format failed: %d %s", r, err);
	return line;
}

/* format -> parse -> format gives the same line; returns the parsed copy. */
static struct hint_msg roundtrip(const struct hint_msg *m) {
	_cleanup_free_ char *a = NULL, *b = NULL;
	struct hint_msg out = {};
	int r;

	a = format(m);
	if (!a)
		return out;
	CHECK(strlen(a) > 0 && a[strlen(a) - 1] == '\n');
	CHECK(strchr(a, '\n') == a + strlen(a) - 1);
	r = hint_msg_parse(a, strlen(a), &out, err, sizeof err);
	if (r < 0) {
		FAIL_AT("parse of \"%s\" failed: %s", a, err);
		return out;
	}
	CHECK_EQ_INT(out.type, m->type);
	b = format(&out);
	CHECK_STREQ(a, b);
	return out;
}

static struct hint_msg sample_hello(void) {
	struct hint_msg m = { .type = HINT_MSG_HELLO };

	m.hello.protocol = 1;
	strcpy(m.hello.agent, "hint-agent 0.1");
	m.hello.module = true;
	strcpy(m.hello.module_status, "active");
	m.hello.granularity = MiB(2);
	m.hello.drop_cache = true;
	m.hello.ram_bytes = MiB(512);
	m.hello.max_ranges = HINT_MAX_RANGES;
	return m;
}

static struct hint_msg sample_stats(bool module) {
	struct hint_msg m = { .type = HINT_MSG_STATS };
	uint64_t *const mem[] = {
		&m.stats.mem.total, &m.stats.mem.free, &m.stats.mem.available, &m.stats.mem.cached,
		&m.stats.mem.active_file, &m.stats.mem.inactive_file, &m.stats.mem.dirty,
		&m.stats.mem.writeback, &m.stats.mem.mlocked, &m.stats.mem.anon,
		&m.stats.mem.swap_total, &m.stats.mem.swap_free,
	};

	m.stats.seq = 42;
	/* Distinct values everywhere, so a swapped field shows. */
	for (unsigned i = 0; i < ELEMENTSOF(mem); i++)
		*mem[i] = (i + 1) * 4096 * 1000ULL;
	m.stats.psi.some_avg10_permyriad = 123;
	m.stats.psi.full_avg10_permyriad = 45;
	m.stats.psi.some_total_us = 987654321;
	m.stats.psi.full_total_us = 12345;
	m.stats.vmstat.pgmajfault = 1;
	m.stats.vmstat.pswpin = 2;
	m.stats.vmstat.pswpout = 3;
	m.stats.vmstat.workingset_refault_file = 4;
	m.stats.vmstat.workingset_refault_anon = 5;
	if (module) {
		m.stats.has_pages = m.stats.has_module = true;
		m.stats.pages.unused = MiB(100);
		m.stats.pages.volatile_ = MiB(50);
		m.stats.pages.stable = MiB(300);
		m.stats.pages.mlocked = MiB(1);
		m.stats.module.reported = GiB(3);
		m.stats.module.acked = GiB(2);
		m.stats.module.released = MiB(10);
		m.stats.module.timed_out = MiB(4);
		m.stats.module.held = MiB(6);
	}
	return m;
}

static struct hint_msg sample_hints(unsigned n) {
	struct hint_msg m = { .type = HINT_MSG_HINTS };

	m.hints.batch = 7;
	m.hints.granularity = MiB(2);
	m.hints.ttl_ms = 2000;
	m.hints.n_ranges = n;
	for (unsigned i = 0; i < n; i++)
		m.hints.ranges[i] = (struct hint_range) { GiB(1) + i * MiB(8), MiB(2) * (1 + i % 3) };
	return m;
}

static struct hint_msg sample_cmd(enum hint_cmd_name name, uint64_t arg) {
	struct hint_msg m = { .type = HINT_MSG_CMD };

	m.cmd.id = 99;
	m.cmd.name = name;
	if (name == HINT_CMD_REPORTING)
		m.cmd.enable = arg;
	else if (name == HINT_CMD_STATS_INTERVAL)
		m.cmd.ms = arg;
	else
		m.cmd.bytes = arg;
	return m;
}

/* ---- round trips ---- */

TEST(roundtrip_hello) {
	struct hint_msg m = sample_hello(), o = roundtrip(&m);

	CHECK_EQ_U64(o.hello.protocol, 1);
	CHECK_STREQ(o.hello.agent, "hint-agent 0.1");
	CHECK(o.hello.module);
	CHECK_STREQ(o.hello.module_status, "active");
	CHECK_EQ_U64(o.hello.granularity, MiB(2));
	CHECK(o.hello.drop_cache);
	CHECK_EQ_U64(o.hello.ram_bytes, MiB(512));
	CHECK_EQ_U64(o.hello.max_ranges, 32);
}

TEST(roundtrip_hello_without_module) {
	struct hint_msg m = sample_hello(), o;

	m.hello.module = false;
	strcpy(m.hello.module_status, "/dev/pagehint: No such file or directory");
	m.hello.granularity = 0;
	m.hello.max_ranges = 0;
	o = roundtrip(&m);
	CHECK(!o.hello.module);
	CHECK_STREQ(o.hello.module_status, "/dev/pagehint: No such file or directory");
	CHECK_EQ_U64(o.hello.granularity, 0);
}

TEST(roundtrip_hello_utf8_status) {
	struct hint_msg m = sample_hello(), o;

	strcpy(m.hello.module_status, "inactive: \"quoted\" \\ tab\t caf\xc3\xa9");
	o = roundtrip(&m);
	CHECK_STREQ(o.hello.module_status, "inactive: \"quoted\" \\ tab\t caf\xc3\xa9");
}

TEST(roundtrip_stats_full) {
	struct hint_msg m = sample_stats(true), o = roundtrip(&m);

	CHECK_EQ_U64(o.stats.seq, 42);
	CHECK_EQ_U64(o.stats.mem.total, 4096 * 1000ULL);
	CHECK_EQ_U64(o.stats.mem.swap_free, 12 * 4096 * 1000ULL);
	CHECK_EQ_U64(o.stats.mem.cached, 4 * 4096 * 1000ULL);
	CHECK_EQ_U64(o.stats.psi.some_avg10_permyriad, 123);
	CHECK_EQ_U64(o.stats.psi.full_total_us, 12345);
	CHECK_EQ_U64(o.stats.vmstat.workingset_refault_anon, 5);
	CHECK(o.stats.has_pages);
	CHECK(o.stats.has_module);
	CHECK_EQ_U64(o.stats.pages.volatile_, MiB(50));
	CHECK_EQ_U64(o.stats.module.held, MiB(6));
	CHECK(memcmp(&o.stats, &m.stats, sizeof m.stats) == 0);
}

TEST(roundtrip_stats_without_module) {
	struct hint_msg m = sample_stats(false), o = roundtrip(&m);
	_cleanup_free_ char *line = format(&m);

	CHECK(!o.stats.has_pages);
	CHECK(!o.stats.has_module);
	CHECK(line && !strstr(line, "\"pages\""));
	CHECK(line && !strstr(line, "\"module\""));
}

TEST(roundtrip_hints) {
	for (unsigned n = 1; n <= HINT_MAX_RANGES; n++) {
		struct hint_msg m = sample_hints(n), o = roundtrip(&m);

		CHECK_EQ_U64(o.hints.batch, 7);
		CHECK_EQ_U64(o.hints.granularity, MiB(2));
		CHECK_EQ_U64(o.hints.ttl_ms, 2000);
		CHECK_EQ_INT(o.hints.n_ranges, n);
		for (unsigned i = 0; i < n; i++) {
			CHECK_EQ_U64(o.hints.ranges[i].gpa, m.hints.ranges[i].gpa);
			CHECK_EQ_U64(o.hints.ranges[i].len, m.hints.ranges[i].len);
		}
	}
}

TEST(roundtrip_hints_at_the_top) {
	/* The highest range whose end is still a JSON integer. */
	struct hint_msg m = sample_hints(1), o;

	m.hints.granularity = 4096;
	m.hints.ranges[0] = (struct hint_range) { HINT_NUMBER_MAX - 8191, 4096 };
	o = roundtrip(&m);
	CHECK_EQ_U64(o.hints.ranges[0].gpa, HINT_NUMBER_MAX - 8191);
	m.hints.ranges[0].gpa += 4096;
	CHECK_EQ_INT(hint_msg_format(&m, &(char *) { NULL }, err, sizeof err), -EINVAL);
}

TEST(roundtrip_claimed_claim_ack) {
	struct hint_msg m, o;

	for (int ok = 0; ok <= 1; ok++) {
		m = (struct hint_msg) { .type = HINT_MSG_CLAIMED, .claimed = { .batch = UINT32_MAX, .ok = ok } };
		o = roundtrip(&m);
		CHECK_EQ_U64(o.claimed.batch, UINT32_MAX);
		CHECK_EQ_INT(o.claimed.ok, ok);

		m = (struct hint_msg) { .type = HINT_MSG_ACK, .ack = { .batch = 3, .discarded = ok } };
		o = roundtrip(&m);
		CHECK_EQ_U64(o.ack.batch, 3);
		CHECK_EQ_INT(o.ack.discarded, ok);
	}
	m = (struct hint_msg) { .type = HINT_MSG_CLAIM, .claim = { .batch = 1 } };
	o = roundtrip(&m);
	CHECK_EQ_U64(o.claim.batch, 1);
}

TEST(roundtrip_reply) {
	struct hint_msg m, o;

	hint_reply_init(&m, 5, true, NULL);
	CHECK_EQ_INT(hint_reply_add(&m, "freed", MiB(64)), 0);
	o = roundtrip(&m);
	CHECK_EQ_U64(o.reply.id, 5);
	CHECK(o.reply.ok);
	CHECK_EQ_INT(o.reply.n_result, 1);
	CHECK_STREQ(o.reply.result[0].key, "freed");
	CHECK_EQ_U64(o.reply.result[0].value, MiB(64));

	hint_reply_init(&m, 6, false, "module not present: /dev/pagehint: No such file or directory");
	o = roundtrip(&m);
	CHECK(!o.reply.ok);
	CHECK_STREQ(o.reply.error, "module not present: /dev/pagehint: No such file or directory");
	CHECK_EQ_INT(o.reply.n_result, 0);

	hint_reply_init(&m, 7, true, NULL);
	for (unsigned i = 0; i < HINT_RESULT_MAX; i++) {
		char k[8];

		snprintf(k, sizeof k, "k%u", i);
		CHECK_EQ_INT(hint_reply_add(&m, k, i), 0);
	}
	CHECK_EQ_INT(hint_reply_add(&m, "one_too_many", 1), -EINVAL);
	o = roundtrip(&m);
	CHECK_EQ_INT(o.reply.n_result, HINT_RESULT_MAX);
	CHECK_STREQ(o.reply.result[7].key, "k7");
}

TEST(roundtrip_cmd) {
	struct hint_msg m, o;

	m = sample_cmd(HINT_CMD_DROP_CACHE, MiB(100));
	o = roundtrip(&m);
	CHECK_EQ_INT(o.cmd.name, HINT_CMD_DROP_CACHE);
	CHECK_EQ_U64(o.cmd.bytes, MiB(100));
	CHECK_EQ_U64(o.cmd.id, 99);

	m = sample_cmd(HINT_CMD_REPORTING, 1);
	o = roundtrip(&m);
	CHECK_EQ_INT(o.cmd.name, HINT_CMD_REPORTING);
	CHECK(o.cmd.enable);
	m = sample_cmd(HINT_CMD_REPORTING, 0);
	o = roundtrip(&m);
	CHECK(!o.cmd.enable);

	m = sample_cmd(HINT_CMD_GRANULARITY, 4096);
	o = roundtrip(&m);
	CHECK_EQ_U64(o.cmd.bytes, 4096);

	m = sample_cmd(HINT_CMD_STATS_INTERVAL, 500);
	o = roundtrip(&m);
	CHECK_EQ_U64(o.cmd.ms, 500);

	m = sample_cmd(HINT_CMD_GIVE, GiB(1));
	o = roundtrip(&m);
	CHECK_EQ_INT(o.cmd.name, HINT_CMD_GIVE);
	CHECK_EQ_U64(o.cmd.bytes, GiB(1));
	CHECK(!o.cmd.compact);
	m.cmd.compact = true;
	o = roundtrip(&m);
	CHECK(o.cmd.compact);
	CHECK_EQ_U64(o.cmd.bytes, GiB(1));

	m = sample_cmd(HINT_CMD_HELLO, 0);
	o = roundtrip(&m);
	CHECK_EQ_INT(o.cmd.name, HINT_CMD_HELLO);
}

/* The examples in docs/protocol.md, verbatim. */
TEST(documented_examples_parse) {
	static const char *const lines[] = {
		"{\"v\":1,\"type\":\"hello\",\"protocol\":1,\"agent\":\"hint-agent 0.1\",\"ram_bytes\":536870912,"
		"\"max_ranges\":32,\"caps\":{\"module\":true,\"module_status\":\"active\",\"granularity\":2097152,"
		"\"drop_cache\":true}}",
		"{\"v\":1,\"type\":\"hello\",\"protocol\":1,\"agent\":\"hint-agent 0.1\",\"ram_bytes\":536870912,"
		"\"max_ranges\":0,\"caps\":{\"module\":false,\"module_status\":\"/dev/pagehint: No such file or "
		"directory\",\"granularity\":0,\"drop_cache\":true}}",
		"{\"v\":1,\"type\":\"stats\",\"seq\":17,\"mem\":{\"total\":502009856,\"free\":300000000,"
		"\"available\":400000000,\"cached\":90000000,\"active_file\":40000000,\"inactive_file\":50000000,"
		"\"dirty\":4096,\"writeback\":0,\"mlocked\":0,\"anon\":20000000,\"swap_total\":0,\"swap_free\":0},"
		"\"psi\":{\"some_avg10_permyriad\":12,\"full_avg10_permyriad\":0,\"some_total_us\":81234,"
		"\"full_total_us\":1200},\"vmstat\":{\"pgmajfault\":311,\"pswpin\":0,\"pswpout\":0,"
		"\"workingset_refault_file\":25,\"workingset_refault_anon\":0},\"pages\":{\"unused\":283115520,"
		"\"volatile\":90000000,\"stable\":120000000,\"mlocked\":0},\"module\":{\"reported\":1073741824,"
		"\"acked\":1048576000,\"released\":20971520,\"timed_out\":4194304,\"held\":0}}",
		"{\"v\":1,\"type\":\"hints\",\"batch\":12,\"granularity\":2097152,\"ttl_ms\":2000,"
		"\"ranges\":[[1073741824,4194304],[1082130432,2097152]]}",
		"{\"v\":1,\"type\":\"claim\",\"batch\":12}",
		"{\"v\":1,\"type\":\"claimed\",\"batch\":12,\"ok\":true}",
		"{\"v\":1,\"type\":\"ack\",\"batch\":12,\"discarded\":true}",
		"{\"v\":1,\"type\":\"cmd\",\"id\":3,\"name\":\"drop_cache\",\"args\":{\"bytes\":67108864}}",
		"{\"v\":1,\"type\":\"reply\",\"id\":3,\"ok\":true,\"result\":{\"freed\":66060288}}",
		"{\"v\":1,\"type\":\"reply\",\"id\":4,\"ok\":false,\"error\":\"module not present\"}",
		"{\"v\":1,\"type\":\"cmd\",\"id\":5,\"name\":\"reporting\",\"args\":{\"enable\":false}}",
		"{\"v\":1,\"type\":\"cmd\",\"id\":6,\"name\":\"hello\"}",
		/* Unknown fields are ignored; whitespace and key order do not matter. */
		" { \"type\" : \"claim\" , \"batch\" : 1 , \"v\" : 1 , \"future\" : [1, {\"x\": null}] } ",
	};
	struct hint_msg m;

	for (size_t i = 0; i < ELEMENTSOF(lines); i++)
		if (parse(lines[i], &m) < 0)
			FAIL_AT("example %zu refused: %s", i, err);
}

TEST(trailing_newline_accepted) {
	struct hint_msg m;

	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"claim\",\"batch\":1}\n", &m), 0);
	CHECK_EQ_INT(m.type, HINT_MSG_CLAIM);
	/* Only one: a second line is not part of this message. */
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1}\n\n", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1}\n{\"v\":1,\"type\":\"claim\",\"batch\":2}",
		     EBADMSG, NULL);
}

/* ---- what must be refused ---- */

TEST(reject_invalid_json) {
	CHECK_REJECT("", EBADMSG, "invalid JSON");
	CHECK_REJECT("   ", EBADMSG, NULL);
	CHECK_REJECT("{", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1 \"type\":\"claim\"}", EBADMSG, NULL);
	CHECK_REJECT("{'v':1}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1,}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1} x", EBADMSG, NULL);
	CHECK_REJECT("null", EBADMSG, NULL);
	CHECK_REJECT("1", EBADMSG, NULL);
	CHECK_REJECT("\"hello\"", EBADMSG, NULL);
	CHECK_REJECT("[{\"v\":1,\"type\":\"claim\",\"batch\":1}]", EBADMSG, "not a JSON object");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1,\"batch\":2}", EBADMSG, "duplicate");
}

TEST(reject_every_truncation) {
	/* Every proper prefix of every message type is refused. */
	struct hint_msg samples[] = {
		sample_hello(), sample_stats(true), sample_hints(5),
		sample_cmd(HINT_CMD_DROP_CACHE, 4096),
		{ .type = HINT_MSG_CLAIMED, .claimed = { .batch = 1, .ok = true } },
		{ .type = HINT_MSG_ACK, .ack = { .batch = 1, .discarded = true } },
	};

	for (size_t s = 0; s < ELEMENTSOF(samples); s++) {
		_cleanup_free_ char *line = format(&samples[s]);
		size_t n;

		if (!line)
			continue;
		n = strlen(line) - 1;	/* without '\n' */
		for (size_t k = 0; k < n; k++) {
			struct hint_msg m;

			if (hint_msg_parse(line, k, &m, err, sizeof err) == 0)
				FAIL_AT("prefix of %zu bytes of \"%s\" accepted", k, line);
		}
	}
}

TEST(corruption_never_crashes) {
	/* Flip every byte to a few nasty values: no crash, no leak; whatever is
	 * accepted still validates. */
	struct hint_msg h = sample_hints(4);
	_cleanup_free_ char *line = format(&h);
	static const char subst[] = { '"', '{', ']', '-', '9', '\\', '\0', (char) 0xff, 'e' };

	if (!line)
		return;
	for (size_t i = 0; line[i] != '\n'; i++)
		for (size_t j = 0; j < sizeof subst; j++) {
			char copy[2048];
			size_t n = strlen(line);
			struct hint_msg m;

			memcpy(copy, line, n);
			copy[i] = subst[j];
			if (hint_msg_parse(copy, n, &m, err, sizeof err) == 0)
				CHECK_EQ_INT(hint_msg_validate(&m, NULL, 0), 0);
		}
}

TEST(reject_oversized) {
	size_t n = HINT_LINE_MAX + 1;
	char *big = malloc(n + 2);
	struct hint_msg m;
	const char *msg = "{\"v\":1,\"type\":\"claim\",\"batch\":1}";

	/* Exactly HINT_LINE_MAX (padded with spaces) is fine, one more is not. */
	memset(big, ' ', n + 1);
	memcpy(big, msg, strlen(msg));
	CHECK_EQ_INT(hint_msg_parse(big, HINT_LINE_MAX, &m, err, sizeof err), 0);
	big[HINT_LINE_MAX] = '\n';
	CHECK_EQ_INT(hint_msg_parse(big, HINT_LINE_MAX + 1, &m, err, sizeof err), 0);
	big[HINT_LINE_MAX] = ' ';
	CHECK_EQ_INT(hint_msg_parse(big, n, &m, err, sizeof err), -EMSGSIZE);
	CHECK(strstr(err, "exceeds") != NULL);
	free(big);
}

TEST(reject_wrong_version) {
	CHECK_REJECT("{\"v\":2,\"type\":\"claim\",\"batch\":1}", EPROTONOSUPPORT, "version 2");
	CHECK_REJECT("{\"v\":0,\"type\":\"claim\",\"batch\":1}", EPROTONOSUPPORT, NULL);
	CHECK_REJECT("{\"v\":2,\"type\":\"brand-new\"}", EPROTONOSUPPORT, NULL);
	CHECK_REJECT("{\"type\":\"claim\",\"batch\":1}", EINVAL, "\"v\"");
	CHECK_REJECT("{\"v\":\"1\",\"type\":\"claim\",\"batch\":1}", EINVAL, "\"v\"");
	CHECK_REJECT("{\"v\":1.0,\"type\":\"claim\",\"batch\":1}", EINVAL, "\"v\"");
	CHECK_REJECT("{\"v\":-1,\"type\":\"claim\",\"batch\":1}", EINVAL, "\"v\"");
}

TEST(reject_unknown_type) {
	uint64_t id = 0;
	const char *l = "{\"v\":1,\"type\":\"explode\",\"id\":12}";

	CHECK_REJECT(l, EOPNOTSUPP, "explode");
	CHECK_REJECT("{\"v\":1,\"batch\":1}", EINVAL, "\"type\"");
	CHECK_REJECT("{\"v\":1,\"type\":7,\"batch\":1}", EINVAL, "\"type\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"CLAIM\",\"batch\":1}", EOPNOTSUPP, NULL);
	CHECK_EQ_INT(hint_msg_peek_id(l, strlen(l), &id), 0);
	CHECK_EQ_U64(id, 12);
}

TEST(reject_unknown_cmd_but_id_recoverable) {
	const char *l = "{\"v\":1,\"type\":\"cmd\",\"id\":8,\"name\":\"reboot\",\"args\":{}}";
	uint64_t id = 0;

	CHECK_REJECT(l, EOPNOTSUPP, "reboot");
	CHECK_EQ_INT(hint_msg_peek_id(l, strlen(l), &id), 0);
	CHECK_EQ_U64(id, 8);
	CHECK_EQ_INT(hint_msg_peek_id("{\"id\":0}", 8, &id), -ENOENT);
	CHECK_EQ_INT(hint_msg_peek_id("{\"id\":-3}", 9, &id), -ENOENT);
	CHECK_EQ_INT(hint_msg_peek_id("{\"id\":\"3\"}", 10, &id), -ENOENT);
	CHECK_EQ_INT(hint_msg_peek_id("{\"id\":3", 7, &id), -ENOENT);
	CHECK_EQ_INT(hint_msg_peek_id("[3]", 3, &id), -ENOENT);
	CHECK_EQ_U64(id, 8);
}

TEST(reject_cmd_args) {
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"give\",\"args\":{\"bytes\":4096,\"compact\":\"yes\"}}",
		     EINVAL, "args.compact");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"give\",\"args\":{\"compact\":true}}",
		     EINVAL, "args.bytes");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"drop_cache\"}", EINVAL, "\"args\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"drop_cache\",\"args\":{}}", EINVAL,
		     "args.bytes");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"drop_cache\",\"args\":[1]}", EINVAL,
		     "\"args\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"drop_cache\",\"args\":{\"bytes\":-1}}",
		     EINVAL, "negative");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"reporting\",\"args\":{\"enable\":1}}",
		     EINVAL, "args.enable");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"granularity\",\"args\":{\"bytes\":3000}}",
		     EINVAL, "power of two");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"granularity\",\"args\":{\"bytes\":2048}}",
		     EINVAL, "power of two");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"granularity\","
		     "\"args\":{\"bytes\":2147483648}}", EINVAL, "power of two");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"stats_interval\",\"args\":{\"ms\":99}}",
		     EINVAL, "args.ms");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":\"stats_interval\","
		     "\"args\":{\"ms\":3600001}}", EINVAL, "args.ms");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":0,\"name\":\"hello\"}", EINVAL, "\"id\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"cmd\",\"id\":1,\"name\":null}", EINVAL, "\"name\"");
}

TEST(reject_numbers) {
	/* Negative, too big for 64 bits, floats, NaN, strings, booleans. */
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":-1}", EINVAL, "negative");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1.5}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1.0}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":1e3}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":NaN}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":Infinity}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":\"1\"}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":true}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":null}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":[1]}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":0}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":4294967296}", EINVAL, "\"batch\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":9223372036854775808}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":18446744073709551615}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":123456789012345678901234567890}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":-9223372036854775809}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":01}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"claim\",\"batch\":0x10}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"ack\",\"batch\":1,\"discarded\":1}", EINVAL, "\"discarded\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"ack\",\"batch\":1,\"discarded\":\"true\"}", EINVAL, "\"discarded\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"claimed\",\"batch\":1,\"ok\":null}", EINVAL, "\"ok\"");
}

TEST(reject_bad_ranges) {
	const char *pre = "{\"v\":1,\"type\":\"hints\",\"batch\":1,\"granularity\":2097152,\"ttl_ms\":1000,";
	static const struct {
		const char *ranges;
		int e;
		const char *what;
	} cases[] = {
		{ "\"ranges\":[]", EINVAL, "\"ranges\"" },
		{ "\"ranges\":{}", EINVAL, "\"ranges\"" },
		{ "\"ranges\":null", EINVAL, "\"ranges\"" },
		{ "\"nope\":1", EINVAL, "\"ranges\"" },
		{ "\"ranges\":[[0,0]]", EINVAL, "ranges[0]" },
		{ "\"ranges\":[[0,2097152],[4194304,0]]", EINVAL, "ranges[1]" },
		{ "\"ranges\":[[4096,2097152]]", EINVAL, "aligned" },
		{ "\"ranges\":[[0,2101248]]", EINVAL, "aligned" },
		{ "\"ranges\":[[0,2097152,5]]", EINVAL, "ranges[0]" },
		{ "\"ranges\":[[0]]", EINVAL, "ranges[0]" },
		{ "\"ranges\":[0,2097152]", EINVAL, "ranges[0]" },
		{ "\"ranges\":[{\"gpa\":0,\"len\":2097152}]", EINVAL, "ranges[0]" },
		{ "\"ranges\":[[-2097152,2097152]]", EINVAL, "ranges[0].gpa" },
		{ "\"ranges\":[[0,\"2097152\"]]", EINVAL, "ranges[0].len" },
		{ "\"ranges\":[[0,2097152.0]]", EINVAL, "ranges[0].len" },
		{ "\"ranges\":[[9223372036852678656,4194304]]", EINVAL, "overflow" },
		{ "\"ranges\":[[0,4194304],[2097152,2097152]]", EINVAL, "overlaps" },
		{ "\"ranges\":[[0,2097152],[0,2097152]]", EINVAL, "overlaps" },
	};
	char line[1024];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		snprintf(line, sizeof line, "%s%s}", pre, cases[i].ranges);
		CHECK_REJECT(line, cases[i].e, cases[i].what);
	}
}

TEST(reject_bad_granularity) {
	static const char *const g[] = { "0", "1", "2048", "3000", "6144", "2097153", "2147483648", "-4096",
					 "\"2097152\"" };
	char line[256];

	for (size_t i = 0; i < ELEMENTSOF(g); i++) {
		snprintf(line, sizeof line,
			 "{\"v\":1,\"type\":\"hints\",\"batch\":1,\"granularity\":%s,\"ttl_ms\":1000,"
			 "\"ranges\":[[0,2097152]]}", g[i]);
		CHECK_REJECT(line, EINVAL, "granularity");
	}
	CHECK_REJECT("{\"v\":1,\"type\":\"hints\",\"batch\":1,\"granularity\":4096,\"ttl_ms\":0,"
		     "\"ranges\":[[0,4096]]}", EINVAL, "ttl_ms");
}

TEST(reject_too_many_ranges) {
	struct hint_msg m = sample_hints(HINT_MAX_RANGES);
	_cleanup_free_ char *line = format(&m);
	char big[4096];
	char *p;

	if (!line)
		return;
	/* Append one more range by hand: the formatter would refuse. */
	p = strstr(line, "]]}");
	CHECK(p != NULL);
	if (!p)
		return;
	*p = '\0';
	snprintf(big, sizeof big, "%s],[%llu,2097152]]}", line, (unsigned long long) GiB(4));
	CHECK_REJECT(big, EINVAL, "33 ranges");

	m.hints.n_ranges = HINT_MAX_RANGES + 1;
	CHECK_EQ_INT(hint_msg_format(&m, &p, err, sizeof err), -EINVAL);
	m.hints.n_ranges = 0;
	CHECK_EQ_INT(hint_msg_format(&m, &p, err, sizeof err), -EINVAL);
}

TEST(reject_invalid_utf8_and_nul) {
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"bad \xff byte\"}", EBADMSG,
		     NULL);
	/* Overlong encoding of '/', a lone continuation byte, a truncated sequence, a surrogate. */
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"\xc0\xaf\"}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"\x80\"}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"\xe2\x82\"}", EBADMSG, NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"\xed\xa0\x80\"}", EBADMSG,
		     NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"\\ud800\"}", EBADMSG, NULL);
	/* \u0000 inside a string. */
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"a\\u0000b\"}", EBADMSG,
		     NULL);
	/* A raw NUL byte in the line, inside or outside a string. */
	{
		static const char l1[] = "{\"v\":1,\"type\":\"claim\",\"batch\":1}\0garbage";
		static const char l2[] = "{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"a\0b\"}";
		struct hint_msg m;

		CHECK_EQ_INT(hint_msg_parse(l1, sizeof l1 - 1, &m, err, sizeof err), -EBADMSG);
		CHECK(strstr(err, "NUL") != NULL);
		CHECK_EQ_INT(hint_msg_parse(l2, sizeof l2 - 1, &m, err, sizeof err), -EBADMSG);
	}
}

TEST(reject_long_strings) {
	char line[1024], s[HINT_STRING_MAX + 1];

	memset(s, 'x', HINT_STRING_MAX);
	s[HINT_STRING_MAX] = '\0';
	snprintf(line, sizeof line, "{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"%s\"}", s);
	CHECK_REJECT(line, EINVAL, "\"error\"");
	s[HINT_STRING_MAX - 1] = '\0';
	snprintf(line, sizeof line, "{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"%s\"}", s);
	{
		struct hint_msg m;

		CHECK_EQ_INT(parse(line, &m), 0);
		CHECK_EQ_INT(strlen(m.reply.error), HINT_STRING_MAX - 1);
	}
}

TEST(reject_reply_shape) {
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false}", EINVAL, "\"error\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":\"\"}", EINVAL, "\"error\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":true,\"result\":{\"freed\":1.5}}", EINVAL,
		     "result.freed");
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":true,\"result\":{\"freed\":\"1\"}}", EINVAL,
		     "result.freed");
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":true,\"result\":[]}", EINVAL, "\"result\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":true,\"result\":{\"a\":1,\"b\":2,\"c\":3,"
		     "\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9}}", EINVAL, "\"result\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"id\":1,\"ok\":true,"
		     "\"result\":{\"a_key_that_is_much_too_long_to_keep\":1}}", EINVAL, "\"result\"");
	CHECK_REJECT("{\"v\":1,\"type\":\"reply\",\"ok\":true}", EINVAL, "\"id\"");
}

TEST(reject_stats_shape) {
	CHECK_REJECT("{\"v\":1,\"type\":\"stats\",\"seq\":1,\"mem\":{},\"psi\":{},\"vmstat\":{}}", EINVAL,
		     "mem.total");
	CHECK_REJECT("{\"v\":1,\"type\":\"stats\",\"seq\":1,\"mem\":5}", EINVAL, "\"mem\"");
}

/* Removing any required field, at any depth, is refused. */
static void check_each_field_required(const struct hint_msg *m, const char *const optional[]) {
	_cleanup_free_ char *line = format(m);
	json_t *root;
	const char *key;
	json_t *v;

	if (!line)
		return;
	root = json_loads(line, 0, NULL);
	CHECK(root != NULL);
	json_object_foreach(root, key, v) {
		bool opt = false;

		for (size_t i = 0; optional && optional[i]; i++)
			opt |= strcmp(optional[i], key) == 0;
		if (!opt) {
			json_t *copy = json_deep_copy(root);
			char *s;
			struct hint_msg out;

			json_object_del(copy, key);
			s = json_dumps(copy, JSON_COMPACT);
			if (hint_msg_parse(s, strlen(s), &out, err, sizeof err) == 0)
				FAIL_AT("accepted without \"%s\": %s", key, s);
			free(s);
			json_decref(copy);
		}
		if (!opt && json_is_object(v)) {
			const char *k2;
			json_t *v2;

			json_object_foreach(v, k2, v2) {
				json_t *copy = json_deep_copy(root);
				char *s;
				struct hint_msg out;

				json_object_del(json_object_get(copy, key), k2);
				s = json_dumps(copy, JSON_COMPACT);
				if (hint_msg_parse(s, strlen(s), &out, err, sizeof err) == 0)
					FAIL_AT("accepted without \"%s.%s\": %s", key, k2, s);
				free(s);
				json_decref(copy);
			}
		}
	}
	json_decref(root);
}

TEST(reject_missing_fields) {
	static const char *const stats_optional[] = { "pages", "module", NULL };
	static const char *const reply_optional[] = { "result", NULL };
	struct hint_msg m;

	m = sample_hello();
	check_each_field_required(&m, NULL);
	m = sample_stats(true);
	check_each_field_required(&m, stats_optional);
	m = sample_hints(3);
	check_each_field_required(&m, NULL);
	m = (struct hint_msg) { .type = HINT_MSG_CLAIMED, .claimed = { .batch = 1, .ok = true } };
	check_each_field_required(&m, NULL);
	m = (struct hint_msg) { .type = HINT_MSG_CLAIM, .claim = { .batch = 1 } };
	check_each_field_required(&m, NULL);
	m = (struct hint_msg) { .type = HINT_MSG_ACK, .ack = { .batch = 1 } };
	check_each_field_required(&m, NULL);
	hint_reply_init(&m, 1, false, "nope");
	check_each_field_required(&m, reply_optional);
	hint_reply_init(&m, 1, true, NULL);
	hint_reply_add(&m, "freed", 1);
	check_each_field_required(&m, reply_optional);
	for (int n = 0; n < _HINT_CMD_NAME_MAX; n++) {
		static const char *const hello_optional[] = { "args", NULL };

		m = sample_cmd(n, n == HINT_CMD_STATS_INTERVAL ? 1000 : 4096);
		check_each_field_required(&m, n == HINT_CMD_HELLO ? hello_optional : NULL);
	}
}

TEST(reject_hello_shape) {
	struct hint_msg m = sample_hello();
	char *line = NULL;

	m.hello.granularity = 12345;
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "caps.granularity") != NULL);
	m = sample_hello();
	m.hello.max_ranges = 33;
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	m = sample_hello();
	m.hello.agent[0] = '\0';
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	m = sample_hello();
	m.hello.protocol = 0;
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	CHECK(line == NULL);
	CHECK_REJECT("{\"v\":1,\"type\":\"hello\",\"protocol\":1,\"agent\":\"a\",\"ram_bytes\":1,"
		     "\"max_ranges\":32,\"caps\":true}", EINVAL, "\"caps\"");
}

TEST(format_refuses_what_parse_would) {
	struct hint_msg m = sample_stats(false);
	char *line = NULL;

	m.stats.mem.total = UINT64_MAX;
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	m = sample_stats(false);
	m.stats.psi.some_avg10_permyriad = 10001;
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	m = sample_hello();
	strcpy(m.hello.module_status, "bad \xff utf-8");
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	m = sample_hints(2);
	m.hints.ranges[1].gpa += 4096;
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "ranges[1]") != NULL);
	m = (struct hint_msg) { .type = _HINT_MSG_TYPE_MAX };
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EOPNOTSUPP);
	m = sample_cmd(HINT_CMD_DROP_CACHE, 1);
	m.cmd.name = _HINT_CMD_NAME_MAX;
	CHECK_EQ_INT(hint_msg_format(&m, &line, err, sizeof err), -EOPNOTSUPP);
	CHECK(line == NULL);
}

TEST(names) {
	for (int t = 0; t < _HINT_MSG_TYPE_MAX; t++)
		CHECK_EQ_INT(hint_msg_type_from_string(hint_msg_type_to_string(t)), t);
	for (int n = 0; n < _HINT_CMD_NAME_MAX; n++)
		CHECK_EQ_INT(hint_cmd_name_from_string(hint_cmd_name_to_string(n)), n);
	CHECK(hint_msg_type_to_string(_HINT_MSG_TYPE_MAX) == NULL);
	CHECK_EQ_INT(hint_msg_type_from_string("nope"), -EINVAL);
	CHECK_EQ_INT(hint_cmd_name_from_string(NULL), -EOPNOTSUPP);
	CHECK(hint_msg_type_from_guest(HINT_MSG_HINTS));
	CHECK(hint_msg_type_from_guest(HINT_MSG_REPLY));
	CHECK(!hint_msg_type_from_guest(HINT_MSG_CLAIM));
	CHECK(!hint_msg_type_from_guest(HINT_MSG_CMD));
}

TEST(strlcpy_utf8) {
	char buf[6];

	hint_strlcpy_utf8(buf, sizeof buf, "abc");
	CHECK_STREQ(buf, "abc");
	hint_strlcpy_utf8(buf, sizeof buf, "abcdefgh");
	CHECK_STREQ(buf, "abcde");
	/* "abcé": é is 2 bytes at offset 3..4, fits exactly in 5 + NUL. */
	hint_strlcpy_utf8(buf, sizeof buf, "abc\xc3\xa9z");
	CHECK_STREQ(buf, "abc\xc3\xa9");
	/* "abcd€": € would need bytes 4..6, so it is left out whole. */
	hint_strlcpy_utf8(buf, sizeof buf, "abcd\xe2\x82\xac");
	CHECK_STREQ(buf, "abcd");
	hint_strlcpy_utf8(buf, 1, "abc");
	CHECK_STREQ(buf, "");
}

int main(void) {
	return run_tests();
}
