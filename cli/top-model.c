/* top-model.c - see top-model.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "macro.h"
#include "top-model.h"

/* A counter's growth: one that went down was reset (hintd restarted, the
 * VM is managed anew) and counts from zero. */
static uint64_t counter_delta(uint64_t prev, uint64_t cur) {
	return cur >= prev ? cur - prev : cur;
}

int top_model_build(const struct ctl_snapshot *prev, const struct ctl_snapshot *cur,
		    double elapsed_sec, struct top_model *ret) {
	struct top_model m = { .snapshot = cur };
	bool deltas = prev && elapsed_sec > 0;

	if (cur->n_machines > 0) {
		m.rows = calloc(cur->n_machines, sizeof *m.rows);
		if (!m.rows)
			return -ENOMEM;
	}
	for (size_t i = 0; i < cur->n_machines; i++) {
		const struct ctl_machine *vm = &cur->machines[i];
		struct top_row *row = &m.rows[m.n_rows++];

		row->machine = vm;
		row->reclaimed = ctl_machine_reclaimed(vm);
		if (deltas) {
			const struct ctl_machine *old = ctl_snapshot_find(prev, vm->name);
			uint64_t delta = 0;

			/* Absent before: managed since, so its counters began at zero. */
			for (size_t k = 0; k < _CTL_RUNG_MAX; k++)
				delta += counter_delta(old ? old->reclaimed[k] : 0, vm->reclaimed[k]);
			row->reclaim_rate = (double) delta / elapsed_sec;
			row->rate_valid = true;
		}
		if (vm->name)
			m.longest_name = MAX(m.longest_name, strlen(vm->name));
	}

	m.rates_from_deltas = deltas;
	for (size_t k = 0; k < _CTL_RUNG_MAX; k++) {
		m.reclaimed[k] = cur->manager.reclaimed[k];
		m.reclaimed_total += m.reclaimed[k];
		if (deltas)
			m.rate[k] = (double) counter_delta(prev->manager.reclaimed[k],
							   cur->manager.reclaimed[k]) / elapsed_sec;
		else
			m.rate[k] = cur->manager.rate[k];
		m.rate_total += m.rate[k];
	}

	*ret = m;
	return 0;
}

void top_model_done(struct top_model *m) {
	free(m->rows);
	*m = (struct top_model) {};
}

static int compare_u64(uint64_t a, uint64_t b) {
	return a < b ? -1 : a > b;
}

static int compare_double(double a, double b) {
	return a < b ? -1 : a > b;
}

static int compare_names(const struct top_row *a, const struct top_row *b) {
	return strcmp(a->machine->name ? a->machine->name : "",
		      b->machine->name ? b->machine->name : "");
}

struct sort_by {
	enum top_sort key;
	bool invert;
};

/* Ascending comparison of the key's values. */
static int compare_key(const struct top_row *a, const struct top_row *b, enum top_sort key) {
	const struct ctl_machine *x = a->machine, *y = b->machine;

	switch (key) {
	case TOP_SORT_NAME: return compare_names(a, b);
	case TOP_SORT_MAX: return compare_u64(x->max_memory, y->max_memory);
	case TOP_SORT_ACTUAL: return compare_u64(x->balloon_actual, y->balloon_actual);
	case TOP_SORT_BACKED: return compare_u64(x->backed, y->backed);
	case TOP_SORT_UNUSED: return compare_u64(x->unused, y->unused);
	case TOP_SORT_VOLATILE: return compare_u64(x->volatile_, y->volatile_);
	case TOP_SORT_STABLE: return compare_u64(x->stable, y->stable);
	case TOP_SORT_RECLAIMED: return compare_u64(a->reclaimed, b->reclaimed);
	case TOP_SORT_RATE:
		/* Unknown rates below any known one. */
		return compare_double(a->rate_valid ? a->reclaim_rate : -1.0,
				      b->rate_valid ? b->reclaim_rate : -1.0);
	case TOP_SORT_PSI:
		return compare_double(x->guest_psi_some_avg10, y->guest_psi_some_avg10);
	case _TOP_SORT_MAX:
		break;
	}
	return 0;
}

static int compare_rows(const void *pa, const void *pb, void *userdata) {
	const struct sort_by *by = userdata;
	const struct top_row *a = pa, *b = pb;
	int c = compare_key(a, b, by->key);

	/* Names A-Z, numbers largest first. */
	if (by->key != TOP_SORT_NAME)
		c = -c;
	if (by->invert)
		c = -c;
	return c != 0 ? c : compare_names(a, b);
}

void top_model_sort(struct top_model *m, enum top_sort key, bool invert) {
	struct sort_by by = { key, invert };

	if (m->n_rows > 1)
		qsort_r(m->rows, m->n_rows, sizeof *m->rows, compare_rows, &by);
}

