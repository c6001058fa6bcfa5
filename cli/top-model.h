/* top-model.h - what `hintctl top` shows, without curses or sd-bus: rows
 * built from two snapshots (rates from the counters' deltas), sorted by a
 * key; the columns that fit a width; the cells as text; and the keys, whose
 * handler changes the state and returns what the screen must do. */
#ifndef HINTCTL_TOP_MODEL_H
#define HINTCTL_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "args.h"
#include "snapshot.h"

enum top_column {
	TOP_COL_NAME,
	TOP_COL_MAX,
	TOP_COL_ACTUAL,
	TOP_COL_BACKED,
	TOP_COL_UNUSED,
	TOP_COL_VOLATILE,
	TOP_COL_STABLE,
	TOP_COL_RECLAIMED,	/* sum of the rungs */
	TOP_COL_RATE,		/* reclaimed per second, from deltas */
	TOP_COL_PSI,		/* guest memory pressure, some avg10 */
	TOP_COL_VMEM,		/* virtio-mem plugged/size; only when some VM has one */
	TOP_COL_AGENT,
	TOP_COL_DISCARD,
	_TOP_COL_MAX,
};

/* Sort keys are the columns up to PSI, in the order `s` cycles them. */
enum top_sort {
	TOP_SORT_NAME = TOP_COL_NAME,
	TOP_SORT_MAX = TOP_COL_MAX,
	TOP_SORT_ACTUAL = TOP_COL_ACTUAL,
	TOP_SORT_BACKED = TOP_COL_BACKED,
	TOP_SORT_UNUSED = TOP_COL_UNUSED,
	TOP_SORT_VOLATILE = TOP_COL_VOLATILE,
	TOP_SORT_STABLE = TOP_COL_STABLE,
	TOP_SORT_RECLAIMED = TOP_COL_RECLAIMED,
	TOP_SORT_RATE = TOP_COL_RATE,
	TOP_SORT_PSI = TOP_COL_PSI,
	_TOP_SORT_MAX,
};

struct top_row {
	const struct ctl_machine *machine;	/* in the current snapshot */
	uint64_t reclaimed;			/* bytes, all rungs */
	double reclaim_rate;			/* bytes/s; valid only if rate_valid */
	bool rate_valid;
};

struct top_model {
	const struct ctl_snapshot *snapshot;	/* the current one */
	struct top_row *rows;
	size_t n_rows;
	size_t longest_name;
	/* Host reclaim per rung and in total, bytes/s: from the deltas of the
	 * Manager's counters, or hintd's own last-tick rates when there is no
	 * previous snapshot yet (rates_from_deltas false). */
	double rate[_CTL_RUNG_MAX];
	double rate_total;
	bool rates_from_deltas;
	uint64_t reclaimed[_CTL_RUNG_MAX];
	uint64_t reclaimed_total;
};

/* Rows for every machine of cur. Rates compare each counter with prev's
 * (matched by name) over elapsed_sec: a counter that went down (hintd
 * restarted) and a VM absent from prev count from zero; without prev or
 * with elapsed_sec <= 0 rates are not valid. VMs only in prev are gone. */
int top_model_build(const struct ctl_snapshot *prev, const struct ctl_snapshot *cur,
		    double elapsed_sec, struct top_model *ret);
void top_model_done(struct top_model *m);

/* Names A-Z, numbers largest first; invert reverses. Ties go by name. */
void top_model_sort(struct top_model *m, enum top_sort key, bool invert);

/* Column layout for a screen width. Below TOP_WIDE_COLUMNS the narrow
 * titles and widths are used; columns are then dropped, least useful
 * first (RATE, STABLE, MAX, VMEM, PSI, VOLATILE, UNUSED), until the rest
 * and at least TOP_NAME_MIN of the name fit. NAME takes what is left, up
 * to the longest name (at most TOP_NAME_MAX). VMEM is as wide as its
 * widest cell (vmem_width, top_model_virtio_mem_width()) and left out
 * when that is 0: hosts without virtio-mem keep their columns. Columns
 * are separated by a space. */
#define TOP_WIDE_COLUMNS 100
#define TOP_NAME_MIN 8
#define TOP_NAME_MAX 32

struct top_layout {
	bool narrow;
	size_t n_columns;
	enum top_column columns[_TOP_COL_MAX];
	unsigned widths[_TOP_COL_MAX];	/* per entry of columns[] */
	unsigned total;			/* the line's width */
};

void top_layout_columns(unsigned width, size_t longest_name, size_t vmem_width, bool exact_bytes,
			struct top_layout *ret);
/* The widest VMEM cell of the rows (ctl_machine_virtio_mem()); 0 when no
 * VM has a virtio-mem device. */
size_t top_model_virtio_mem_width(const struct top_model *m, bool exact_bytes);
bool top_layout_has(const struct top_layout *l, enum top_column c);
const char *top_column_title(enum top_column c, bool narrow);
bool top_column_right_aligned(enum top_column c);

/* A row's cell as text, the name truncated to width (see
 * ctl_truncate_name()), other cells as they are. */
char *top_cell_format(const struct top_row *row, enum top_column c, bool narrow,
		      bool exact_bytes, unsigned width, char *buf, size_t size);

/* One line of the table: the titles when row is NULL. Cells are padded
 * to the layout's widths, names truncated; the line is layout->total
 * wide, without trailing spaces. */
char *top_format_line(const struct top_layout *l, const struct top_row *row, bool exact_bytes,
		      char *buf, size_t size);

/* The header above the table, one line at a time (0..TOP_HEADER_LINES-1):
 * sort order and refresh; host memory and PSI; budget, free against the
 * watermarks, Reclaiming; reclaim rates per rung and in total; bytes
 * reclaimed; hintd's plan. bus names where hintd was reached. */
#define TOP_HEADER_LINES 6
struct top_state;
char *top_format_header(const struct top_model *m, const struct top_state *s, size_t line,
			bool exact_bytes, double interval_sec, const char *bus,
			char *buf, size_t size);

/* Keys. */
struct top_state {
	enum top_sort sort;
	bool invert;
	bool help;		/* the help overlay is shown */
};

#define TOP_STATE_INIT { .sort = TOP_SORT_BACKED }

enum {
	TOP_KEY_UNHANDLED = 0,
	TOP_KEY_REDRAW = 1 << 0,	/* the state changed: draw again */
	TOP_KEY_REFRESH = 1 << 1,	/* read hintd's state now */
	TOP_KEY_QUIT = 1 << 2,
};

/* s: next sort key; n, b, r: sort by name, backed, reclaimed; i: invert;
 * ?/h: help on/off (any key closes it); space: refresh; q: quit. */
int top_key_handle(struct top_state *s, int key);

/* "NAME (A-Z)", "BACKED (largest first)", "BACKED (smallest first)"... */
char *top_sort_label(const struct top_state *s, char *buf, size_t size);

#endif /* HINTCTL_TOP_MODEL_H */
