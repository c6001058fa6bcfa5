/* agent.c - see agent.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "agent.h"
#include "linebuf.h"
#include "log.h"
#include "macro.h"
#include "ratelimit.h"

#define RETRY_MIN_USEC (500 * USEC_PER_MSEC)
#define RETRY_MAX_USEC (5 * USEC_PER_SEC)

/* A bad message is dropped and logged, the channel stays open. A guest that
 * sends more than REJECTS_MAX of them within REJECTS_WINDOW is cut off for
 * CLOSED_MIN, doubling up to CLOSED_MAX while it keeps at it (forgiven after
 * FORGIVE without a cut). */
#define REJECTS_MAX 64
#define REJECTS_WINDOW_USEC (10 * USEC_PER_SEC)
#define CLOSED_MIN_USEC (10 * USEC_PER_SEC)
#define CLOSED_MAX_USEC (160 * USEC_PER_SEC)
#define FORGIVE_USEC (300 * USEC_PER_SEC)
/* Log lines one guest can cause. */
#define LOG_BURST 10
#define LOG_INTERVAL_USEC (60 * USEC_PER_SEC)
/* Messages read from one guest per second; past that its channel is not
 * read until the second is over (virtio-serial then holds the writer up).
 * A well-behaved agent sends a few: stats, hints and answers. */
#define LINES_PER_SEC 200
/* After the loop was held up, each guest may have queued up to
 * LINES_PER_SEC for every second of it (bounded): read without pausing. */
#define BACKLOG_MAX_USEC (120 * USEC_PER_SEC)

/* The loop's own health, the same for every guest: its last stall. */
static usec_t loop_stall_usec, loop_stall_end;

void agent_loop_stalled(usec_t stall_usec, usec_t end_usec) {
	loop_stall_usec = MIN(stall_usec, BACKLOG_MAX_USEC);
	loop_stall_end = end_usec;
}

struct agent {
	sd_event *event;
	char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
	char *vm_name;
	int fd;
	sd_event_source *io, *retry;
	usec_t retry_usec;
	struct line_buffer in;
	char *out;
	size_t out_len;
	enum agent_state state;
	uint64_t next_cmd_id;

	struct ratelimit log_limit;	/* what this guest can make hintd log */
	struct ratelimit rejects;	/* bad messages in the current window */
	usec_t closed_for;		/* last cut-off's length; 0 = none */
	usec_t closed_at;
	struct ratelimit lines;		/* input budget */
	sd_event_source *resume;	/* reading paused until this fires */
	usec_t backlog_forgiven;	/* loop_stall_end whose backlog was granted */
	uint64_t backlog_lines;		/* lines still to read as that backlog */
	uint64_t n_rejected;
	const struct agent_callbacks *cb;
	void *userdata;
};

static int agent_connect(struct agent *a);

static void set_state(struct agent *a, enum agent_state s) {
	if (a->state == s)
		return;
	a->state = s;
	if (a->cb->state_changed)
		a->cb->state_changed(a, s, a->userdata);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
	agent_connect(userdata);
	return 0;
}

static usec_t agent_now(struct agent *a) {
	uint64_t now;
	sd_event_now(a->event, CLOCK_MONOTONIC, &now);
	return now;
}

static void schedule_retry(struct agent *a, usec_t delay) {
	a->retry = sd_event_source_disable_unref(a->retry);
	if (sd_event_add_time(a->event, &a->retry, CLOCK_MONOTONIC, agent_now(a) + delay, 0, on_retry, a) < 0)
		log_error("%s: cannot schedule a reconnect to the agent", a->vm_name);
}

static void disconnect(struct agent *a, enum agent_state s, usec_t retry_delay) {
	a->io = sd_event_source_disable_unref(a->io);
	a->resume = sd_event_source_disable_unref(a->resume);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->out_len = 0;
	line_buffer_reset(&a->in);
	set_state(a, s);
	schedule_retry(a, retry_delay);
}

/* Logs within this guest's allowance, saying how many lines were held back. */
#define agent_log(a, level, fmt, ...) ({					\
	unsigned _held;								\
	if (ratelimit_below(&(a)->log_limit, agent_now(a), &_held))		\
		log_full_errno(level, 0, "%s: " fmt "%s", (a)->vm_name, ##__VA_ARGS__, \
			       _held ? " (earlier lines from this guest held back)" : ""); \
})

