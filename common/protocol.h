/* protocol.h - the hint-agent <-> hintd wire protocol: one JSON object per
 * line, every object carrying "v" and "type". docs/protocol.md is the
 * reference; this header is its C form.
 *
 * hint_msg_parse() turns one line into a struct hint_msg and checks it
 * structurally (types, ranges of numbers, batch shape); hint_msg_format()
 * does the reverse and runs the same checks, so neither side can emit what
 * the other would refuse. Checking hinted ranges against a guest's RAM is the
 * host's business, not this file's.
 *
 * Only libc and jansson: the static guest agent links this. */
#ifndef HINTD_PROTOCOL_H
#define HINTD_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pagehint_uapi.h"

#define HINT_PROTOCOL_VERSION	1
#define HINT_AGENT_PORT_NAME	"org.hintd.agent.0"

/* Longest line either side sends or accepts, without its '\n'. */
#define HINT_LINE_MAX		(64 * 1024)
/* Ranges in one hints message: one pagehint batch. */
#define HINT_MAX_RANGES		PAGEHINT_MAX_RANGES
/* Batches of one guest between "hints" and "ack" (or expiry). */
#define HINT_MAX_BATCHES_IN_FLIGHT 16
/* Strings (agent version, module status, error text), in bytes. */
#define HINT_STRING_MAX		256
/* Entries in a reply's result object. */
#define HINT_RESULT_MAX		8
/* Largest integer on the wire: JSON integers are signed 64 bit in jansson
 * (and most C JSON libraries), so the unsigned fields stop at 2^63-1. */
#define HINT_NUMBER_MAX		((uint64_t) INT64_MAX)
/* Granularity: a power of two in [4 KiB, 1 GiB]. */
#define HINT_GRANULARITY_MIN	4096ULL
#define HINT_GRANULARITY_MAX	(1ULL << 30)
/* Batch ids are the module's, __u32 and nonzero. */
#define HINT_BATCH_ID_MAX	UINT32_MAX
/* stats_interval bounds, ms. */
#define HINT_STATS_INTERVAL_MIN_MS 100u
#define HINT_STATS_INTERVAL_MAX_MS 3600000u
/* How long a sender waits for a command's reply before giving up on it. */
#define HINT_REPLY_TIMEOUT_MS	30000
/* After "claimed ok", the host must start no punch later than this; the
 * module gives the pages back after PAGEHINT_CLAIM_TIMEOUT_MS regardless. */
#define HINT_PUNCH_DEADLINE_MS	10000

enum hint_msg_type {
	/* guest -> host */
	HINT_MSG_HELLO,
	HINT_MSG_STATS,
	HINT_MSG_HINTS,
	HINT_MSG_CLAIMED,
	HINT_MSG_REPLY,
	/* host -> guest */
	HINT_MSG_CLAIM,
	HINT_MSG_ACK,
	HINT_MSG_CMD,
	_HINT_MSG_TYPE_MAX,
};

enum hint_cmd_name {
	HINT_CMD_DROP_CACHE,		/* bytes: clean page cache to drop */
	HINT_CMD_REPORTING,		/* enable: module reporting on/off */
	HINT_CMD_GRANULARITY,		/* bytes: module chunk size */
	HINT_CMD_STATS_INTERVAL,	/* ms: period of "stats" */
	HINT_CMD_GIVE,			/* bytes: report this much free memory now */
	HINT_CMD_HELLO,			/* no argument: send "hello" again */
	_HINT_CMD_NAME_MAX,
};

struct hint_hello {
	uint64_t protocol;		/* highest version the agent speaks */
	char agent[HINT_STRING_MAX];	/* agent name and version */
	bool module;			/* pagehint.ko present and active */
	char module_status[HINT_STRING_MAX]; /* "active", or why not */
	uint64_t granularity;		/* bytes; 0 without module */
	bool drop_cache;		/* the agent can drop clean page cache */
	uint64_t ram_bytes;		/* guest RAM */
	uint64_t max_ranges;		/* ranges per hints message it sends */
};

