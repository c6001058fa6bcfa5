/* hint-peer - the host end of a guest's agent channel, for real-VM tests.
 *
 * Prints every message the agent sends, one line each. With --punch it
 * claims each batch of hints, punches the claimed ranges out of the guest's
 * RAM file (--memfd) and acks them, so a test can watch host memory fall.
 * With --cmd it sends one command and prints the reply.
 *
 * Not hintd: no policy, one guest, and the only check of a range is that it
 * lies inside the RAM file and is aligned (gpa == file offset, which holds
 * for the lab's 512 MiB "pc" guests). */
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

#include "linebuf.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "protocol.h"

struct pending {
	bool used;
	struct hint_hints h;
	uint64_t claimed_at_ms;
	uint64_t punch_at_ms;	/* --ack-delay: claimed, punched at this time */
};

static struct {
	const char *socket_path;
	const char *listen_path;
	const char *memfd_path;
	bool punch;
	bool claim_only;	/* claim batches and never answer: they stay in flight */
	uint64_t ack_delay_ms;	/* a slow host: punch and ack this long after the claim */
	double duration_s;
	const char *cmd_text;
	bool quiet_stats;

	int fd;
	int memfd;
	uint64_t memfd_size;
	struct line_buffer in;
	struct pending pending[HINT_MAX_BATCHES_IN_FLIGHT];
	struct hint_cmd cmd;
	bool cmd_sent, cmd_done, cmd_ok;

	uint64_t batches, bytes_hinted, bytes_punched, bytes_backed, refused, declined, errors;
} p = { .fd = -1, .memfd = -1 };

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
	stop = 1;
}

static uint64_t now_ms(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_msg(const struct hint_msg *m) {
	_cleanup_free_ char *line = NULL;
	char err[256];
	size_t n, off = 0;
	int r;

	r = hint_msg_format(m, &line, err, sizeof err);
	if (r < 0)
		return log_error_errno(r, "Cannot format message: %s", err);
	n = strlen(line);
	while (off < n) {
		ssize_t k = write(p.fd, line + off, n - off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(-errno, "Failed to send: %m");
		}
		off += k;
	}
	return 0;
}

static void send_ack(uint64_t batch, bool discarded) {
	struct hint_msg m = { .type = HINT_MSG_ACK, .ack = { .batch = batch, .discarded = discarded } };

	(void) send_msg(&m);
}

/* Bytes of [off, off+len) that have backing in the file right now. */
static uint64_t backed_bytes(int fd, uint64_t off, uint64_t len) {
	uint64_t end = off + len, sum = 0;

	while (off < end) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;

		if (data < 0 || (uint64_t) data >= end)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = end;
		sum += MIN((uint64_t) hole, end) - data;
		off = hole;
	}
	return sum;
}

static bool ranges_ok(const struct hint_hints *h) {
	for (unsigned i = 0; i < h->n_ranges; i++) {
		const struct hint_range *r = &h->ranges[i];

		/* The parser has checked alignment to the batch granularity;
		 * also insist on host pages and on the file's size. */
		if (r->gpa % 4096 || r->len % 4096 || r->gpa + r->len > p.memfd_size) {
			printf("error batch=%" PRIu64 " range=%u gpa=%" PRIu64 " len=%" PRIu64
			       " outside the RAM file (%" PRIu64 " bytes) or unaligned\n",
			       h->batch, i, r->gpa, r->len, p.memfd_size);
			return false;
		}
	}
	return true;
}