/* Columns: titles, widths (normal, narrow, with exact bytes) and the order
 * they are dropped in when the screen is narrow (1 first; 0 never). */
static const struct column_def {
	const char *title, *narrow_title;
	unsigned width, narrow_width, exact_width;
	bool right;
	unsigned drop_rank;
} columns[_TOP_COL_MAX] = {
	[TOP_COL_NAME]      = { "NAME",      "NAME",  0,  0,  0,  false, 0 },
	[TOP_COL_MAX]       = { "MAX",       "MAX",   6,  6,  13, true,  3 },
	[TOP_COL_ACTUAL]    = { "ACTUAL",    "ACTUAL", 6, 6,  13, true,  0 },
	[TOP_COL_BACKED]    = { "BACKED",    "BACKED", 6, 6,  13, true,  0 },
	[TOP_COL_UNUSED]    = { "UNUSED",    "UNUSED", 6, 6,  13, true,  7 },
	[TOP_COL_VOLATILE]  = { "VOLATILE",  "VOLAT", 8,  6,  13, true,  6 },
	[TOP_COL_STABLE]    = { "STABLE",    "STABLE", 6, 6,  13, true,  2 },
	[TOP_COL_RECLAIMED] = { "RECLAIMED", "RECL",  9,  6,  13, true,  0 },
	[TOP_COL_RATE]      = { "RECL/S",    "RECL/S", 7, 7,  15, true,  1 },	/* "99.5M/s" */
	[TOP_COL_PSI]       = { "PSI",       "PSI",   5,  5,  5,  true,  5 },
	/* As wide as its widest cell: see top_layout_columns(). */
	[TOP_COL_VMEM]      = { "VMEM",      "VMEM",  4,  4,  4,  true,  4 },
	[TOP_COL_AGENT]     = { "AGENT",     "AGENT", 12, 5,  12, false, 0 },
	[TOP_COL_DISCARD]   = { "DISCARD",   "DISC",  10, 5,  10, false, 0 },	/* "agent down" */
};
#define DROP_RANK_MAX 7

const char *top_column_title(enum top_column c, bool narrow) {
	if ((unsigned) c >= _TOP_COL_MAX)
		return "";
	return narrow ? columns[c].narrow_title : columns[c].title;
}

bool top_column_right_aligned(enum top_column c) {
	return (unsigned) c < _TOP_COL_MAX && columns[c].right;
}

/* VMEM's cells are at most 63 characters (ctl_format_virtio_mem()). */
static unsigned column_width(enum top_column c, bool narrow, bool exact_bytes, size_t vmem_width) {
	const struct column_def *d = &columns[c];
	unsigned w = narrow ? d->narrow_width : d->width;

	if (exact_bytes)
		w = MAX(w, d->exact_width);
	if (c == TOP_COL_VMEM)
		w = MAX(w, (unsigned) MIN(vmem_width, (size_t) CTL_FORMAT_MAX));
	return w;
}

void top_layout_columns(unsigned width, size_t longest_name, size_t vmem_width, bool exact_bytes,
			struct top_layout *ret) {
	bool narrow = width < TOP_WIDE_COLUMNS, dropped[_TOP_COL_MAX] = { [TOP_COL_VMEM] = vmem_width == 0 };
	unsigned name_want, name_min, others = 0, name;
	struct top_layout l = { .narrow = narrow };

	name_want = (unsigned) MIN(MAX(longest_name, strlen("NAME")), (size_t) TOP_NAME_MAX);
	name_min = MIN(name_want, (unsigned) TOP_NAME_MIN);

	/* Every column but NAME (and VMEM without a device), with the space
	 * before it. */
	for (unsigned c = TOP_COL_NAME + 1; c < _TOP_COL_MAX; c++)
		if (!dropped[c])
			others += column_width(c, narrow, exact_bytes, vmem_width) + 1;
	for (unsigned rank = 1; rank <= DROP_RANK_MAX && others + name_min > width; rank++)
		for (unsigned c = TOP_COL_NAME + 1; c < _TOP_COL_MAX; c++)
			if (columns[c].drop_rank == rank && !dropped[c]) {
				dropped[c] = true;
				others -= column_width(c, narrow, exact_bytes, vmem_width) + 1;
			}

	name = others + name_min <= width ? MIN(name_want, width - others) : name_min;
	for (unsigned c = 0; c < _TOP_COL_MAX; c++) {
		if (dropped[c])
			continue;
		l.columns[l.n_columns] = c;
		l.widths[l.n_columns] = c == TOP_COL_NAME ? name
						       : column_width(c, narrow, exact_bytes, vmem_width);
		l.n_columns++;
	}
	l.total = name + others;
	*ret = l;
}