void agent_reject(struct agent *a, const char *message) {
	usec_t now = agent_now(a), closed_for;

	a->n_rejected++;
	agent_log(a, LOG_WARNING, "message from the guest rejected: %s", message);
	if (ratelimit_below(&a->rejects, now, NULL))
		return;
	/* Too many: stop listening for a while, longer each time. */
	if (a->closed_for && now - a->closed_at < a->closed_for + FORGIVE_USEC)
		closed_for = MIN(a->closed_for * 2, CLOSED_MAX_USEC);
	else
		closed_for = CLOSED_MIN_USEC;
	a->closed_for = closed_for;
	a->closed_at = now;
	a->rejects = RATELIMIT_INIT(REJECTS_WINDOW_USEC, REJECTS_MAX);
	log_warning("%s: guest sent more than %d bad messages in %llu s, closing its channel for %llu s",
		    a->vm_name, REJECTS_MAX, REJECTS_WINDOW_USEC / USEC_PER_SEC,
		    (unsigned long long) (closed_for / USEC_PER_SEC));
	disconnect(a, AGENT_FAILED, closed_for);
}

uint64_t agent_rejected(const struct agent *a) {
	return a->n_rejected;
}

static void handle_line(struct agent *a, const char *line, size_t len) {
	struct hint_msg m;
	char err[256];
	int r;

	/* Empty lines are resync points (docs/protocol.md): ignored. */
	if (len == 0 || (len == 1 && line[0] == '\r'))
		return;
	r = hint_msg_parse(line, len, &m, err, sizeof err);
	if (r < 0) {
		agent_reject(a, err);
		return;
	}
	if (!hint_msg_type_from_guest(m.type)) {
		snprintf(err, sizeof err, "a guest may not send \"%s\"", hint_msg_type_to_string(m.type));
		agent_reject(a, err);
		return;
	}
	a->cb->message(a, &m, a->userdata);
}

static int flush_output(struct agent *a) {
	while (a->out_len > 0) {
		ssize_t n = send(a->fd, a->out, a->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		memmove(a->out, a->out + n, a->out_len - (size_t) n);
		a->out_len -= (size_t) n;
	}
	return sd_event_source_set_io_events(a->io, EPOLLIN | (a->out_len ? EPOLLOUT : 0));
}

static int on_resume(sd_event_source *s, uint64_t usec, void *userdata) {
	struct agent *a = userdata;

	a->resume = sd_event_source_disable_unref(a->resume);
	if (a->io)
		sd_event_source_set_enabled(a->io, SD_EVENT_ON);
	return 0;
}

/* Counts one message against the guest's budget; false when it is spent,
 * in which case reading is paused until its window is over. */
static bool within_budget(struct agent *a) {
	usec_t now = agent_now(a);

	if (loop_stall_end && a->backlog_forgiven != loop_stall_end) {
		a->backlog_forgiven = loop_stall_end;
		a->backlog_lines = LINES_PER_SEC * (loop_stall_usec / USEC_PER_SEC + 1);
	}
	if (a->backlog_lines > 0) {
		a->backlog_lines--;
		return true;
	}
	if (ratelimit_below(&a->lines, now, NULL))
		return true;
	if (a->resume)
		return false;
	agent_log(a, LOG_WARNING, "guest sends more than %d messages a second, reading paused",
		  LINES_PER_SEC);
	sd_event_source_set_enabled(a->io, SD_EVENT_OFF);
	if (sd_event_add_time(a->event, &a->resume, CLOCK_MONOTONIC,
			      a->lines.begin_usec + a->lines.interval_usec, 0, on_resume, a) < 0)
		sd_event_source_set_enabled(a->io, SD_EVENT_ON);
	return false;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct agent *a = userdata;

	if (revents & EPOLLOUT) {
		if (flush_output(a) < 0) {
			disconnect(a, AGENT_DISCONNECTED, RETRY_MIN_USEC);
			return 0;
		}
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return 0;

	/* Bounded work per wakeup so one chatty guest cannot starve the loop. */
	for (int rounds = 0; rounds < 64 && a->fd >= 0; rounds++) {
		ssize_t n = line_buffer_read(&a->in, a->fd);
		const char *line;
		size_t len;
		int r;

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			/* QEMU closed the socket: the guest stopped or restarts. */
			log_debug("%s: agent channel closed", a->vm_name);
			disconnect(a, AGENT_DISCONNECTED, RETRY_MIN_USEC);
			return 0;
		}
		/* Lines already read are handled even past the budget: the buffer
		 * must be empty before the next read. */
		while (a->fd >= 0 && (r = line_buffer_pop(&a->in, &line, &len)) != 0) {
			within_budget(a);
			if (r < 0)
				agent_reject(a, "line longer than the protocol allows (dropped up to its end)");
			else
				handle_line(a, line, len);
		}
		if (a->resume)
			break;
	}
	return 0;
}

static int agent_connect(struct agent *a) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	a->retry = sd_event_source_disable_unref(a->retry);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "%s: socket: %m", a->vm_name);
	memcpy(sa.sun_path, a->path, strlen(a->path));
	if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
		r = -errno;
		close(fd);
		log_debug_errno(r, "%s: agent channel %s: %m, retrying", a->vm_name, a->path);
		a->retry_usec = MIN(a->retry_usec ? a->retry_usec * 2 : RETRY_MIN_USEC, RETRY_MAX_USEC);
		schedule_retry(a, a->retry_usec);
		return r;
	}
	a->fd = fd;
	a->retry_usec = 0;
	r = sd_event_add_io(a->event, &a->io, fd, EPOLLIN, on_io, a);
	if (r < 0) {
		close(fd);
		a->fd = -1;
		return log_error_errno(r, "%s: cannot watch the agent channel: %m", a->vm_name);
	}
	set_state(a, AGENT_DISCONNECTED);
	/* The agent greets each new host connection; ask too, in case it
	 * missed the moment we connected. */
	agent_send_cmd(a, (struct hint_cmd) { .name = HINT_CMD_HELLO });
	return 0;
}