static void on_hints(const struct hint_hints *h) {
	uint64_t bytes = 0;
	struct pending *slot = NULL;

	for (unsigned i = 0; i < h->n_ranges; i++)
		bytes += h->ranges[i].len;
	p.batches++;
	p.bytes_hinted += bytes;
	printf("hints batch=%" PRIu64 " ranges=%u bytes=%" PRIu64 " granularity=%" PRIu64 " ttl_ms=%" PRIu64 "\n",
	       h->batch, h->n_ranges, bytes, h->granularity, h->ttl_ms);

	if (!p.punch && !p.claim_only) {
		/* Not punching: hand the pages back at once rather than let
		 * them sit out until the ttl passes. */
		send_ack(h->batch, false);
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(p.pending); i++)
		if (!p.pending[i].used) {
			slot = &p.pending[i];
			break;
		}
	if (!slot || (p.punch && !ranges_ok(h))) {
		if (!slot)
			printf("error batch=%" PRIu64 " more than %u batches in flight\n", h->batch,
			       HINT_MAX_BATCHES_IN_FLIGHT);
		p.declined++;
		send_ack(h->batch, false);
		return;
	}
	*slot = (struct pending) { .used = true, .h = *h, .claimed_at_ms = now_ms() };
	(void) send_msg(&(struct hint_msg) { .type = HINT_MSG_CLAIM, .claim = { .batch = h->batch } });
}

/* Punches a claimed batch and acks it; frees its slot. */
static void punch_and_ack(struct pending *b) {
	uint64_t punched = 0, backed = 0, batch = b->h.batch;
	bool any = false;

	b->used = false;
	if (now_ms() - b->claimed_at_ms > HINT_PUNCH_DEADLINE_MS) {
		printf("error batch=%" PRIu64 " claimed too late to punch\n", batch);
		send_ack(batch, false);
		return;
	}
	for (unsigned i = 0; i < b->h.n_ranges; i++) {
		const struct hint_range *r = &b->h.ranges[i];
		uint64_t was = backed_bytes(p.memfd, r->gpa, r->len);

		if (fallocate(p.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r->gpa, r->len) < 0) {
			printf("error batch=%" PRIu64 " punch gpa=%" PRIu64 " len=%" PRIu64 ": %s\n",
			       batch, r->gpa, r->len, strerror(errno));
			p.errors++;
			continue;
		}
		any = true;
		punched += r->len;
		backed += was;
	}
	p.bytes_punched += punched;
	p.bytes_backed += backed;
	printf("punched batch=%" PRIu64 " bytes=%" PRIu64 " backed=%" PRIu64 "\n", batch, punched, backed);
	/* Ack as discarded if anything was: the guest must treat it so. */
	send_ack(batch, any);
}

static void on_claimed(const struct hint_claimed *c) {
	struct pending *b = NULL;

	for (size_t i = 0; i < ELEMENTSOF(p.pending); i++)
		if (p.pending[i].used && p.pending[i].h.batch == c->batch)
			b = &p.pending[i];
	printf("claimed batch=%" PRIu64 " ok=%d\n", c->batch, c->ok);
	if (!b) {
		printf("error batch=%" PRIu64 " claimed but never claimed by us\n", c->batch);
		p.errors++;
		return;
	}
	if (!c->ok) {
		b->used = false;
		p.refused++;	/* back in the guest already: hands off */
		return;
	}
	if (p.claim_only) {
		b->used = false;
		printf("held batch=%" PRIu64 "\n", c->batch);
		return;
	}
	b->punch_at_ms = now_ms() + p.ack_delay_ms;
	if (!p.ack_delay_ms)
		punch_and_ack(b);
}

