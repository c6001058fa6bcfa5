/* top.c - `hintctl top`: reads a snapshot every interval, builds the
 * model from it and the previous one, hands it to the view, and feeds keys
 * to the model's key handler. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bus.h"
#include "log.h"
#include "macro.h"
#include "snapshot.h"
#include "top-model.h"
#include "top-view.h"
#include "verbs.h"

static double now_monotonic_sec(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

struct top {
	const struct ctl_options *opts;
	sd_bus *bus;
	struct ctl_snapshot prev, cur;
	bool have_prev;
	double prev_at, cur_at;		/* CLOCK_MONOTONIC, s */
	char error[512];		/* the last refresh's failure, or "" */
};

/* Reads a new snapshot; on failure keeps the last one and says why. */
static int top_refresh(struct top *t) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct ctl_snapshot s;
	int r;

	if (!t->bus) {
		r = ctl_bus_open(t->opts, &t->bus);
		if (r < 0) {
			snprintf(t->error, sizeof t->error, "hintd is not running on %s (cannot connect: %s)",
				 ctl_bus_description(t->opts), strerror(-r));
			return r;
		}
	}
	r = ctl_snapshot_read(t->bus, &s, &error);
	if (r < 0) {
		if (ctl_bus_exit_code(r, &error) == CTL_EXIT_NOT_RUNNING)
			snprintf(t->error, sizeof t->error, "hintd is not running on %s",
				 ctl_bus_description(t->opts));
		else
			snprintf(t->error, sizeof t->error, "reading hintd's state failed: %s",
				 sd_bus_error_is_set(&error) && error.message ? error.message
									  : strerror(-r));
		if (!sd_bus_is_open(t->bus))
			t->bus = sd_bus_flush_close_unref(t->bus);
		return r;
	}
	t->error[0] = '\0';
	ctl_snapshot_done(&t->prev);
	t->prev = t->cur;
	t->prev_at = t->cur_at;
	t->have_prev = t->cur_at > 0;
	t->cur = s;
	t->cur_at = now_monotonic_sec();
	return 0;
}

static int top_draw(struct top *t, const struct top_state *state, double interval_sec) {
	struct top_model model;
	struct top_view_info info = {
		.bus = ctl_bus_description(t->opts),
		.interval_sec = interval_sec,
		.exact_bytes = t->opts->exact_bytes,
		.error = t->error[0] ? t->error : NULL,
	};
	int r;

	r = top_model_build(t->have_prev ? &t->prev : NULL, &t->cur,
			    t->have_prev ? t->cur_at - t->prev_at : 0, &model);
	if (r < 0)
		return r;
	top_model_sort(&model, state->sort, state->invert);
	top_view_draw(&model, state, &info);
	top_model_done(&model);
	return 0;
}

/* Connects and reads the first snapshot before the screen is taken, so a
 * missing hintd is an ordinary error with an exit code. */
static int top_start(struct top *t) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	if (t->opts->json) {
		log_error("hintctl: top: --json is not supported; use monitor or status --json");
		return CTL_EXIT_USAGE;
	}
	r = ctl_bus_connect(t->opts, &t->bus);
	if (r != 0)
		return r;
	r = ctl_snapshot_read(t->bus, &t->cur, &error);
	if (r < 0)
		return ctl_bus_fail(t->opts, r, &error, "reading hintd's state", NULL);
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		log_error("hintctl: top needs a terminal");
		return CTL_EXIT_USAGE;
	}
	t->cur_at = now_monotonic_sec();
	return CTL_EXIT_OK;
}

/* Draws, waits for a key or the next refresh, until 'q' or an error. */
static int top_loop(struct top *t, double interval_sec) {
	struct top_state state = TOP_STATE_INIT;
	double next = t->cur_at + interval_sec;
	int r;

	for (bool redraw = true;;) {
		double now;
		int key, flags;

		if (redraw) {
			r = top_draw(t, &state, interval_sec);
			if (r < 0)
				return r;
			redraw = false;
		}
		now = now_monotonic_sec();
		key = top_view_read_key(now >= next ? 0 : (int) ceil((next - now) * 1000.0));
		if (key < 0) {
			if (now_monotonic_sec() < next)
				continue;
			(void) top_refresh(t);
			next = MAX(next + interval_sec, now_monotonic_sec());
			redraw = true;
			continue;
		}
		if (top_view_is_resize(key)) {
			redraw = true;
			continue;
		}
		flags = top_key_handle(&state, key);
		if (flags & TOP_KEY_QUIT)
			return 0;
		if (flags & TOP_KEY_REFRESH) {
			(void) top_refresh(t);
			next = now_monotonic_sec() + interval_sec;
		}
		if (flags & TOP_KEY_REDRAW)
			redraw = true;
	}
}

int verb_top(const struct ctl_options *opts, double interval_sec) {
	struct top t = { .opts = opts };
	int r, ret;

	ret = top_start(&t);
	if (ret != CTL_EXIT_OK)
		goto out;
	r = top_view_init();
	if (r < 0) {
		log_error("hintctl: top: cannot set up the terminal");
		ret = CTL_EXIT_FAILURE;
		goto out;
	}
	r = top_loop(&t, interval_sec);
	top_view_end();
	if (r < 0) {
		log_error_errno(r, "hintctl: top: %m");
		ret = CTL_EXIT_FAILURE;
	}
out:
	ctl_snapshot_done(&t.prev);
	ctl_snapshot_done(&t.cur);
	sd_bus_flush_close_unref(t.bus);
	return ret;
}
