/* hint-agent - the guest side of hintd.
 *
 * Speaks the wire protocol (docs/protocol.md) on a virtio-serial port:
 * sends "hello" whenever the host connects, "stats" periodically, and the
 * batches pagehint.ko hands out as "hints"; carries out the host's claims,
 * acks and commands. Without the module it sends stats only and says why.
 *
 * The port reads EOF and polls POLLHUP while no host is connected: the agent
 * then sleeps and looks again, forever. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "drop-worker.h"
#include "linebuf.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "stats.h"

#ifndef HINTD_VERSION
#define HINTD_VERSION "0.1"
#endif

#define DEFAULT_PORT		"/dev/virtio-ports/" HINT_AGENT_PORT_NAME
#define RETRY_MS		250		/* while no host or no port */
#define OUTQ_MAX		(256 * 1024)	/* bytes waiting for the host */
#define DEFAULT_GRANULARITY	MiB(2)

enum batch_state { BATCH_FREE, BATCH_SENT, BATCH_CLAIMED };

struct batch {
	enum batch_state state;
	uint32_t id;
	uint64_t deadline_ms;	/* the module gives it back after this */
};

static struct agent {
	const char *port_path;
	const char *device_path;
	uint64_t stats_interval_ms;

	int port_fd;
	bool port_is_socket;
	bool connected;
	struct line_buffer in;
	char *outq;
	size_t outq_len;

	int dev_fd;
	bool module;
	char module_status[HINT_STRING_MAX];
	uint64_t granularity;
	bool reporting;

	struct batch batches[HINT_MAX_BATCHES_IN_FLIGHT];
	uint64_t next_stats_ms;
	uint64_t seq;
	uint64_t ram_bytes;
} a = {
	.port_fd = -1,
	.dev_fd = -1,
	.reporting = true,
};

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
	stop = 1;
}