int agent_new(sd_event *e, const char *socket_path, const char *vm_name,
	      const struct agent_callbacks *cb, void *userdata, struct agent **ret) {
	struct agent *a;
	int r;

	if (strlen(socket_path) >= sizeof a->path)
		return -ENAMETOOLONG;
	a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	*a = (struct agent) { .event = e, .fd = -1, .state = AGENT_DISCONNECTED, .cb = cb,
			      .userdata = userdata, .next_cmd_id = 1,
			      .log_limit = RATELIMIT_INIT(LOG_INTERVAL_USEC, LOG_BURST),
			      .rejects = RATELIMIT_INIT(REJECTS_WINDOW_USEC, REJECTS_MAX),
			      .lines = RATELIMIT_INIT(USEC_PER_SEC, LINES_PER_SEC) };
	strcpy(a->path, socket_path);
	a->vm_name = strdup(vm_name);
	a->out = malloc(AGENT_OUTPUT_MAX);
	r = line_buffer_init(&a->in, HINT_LINE_MAX);
	if (!a->vm_name || !a->out || r < 0) {
		agent_free(a);
		return -ENOMEM;
	}
	agent_connect(a);
	*ret = a;
	return 0;
}

struct agent *agent_free(struct agent *a) {
	if (!a)
		return NULL;
	a->io = sd_event_source_disable_unref(a->io);
	a->retry = sd_event_source_disable_unref(a->retry);
	a->resume = sd_event_source_disable_unref(a->resume);
	if (a->fd >= 0)
		close(a->fd);
	line_buffer_done(&a->in);
	free(a->out);
	free(a->vm_name);
	free(a);
	return NULL;
}

enum agent_state agent_get_state(const struct agent *a) {
	return a->state;
}

void agent_set_connected(struct agent *a) {
	set_state(a, AGENT_CONNECTED);
}

int agent_send(struct agent *a, const struct hint_msg *m) {
	_cleanup_free_ char *line = NULL;
	char err[256];
	size_t len;
	int r;

	if (a->fd < 0)
		return -ENOTCONN;
	r = hint_msg_format(m, &line, err, sizeof err);
	if (r < 0)
		return log_error_errno(r, "%s: cannot format a message: %s", a->vm_name, err);
	len = strlen(line);
	if (a->out_len + len > AGENT_OUTPUT_MAX) {
		log_warning("%s: agent does not read its channel, reconnecting", a->vm_name);
		disconnect(a, AGENT_DISCONNECTED, RETRY_MIN_USEC);
		return -ENOBUFS;
	}
	memcpy(a->out + a->out_len, line, len);
	a->out_len += len;
	r = flush_output(a);
	if (r < 0) {
		disconnect(a, AGENT_DISCONNECTED, RETRY_MIN_USEC);
		return r;
	}
	return 0;
}

int64_t agent_send_cmd(struct agent *a, struct hint_cmd cmd) {
	struct hint_msg m = { .type = HINT_MSG_CMD, .cmd = cmd };
	int r;

	m.cmd.id = a->next_cmd_id++;
	r = agent_send(a, &m);
	return r < 0 ? r : (int64_t) m.cmd.id;
}
