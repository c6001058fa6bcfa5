/* protocol.c - see protocol.h and docs/protocol.md. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "protocol.h"

/* jansson.h defines json_decrefp() for this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

static const char *const type_names[_HINT_MSG_TYPE_MAX] = {
	[HINT_MSG_HELLO] = "hello",
	[HINT_MSG_STATS] = "stats",
	[HINT_MSG_HINTS] = "hints",
	[HINT_MSG_CLAIMED] = "claimed",
	[HINT_MSG_REPLY] = "reply",
	[HINT_MSG_CLAIM] = "claim",
	[HINT_MSG_ACK] = "ack",
	[HINT_MSG_CMD] = "cmd",
};

static const char *const cmd_names[_HINT_CMD_NAME_MAX] = {
	[HINT_CMD_DROP_CACHE] = "drop_cache",
	[HINT_CMD_REPORTING] = "reporting",
	[HINT_CMD_GRANULARITY] = "granularity",
	[HINT_CMD_STATS_INTERVAL] = "stats_interval",
	[HINT_CMD_GIVE] = "give",
	[HINT_CMD_HELLO] = "hello",
};

const char *hint_msg_type_to_string(enum hint_msg_type t) {
	return (unsigned) t < _HINT_MSG_TYPE_MAX ? type_names[t] : NULL;
}

int hint_msg_type_from_string(const char *s) {
	for (unsigned i = 0; s && i < _HINT_MSG_TYPE_MAX; i++)
		if (strcmp(type_names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *hint_cmd_name_to_string(enum hint_cmd_name n) {
	return (unsigned) n < _HINT_CMD_NAME_MAX ? cmd_names[n] : NULL;
}

int hint_cmd_name_from_string(const char *s) {
	for (unsigned i = 0; s && i < _HINT_CMD_NAME_MAX; i++)
		if (strcmp(cmd_names[i], s) == 0)
			return i;
	return -EOPNOTSUPP;
}

bool hint_msg_type_from_guest(enum hint_msg_type t) {
	return t <= HINT_MSG_REPLY;
}

void hint_strlcpy_utf8(char *buf, size_t size, const char *s) {
	size_t n;

	if (size == 0)
		return;
	n = strlen(s);
	if (n >= size) {
		n = size - 1;
		/* s[n] is the first byte left out: if it continues a character,
		 * leave out that character's earlier bytes too. */
		while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