static uint64_t now_ms(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms) {
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- output ---- */

static int queue_line(const char *line) {
	size_t n = strlen(line);

	/* Whole lines or nothing: a partial line would corrupt the next. */
	if (a.outq_len + n > OUTQ_MAX)
		return log_warning_errno(-ENOBUFS, "Host is not reading, dropping a message");
	memcpy(a.outq + a.outq_len, line, n);
	a.outq_len += n;
	return 0;
}

static int send_msg(const struct hint_msg *m) {
	_cleanup_free_ char *line = NULL;
	char err[256];
	int r;

	if (!a.connected)
		return -ENOTCONN;
	r = hint_msg_format(m, &line, err, sizeof err);
	if (r < 0)
		return log_error_errno(r, "Failed to format %s message: %s",
				       hint_msg_type_to_string(m->type), err);
	return queue_line(line);
}

static void send_reply(uint64_t id, bool ok, const char *error, const char *key, uint64_t value) {
	struct hint_msg m;

	hint_reply_init(&m, id, ok, error);
	if (key)
		(void) hint_reply_add(&m, key, value);
	(void) send_msg(&m);
}

static int flush_out(void) {
	while (a.outq_len > 0) {
		ssize_t n = write(a.port_fd, a.outq, a.outq_len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		memmove(a.outq, a.outq + n, a.outq_len - n);
		a.outq_len -= n;
	}
	return 0;
}

/* ---- the module ---- */

static int module_cmd(uint32_t op, uint32_t id, uint64_t arg) {
	struct pagehint_cmd c = { .op = op, .id = id, .arg = arg };
	ssize_t n;

	if (a.dev_fd < 0)
		return -ENODEV;
	n = write(a.dev_fd, &c, sizeof c);
	if (n < 0)
		return -errno;
	return n == sizeof c ? 0 : -EIO;
}

static int device_open(const char *path) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* A SOCK_SEQPACKET socket stands in for the device in tests on
		 * the host: one record per batch or command, like the device. */
		if (strlen(path) >= sizeof sa.sun_path)
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, path);
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
		return fd;
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Looks for the module again: it may have been loaded since, or the hook it
 * needs freed (the module retries taking it on every open). */
/* While no host listens, the module publishes nothing: a batch nobody can
 * claim only keeps free memory from the guest until its ttl runs out, and
 * the module would publish the next one at once. */
static void module_pause(bool paused) {
	if (a.dev_fd < 0)
		return;
	if (paused) {
		(void) module_cmd(PAGEHINT_CMD_GIVE, 0, 0);
		(void) module_cmd(PAGEHINT_CMD_REPORTING, 0, 0);
	} else
		(void) module_cmd(PAGEHINT_CMD_REPORTING, 0, a.reporting);
}

static void module_probe(void) {
	char status[HINT_STRING_MAX] = "", path[256];
	uint64_t order;
	int fd;

	snprintf(path, sizeof path, "%s/status", PAGEHINT_SYSFS_DIR);
	if (a.dev_fd < 0) {
		fd = device_open(a.device_path);
		if (fd < 0) {
			char why[HINT_STRING_MAX];

			/* A module that refuses to run says why in its status;
			 * that beats "Operation not supported". */
			if (read_one_line(path, status, sizeof status) == 0 && strncmp(status, "active", 6) != 0)
				snprintf(why, sizeof why, "%s", status);
			else
				snprintf(why, sizeof why, "%s: %s", a.device_path, strerror(-fd));
			a.module = false;
			hint_strlcpy_utf8(a.module_status, sizeof a.module_status, why);
			return;
		}
		a.dev_fd = fd;
		module_pause(!a.connected);
	}
	if (read_one_line(path, status, sizeof status) < 0)
		snprintf(status, sizeof status, "active");
	a.module = true;
	hint_strlcpy_utf8(a.module_status, sizeof a.module_status, status);

	snprintf(path, sizeof path, "%s/order", PAGEHINT_SYSFS_DIR);
	if (read_u64_file(path, &order) == 0 && order < 30 &&
	    ((uint64_t) sysconf(_SC_PAGESIZE) << order) >= HINT_GRANULARITY_MIN &&
	    ((uint64_t) sysconf(_SC_PAGESIZE) << order) <= HINT_GRANULARITY_MAX)
		a.granularity = (uint64_t) sysconf(_SC_PAGESIZE) << order;
	else if (a.granularity == 0)
		a.granularity = DEFAULT_GRANULARITY;
}

/* On failure WHY says why, in the module's own words where it gave some. */
static int module_set_granularity(uint64_t bytes, char *why, size_t size) {
	uint64_t page = (uint64_t) sysconf(_SC_PAGESIZE);
	char path[256], reason[HINT_STRING_MAX] = "";
	unsigned order = 0;
	int r;

	if (bytes < page) {
		snprintf(why, size, "granularity %" PRIu64 " is below the page size", bytes);
		return -EINVAL;
	}
	while ((page << order) < bytes)
		order++;
	r = module_cmd(PAGEHINT_CMD_ORDER, 0, order);
	if (r < 0) {
		snprintf(path, sizeof path, "%s/order_error", PAGEHINT_SYSFS_DIR);
		if (read_one_line(path, reason, sizeof reason) < 0 || !reason[0])
			snprintf(reason, sizeof reason, "%s", strerror(-r));
		snprintf(why, size, "granularity %" PRIu64 ": %s", bytes, reason);
		return r;
	}
	a.granularity = page << order;
	log_info("Granularity now %" PRIu64 " bytes", a.granularity);
	return 0;
}

static struct batch *batch_find(uint64_t id) {
	for (size_t i = 0; i < ELEMENTSOF(a.batches); i++)
		if (a.batches[i].state != BATCH_FREE && a.batches[i].id == id)
			return &a.batches[i];
	return NULL;
}

static struct batch *batch_slot(void) {
	for (size_t i = 0; i < ELEMENTSOF(a.batches); i++)
		if (a.batches[i].state == BATCH_FREE)
			return &a.batches[i];
	return NULL;
}

static void batch_release(struct batch *b, const char *why) {
	int r = module_cmd(PAGEHINT_CMD_RELEASE, b->id, 0);

	if (r < 0 && r != -ENOENT)
		log_warning_errno(r, "Failed to release batch %" PRIu32 " (%s), ignoring: %m", b->id, why);
	else
		log_debug("Released batch %" PRIu32 " (%s)", b->id, why);
	b->state = BATCH_FREE;
}

/* Forgets batches the module has taken back by itself. */
static void batches_expire(uint64_t now) {
	for (size_t i = 0; i < ELEMENTSOF(a.batches); i++)
		if (a.batches[i].state != BATCH_FREE && now >= a.batches[i].deadline_ms) {
			log_debug("Batch %" PRIu32 " expired %s", a.batches[i].id,
				  a.batches[i].state == BATCH_SENT ? "unclaimed" : "unacked");
			a.batches[i].state = BATCH_FREE;
		}
}

static unsigned batches_in_flight(void) {
	unsigned n = 0;

	for (size_t i = 0; i < ELEMENTSOF(a.batches); i++)
		n += a.batches[i].state != BATCH_FREE;
	return n;
}

static void send_hello(void);

static void read_batches(void) {
	while (a.dev_fd >= 0 && a.connected) {
		struct pagehint_batch pb;
		struct hint_msg m = { .type = HINT_MSG_HINTS };
		struct batch *slot = batch_slot();
		char err[256];
		ssize_t n;

		if (!slot)
			return;		/* at the in-flight limit: let the module wait */
		n = read(a.dev_fd, &pb, sizeof pb);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warning_errno(-errno, "Failed to read %s, ignoring: %m", a.device_path);
			return;
		}
		if (n != sizeof pb || pb.magic != PAGEHINT_BATCH_MAGIC || pb.id == 0 ||
		    pb.count == 0 || pb.count > PAGEHINT_MAX_RANGES) {
			log_error("Malformed batch from %s (%zd bytes, magic %#x, count %u), ignoring",
				  a.device_path, n, n >= 12 ? pb.magic : 0, n >= 12 ? pb.count : 0);
			if (n >= 8 && pb.id != 0)
				(void) module_cmd(PAGEHINT_CMD_RELEASE, pb.id, 0);
			continue;
		}

		m.hints.batch = pb.id;
		m.hints.granularity = pb.granularity;
		m.hints.ttl_ms = pb.ttl_ms ? pb.ttl_ms : 1;
		m.hints.n_ranges = pb.count;
		for (unsigned i = 0; i < pb.count; i++)
			m.hints.ranges[i] = (struct hint_range) { pb.ranges[i].gpa, pb.ranges[i].len };

		if (hint_msg_validate(&m, err, sizeof err) < 0) {
			log_error("Batch %" PRIu32 " from the module is invalid (%s), releasing it", pb.id, err);
			(void) module_cmd(PAGEHINT_CMD_RELEASE, pb.id, 0);
			continue;
		}
		if (pb.granularity != a.granularity) {
			/* The host checks hints against the last hello's
			 * granularity: announce this one first. */
			log_info("Batch %" PRIu32 " has granularity %" PRIu64 ", not %" PRIu64
				 "; saying hello again", pb.id, (uint64_t) pb.granularity, a.granularity);
			a.granularity = pb.granularity;
			send_hello();
			if (pb.granularity != a.granularity) {
				log_error("Batch %" PRIu32 ": granularity %" PRIu64 " is not the module's %" PRIu64
					  ", releasing it", pb.id, (uint64_t) pb.granularity, a.granularity);
				(void) module_cmd(PAGEHINT_CMD_RELEASE, pb.id, 0);
				continue;
			}
		}

		*slot = (struct batch) { BATCH_SENT, pb.id, now_ms() + m.hints.ttl_ms };
		if (send_msg(&m) < 0) {
			batch_release(slot, "could not send it");
			continue;
		}
		log_debug("Sent batch %" PRIu32 ": %u ranges", pb.id, pb.count);
	}
}