size_t top_model_virtio_mem_width(const struct top_model *m, bool exact_bytes) {
	size_t widest = 0;

	for (size_t i = 0; i < m->n_rows; i++) {
		const struct ctl_machine *vm = m->rows[i].machine;
		char cell[CTL_FORMAT_MAX];

		if (ctl_machine_has_virtio_mem(vm))
			widest = MAX(widest, strlen(ctl_machine_virtio_mem(vm, exact_bytes, cell, sizeof cell)));
	}
	return widest;
}

bool top_layout_has(const struct top_layout *l, enum top_column c) {
	for (size_t i = 0; i < l->n_columns; i++)
		if (l->columns[i] == c)
			return true;
	return false;
}

static const char *agent_short(const char *state) {
	static const struct { const char *state, *abbrev; } table[] = {
		{ "connected", "conn" },
		{ "disconnected", "disc" },
		{ "absent", "-" },
		{ "failed", "fail" },
	};

	if (!state || !*state)
		return "?";
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(state, table[i].state) == 0)
			return table[i].abbrev;
	return state;
}

/* Discard states in 5 columns. */
static const char *discard_short(const char *state) {
	static const struct { const char *state, *abbrev; } table[] = {
		{ "reading", "read" },
		{ "no backing", "nobak" },
		{ "no agent", "noagt" },
		{ "agent down", "agdwn" },
		{ "no module", "nomod" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(state, table[i].state) == 0)
			return table[i].abbrev;
	return state;
}

char *top_cell_format(const struct top_row *row, enum top_column c, bool narrow,
		      bool exact_bytes, unsigned width, char *buf, size_t size) {
	const struct ctl_machine *vm = row->machine;

	switch (c) {
	case TOP_COL_NAME:
		return ctl_truncate_name(buf, size, vm->name ? vm->name : "", width);
	case TOP_COL_MAX:
		return ctl_format_size(buf, size, vm->max_memory, exact_bytes);
	case TOP_COL_ACTUAL:
		return ctl_format_size(buf, size, vm->balloon_actual, exact_bytes);
	case TOP_COL_BACKED:
		return ctl_format_size(buf, size, vm->backed, exact_bytes);
	case TOP_COL_UNUSED:
		return ctl_format_size(buf, size, vm->unused, exact_bytes);
	case TOP_COL_VOLATILE:
		return ctl_format_size(buf, size, vm->volatile_, exact_bytes);
	case TOP_COL_STABLE:
		return ctl_format_size(buf, size, vm->stable, exact_bytes);
	case TOP_COL_RECLAIMED:
		return ctl_format_size(buf, size, row->reclaimed, exact_bytes);
	case TOP_COL_RATE:
		if (!row->rate_valid) {
			snprintf(buf, size, "-");
			return buf;
		}
		return ctl_format_rate(buf, size, row->reclaim_rate, exact_bytes);
	case TOP_COL_PSI:
		snprintf(buf, size, "%.1f", vm->guest_psi_some_avg10);
		return buf;
	case TOP_COL_VMEM:
		return ctl_machine_virtio_mem(vm, exact_bytes, buf, size);
	case TOP_COL_AGENT:
		snprintf(buf, size, "%s", narrow ? agent_short(vm->agent_state)
			 : vm->agent_state && *vm->agent_state ? vm->agent_state : "?");
		return buf;
	case TOP_COL_DISCARD:
		snprintf(buf, size, "%s", narrow ? discard_short(ctl_machine_discard(vm))
						 : ctl_machine_discard(vm));
		return buf;
	case _TOP_COL_MAX:
		break;
	}
	if (size > 0)
		buf[0] = '\0';
	return buf;
}

static int set_sort(struct top_state *s, enum top_sort key) {
	s->sort = key;
	s->invert = false;
	return TOP_KEY_REDRAW;
}

int top_key_handle(struct top_state *s, int key) {
	if (s->help) {
		/* Any key closes the help; q still quits. */
		if (key == 'q' || key == 'Q')
			return TOP_KEY_QUIT;
		s->help = false;
		return TOP_KEY_REDRAW;
	}
	switch (key) {
	case 's':
		return set_sort(s, (s->sort + 1) % _TOP_SORT_MAX);
	case 'n':
		return set_sort(s, TOP_SORT_NAME);
	case 'b':
		return set_sort(s, TOP_SORT_BACKED);
	case 'r':
		return set_sort(s, TOP_SORT_RECLAIMED);
	case 'i':
		s->invert = !s->invert;
		return TOP_KEY_REDRAW;
	case '?':
	case 'h':
		s->help = true;
		return TOP_KEY_REDRAW;
	case ' ':
		return TOP_KEY_REFRESH | TOP_KEY_REDRAW;
	case 'q':
	case 'Q':
		return TOP_KEY_QUIT;
	default:
		return TOP_KEY_UNHANDLED;
	}
}

char *top_sort_label(const struct top_state *s, char *buf, size_t size) {
	const char *order;

	if (s->sort == TOP_SORT_NAME)
		order = s->invert ? "Z-A" : "A-Z";
	else
		order = s->invert ? "smallest first" : "largest first";
	snprintf(buf, size, "%s (%s)", top_column_title((enum top_column) s->sort, false), order);
	return buf;
}

char *top_format_line(const struct top_layout *l, const struct top_row *row, bool exact_bytes,
		      char *buf, size_t size) {
	size_t n = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < l->n_columns; i++) {
		enum top_column c = l->columns[i];
		char cell[CTL_FORMAT_MAX + TOP_NAME_MAX];
		int w = (int) l->widths[i], k;

		if (row)
			top_cell_format(row, c, l->narrow, exact_bytes, l->widths[i], cell, sizeof cell);
		else
			snprintf(cell, sizeof cell, "%s", top_column_title(c, l->narrow));
		if (c == TOP_COL_NAME && strlen(cell) > (size_t) w) {
			char full[sizeof cell];

			memcpy(full, cell, sizeof full);
			ctl_truncate_name(cell, sizeof cell, full, (size_t) w);
		}
		k = snprintf(buf + n, size - n, "%s%*s%s", i > 0 ? " " : "",
			     top_column_right_aligned(c) ? w : -w, cell, "");
		if (k < 0 || (size_t) k >= size - n)
			break;
		n += (size_t) k;
	}
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return buf;
}