static void print_msg(const struct hint_msg *m) {
	switch (m->type) {
	case HINT_MSG_HELLO:
		printf("hello protocol=%" PRIu64 " agent=\"%s\" module=%d status=\"%s\" granularity=%" PRIu64
		       " drop_cache=%d ram=%" PRIu64 " max_ranges=%" PRIu64 "\n",
		       m->hello.protocol, m->hello.agent, m->hello.module, m->hello.module_status,
		       m->hello.granularity, m->hello.drop_cache, m->hello.ram_bytes, m->hello.max_ranges);
		break;
	case HINT_MSG_STATS: {
		const struct hint_stats *s = &m->stats;

		if (p.quiet_stats)
			break;
		printf("stats seq=%" PRIu64 " total=%" PRIu64 " free=%" PRIu64 " available=%" PRIu64
		       " cached=%" PRIu64 " file=%" PRIu64 " dirty=%" PRIu64 " anon=%" PRIu64
		       " psi_some=%" PRIu64 " majfault=%" PRIu64,
		       s->seq, s->mem.total, s->mem.free, s->mem.available, s->mem.cached,
		       s->mem.active_file + s->mem.inactive_file, s->mem.dirty, s->mem.anon,
		       s->psi.some_avg10_permyriad, s->vmstat.pgmajfault);
		if (s->has_pages)
			printf(" unused=%" PRIu64 " volatile=%" PRIu64 " stable=%" PRIu64,
			       s->pages.unused, s->pages.volatile_, s->pages.stable);
		if (s->has_module)
			printf(" reported=%" PRIu64 " acked=%" PRIu64 " held=%" PRIu64,
			       s->module.reported, s->module.acked, s->module.held);
		printf("\n");
		break;
	}
	case HINT_MSG_REPLY:
		printf("reply id=%" PRIu64 " ok=%d", m->reply.id, m->reply.ok);
		if (!m->reply.ok)
			printf(" error=\"%s\"", m->reply.error);
		for (unsigned i = 0; i < m->reply.n_result; i++)
			printf(" %s=%" PRIu64, m->reply.result[i].key, m->reply.result[i].value);
		printf("\n");
		break;
	default:
		break;
	}
}

static void handle_line(const char *line, size_t len) {
	struct hint_msg m;
	char err[256];
	int r;

	if (len == 0)
		return;
	r = hint_msg_parse(line, len, &m, err, sizeof err);
	if (r == 0 && !hint_msg_type_from_guest(m.type)) {
		r = -EBADMSG;
		snprintf(err, sizeof err, "\"%s\" comes from the host, not the guest",
			 hint_msg_type_to_string(m.type));
	}
	if (r < 0) {
		printf("error bad message: %s\n", err);
		p.errors++;
		return;
	}
	print_msg(&m);
	switch (m.type) {
	case HINT_MSG_HINTS:
		on_hints(&m.hints);
		break;
	case HINT_MSG_CLAIMED:
		on_claimed(&m.claimed);
		break;
	case HINT_MSG_REPLY:
		if (p.cmd_sent && m.reply.id == p.cmd.id) {
			p.cmd_done = true;
			p.cmd_ok = m.reply.ok;
		}
		break;
	default:
		break;
	}
}

/* "drop_cache bytes=64M", "reporting enable=1", "stats_interval ms=500", "hello". */
static int parse_cmd(const char *text, struct hint_cmd *c) {
	char buf[256], *name, *arg, *save = NULL, *eq;
	uint64_t v = 0;
	int r;

	snprintf(buf, sizeof buf, "%s", text);
	name = strtok_r(buf, " ", &save);
	arg = strtok_r(NULL, " ", &save);
	if (!name || strtok_r(NULL, " ", &save))
		return -EINVAL;
	r = hint_cmd_name_from_string(name);
	if (r < 0)
		return r;
	*c = (struct hint_cmd) { .id = 1, .name = r };
	if (c->name == HINT_CMD_HELLO)
		return arg ? -EINVAL : 0;
	if (!arg || !(eq = strchr(arg, '=')))
		return -EINVAL;
	*eq = '\0';
	if (parse_size(eq + 1, &v) < 0)
		return -EINVAL;
	switch (c->name) {
	case HINT_CMD_REPORTING:
		if (strcmp(arg, "enable") != 0 || v > 1)
			return -EINVAL;
		c->enable = v;
		return 0;
	case HINT_CMD_STATS_INTERVAL:
		if (strcmp(arg, "ms") != 0)
			return -EINVAL;
		c->ms = v;
		return 0;
	default:
		if (strcmp(arg, "bytes") != 0)
			return -EINVAL;
		c->bytes = v;
		return 0;
	}
}