/* ---- messages from the host ---- */

static void handle_claim(uint64_t id) {
	struct hint_msg m = { .type = HINT_MSG_CLAIMED, .claimed = { .batch = id } };
	struct batch *b = batch_find(id);
	int r;

	if (!b) {
		/* Unknown or expired: it is back in the guest. */
		log_debug("Claim of batch %" PRIu64 " we do not hold", id);
	} else if (b->state == BATCH_CLAIMED) {
		m.claimed.ok = true;	/* a repeated claim: still held */
	} else {
		r = module_cmd(PAGEHINT_CMD_CLAIM, b->id, 0);
		if (r == 0) {
			b->state = BATCH_CLAIMED;
			b->deadline_ms = now_ms() + PAGEHINT_CLAIM_TIMEOUT_MS;
			m.claimed.ok = true;
		} else {
			if (r != -ENOENT)
				log_warning_errno(r, "Failed to claim batch %" PRIu32 ": %m", b->id);
			b->state = BATCH_FREE;
		}
	}
	(void) send_msg(&m);
}

static void handle_ack(uint64_t id, bool discarded) {
	struct batch *b = batch_find(id);
	int r;

	if (!b) {
		log_debug("Ack of batch %" PRIu64 " we do not hold, ignoring", id);
		return;
	}
	if (discarded && b->state != BATCH_CLAIMED) {
		/* The host must claim before discarding: it broke the rule. The
		 * pages are free in the guest either way; give them back. */
		log_error("Host discarded batch %" PRIu32 " without claiming it", b->id);
		batch_release(b, "discarded without claim");
		return;
	}
	r = module_cmd(discarded ? PAGEHINT_CMD_ACK : PAGEHINT_CMD_RELEASE, b->id, 0);
	if (r < 0)
		log_warning_errno(r, "Failed to %s batch %" PRIu32 ", ignoring: %m",
				  discarded ? "ack" : "release", b->id);
	b->state = BATCH_FREE;
}

