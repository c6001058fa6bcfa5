/* metrics-http.c - see metrics-http.h. */
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "listen-address.h"
#include "log.h"
#include "metrics-http.h"
#include "metrics-text.h"

/* A scrape is one small request: a handful of clients is plenty, and one
 * that stalls is dropped after the timeout. */
#define METRICS_HTTP_CONNECTIONS 16
#define METRICS_HTTP_TIMEOUT_SEC 10

struct metrics_http {
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer;
	char *address;
	metrics_render_fn render;
	void *userdata;
};

static const char index_page[] = "hintd metrics: /metrics\n";

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, char *body,
			       enum MHD_ResponseMemoryMode mode, const char *type) {
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, mode);
	enum MHD_Result r;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls) {
	struct metrics_http *h = cls;
	char *text = NULL;
	int r;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, (char *) "only GET and HEAD\n",
			       MHD_RESPMEM_PERSISTENT, "text/plain");
	if (strcmp(url, "/") == 0)
		return respond(c, MHD_HTTP_OK, (char *) index_page, MHD_RESPMEM_PERSISTENT, "text/plain");
	if (strcmp(url, "/metrics") != 0)
		return respond(c, MHD_HTTP_NOT_FOUND, (char *) "not found: try /metrics\n",
			       MHD_RESPMEM_PERSISTENT, "text/plain");
	r = h->render(h->userdata, &text);
	if (r < 0) {
		log_warning_errno(r, "Metrics on %s: could not render them: %m", h->address);
		return respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, (char *) "could not render the metrics\n",
			       MHD_RESPMEM_PERSISTENT, "text/plain");
	}
	return respond(c, MHD_HTTP_OK, text, MHD_RESPMEM_MUST_FREE, METRICS_CONTENT_TYPE);
}

/* After every run: wake again when libmicrohttpd has timed work (a
 * connection to time out, data it already holds). */
static void rearm(struct metrics_http *h) {
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	if (MHD_get_timeout(h->mhd, &ms) != MHD_YES) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_now(sd_event_source_get_event(h->timer), CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(h->timer, now + ms * 1000);
	sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct metrics_http *h = userdata;

	MHD_run(h->mhd);
	rearm(h);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	return on_io(NULL, -1, 0, userdata);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
	char msg[256];

	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("Metrics on %s: %s", (const char *) cls, msg);
}

static int listen_on(const char *address) {
	struct listen_address a;
	int fd, one = 1;

	if (listen_address_parse(address, &a) < 0) {
		log_error("MetricsListen=%s: not ADDRESS:PORT with a literal address", address);
		return -EINVAL;
	}
	fd = socket(a.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(-errno, "MetricsListen=%s: socket: %m", address);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *) &a.addr, a.len) < 0 || listen(fd, 16) < 0) {
		int r = -errno;

		close(fd);
		return log_error_errno(r, "MetricsListen=%s: cannot listen there: %m", address);
	}
	return fd;
}

int metrics_http_open(sd_event *e, const char *address, metrics_render_fn render, void *userdata,
		      struct metrics_http **ret) {
	const union MHD_DaemonInfo *info;
	struct metrics_http *h;
	int fd, r;

	fd = listen_on(address);
	if (fd < 0)
		return fd;
	h = calloc(1, sizeof *h);
	if (!h || !(h->address = strdup(address))) {
		free(h);
		close(fd);
		return log_error_errno(-ENOMEM, "MetricsListen=%s: %m", address);
	}
	h->render = render;
	h->userdata = userdata;
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned) METRICS_HTTP_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) METRICS_HTTP_TIMEOUT_SEC,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h->address,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		metrics_http_free(h);
		log_error("MetricsListen=%s: the HTTP server did not start", address);
		return -EIO;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	r = info ? sd_event_add_io(e, &h->io, info->epoll_fd, EPOLLIN, on_io, h) : -EIO;
	if (r >= 0)
		r = sd_event_add_time(e, &h->timer, CLOCK_MONOTONIC, 0, 0, on_timer, h);
	if (r < 0) {
		log_error_errno(r, "MetricsListen=%s: cannot watch the server: %m", address);
		metrics_http_free(h);
		return r;
	}
	sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	log_info("Metrics served on http://%s/metrics", address);
	*ret = h;
	return 0;
}

struct metrics_http *metrics_http_free(struct metrics_http *h) {
	if (!h)
		return NULL;
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);	/* closes the listening socket too */
	free(h->address);
	free(h);
	return NULL;
}

const char *metrics_http_address(const struct metrics_http *h) {
	return h->address;
}