struct hint_stats {
	uint64_t seq;
	struct {
		uint64_t total, free, available, cached, active_file, inactive_file,
			dirty, writeback, mlocked, anon, swap_total, swap_free;
	} mem;				/* bytes, from /proc/meminfo */
	struct {
		uint64_t some_avg10_permyriad, full_avg10_permyriad;
		uint64_t some_total_us, full_total_us;
	} psi;				/* memory pressure; avg10 in 1/100 % */
	struct {
		uint64_t pgmajfault, pswpin, pswpout,
			workingset_refault_file, workingset_refault_anon;
	} vmstat;			/* counters since guest boot */
	bool has_pages;
	struct {
		uint64_t unused, volatile_, stable, mlocked;
	} pages;			/* bytes in each page state (module) */
	bool has_module;
	struct {
		uint64_t reported, acked, released, timed_out, held;
	} module;			/* bytes, module counters */
};

struct hint_range {
	uint64_t gpa;			/* guest-physical start, bytes */
	uint64_t len;			/* bytes */
};

struct hint_hints {
	uint64_t batch;
	uint64_t granularity;		/* bytes */
	uint64_t ttl_ms;		/* claim within this long */
	unsigned n_ranges;
	struct hint_range ranges[HINT_MAX_RANGES];
};

struct hint_claimed {
	uint64_t batch;
	bool ok;			/* false: back in the guest, do not touch */
};

struct hint_result_entry {
	char key[32];
	uint64_t value;
};

struct hint_reply {
	uint64_t id;			/* the cmd's id */
	bool ok;
	char error[HINT_STRING_MAX];	/* when !ok */
	unsigned n_result;
	struct hint_result_entry result[HINT_RESULT_MAX];
};

struct hint_batch_ref {
	uint64_t batch;
};

struct hint_ack {
	uint64_t batch;
	bool discarded;			/* true: host punched it */
};

struct hint_cmd {
	uint64_t id;			/* nonzero, echoed in the reply */
	enum hint_cmd_name name;
	union {
		uint64_t bytes;		/* drop_cache, granularity, give */
		bool enable;		/* reporting */
		uint64_t ms;		/* stats_interval */
	};
	bool compact;			/* give: compact the guest's memory first
					 * (optional "compact": true) */
};

struct hint_msg {
	enum hint_msg_type type;
	union {
		struct hint_hello hello;
		struct hint_stats stats;
		struct hint_hints hints;
		struct hint_claimed claimed;
		struct hint_reply reply;
		struct hint_batch_ref claim;
		struct hint_ack ack;
		struct hint_cmd cmd;
	};
};

const char *hint_msg_type_to_string(enum hint_msg_type t);
int hint_msg_type_from_string(const char *s);	/* enum or -EINVAL */
const char *hint_cmd_name_to_string(enum hint_cmd_name n);
int hint_cmd_name_from_string(const char *s);	/* enum or -EOPNOTSUPP */
/* Which side sends it: true for hello/stats/hints/claimed/reply. */
bool hint_msg_type_from_guest(enum hint_msg_type t);

/* Parses one line (a trailing '\n' is allowed). Returns 0, or a negative
 * errno with a reason naming the offending field in err:
 *   -EMSGSIZE        longer than HINT_LINE_MAX
 *   -EBADMSG         not one JSON object (syntax, UTF-8, NUL bytes)
 *   -EPROTONOSUPPORT "v" is not HINT_PROTOCOL_VERSION
 *   -EOPNOTSUPP      unknown "type" or cmd name
 *   -EINVAL          a field missing, of the wrong type, or out of range
 * ret is written only on success. err may be NULL. */
int hint_msg_parse(const char *line, size_t len, struct hint_msg *ret, char *err, size_t errlen);

/* The "id" of a line that failed to parse, if it has a usable one, so the
 * guest can still answer a broken command with an error reply. 0 or -ENOENT. */
int hint_msg_peek_id(const char *line, size_t len, uint64_t *ret_id);

/* Formats m as one line ending in '\n' (malloc'd, NUL-terminated). Runs the
 * parser's checks first: -EINVAL (reason in err) for a message the other
 * side would refuse. */
int hint_msg_format(const struct hint_msg *m, char **ret_line, char *err, size_t errlen);

/* The checks that parse and format share. */
int hint_msg_validate(const struct hint_msg *m, char *err, size_t errlen);

/* Helpers to build replies. */
void hint_reply_init(struct hint_msg *m, uint64_t id, bool ok, const char *error);
int hint_reply_add(struct hint_msg *m, const char *key, uint64_t value);

/* Sets buf to s, truncated at a UTF-8 character boundary to fit. */
void hint_strlcpy_utf8(char *buf, size_t size, const char *s);

#endif /* HINTD_PROTOCOL_H */
