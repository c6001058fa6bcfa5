/* metrics-http.h - a small HTTP server for Prometheus to scrape: GET
 * /metrics answers with the text a callback renders. libmicrohttpd runs
 * in hintd's own event loop (its epoll descriptor is one sd-event source),
 * with non-blocking sockets, a connection limit and a timeout, so a slow
 * or hostile client never holds the loop up. */
#ifndef HINTD_METRICS_HTTP_H
#define HINTD_METRICS_HTTP_H

#include <systemd/sd-event.h>

struct metrics_http;

/* Renders the body into *ret (malloc'ed); negative errno on failure. */
typedef int (*metrics_render_fn)(void *userdata, char **ret);

/* Listens on address ("127.0.0.1:9848", "[::1]:9848"; listen-address.h)
 * and serves render's text. Logs what failed, naming the address, and
 * returns negative errno. */
int metrics_http_open(sd_event *e, const char *address, metrics_render_fn render, void *userdata,
		      struct metrics_http **ret);
struct metrics_http *metrics_http_free(struct metrics_http *h);

/* The address it listens on, as configured. */
const char *metrics_http_address(const struct metrics_http *h);

#endif /* HINTD_METRICS_HTTP_H */