static void send_hello(void) {
	struct hint_msg m = { .type = HINT_MSG_HELLO };
	struct hint_stats s = {};

	module_probe();
	if (a.ram_bytes == 0 && stats_read_ram_bytes("/proc/iomem", &a.ram_bytes) < 0 &&
	    stats_read_meminfo("/proc/meminfo", &s) == 0)
		a.ram_bytes = s.mem.total;

	m.hello.protocol = HINT_PROTOCOL_VERSION;
	snprintf(m.hello.agent, sizeof m.hello.agent, "hint-agent %s", HINTD_VERSION);
	m.hello.module = a.module;
	hint_strlcpy_utf8(m.hello.module_status, sizeof m.hello.module_status, a.module_status);
	m.hello.granularity = a.module ? a.granularity : 0;
	m.hello.drop_cache = true;
	m.hello.ram_bytes = a.ram_bytes;
	m.hello.max_ranges = a.module ? HINT_MAX_RANGES : 0;
	(void) send_msg(&m);
}

static void send_stats(void) {
	struct hint_msg m = { .type = HINT_MSG_STATS };
	int r;

	r = stats_collect(&m.stats, a.module);
	if (r < 0) {
		log_warning_errno(r, "Failed to collect stats, skipping: %m");
		return;
	}
	m.stats.seq = ++a.seq;
	(void) send_msg(&m);
}

/* A slow job finished: answer its command. */
static void slow_job_done(void) {
	struct slow_job_result j;
	char why[HINT_STRING_MAX];
	int r;

	if (!slow_job_finish(&j))
		return;
	if (j.cmd.name == HINT_CMD_GIVE) {
		/* Compacted (or not: the pass is worth asking either way). */
		r = module_cmd(PAGEHINT_CMD_GIVE, 0, j.cmd.bytes);
		if (r < 0)
			snprintf(why, sizeof why, "give failed: %s", strerror(-r));
		send_reply(j.cmd.id, r >= 0, r < 0 ? why : NULL, NULL, 0);
		return;
	}
	if (j.result < 0) {
		snprintf(why, sizeof why, "drop_cache failed: %s", strerror(-j.result));
		send_reply(j.cmd.id, false, why, NULL, 0);
		return;
	}
	log_info("Dropped %" PRIu64 " bytes of page cache", j.freed);
	send_reply(j.cmd.id, true, NULL, "freed", j.freed);
	/* What was dropped is free now: report it at once
	 * rather than at the kernel's own pace. */
	if (j.freed > 0 && a.module)
		(void) module_cmd(PAGEHINT_CMD_GIVE, 0, j.freed);
}