_printf_(4, 5)
static int fail(char *err, size_t errlen, int r, const char *fmt, ...) {
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static bool is_pow2(uint64_t x) {
	return x && !(x & (x - 1));
}

static bool granularity_ok(uint64_t g) {
	return is_pow2(g) && g >= HINT_GRANULARITY_MIN && g <= HINT_GRANULARITY_MAX;
}

static bool batch_ok(uint64_t b) {
	return b >= 1 && b <= HINT_BATCH_ID_MAX;
}

/* ---- checks shared by parse and format ---- */

static int validate_hints(const struct hint_hints *h, char *err, size_t errlen) {
	if (!batch_ok(h->batch))
		return fail(err, errlen, -EINVAL, "field \"batch\": %" PRIu64 " is not in 1..%u",
			    h->batch, HINT_BATCH_ID_MAX);
	if (!granularity_ok(h->granularity))
		return fail(err, errlen, -EINVAL,
			    "field \"granularity\": %" PRIu64 " is not a power of two in 4096..%llu",
			    h->granularity, HINT_GRANULARITY_MAX);
	if (h->ttl_ms == 0)
		return fail(err, errlen, -EINVAL, "field \"ttl_ms\": must not be 0");
	if (h->n_ranges == 0 || h->n_ranges > HINT_MAX_RANGES)
		return fail(err, errlen, -EINVAL, "field \"ranges\": %u ranges, expected 1..%u",
			    h->n_ranges, HINT_MAX_RANGES);

	for (unsigned i = 0; i < h->n_ranges; i++) {
		const struct hint_range *r = &h->ranges[i];

		if (r->len == 0)
			return fail(err, errlen, -EINVAL, "field \"ranges[%u]\": length 0", i);
		if (r->gpa > HINT_NUMBER_MAX || r->len > HINT_NUMBER_MAX - r->gpa)
			return fail(err, errlen, -EINVAL,
				    "field \"ranges[%u]\": gpa+len overflows 2^63-1", i);
		if (r->gpa % h->granularity || r->len % h->granularity)
			return fail(err, errlen, -EINVAL,
				    "field \"ranges[%u]\": not aligned to granularity %" PRIu64,
				    i, h->granularity);
		/* Overlaps would count (and punch) the same memory twice. */
		for (unsigned j = 0; j < i; j++) {
			const struct hint_range *o = &h->ranges[j];

			if (r->gpa < o->gpa + o->len && o->gpa < r->gpa + r->len)
				return fail(err, errlen, -EINVAL,
					    "field \"ranges[%u]\": overlaps ranges[%u]", i, j);
		}
	}
	return 0;
}

static int validate_cmd(const struct hint_cmd *c, char *err, size_t errlen) {
	if (c->id == 0)
		return fail(err, errlen, -EINVAL, "field \"id\": must not be 0");
	switch (c->name) {
	case HINT_CMD_DROP_CACHE:
	case HINT_CMD_GIVE:
	case HINT_CMD_REPORTING:
	case HINT_CMD_HELLO:
		return 0;
	case HINT_CMD_GRANULARITY:
		if (!granularity_ok(c->bytes))
			return fail(err, errlen, -EINVAL,
				    "field \"args.bytes\": %" PRIu64 " is not a power of two in 4096..%llu",
				    c->bytes, HINT_GRANULARITY_MAX);
		return 0;
	case HINT_CMD_STATS_INTERVAL:
		if (c->ms < HINT_STATS_INTERVAL_MIN_MS || c->ms > HINT_STATS_INTERVAL_MAX_MS)
			return fail(err, errlen, -EINVAL, "field \"args.ms\": %" PRIu64 " is not in %u..%u",
				    c->ms, HINT_STATS_INTERVAL_MIN_MS, HINT_STATS_INTERVAL_MAX_MS);
		return 0;
	default:
		return fail(err, errlen, -EOPNOTSUPP, "field \"name\": unknown command %d", (int) c->name);
	}
}

int hint_msg_validate(const struct hint_msg *m, char *err, size_t errlen) {
	switch (m->type) {
	case HINT_MSG_HELLO: {
		const struct hint_hello *h = &m->hello;

		if (h->protocol < 1)
			return fail(err, errlen, -EINVAL, "field \"protocol\": must be at least 1");
		if (!h->agent[0])
			return fail(err, errlen, -EINVAL, "field \"agent\": must not be empty");
		if (h->module && !granularity_ok(h->granularity))
			return fail(err, errlen, -EINVAL,
				    "field \"caps.granularity\": %" PRIu64 " is not a power of two in 4096..%llu",
				    h->granularity, HINT_GRANULARITY_MAX);
		if (h->max_ranges > HINT_MAX_RANGES)
			return fail(err, errlen, -EINVAL, "field \"max_ranges\": %" PRIu64 " exceeds %u",
				    h->max_ranges, HINT_MAX_RANGES);
		return 0;
	}
	case HINT_MSG_STATS:
		if (m->stats.psi.some_avg10_permyriad > 10000 || m->stats.psi.full_avg10_permyriad > 10000)
			return fail(err, errlen, -EINVAL, "field \"psi\": avg10 above 10000 permyriad");
		return 0;
	case HINT_MSG_HINTS:
		return validate_hints(&m->hints, err, errlen);
	case HINT_MSG_CLAIMED:
	case HINT_MSG_CLAIM:
	case HINT_MSG_ACK: {
		/* claim, ack and claimed all start with the batch id. */
		uint64_t b = m->type == HINT_MSG_CLAIMED ? m->claimed.batch :
			     m->type == HINT_MSG_CLAIM ? m->claim.batch : m->ack.batch;

		if (!batch_ok(b))
			return fail(err, errlen, -EINVAL, "field \"batch\": %" PRIu64 " is not in 1..%u",
				    b, HINT_BATCH_ID_MAX);
		return 0;
	}
	case HINT_MSG_REPLY:
		if (m->reply.id == 0)
			return fail(err, errlen, -EINVAL, "field \"id\": must not be 0");
		if (!m->reply.ok && !m->reply.error[0])
			return fail(err, errlen, -EINVAL, "field \"error\": required when ok is false");
		if (m->reply.n_result > HINT_RESULT_MAX)
			return fail(err, errlen, -EINVAL, "field \"result\": more than %u entries",
				    HINT_RESULT_MAX);
		for (unsigned i = 0; i < m->reply.n_result; i++)
			if (!m->reply.result[i].key[0])
				return fail(err, errlen, -EINVAL, "field \"result\": empty key");
		return 0;
	case HINT_MSG_CMD:
		return validate_cmd(&m->cmd, err, errlen);
	default:
		return fail(err, errlen, -EOPNOTSUPP, "unknown message type %d", (int) m->type);
	}
}

/* ---- JSON to struct ---- */

static const char *json_type_name(const json_t *j) {
	switch (json_typeof(j)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL:    return "a number with a fraction or exponent";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	case JSON_NULL:    return "null";
	}
	return "unknown";
}

/* "prefix.key" for messages; prefix may be NULL. */
static const char *field_name(char *buf, size_t size, const char *prefix, const char *key) {
	if (prefix)
		snprintf(buf, size, "%s.%s", prefix, key);
	else
		snprintf(buf, size, "%s", key);
	return buf;
}

static int json_to_u64(const json_t *v, const char *name, uint64_t *ret, char *err, size_t errlen) {
	json_int_t i;

	if (!json_is_integer(v))
		return fail(err, errlen, -EINVAL, "field \"%s\": expected a non-negative integer, got %s",
			    name, json_type_name(v));
	i = json_integer_value(v);
	if (i < 0)
		return fail(err, errlen, -EINVAL, "field \"%s\": %lld is negative", name, (long long) i);
	*ret = (uint64_t) i;
	return 0;
}

static int get_u64(const json_t *o, const char *prefix, const char *key, uint64_t *ret,
		   char *err, size_t errlen) {
	const json_t *v = json_object_get(o, key);
	char name[64];

	field_name(name, sizeof name, prefix, key);
	if (!v)
		return fail(err, errlen, -EINVAL, "missing field \"%s\"", name);
	return json_to_u64(v, name, ret, err, errlen);
}

static int get_bool(const json_t *o, const char *prefix, const char *key, bool *ret,
		    char *err, size_t errlen) {
	const json_t *v = json_object_get(o, key);
	char name[64];

	field_name(name, sizeof name, prefix, key);
	if (!v)
		return fail(err, errlen, -EINVAL, "missing field \"%s\"", name);
	if (!json_is_boolean(v))
		return fail(err, errlen, -EINVAL, "field \"%s\": expected a boolean, got %s",
			    name, json_type_name(v));
	*ret = json_is_true(v);
	return 0;
}

static int get_string(const json_t *o, const char *prefix, const char *key, char *buf, size_t size,
		      char *err, size_t errlen) {
	const json_t *v = json_object_get(o, key);
	char name[64];

	field_name(name, sizeof name, prefix, key);
	if (!v)
		return fail(err, errlen, -EINVAL, "missing field \"%s\"", name);
	if (!json_is_string(v))
		return fail(err, errlen, -EINVAL, "field \"%s\": expected a string, got %s",
			    name, json_type_name(v));
	/* jansson has checked UTF-8 and refused \u0000 already. */
	if (json_string_length(v) >= size)
		return fail(err, errlen, -EINVAL, "field \"%s\": longer than %zu bytes", name, size - 1);
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_object(const json_t *o, const char *key, bool required, const json_t **ret,
		      char *err, size_t errlen) {
	const json_t *v = json_object_get(o, key);

	if (!v) {
		if (required)
			return fail(err, errlen, -EINVAL, "missing field \"%s\"", key);
		*ret = NULL;
		return 0;
	}
	if (!json_is_object(v))
		return fail(err, errlen, -EINVAL, "field \"%s\": expected an object, got %s",
			    key, json_type_name(v));
	*ret = v;
	return 0;
}

/* The stats sub-objects are flat tables of counters. */
struct u64_field {
	const char *key;
	size_t offset;
};

#define STATS_FIELD(sect, key, member) { key, offsetof(struct hint_stats, sect.member) }

static const struct u64_field mem_fields[] = {
	STATS_FIELD(mem, "total", total),
	STATS_FIELD(mem, "free", free),
	STATS_FIELD(mem, "available", available),
	STATS_FIELD(mem, "cached", cached),
	STATS_FIELD(mem, "active_file", active_file),
	STATS_FIELD(mem, "inactive_file", inactive_file),
	STATS_FIELD(mem, "dirty", dirty),
	STATS_FIELD(mem, "writeback", writeback),
	STATS_FIELD(mem, "mlocked", mlocked),
	STATS_FIELD(mem, "anon", anon),
	STATS_FIELD(mem, "swap_total", swap_total),
	STATS_FIELD(mem, "swap_free", swap_free),
};

static const struct u64_field psi_fields[] = {
	STATS_FIELD(psi, "some_avg10_permyriad", some_avg10_permyriad),
	STATS_FIELD(psi, "full_avg10_permyriad", full_avg10_permyriad),
	STATS_FIELD(psi, "some_total_us", some_total_us),
	STATS_FIELD(psi, "full_total_us", full_total_us),
};

static const struct u64_field vmstat_fields[] = {
	STATS_FIELD(vmstat, "pgmajfault", pgmajfault),
	STATS_FIELD(vmstat, "pswpin", pswpin),
	STATS_FIELD(vmstat, "pswpout", pswpout),
	STATS_FIELD(vmstat, "workingset_refault_file", workingset_refault_file),
	STATS_FIELD(vmstat, "workingset_refault_anon", workingset_refault_anon),
};

static const struct u64_field pages_fields[] = {
	STATS_FIELD(pages, "unused", unused),
	STATS_FIELD(pages, "volatile", volatile_),
	STATS_FIELD(pages, "stable", stable),
	STATS_FIELD(pages, "mlocked", mlocked),
};

static const struct u64_field module_fields[] = {
	STATS_FIELD(module, "reported", reported),
	STATS_FIELD(module, "acked", acked),
	STATS_FIELD(module, "released", released),
	STATS_FIELD(module, "timed_out", timed_out),
	STATS_FIELD(module, "held", held),
};

static const struct {
	const char *key;
	const struct u64_field *fields;
	size_t n;
	bool optional;
	size_t present_offset;
} stats_sections[] = {
	{ "mem", mem_fields, ELEMENTSOF(mem_fields), false, 0 },
	{ "psi", psi_fields, ELEMENTSOF(psi_fields), false, 0 },
	{ "vmstat", vmstat_fields, ELEMENTSOF(vmstat_fields), false, 0 },
	{ "pages", pages_fields, ELEMENTSOF(pages_fields), true, offsetof(struct hint_stats, has_pages) },
	{ "module", module_fields, ELEMENTSOF(module_fields), true, offsetof(struct hint_stats, has_module) },
};

static int parse_stats(const json_t *o, struct hint_stats *s, char *err, size_t errlen) {
	int r;

	r = get_u64(o, NULL, "seq", &s->seq, err, errlen);
	if (r < 0)
		return r;

	for (size_t i = 0; i < ELEMENTSOF(stats_sections); i++) {
		const json_t *sect;

		r = get_object(o, stats_sections[i].key, !stats_sections[i].optional, &sect, err, errlen);
		if (r < 0)
			return r;
		if (!sect)
			continue;
		if (stats_sections[i].optional)
			*(bool *) ((char *) s + stats_sections[i].present_offset) = true;
		for (size_t j = 0; j < stats_sections[i].n; j++) {
			const struct u64_field *f = &stats_sections[i].fields[j];

			r = get_u64(sect, stats_sections[i].key, f->key,
				    (uint64_t *) ((char *) s + f->offset), err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int parse_hello(const json_t *o, struct hint_hello *h, char *err, size_t errlen) {
	const json_t *caps;
	int r;

	if ((r = get_u64(o, NULL, "protocol", &h->protocol, err, errlen)) < 0 ||
	    (r = get_string(o, NULL, "agent", h->agent, sizeof h->agent, err, errlen)) < 0 ||
	    (r = get_u64(o, NULL, "ram_bytes", &h->ram_bytes, err, errlen)) < 0 ||
	    (r = get_u64(o, NULL, "max_ranges", &h->max_ranges, err, errlen)) < 0 ||
	    (r = get_object(o, "caps", true, &caps, err, errlen)) < 0 ||
	    (r = get_bool(caps, "caps", "module", &h->module, err, errlen)) < 0 ||
	    (r = get_string(caps, "caps", "module_status", h->module_status, sizeof h->module_status,
			    err, errlen)) < 0 ||
	    (r = get_u64(caps, "caps", "granularity", &h->granularity, err, errlen)) < 0 ||
	    (r = get_bool(caps, "caps", "drop_cache", &h->drop_cache, err, errlen)) < 0)
		return r;
	return 0;
}

static int parse_hints(const json_t *o, struct hint_hints *h, char *err, size_t errlen) {
	const json_t *ranges, *pair;
	size_t i;
	int r;

	if ((r = get_u64(o, NULL, "batch", &h->batch, err, errlen)) < 0 ||
	    (r = get_u64(o, NULL, "granularity", &h->granularity, err, errlen)) < 0 ||
	    (r = get_u64(o, NULL, "ttl_ms", &h->ttl_ms, err, errlen)) < 0)
		return r;

	ranges = json_object_get(o, "ranges");
	if (!ranges)
		return fail(err, errlen, -EINVAL, "missing field \"ranges\"");
	if (!json_is_array(ranges))
		return fail(err, errlen, -EINVAL, "field \"ranges\": expected an array, got %s",
			    json_type_name(ranges));
	if (json_array_size(ranges) == 0 || json_array_size(ranges) > HINT_MAX_RANGES)
		return fail(err, errlen, -EINVAL, "field \"ranges\": %zu ranges, expected 1..%u",
			    json_array_size(ranges), HINT_MAX_RANGES);

	json_array_foreach(ranges, i, pair) {
		char name[48];

		snprintf(name, sizeof name, "ranges[%zu]", i);
		if (!json_is_array(pair) || json_array_size(pair) != 2)
			return fail(err, errlen, -EINVAL, "field \"%s\": expected [gpa, len]", name);
		snprintf(name, sizeof name, "ranges[%zu].gpa", i);
		r = json_to_u64(json_array_get(pair, 0), name, &h->ranges[i].gpa, err, errlen);
		if (r < 0)
			return r;
		snprintf(name, sizeof name, "ranges[%zu].len", i);
		r = json_to_u64(json_array_get(pair, 1), name, &h->ranges[i].len, err, errlen);
		if (r < 0)
			return r;
	}
	h->n_ranges = json_array_size(ranges);
	return 0;
}

static int parse_reply(const json_t *o, struct hint_reply *p, char *err, size_t errlen) {
	const json_t *result, *v;
	const char *key;
	int r;

	if ((r = get_u64(o, NULL, "id", &p->id, err, errlen)) < 0 ||
	    (r = get_bool(o, NULL, "ok", &p->ok, err, errlen)) < 0)
		return r;
	if (!p->ok && (r = get_string(o, NULL, "error", p->error, sizeof p->error, err, errlen)) < 0)
		return r;
	if ((r = get_object(o, "result", false, &result, err, errlen)) < 0)
		return r;
	if (!result)
		return 0;
	if (json_object_size(result) > HINT_RESULT_MAX)
		return fail(err, errlen, -EINVAL, "field \"result\": more than %u entries", HINT_RESULT_MAX);
	json_object_foreach((json_t *) result, key, v) {
		struct hint_result_entry *e = &p->result[p->n_result];
		char name[64];

		if (strlen(key) == 0 || strlen(key) >= sizeof e->key)
			return fail(err, errlen, -EINVAL, "field \"result\": key empty or longer than %zu bytes",
				    sizeof e->key - 1);
		field_name(name, sizeof name, "result", key);
		r = json_to_u64(v, name, &e->value, err, errlen);
		if (r < 0)
			return r;
		strcpy(e->key, key);
		p->n_result++;
	}
	return 0;
}

static int parse_cmd(const json_t *o, struct hint_cmd *c, char *err, size_t errlen) {
	const json_t *args, *name;
	int r;

	if ((r = get_u64(o, NULL, "id", &c->id, err, errlen)) < 0)
		return r;
	name = json_object_get(o, "name");
	if (!name)
		return fail(err, errlen, -EINVAL, "missing field \"name\"");
	if (!json_is_string(name))
		return fail(err, errlen, -EINVAL, "field \"name\": expected a string, got %s",
			    json_type_name(name));
	r = hint_cmd_name_from_string(json_string_value(name));
	if (r < 0)
		return fail(err, errlen, -EOPNOTSUPP, "field \"name\": unknown command \"%.64s\"",
			    json_string_value(name));
	c->name = r;

	if ((r = get_object(o, "args", c->name != HINT_CMD_HELLO, &args, err, errlen)) < 0)
		return r;
	switch (c->name) {
	case HINT_CMD_GIVE:
		if (json_object_get(args, "compact") &&
		    (r = get_bool(args, "args", "compact", &c->compact, err, errlen)) < 0)
			return r;
		return get_u64(args, "args", "bytes", &c->bytes, err, errlen);
	case HINT_CMD_DROP_CACHE:
	case HINT_CMD_GRANULARITY:
		return get_u64(args, "args", "bytes", &c->bytes, err, errlen);
	case HINT_CMD_REPORTING:
		return get_bool(args, "args", "enable", &c->enable, err, errlen);
	case HINT_CMD_STATS_INTERVAL:
		return get_u64(args, "args", "ms", &c->ms, err, errlen);
	default:
		return 0;
	}
}

/* One line, without its newline, as a JSON object. */
static int load_line(const char *line, size_t len, json_t **ret, char *err, size_t errlen) {
	json_error_t jerr;
	const char *nul;
	json_t *root;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > HINT_LINE_MAX)
		return fail(err, errlen, -EMSGSIZE, "line of %zu bytes exceeds %u", len, HINT_LINE_MAX);
	nul = memchr(line, '\0', len);
	if (nul)
		return fail(err, errlen, -EBADMSG, "NUL byte at offset %zu", (size_t) (nul - line));
	if (memchr(line, '\n', len))
		return fail(err, errlen, -EBADMSG, "more than one line");

	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, -EBADMSG, "invalid JSON at byte %d: %s", jerr.position, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, errlen, -EBADMSG, "not a JSON object");
	}
	*ret = root;
	return 0;
}

/* "v", then "type": the version first, as a newer peer may change anything else. */
static int parse_version_and_type(const json_t *root, enum hint_msg_type *ret, char *err,
				  size_t errlen) {
	const json_t *v, *type;
	uint64_t version;
	int r;

	v = json_object_get(root, "v");
	if (!v)
		return fail(err, errlen, -EINVAL, "missing field \"v\"");
	r = json_to_u64(v, "v", &version, err, errlen);
	if (r < 0)
		return r;
	if (version != HINT_PROTOCOL_VERSION)
		return fail(err, errlen, -EPROTONOSUPPORT,
			    "protocol version %" PRIu64 " not supported (this side speaks %d)",
			    version, HINT_PROTOCOL_VERSION);

	type = json_object_get(root, "type");
	if (!type)
		return fail(err, errlen, -EINVAL, "missing field \"type\"");
	if (!json_is_string(type))
		return fail(err, errlen, -EINVAL, "field \"type\": expected a string, got %s",
			    json_type_name(type));
	r = hint_msg_type_from_string(json_string_value(type));
	if (r < 0)
		return fail(err, errlen, -EOPNOTSUPP, "field \"type\": unknown message type \"%.64s\"",
			    json_string_value(type));
	*ret = r;
	return 0;
}

/* The fields of a message of type m->type. */
static int parse_body(const json_t *root, struct hint_msg *m, char *err, size_t errlen) {
	int r;

	switch (m->type) {
	case HINT_MSG_HELLO:
		return parse_hello(root, &m->hello, err, errlen);
	case HINT_MSG_STATS:
		return parse_stats(root, &m->stats, err, errlen);
	case HINT_MSG_HINTS:
		return parse_hints(root, &m->hints, err, errlen);
	case HINT_MSG_CLAIMED:
		r = get_u64(root, NULL, "batch", &m->claimed.batch, err, errlen);
		return r < 0 ? r : get_bool(root, NULL, "ok", &m->claimed.ok, err, errlen);
	case HINT_MSG_REPLY:
		return parse_reply(root, &m->reply, err, errlen);
	case HINT_MSG_CLAIM:
		return get_u64(root, NULL, "batch", &m->claim.batch, err, errlen);
	case HINT_MSG_ACK:
		r = get_u64(root, NULL, "batch", &m->ack.batch, err, errlen);
		return r < 0 ? r : get_bool(root, NULL, "discarded", &m->ack.discarded, err, errlen);
	case HINT_MSG_CMD:
		return parse_cmd(root, &m->cmd, err, errlen);
	default:
		return -EOPNOTSUPP;
	}
}

int hint_msg_parse(const char *line, size_t len, struct hint_msg *ret, char *err, size_t errlen) {
	_cleanup_json_ json_t *root = NULL;
	struct hint_msg m = {};
	int r;

	r = load_line(line, len, &root, err, errlen);
	if (r < 0)
		return r;
	r = parse_version_and_type(root, &m.type, err, errlen);
	if (r < 0)
		return r;
	r = parse_body(root, &m, err, errlen);
	if (r < 0)
		return r;
	r = hint_msg_validate(&m, err, errlen);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

int hint_msg_peek_id(const char *line, size_t len, uint64_t *ret_id) {
	_cleanup_json_ json_t *root = NULL;
	const json_t *id;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > HINT_LINE_MAX || memchr(line, '\0', len))
		return -ENOENT;
	root = json_loadb(line, len, 0, NULL);
	if (!root || !json_is_object(root))
		return -ENOENT;
	id = json_object_get(root, "id");
	if (!json_is_integer(id) || json_integer_value(id) <= 0)
		return -ENOENT;
	*ret_id = (uint64_t) json_integer_value(id);
	return 0;
}

/* ---- struct to JSON ---- */

/* Builders record the first failure in *bad and carry on: one check at the
 * end instead of one per field. */
static void put(json_t *o, const char *key, json_t *v, bool *bad) {
	if (!v || json_object_set_new(o, key, v) < 0)
		*bad = true;
}

static json_t *u64_new(uint64_t v, bool *bad) {
	if (v > HINT_NUMBER_MAX) {
		*bad = true;
		return NULL;
	}
	return json_integer((json_int_t) v);
}

static void put_u64(json_t *o, const char *key, uint64_t v, bool *bad) {
	put(o, key, u64_new(v, bad), bad);
}

static json_t *format_stats(const struct hint_stats *s, json_t *o, bool *bad) {
	put_u64(o, "seq", s->seq, bad);
	for (size_t i = 0; i < ELEMENTSOF(stats_sections); i++) {
		json_t *sect;

		if (stats_sections[i].optional &&
		    !*(const bool *) ((const char *) s + stats_sections[i].present_offset))
			continue;
		sect = json_object();
		for (size_t j = 0; sect && j < stats_sections[i].n; j++) {
			const struct u64_field *f = &stats_sections[i].fields[j];

			put_u64(sect, f->key, *(const uint64_t *) ((const char *) s + f->offset), bad);
		}
		put(o, stats_sections[i].key, sect, bad);
	}
	return o;
}

static void format_hello(const struct hint_hello *h, json_t *o, bool *bad) {
	json_t *caps = json_object();

	put_u64(o, "protocol", h->protocol, bad);
	put(o, "agent", json_string(h->agent), bad);
	put_u64(o, "ram_bytes", h->ram_bytes, bad);
	put_u64(o, "max_ranges", h->max_ranges, bad);
	if (caps) {
		put(caps, "module", json_boolean(h->module), bad);
		put(caps, "module_status", json_string(h->module_status), bad);
		put_u64(caps, "granularity", h->granularity, bad);
		put(caps, "drop_cache", json_boolean(h->drop_cache), bad);
	}
	put(o, "caps", caps, bad);
}

static void format_hints(const struct hint_hints *h, json_t *o, bool *bad) {
	json_t *ranges = json_array();

	put_u64(o, "batch", h->batch, bad);
	put_u64(o, "granularity", h->granularity, bad);
	put_u64(o, "ttl_ms", h->ttl_ms, bad);
	for (unsigned i = 0; ranges && i < h->n_ranges; i++) {
		json_t *pair = json_array();

		if (!pair || json_array_append_new(ranges, pair) < 0) {
			*bad = true;
			break;
		}
		if (json_array_append_new(pair, u64_new(h->ranges[i].gpa, bad)) < 0 ||
		    json_array_append_new(pair, u64_new(h->ranges[i].len, bad)) < 0)
			*bad = true;
	}
	put(o, "ranges", ranges, bad);
}

static void format_reply(const struct hint_reply *r, json_t *o, bool *bad) {
	put_u64(o, "id", r->id, bad);
	put(o, "ok", json_boolean(r->ok), bad);
	if (!r->ok)
		put(o, "error", json_string(r->error), bad);
	if (r->n_result > 0) {
		json_t *result = json_object();

		for (unsigned i = 0; result && i < r->n_result; i++)
			put_u64(result, r->result[i].key, r->result[i].value, bad);
		put(o, "result", result, bad);
	}
}

static void format_cmd(const struct hint_cmd *c, json_t *o, bool *bad) {
	json_t *args = json_object();

	put_u64(o, "id", c->id, bad);
	put(o, "name", json_string(hint_cmd_name_to_string(c->name)), bad);
	if (!args) {
		*bad = true;
		return;
	}
	switch (c->name) {
	case HINT_CMD_GIVE:
		if (c->compact)
			put(args, "compact", json_true(), bad);
		put_u64(args, "bytes", c->bytes, bad);
		break;
	case HINT_CMD_DROP_CACHE:
	case HINT_CMD_GRANULARITY:
		put_u64(args, "bytes", c->bytes, bad);
		break;
	case HINT_CMD_REPORTING:
		put(args, "enable", json_boolean(c->enable), bad);
		break;
	case HINT_CMD_STATS_INTERVAL:
		put_u64(args, "ms", c->ms, bad);
		break;
	default:
		break;
	}
	put(o, "args", args, bad);
}

/* The fields of m, after "v" and "type"; -EOPNOTSUPP for an unknown type. */
static int format_body(const struct hint_msg *m, json_t *o, bool *bad) {
	switch (m->type) {
	case HINT_MSG_HELLO:
		format_hello(&m->hello, o, bad);
		return 0;
	case HINT_MSG_STATS:
		format_stats(&m->stats, o, bad);
		return 0;
	case HINT_MSG_HINTS:
		format_hints(&m->hints, o, bad);
		return 0;
	case HINT_MSG_CLAIMED:
		put_u64(o, "batch", m->claimed.batch, bad);
		put(o, "ok", json_boolean(m->claimed.ok), bad);
		return 0;
	case HINT_MSG_REPLY:
		format_reply(&m->reply, o, bad);
		return 0;
	case HINT_MSG_CLAIM:
		put_u64(o, "batch", m->claim.batch, bad);
		return 0;
	case HINT_MSG_ACK:
		put_u64(o, "batch", m->ack.batch, bad);
		put(o, "discarded", json_boolean(m->ack.discarded), bad);
		return 0;
	case HINT_MSG_CMD:
		format_cmd(&m->cmd, o, bad);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* o as one compact line with its newline. */
static int line_from_json(const json_t *o, char **ret_line, char *err, size_t errlen) {
	_cleanup_free_ char *s = json_dumps(o, JSON_COMPACT);
	size_t n;
	char *line;

	if (!s)
		return fail(err, errlen, -ENOMEM, "out of memory");
	n = strlen(s);
	if (n > HINT_LINE_MAX)
		return fail(err, errlen, -EMSGSIZE, "line of %zu bytes exceeds %u", n, HINT_LINE_MAX);
	line = realloc(s, n + 2);
	if (!line)
		return fail(err, errlen, -ENOMEM, "out of memory");
	s = NULL;
	line[n] = '\n';
	line[n + 1] = '\0';
	*ret_line = line;
	return 0;
}

int hint_msg_format(const struct hint_msg *m, char **ret_line, char *err, size_t errlen) {
	_cleanup_json_ json_t *o = NULL;
	bool bad = false;
	int r;

	r = hint_msg_validate(m, err, errlen);
	if (r < 0)
		return r;

	o = json_object();
	if (!o)
		return fail(err, errlen, -ENOMEM, "out of memory");
	put_u64(o, "v", HINT_PROTOCOL_VERSION, &bad);
	put(o, "type", json_string(hint_msg_type_to_string(m->type)), &bad);
	if (format_body(m, o, &bad) < 0)
		return fail(err, errlen, -EOPNOTSUPP, "unknown message type %d", (int) m->type);
	/* json_string() refuses invalid UTF-8, u64_new() numbers past 2^63-1. */
	if (bad)
		return fail(err, errlen, -EINVAL,
			    "a string is not valid UTF-8, a number exceeds 2^63-1, or out of memory");
	return line_from_json(o, ret_line, err, errlen);
}

void hint_reply_init(struct hint_msg *m, uint64_t id, bool ok, const char *error) {
	*m = (struct hint_msg) { .type = HINT_MSG_REPLY };
	m->reply.id = id;
	m->reply.ok = ok;
	if (!ok)
		hint_strlcpy_utf8(m->reply.error, sizeof m->reply.error, error && *error ? error : "failed");
}

int hint_reply_add(struct hint_msg *m, const char *key, uint64_t value) {
	struct hint_result_entry *e;

	if (m->type != HINT_MSG_REPLY || m->reply.n_result >= HINT_RESULT_MAX ||
	    !*key || strlen(key) >= sizeof e->key)
		return -EINVAL;
	e = &m->reply.result[m->reply.n_result++];
	strcpy(e->key, key);
	e->value = value;
	return 0;
}