static int connect_or_accept(void) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = p.listen_path ? p.listen_path : p.socket_path;
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof sa.sun_path)
		return log_error_errno(-ENAMETOOLONG, "%s: %m", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "socket: %m");
	if (p.socket_path) {
		if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
			return log_error_errno(-errno, "Failed to connect to %s: %m", path);
		p.fd = TAKE_FD(fd);
		return 0;
	}
	(void) unlink(path);
	if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 1) < 0)
		return log_error_errno(-errno, "Failed to listen on %s: %m", path);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int r = poll(&pf, 1, 200);

		if (stop)
			return -EINTR;
		if (r > 0)
			break;
	}
	p.fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (p.fd < 0)
		return log_error_errno(-errno, "accept: %m");
	return 0;
}

static void help(void) {
	printf("Usage: hint-peer (--socket PATH | --listen PATH) [OPTIONS]\n"
	       "\n"
	       "The host end of a guest agent's channel, for tests.\n"
	       "\n"
	       "  --socket PATH      connect to the guest channel's unix socket\n"
	       "  --listen PATH      listen there instead, for an agent run with --port PATH\n"
	       "  --memfd PATH       the guest's RAM file (/proc/PID/fd/N); gpa == offset\n"
	       "  --punch            claim each batch, punch it out of --memfd, ack it;\n"
	       "                     without it every batch is declined (ack discarded:false)\n"
	       "  --claim-only       claim each batch and never answer, so batches stay\n"
	       "                     in flight (for testing what the guest does then)\n"
	       "  --ack-delay TIME   with --punch, a slow host: punch and ack each batch\n"
	       "                     TIME (\"600ms\") after it was claimed\n"
	       "  --cmd 'NAME [KEY=VALUE]'  send one command, print its reply, e.g.\n"
	       "                     'drop_cache bytes=64M', 'reporting enable=0',\n"
	       "                     'granularity bytes=4096', 'stats_interval ms=500',\n"
	       "                     'give bytes=100M', 'hello'\n"
	       "  --duration TIME    stop after TIME (\"40\": seconds; default: until a signal,\n"
	       "                     or until the reply with --cmd alone)\n"
	       "  --quiet-stats      do not print stats messages\n"
	       "\n"
	       "Prints one line per message and a 'total ...' line at the end.\n"
	       "Exit status: 0 done, 1 connection or command failed, 2 invalid command line.\n");
}

static int parse_args(int argc, char *argv[]) {
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "memfd", required_argument, NULL, 'm' },
		{ "punch", no_argument, NULL, 'P' },
		{ "claim-only", no_argument, NULL, 'C' },
		{ "ack-delay", required_argument, NULL, 'A' },
		{ "cmd", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'D' },
		{ "quiet-stats", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) >= 0) {
		switch (c) {
		case 's': p.socket_path = optarg; break;
		case 'l': p.listen_path = optarg; break;
		case 'm': p.memfd_path = optarg; break;
		case 'P': p.punch = true; break;
		case 'C': p.claim_only = true; break;
		case 'q': p.quiet_stats = true; break;
		case 'c':
			p.cmd_text = optarg;
			if (parse_cmd(optarg, &p.cmd) < 0) {
				log_error("--cmd: cannot parse \"%s\" (see --help)", optarg);
				return -EINVAL;
			}
			break;
		case 'A': {
			uint64_t usec;

			if (parse_duration_usec(optarg, &usec) < 0 || usec >= HINT_PUNCH_DEADLINE_MS * 1000ULL) {
				log_error("--ack-delay: \"%s\" is not a time below %ums (\"600ms\")",
					  optarg, (unsigned) HINT_PUNCH_DEADLINE_MS);
				return -EINVAL;
			}
			p.ack_delay_ms = usec / 1000;
			break;
		}
		case 'D': {
			uint64_t usec;

			if (parse_duration_usec(optarg, &usec) < 0 || usec == 0) {
				log_error("--duration: \"%s\" is not a time above 0 (\"1.5\", \"40s\")", optarg);
				return -EINVAL;
			}
			p.duration_s = (double) usec / 1e6;
			break;
		}
		case 'h':
			help();
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
		log_error("%s: unexpected argument", argv[optind]);
		return -EINVAL;
	}
	if (!!p.socket_path == !!p.listen_path) {
		log_error("exactly one of --socket and --listen is needed");
		return -EINVAL;
	}
	if (p.ack_delay_ms && !p.punch) {
		log_error("--ack-delay needs --punch");
		return -EINVAL;
	}
	if (p.punch && !p.memfd_path) {
		log_error("--punch needs --memfd");
		return -EINVAL;
	}
	return 1;
}