static void handle_cmd(const struct hint_cmd *c) {
	char why[HINT_STRING_MAX + 32];
	int r;

	switch (c->name) {
	case HINT_CMD_DROP_CACHE:
		/* It may take seconds: it runs aside, answered when done. */
		r = slow_job_start(c);
		if (r < 0) {
			snprintf(why, sizeof why, "drop_cache failed: %s",
				 r == -EBUSY ? "a cache drop is still running" : strerror(-r));
			send_reply(c->id, false, why, NULL, 0);
		}
		return;
	case HINT_CMD_STATS_INTERVAL:
		a.stats_interval_ms = c->ms;
		a.next_stats_ms = MIN(a.next_stats_ms, now_ms() + c->ms);
		send_reply(c->id, true, NULL, "ms", c->ms);
		return;
	case HINT_CMD_HELLO:
		send_reply(c->id, true, NULL, NULL, 0);
		send_hello();
		return;
	default:
		break;
	}

	/* The rest are for the module. */
	if (!a.module) {
		snprintf(why, sizeof why, "module not present: %s", a.module_status);
		send_reply(c->id, false, why, NULL, 0);
		return;
	}
	switch (c->name) {
	case HINT_CMD_REPORTING:
		r = module_cmd(PAGEHINT_CMD_REPORTING, 0, c->enable);
		if (r == 0)
			a.reporting = c->enable;
		break;
	case HINT_CMD_GRANULARITY:
		r = module_set_granularity(c->bytes, why, sizeof why);
		if (r < 0) {
			send_reply(c->id, false, why, NULL, 0);
			return;
		}
		/* The host checks hints against the last hello's granularity. */
		send_reply(c->id, true, NULL, NULL, 0);
		send_hello();
		return;
	case HINT_CMD_GIVE:
		/* Compaction first, aside (a drop may run meanwhile); while
		 * a compaction runs, a plain pass. */
		if (c->compact && slow_job_start(c) == 0)
			return;
		r = module_cmd(PAGEHINT_CMD_GIVE, 0, c->bytes);
		break;
	default:
		r = -EOPNOTSUPP;
	}
	if (r < 0) {
		snprintf(why, sizeof why, "%s: %s", hint_cmd_name_to_string(c->name), strerror(-r));
		send_reply(c->id, false, why, NULL, 0);
	} else
		send_reply(c->id, true, NULL, NULL, 0);
}

static void handle_line(const char *line, size_t len) {
	struct hint_msg m;
	char err[256], why[300];
	uint64_t id;
	int r;

	if (len == 0)
		return;		/* empty lines are allowed as resync points */
	r = hint_msg_parse(line, len, &m, err, sizeof err);
	if (r == 0 && hint_msg_type_from_guest(m.type)) {
		r = -EOPNOTSUPP;
		snprintf(err, sizeof err, "\"%s\" is sent by the guest, not the host",
			 hint_msg_type_to_string(m.type));
	}
	if (r < 0) {
		/* Answer what carries an id; log the rest. */
		if (hint_msg_peek_id(line, len, &id) == 0) {
			snprintf(why, sizeof why, "bad message: %s", err);
			send_reply(id, false, why, NULL, 0);
		}
		log_warning("Bad message from host: %s", err);
		return;
	}

	switch (m.type) {
	case HINT_MSG_CLAIM:
		handle_claim(m.claim.batch);
		break;
	case HINT_MSG_ACK:
		handle_ack(m.ack.batch, m.ack.discarded);
		break;
	case HINT_MSG_CMD:
		handle_cmd(&m.cmd);
		break;
	default:
		break;
	}
}

/* ---- the port ---- */

static int port_open(void) {
	struct stat st;
	int fd;

	if (stat(a.port_path, &st) < 0)
		return -errno;
	if (S_ISSOCK(st.st_mode)) {
		/* A unix socket stands in for the port in tests on the host. */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(a.port_path) >= sizeof sa.sun_path)
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, a.port_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS) {
			int r = -errno;

			close(fd);
			return r;
		}
		a.port_is_socket = true;
	} else {
		fd = open(a.port_path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		a.port_is_socket = false;
	}
	a.port_fd = fd;
	return 0;
}

static void on_connect(void) {
	a.connected = true;
	line_buffer_reset(&a.in);
	a.outq_len = 0;
	/* A newline first ends whatever half line a previous connection left
	 * in the channel, so the new host's first line is ours. */
	(void) queue_line("\n");
	send_hello();
	module_pause(false);
	log_info("Host connected; module: %s", a.module_status);
	send_stats();
	a.next_stats_ms = now_ms() + a.stats_interval_ms;
}