char *top_format_header(const struct top_model *m, const struct top_state *s, size_t line,
			bool exact_bytes, double interval_sec, const char *bus,
			char *buf, size_t size) {
	const struct ctl_manager *mgr = &m->snapshot->manager;
	char a[CTL_FORMAT_MAX], b[CTL_FORMAT_MAX], c[CTL_FORMAT_MAX], d[CTL_FORMAT_MAX];
	char sort[64];
	bool x = exact_bytes;

	switch (line) {
	case 0:
		snprintf(buf, size, "Sort: %s  every %gs  hintd %s%s on %s  (? help, q quit)",
			 top_sort_label(s, sort, sizeof sort), interval_sec,
			 mgr->version ? mgr->version : "?", mgr->dry_run ? " DRY RUN" : "", bus);
		break;
	case 1:
		snprintf(buf, size, "Memory: %s total, %s available   PSI some %.2f%% full %.2f%%",
			 ctl_format_size(a, sizeof a, mgr->memory_total, x),
			 ctl_format_size(b, sizeof b, mgr->memory_available, x),
			 mgr->psi_some_avg10, mgr->psi_full_avg10);
		break;
	case 2: {
		char budget[3 * CTL_FORMAT_MAX];

		if (mgr->budget_limit > 0)
			snprintf(budget, sizeof budget, "%s of %s",
				 ctl_format_size(a, sizeof a, mgr->budget_usage, x),
				 ctl_format_size(b, sizeof b, mgr->budget_limit, x));
		else
			snprintf(budget, sizeof budget, "no budget");
		snprintf(buf, size, "Budget: %s   Free: %s (low %s, high %s)   Reclaiming: %s",
			 budget, ctl_format_size(c, sizeof c, mgr->free, x),
			 ctl_format_size(d, sizeof d, mgr->low_watermark, x),
			 ctl_format_size(a, sizeof a, mgr->high_watermark, x),
			 mgr->reclaiming ? "YES" : "no");
		break;
	}
	case 3: {
		char r[_CTL_RUNG_MAX][CTL_FORMAT_MAX];

		for (size_t i = 0; i < _CTL_RUNG_MAX; i++)
			ctl_format_rate(r[i], sizeof r[i], m->rate[i], x);
		snprintf(buf, size, "Reclaim rate: unused %s, volatile %s, balloon %s, total %s",
			 r[CTL_RUNG_UNUSED], r[CTL_RUNG_VOLATILE], r[CTL_RUNG_BALLOON],
			 ctl_format_rate(a, sizeof a, m->rate_total, x));
		break;
	}
	case 4: {
		char r[_CTL_RUNG_MAX][CTL_FORMAT_MAX];

		for (size_t i = 0; i < _CTL_RUNG_MAX; i++)
			ctl_format_size(r[i], sizeof r[i], m->reclaimed[i], x);
		snprintf(buf, size, "Reclaimed: unused %s, volatile %s, balloon %s, total %s   VMs: %zu",
			 r[CTL_RUNG_UNUSED], r[CTL_RUNG_VOLATILE], r[CTL_RUNG_BALLOON],
			 ctl_format_size(a, sizeof a, m->reclaimed_total, x), m->n_rows);
		break;
	}
	case 5:
		snprintf(buf, size, "Plan: %s", mgr->plan && *mgr->plan ? mgr->plan : "-");
		break;
	default:
		if (size > 0)
			buf[0] = '\0';
		break;
	}
	return buf;
}