int main(int argc, char *argv[]) {
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t deadline = UINT64_MAX, reply_deadline = UINT64_MAX;
	int r, rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = parse_args(argc, argv);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (p.memfd_path) {
		struct stat st;

		p.memfd = open(p.memfd_path, O_RDWR | O_CLOEXEC);
		if (p.memfd < 0 || fstat(p.memfd, &st) < 0) {
			log_error_errno(-errno, "Failed to open %s: %m", p.memfd_path);
			return 1;
		}
		p.memfd_size = st.st_size;
	}
	if (line_buffer_init(&p.in, HINT_LINE_MAX) < 0 || connect_or_accept() < 0)
		return 1;

	if (p.duration_s > 0)
		deadline = now_ms() + (uint64_t) (p.duration_s * 1000);
	if (p.cmd_text) {
		if (send_msg(&(struct hint_msg) { .type = HINT_MSG_CMD, .cmd = p.cmd }) < 0)
			return 1;
		p.cmd_sent = true;
		reply_deadline = now_ms() + HINT_REPLY_TIMEOUT_MS;
	}

	while (!stop) {
		struct pollfd pf = { .fd = p.fd, .events = POLLIN };
		uint64_t now = now_ms(), until = MIN(deadline, reply_deadline);
		const char *line;
		size_t len;
		ssize_t k;

		if (p.cmd_done && p.duration_s <= 0)
			break;	/* --cmd alone: done with its reply */
		if (p.cmd_sent && !p.cmd_done && now >= reply_deadline) {
			printf("error no reply to the command within %u ms\n", (unsigned) HINT_REPLY_TIMEOUT_MS);
			rc = 1;
			p.cmd_sent = false;
			reply_deadline = UINT64_MAX;
			if (p.duration_s <= 0)
				break;
			continue;
		}
		if (now >= deadline)
			break;
		for (size_t i = 0; i < ELEMENTSOF(p.pending); i++) {
			struct pending *b = &p.pending[i];

			if (b->used && b->punch_at_ms) {
				if (b->punch_at_ms <= now)
					punch_and_ack(b);
				else
					until = MIN(until, b->punch_at_ms);
			}
		}
		r = poll(&pf, 1, until == UINT64_MAX ? 1000 : (int) MIN(until - now, 1000));
		if (r <= 0)
			continue;
		k = line_buffer_read(&p.in, p.fd);
		if (k == 0 || (k < 0 && k != -EAGAIN && k != -EINTR)) {
			printf("disconnected%s%s\n", k ? ": " : "", k ? strerror((int) -k) : "");
			break;
		}
		while ((r = line_buffer_pop(&p.in, &line, &len)) != 0) {
			if (r < 0) {
				printf("error line longer than %u bytes dropped\n", (unsigned) HINT_LINE_MAX);
				p.errors++;
			} else
				handle_line(line, len);
		}
	}

	/* Batches claimed but not answered yet go back to the guest. */
	for (size_t i = 0; i < ELEMENTSOF(p.pending); i++)
		if (p.pending[i].used)
			send_ack(p.pending[i].h.batch, false);

	printf("total batches=%" PRIu64 " bytes_hinted=%" PRIu64 " bytes_punched=%" PRIu64
	       " bytes_backed=%" PRIu64 " refused=%" PRIu64 " declined=%" PRIu64 " errors=%" PRIu64 "\n",
	       p.batches, p.bytes_hinted, p.bytes_punched, p.bytes_backed, p.refused, p.declined, p.errors);
	if (p.cmd_text && !(p.cmd_done && p.cmd_ok))
		rc = 1;
	line_buffer_done(&p.in);
	if (p.fd >= 0)
		close(p.fd);
	if (p.memfd >= 0)
		close(p.memfd);
	return rc;
}