static void on_disconnect(const char *why) {
	log_info("Host disconnected (%s), waiting for it", why);
	a.connected = false;
	a.outq_len = 0;
	/* Every batch goes back, claimed ones too. The host punches only
	 * between "claimed ok" and its ack on one connection, and the port
	 * hangs up only once the host process closed its end (or died): it
	 * cannot be punching any more. Waiting for the module's claim timeout
	 * instead would keep the guest out of that memory for 30 s after a
	 * host crash. */
	for (size_t i = 0; i < ELEMENTSOF(a.batches); i++)
		if (a.batches[i].state != BATCH_FREE)
			batch_release(&a.batches[i], "host gone");
	module_pause(true);
	if (a.port_is_socket)
		close(TAKE_FD(a.port_fd));	/* a socket's hangup is final */
}

/* Returns once the host is connected, or on a stop signal. */
static void wait_for_host(void) {
	bool said = false;

	while (!stop && !a.connected) {
		struct pollfd p;
		int r;

		if (a.port_fd < 0) {
			r = port_open();
			if (r < 0) {
				if (!said)
					log_warning_errno(r, "Cannot open %s, retrying: %m", a.port_path);
				said = true;
				sleep_ms(RETRY_MS);
				continue;
			}
		}
		p = (struct pollfd) { .fd = a.port_fd, .events = POLLIN | POLLOUT };
		r = poll(&p, 1, a.port_is_socket ? RETRY_MS : 0);
		if (r < 0 && errno != EINTR) {
			log_error_errno(-errno, "poll: %m");
			sleep_ms(RETRY_MS);
			continue;
		}
		if (r > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
			/* A port without host polls POLLIN|POLLHUP and reads EOF;
			 * whatever a departed host left unread is stale. */
			if (a.port_is_socket)
				close(TAKE_FD(a.port_fd));
			else if (p.revents & POLLIN) {
				char junk[4096];

				while (read(a.port_fd, junk, sizeof junk) > 0)
					;
			}
			sleep_ms(RETRY_MS);
			continue;
		}
		/* No hangup: writable (connected) or readable (data). */
		if (r > 0)
			on_connect();
		else if (!a.port_is_socket)
			on_connect();	/* a connected port with nothing to say */
	}
}

static void run(void) {
	while (!stop) {
		struct pollfd p[3];
		uint64_t now, next;
		int n = 1, timeout, r, dev = -1, drop = -1;

		wait_for_host();
		if (stop)
			break;

		now = now_ms();
		batches_expire(now);
		if (now >= a.next_stats_ms) {
			send_stats();
			a.next_stats_ms = now + a.stats_interval_ms;
		}

		p[0] = (struct pollfd) { .fd = a.port_fd, .events = POLLIN | (a.outq_len ? POLLOUT : 0) };
		if (a.dev_fd >= 0 && batches_in_flight() < HINT_MAX_BATCHES_IN_FLIGHT) {
			dev = n;
			p[n++] = (struct pollfd) { .fd = a.dev_fd, .events = POLLIN };
		}
		if (slow_job_fd() >= 0) {
			drop = n;
			p[n++] = (struct pollfd) { .fd = slow_job_fd(), .events = POLLIN };
		}

		next = a.next_stats_ms;
		for (size_t i = 0; i < ELEMENTSOF(a.batches); i++)
			if (a.batches[i].state != BATCH_FREE)
				next = MIN(next, a.batches[i].deadline_ms);
		timeout = next > now ? (int) MIN(next - now, 60000) : 0;

		r = poll(p, n, timeout);
		if (r < 0) {
			if (errno != EINTR)
				log_error_errno(-errno, "poll: %m");
			continue;
		}

		if (p[0].revents & POLLIN) {
			const char *line;
			size_t len;
			ssize_t k = line_buffer_read(&a.in, a.port_fd);

			if (k == 0 || (k < 0 && k != -EAGAIN)) {
				on_disconnect(k == 0 ? "end of file" : strerror((int) -k));
				continue;
			}
			while ((r = line_buffer_pop(&a.in, &line, &len)) != 0) {
				if (r < 0)
					log_warning("Line from host longer than %u bytes, dropped", HINT_LINE_MAX);
				else
					handle_line(line, len);
			}
		} else if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			on_disconnect("hangup");
			continue;
		}

		if (drop >= 0 && (p[drop].revents & POLLIN))
			slow_job_done();
		if (dev >= 0 && (p[dev].revents & POLLIN))
			read_batches();
		else if (dev >= 0 && (p[dev].revents & (POLLERR | POLLHUP | POLLNVAL))) {
			log_warning("%s hung up; continuing without the module", a.device_path);
			close(TAKE_FD(a.dev_fd));
			a.module = false;
			snprintf(a.module_status, sizeof a.module_status, "%s: hung up", a.device_path);
		}

		if (a.outq_len > 0) {
			r = flush_out();
			if (r < 0)
				on_disconnect(strerror(-r));
		}
	}
}

static void help(void) {
	printf("Usage: hint-agent [OPTIONS]\n"
	       "\n"
	       "The guest side of hintd: reports memory statistics and free-page hints to\n"
	       "the host over a virtio-serial port and carries out the host's commands.\n"
	       "\n"
	       "  --port PATH            virtio-serial port (default %s);\n"
	       "                         a unix socket path is connected to instead\n"
	       "  --device PATH          pagehint device (default %s)\n"
	       "  --stats-interval MS    period of stats messages (default 1000, %u..%u)\n"
	       "  --verbose              log debug messages\n"
	       "  --help                 show this help\n"
	       "  --version              show the version\n"
	       "\n"
	       "It waits for the host as long as needed and stops on SIGTERM or SIGINT.\n"
	       "\n"
	       "Exit status:\n"
	       "  0  stopped by SIGTERM/SIGINT\n"
	       "  1  could not start (out of memory)\n"
	       "  2  invalid command line\n",
	       DEFAULT_PORT, PAGEHINT_DEVICE, HINT_STATS_INTERVAL_MIN_MS, HINT_STATS_INTERVAL_MAX_MS);
}

static int parse_args(int argc, char *argv[]) {
	static const struct option options[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) >= 0) {
		switch (c) {
		case 'p':
		case 'd':
			if (!*optarg) {
				log_error("--%s: needs a non-empty path", c == 'p' ? "port" : "device");
				return -EINVAL;
			}
			*(c == 'p' ? &a.port_path : &a.device_path) = optarg;
			break;
		case 'i': {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno ||
			    v < HINT_STATS_INTERVAL_MIN_MS || v > HINT_STATS_INTERVAL_MAX_MS) {
				log_error("--stats-interval: \"%s\" is not a number of milliseconds in %u..%u",
					  optarg, HINT_STATS_INTERVAL_MIN_MS, HINT_STATS_INTERVAL_MAX_MS);
				return -EINVAL;
			}
			a.stats_interval_ms = v;
			break;
		}
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf("hint-agent %s (protocol %d)\n", HINTD_VERSION, HINT_PROTOCOL_VERSION);
			return 0;
		case ':':
			log_error("%s: needs an argument", argv[optind - 1]);
			return -EINVAL;
		default:
			log_error("%s: unknown option (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("%s: unexpected argument (see --help)", argv[optind]);
		return -EINVAL;
	}
	return 1;
}

int main(int argc, char *argv[]) {
	struct sigaction sa = { .sa_handler = on_signal };
	int r;

	a.port_path = DEFAULT_PORT;
	a.device_path = PAGEHINT_DEVICE;
	a.stats_interval_ms = 1000;

	r = parse_args(argc, argv);
	if (r <= 0)
		return r < 0 ? 2 : 0;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	a.outq = malloc(OUTQ_MAX);
	if (!a.outq || line_buffer_init(&a.in, HINT_LINE_MAX) < 0) {
		log_error("Out of memory");
		return 1;
	}

	module_probe();
	log_info("hint-agent %s on %s; module: %s", HINTD_VERSION, a.port_path, a.module_status);

	run();

	/* Unclaimed batches go back now; claimed ones the module times out. */
	for (size_t i = 0; i < ELEMENTSOF(a.batches); i++)
		if (a.batches[i].state == BATCH_SENT)
			batch_release(&a.batches[i], "stopping");
	if (a.connected && a.outq_len > 0)
		(void) flush_out();
	log_info("Stopping");
	line_buffer_done(&a.in);
	free(a.outq);
	return 0;
}
