/* test-top-model.c - `hintctl top`'s model: rows and rates from two
 * snapshots, sorting, the columns that fit a width, cells, keys, header. */
#include <string.h>
#include "harness.h"
#include "top-model.h"

#define GB (1ULL << 30)
#define MB (1ULL << 20)
/* Every column, on a host where no VM has virtio-mem. */
#define ALL_BUT_VMEM (_TOP_COL_MAX - 1)

/* Machines of a snapshot: names and sizes, reclaimed per rung. */
struct vm_spec {
	const char *name;
	uint64_t max, actual, backed, unused, volatile_, stable;
	uint64_t reclaimed[_CTL_RUNG_MAX];
	double psi;
	const char *agent;
	bool discard;
	const char *discard_state;
	uint64_t vmem_size, vmem_requested, vmem_plugged;	/* 0: no device */
};

static struct ctl_snapshot snapshot(const struct vm_spec *specs, size_t n) {
	struct ctl_snapshot s = { .n_machines = n };

	s.machines = calloc(n ? n : 1, sizeof *s.machines);
	for (size_t i = 0; i < n; i++) {
		const struct vm_spec *v = &specs[i];
		struct ctl_machine *m = &s.machines[i];

		m->name = strdup(v->name);
		m->max_memory = v->max;
		m->balloon_actual = v->actual;
		m->backed = v->backed;
		m->unused = v->unused;
		m->volatile_ = v->volatile_;
		m->stable = v->stable;
		memcpy(m->reclaimed, v->reclaimed, sizeof m->reclaimed);
		m->guest_psi_some_avg10 = v->psi;
		m->agent_state = strdup(v->agent ? v->agent : "connected");
		m->discard_capable = v->discard;
		m->discard = v->discard_state ? strdup(v->discard_state) : NULL;
		m->virtio_mem_size = v->vmem_size;
		m->virtio_mem_block_size = v->vmem_size ? 2 * MB : 0;
		m->virtio_mem_requested = v->vmem_requested;
		m->virtio_mem_plugged = v->vmem_plugged;
	}
	return s;
}

/* Three VMs whose order differs for every key. */
static const struct vm_spec three[] = {
	{ "alpha", .max = 4 * GB, .actual = 3 * GB, .backed = 2 * GB, .unused = 100 * MB,
	  .volatile_ = 300 * MB, .stable = 1 * GB, .reclaimed = { 10 * MB, 0, 0 }, .psi = 0.5 },
	{ "charlie", .max = 8 * GB, .actual = 2 * GB, .backed = 1 * GB, .unused = 300 * MB,
	  .volatile_ = 200 * MB, .stable = 3 * GB, .reclaimed = { 0, 30 * MB, 0 }, .psi = 2.0 },
	{ "bravo", .max = 2 * GB, .actual = 1 * GB, .backed = 3 * GB, .unused = 200 * MB,
	  .volatile_ = 100 * MB, .stable = 2 * GB, .reclaimed = { 0, 0, 20 * MB }, .psi = 1.0 },
};

static const char *order(const struct top_model *m) {
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < m->n_rows; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, m->rows[i].machine->name);
	}
	return buf;
}

TEST(sort_by_each_key_and_inverted) {
	struct ctl_snapshot prev = snapshot(three, 3), cur = snapshot(three, 3);
	struct top_model m;
	static const struct {
		enum top_sort key;
		const char *order;
	} expect[] = {
		{ TOP_SORT_NAME, "alpha,bravo,charlie" },
		{ TOP_SORT_MAX, "charlie,alpha,bravo" },
		{ TOP_SORT_ACTUAL, "alpha,charlie,bravo" },
		{ TOP_SORT_BACKED, "bravo,alpha,charlie" },
		{ TOP_SORT_UNUSED, "charlie,bravo,alpha" },
		{ TOP_SORT_VOLATILE, "alpha,charlie,bravo" },
		{ TOP_SORT_STABLE, "charlie,bravo,alpha" },
		{ TOP_SORT_RECLAIMED, "charlie,bravo,alpha" },
		{ TOP_SORT_RATE, "charlie,bravo,alpha" },
		{ TOP_SORT_PSI, "charlie,bravo,alpha" },
	};

	/* Rates: charlie gained 30M, bravo 20M, alpha 10M in 1 s. */
	for (size_t i = 0; i < 3; i++)
		memset(prev.machines[i].reclaimed, 0, sizeof prev.machines[i].reclaimed);
	CHECK_EQ_INT(top_model_build(&prev, &cur, 1.0, &m), 0);
	CHECK_EQ_INT(m.n_rows, 3);
	CHECK_EQ_INT(sizeof expect / sizeof expect[0], _TOP_SORT_MAX);
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		char inverted[256];
		const char *parts[3];
		char copy[256], *save = NULL;
		size_t n = 0;

		top_model_sort(&m, expect[i].key, false);
		if (strcmp(order(&m), expect[i].order) != 0)
			FAIL_AT("key %zu: %s, expected %s", i, order(&m), expect[i].order);

		strcpy(copy, expect[i].order);
		for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
			parts[n++] = w;
		snprintf(inverted, sizeof inverted, "%s,%s,%s", parts[2], parts[1], parts[0]);
		top_model_sort(&m, expect[i].key, true);
		if (strcmp(order(&m), inverted) != 0)
			FAIL_AT("key %zu inverted: %s, expected %s", i, order(&m), inverted);
	}
	top_model_done(&m);
	ctl_snapshot_done(&prev);
	ctl_snapshot_done(&cur);
}

TEST(ties_go_by_name) {
	static const struct vm_spec same[] = {
		{ "c", .backed = GB }, { "a", .backed = GB }, { "b", .backed = 2 * GB },
	};
	struct ctl_snapshot cur = snapshot(same, 3);
	struct top_model m;

	CHECK_EQ_INT(top_model_build(NULL, &cur, 0, &m), 0);
	top_model_sort(&m, TOP_SORT_BACKED, false);
	CHECK_STREQ(order(&m), "b,a,c");
	/* Inverting reverses the key, not the tie-break. */
	top_model_sort(&m, TOP_SORT_BACKED, true);
	CHECK_STREQ(order(&m), "a,c,b");
	top_model_done(&m);
	ctl_snapshot_done(&cur);
}

static const struct top_row *row_named(const struct top_model *m, const char *name) {
	for (size_t i = 0; i < m->n_rows; i++)
		if (strcmp(m->rows[i].machine->name, name) == 0)
			return &m->rows[i];
	return NULL;
}

TEST(rates_from_deltas) {
	static const struct vm_spec before[] = {
		{ "steady", .reclaimed = { 100 * MB, 50 * MB, 0 } },
		{ "reset", .reclaimed = { 500 * MB, 0, 0 } },
		{ "gone", .reclaimed = { 1 * GB, 0, 0 } },
		{ "idle", .reclaimed = { 7 * MB, 0, 0 } },
	};
	static const struct vm_spec after[] = {
		{ "steady", .reclaimed = { 120 * MB, 50 * MB, 10 * MB } },	/* +30M */
		{ "reset", .reclaimed = { 4 * MB, 0, 0 } },		/* went down: from 0 */
		{ "new", .reclaimed = { 0, 6 * MB, 0 } },		/* appeared: from 0 */
		{ "idle", .reclaimed = { 7 * MB, 0, 0 } },
	};
	struct ctl_snapshot prev = snapshot(before, 4), cur = snapshot(after, 4);
	const struct top_row *r;
	struct top_model m;

	prev.manager.reclaimed[CTL_RUNG_UNUSED] = 1000 * MB;
	prev.manager.reclaimed[CTL_RUNG_VOLATILE] = 100 * MB;
	cur.manager.reclaimed[CTL_RUNG_UNUSED] = 1020 * MB;	/* +20M */
	cur.manager.reclaimed[CTL_RUNG_VOLATILE] = 2 * MB;	/* reset: +2M */
	cur.manager.reclaimed[CTL_RUNG_BALLOON] = 8 * MB;	/* +8M */
	cur.manager.rate[CTL_RUNG_UNUSED] = 12345;		/* not used: deltas are known */

	CHECK_EQ_INT(top_model_build(&prev, &cur, 2.0, &m), 0);
	CHECK_EQ_INT(m.n_rows, 4);	/* "gone" is not shown */
	CHECK(row_named(&m, "gone") == NULL);

	r = row_named(&m, "steady");
	CHECK(r && r->rate_valid && r->reclaim_rate == 15.0 * MB);
	CHECK(r && r->reclaimed == 180 * MB);
	r = row_named(&m, "reset");
	CHECK(r && r->rate_valid && r->reclaim_rate == 2.0 * MB);
	r = row_named(&m, "new");
	CHECK(r && r->rate_valid && r->reclaim_rate == 3.0 * MB);
	r = row_named(&m, "idle");
	CHECK(r && r->rate_valid && r->reclaim_rate == 0.0);

	CHECK(m.rates_from_deltas);
	CHECK(m.rate[CTL_RUNG_UNUSED] == 10.0 * MB);
	CHECK(m.rate[CTL_RUNG_VOLATILE] == 1.0 * MB);
	CHECK(m.rate[CTL_RUNG_BALLOON] == 4.0 * MB);
	CHECK(m.rate_total == 15.0 * MB);
	CHECK_EQ_U64(m.reclaimed_total, 1030 * MB);
	CHECK_EQ_INT(m.longest_name, strlen("steady"));
	top_model_done(&m);
	ctl_snapshot_done(&prev);
	ctl_snapshot_done(&cur);
}

TEST(rates_without_a_previous_snapshot) {
	struct ctl_snapshot cur = snapshot(three, 3), prev = snapshot(three, 3);
	struct top_model m;

	cur.manager.rate[CTL_RUNG_UNUSED] = 1000;
	cur.manager.rate[CTL_RUNG_BALLOON] = 24;
	CHECK_EQ_INT(top_model_build(NULL, &cur, 1.0, &m), 0);
	CHECK(!m.rates_from_deltas);
	for (size_t i = 0; i < m.n_rows; i++)
		CHECK(!m.rows[i].rate_valid);
	/* hintd's own last-tick rates instead. */
	CHECK(m.rate[CTL_RUNG_UNUSED] == 1000);
	CHECK(m.rate_total == 1024);
	/* Unknown rates sort last, whatever the direction of the others. */
	top_model_sort(&m, TOP_SORT_RATE, false);
	CHECK_STREQ(order(&m), "alpha,bravo,charlie");
	top_model_done(&m);

	/* No time elapsed: no rates either. */
	CHECK_EQ_INT(top_model_build(&prev, &cur, 0, &m), 0);
	CHECK(!m.rates_from_deltas);
	CHECK(!m.rows[0].rate_valid);
	top_model_done(&m);
	ctl_snapshot_done(&cur);
	ctl_snapshot_done(&prev);
}

TEST(no_machines) {
	struct ctl_snapshot cur = snapshot(NULL, 0);
	struct top_model m;

	CHECK_EQ_INT(top_model_build(&cur, &cur, 1.0, &m), 0);
	CHECK_EQ_INT(m.n_rows, 0);
	top_model_sort(&m, TOP_SORT_NAME, true);
	top_model_done(&m);
	ctl_snapshot_done(&cur);
}

static size_t layout_index(const struct top_layout *l, enum top_column c) {
	for (size_t i = 0; i < l->n_columns; i++)
		if (l->columns[i] == c)
			return i;
	return SIZE_MAX;
}

TEST(columns_at_200) {
	struct top_layout l;

	top_layout_columns(200, 12, 0, false, &l);
	CHECK(!l.narrow);
	CHECK_EQ_INT(l.n_columns, ALL_BUT_VMEM);
	CHECK_EQ_INT(l.columns[0], TOP_COL_NAME);
	CHECK_EQ_INT(l.widths[0], 12);		/* the longest name, no more */
	CHECK(l.total <= 200);
	CHECK_STREQ(top_column_title(TOP_COL_RECLAIMED, l.narrow), "RECLAIMED");
	/* A very long name stops at TOP_NAME_MAX. */
	top_layout_columns(200, 100, 0, false, &l);
	CHECK_EQ_INT(l.widths[0], TOP_NAME_MAX);
	/* Short names still get room for the title. */
	top_layout_columns(200, 1, 0, false, &l);
	CHECK_EQ_INT(l.widths[0], 4);
}

TEST(columns_at_100) {
	struct top_layout l;

	top_layout_columns(100, 30, 0, false, &l);
	CHECK(!l.narrow);
	CHECK_EQ_INT(l.n_columns, ALL_BUT_VMEM);
	CHECK(l.total <= 100);
	CHECK(l.widths[0] >= TOP_NAME_MIN && l.widths[0] < 30);	/* truncated names */
	CHECK_EQ_INT(l.total, 100);
}

TEST(columns_at_80) {
	struct top_layout l;

	top_layout_columns(80, 20, 0, false, &l);
	CHECK(l.narrow);
	CHECK(l.total <= 80);
	CHECK(l.widths[0] >= TOP_NAME_MIN);
	/* What must stay on a small screen. */
	CHECK(top_layout_has(&l, TOP_COL_NAME));
	CHECK(top_layout_has(&l, TOP_COL_ACTUAL));
	CHECK(top_layout_has(&l, TOP_COL_BACKED));
	CHECK(top_layout_has(&l, TOP_COL_RECLAIMED));
	CHECK(top_layout_has(&l, TOP_COL_AGENT));
	CHECK(top_layout_has(&l, TOP_COL_DISCARD));
	CHECK(top_layout_has(&l, TOP_COL_PSI));
	/* The first to go. */
	CHECK(!top_layout_has(&l, TOP_COL_RATE));
	CHECK_STREQ(top_column_title(TOP_COL_DISCARD, l.narrow), "DISC");
	CHECK_EQ_INT(l.widths[layout_index(&l, TOP_COL_AGENT)], 5);
	/* Columns keep their order. */
	CHECK(layout_index(&l, TOP_COL_ACTUAL) < layout_index(&l, TOP_COL_BACKED));
	CHECK(layout_index(&l, TOP_COL_AGENT) < layout_index(&l, TOP_COL_DISCARD));

	/* Short names leave room for every column, narrowed. */
	top_layout_columns(80, 4, 0, false, &l);
	CHECK_EQ_INT(l.n_columns, ALL_BUT_VMEM);
	CHECK(l.total <= 80);
}

TEST(columns_narrower_and_exact) {
	struct top_layout l;

	top_layout_columns(60, 20, 0, false, &l);
	CHECK(l.total <= 60);
	CHECK(!top_layout_has(&l, TOP_COL_RATE));
	CHECK(!top_layout_has(&l, TOP_COL_STABLE));
	CHECK(!top_layout_has(&l, TOP_COL_MAX));
	CHECK(top_layout_has(&l, TOP_COL_BACKED));
	/* Exact bytes need wider columns: more are dropped, all still fits. */
	top_layout_columns(80, 20, 0, true, &l);
	CHECK(l.total <= 80);
	CHECK(top_layout_has(&l, TOP_COL_BACKED));
	CHECK_EQ_INT(l.widths[layout_index(&l, TOP_COL_BACKED)], 13);
	top_layout_columns(200, 20, 0, true, &l);
	CHECK_EQ_INT(l.n_columns, ALL_BUT_VMEM);
	/* Too narrow for even the fixed columns: the name keeps its minimum. */
	top_layout_columns(20, 20, 0, false, &l);
	CHECK_EQ_INT(l.widths[0], TOP_NAME_MIN);
}

/* One VM without virtio-mem, one with 1.5G of 4G plugged and 1G asked for. */
static const struct vm_spec with_vmem[] = {
	{ "plain", .max = 8 * GB, .actual = 8 * GB, .backed = 4 * GB },
	{ "resized", .max = 6 * GB, .actual = 2 * GB, .backed = 3 * GB,
	  .vmem_size = 4 * GB, .vmem_requested = 1 * GB, .vmem_plugged = 3 * GB / 2 },
};

TEST(virtio_mem_column) {
	struct ctl_snapshot cur = snapshot(with_vmem, 2), none = snapshot(three, 3);
	struct top_model m, m_none;
	struct top_layout l;
	char buf[512];
	size_t vw;

	CHECK_EQ_INT(top_model_build(NULL, &cur, 0, &m), 0);
	CHECK_EQ_INT(top_model_build(NULL, &none, 0, &m_none), 0);
	top_model_sort(&m, TOP_SORT_NAME, false);
	/* No device anywhere: no column, the layout of before. */
	CHECK_EQ_INT(top_model_virtio_mem_width(&m_none, false), 0);
	top_layout_columns(200, 12, 0, false, &l);
	CHECK(!top_layout_has(&l, TOP_COL_VMEM));

	/* The widest cell sets the column's width. */
	vw = top_model_virtio_mem_width(&m, false);
	CHECK_EQ_INT(vw, strlen("1.5G->1G/4G"));
	CHECK_EQ_INT(top_model_virtio_mem_width(&m, true), strlen("1610612736->1073741824/4294967296"));
	CHECK_STREQ(top_cell_format(&m.rows[1], TOP_COL_VMEM, false, false, 11, buf, sizeof buf),
		    "1.5G->1G/4G");
	CHECK_STREQ(top_cell_format(&m.rows[0], TOP_COL_VMEM, false, false, 11, buf, sizeof buf), "-");
	top_layout_columns(200, m.longest_name, vw, false, &l);
	CHECK_EQ_INT(l.n_columns, _TOP_COL_MAX);
	CHECK_EQ_INT(l.widths[layout_index(&l, TOP_COL_VMEM)], 11);
	CHECK(layout_index(&l, TOP_COL_PSI) < layout_index(&l, TOP_COL_VMEM));
	CHECK(layout_index(&l, TOP_COL_VMEM) < layout_index(&l, TOP_COL_AGENT));
	top_format_line(&l, NULL, false, buf, sizeof buf);
	CHECK(strstr(buf, " PSI        VMEM AGENT ") != NULL);
	top_format_line(&l, &m.rows[1], false, buf, sizeof buf);
	CHECK(strstr(buf, " 1.5G->1G/4G connected ") != NULL);
	top_format_line(&l, &m.rows[0], false, buf, sizeof buf);
	CHECK(strstr(buf, "           - connected ") != NULL);
	/* A short cell still leaves room for the title. */
	top_layout_columns(200, m.longest_name, 1, false, &l);
	CHECK_EQ_INT(l.widths[layout_index(&l, TOP_COL_VMEM)], 4);

	/* 80 columns keep it, without RATE and STABLE. */
	top_layout_columns(80, 8, vw, false, &l);
	CHECK(l.total <= 80);
	CHECK(top_layout_has(&l, TOP_COL_VMEM));
	CHECK(top_layout_has(&l, TOP_COL_PSI));
	CHECK(!top_layout_has(&l, TOP_COL_RATE));
	CHECK(!top_layout_has(&l, TOP_COL_STABLE));
	/* Narrower, it goes after MAX and before PSI. */
	top_layout_columns(75, 8, vw, false, &l);
	CHECK(!top_layout_has(&l, TOP_COL_MAX));
	CHECK(top_layout_has(&l, TOP_COL_VMEM));
	top_layout_columns(65, 8, vw, false, &l);
	CHECK(l.total <= 65);
	CHECK(!top_layout_has(&l, TOP_COL_VMEM));
	CHECK(top_layout_has(&l, TOP_COL_PSI));

	/* Every line fits its layout at every width, exact bytes too. */
	for (unsigned w = 40; w <= 200; w += 10)
		for (int exact = 0; exact <= 1; exact++) {
			top_layout_columns(w, m.longest_name, top_model_virtio_mem_width(&m, exact), exact, &l);
			for (size_t i = 0; i < m.n_rows; i++) {
				top_format_line(&l, &m.rows[i], exact, buf, sizeof buf);
				CHECK(strlen(buf) <= l.total);
			}
			CHECK(l.total <= w || w < (exact ? 80 : 50));
		}
	top_model_done(&m);
	top_model_done(&m_none);
	ctl_snapshot_done(&cur);
	ctl_snapshot_done(&none);
}

TEST(cells_and_lines) {
	static const struct vm_spec one[] = {
		{ "a-very-long-virtual-machine-name-01", .max = 8 * GB, .actual = 3 * GB / 2,
		  .backed = 512 * MB, .reclaimed = { GB, GB / 2, 0 }, .psi = 12.345,
		  .agent = "disconnected", .discard = true, .discard_state = "agent down" },
	};
	struct ctl_snapshot cur = snapshot(one, 1);
	struct top_model m;
	struct top_layout l;
	char buf[512];

	CHECK_EQ_INT(top_model_build(NULL, &cur, 0, &m), 0);
	const struct top_row *r = &m.rows[0];
	CHECK_STREQ(top_cell_format(r, TOP_COL_NAME, false, false, 10, buf, sizeof buf), "a-ver~e-01");
	CHECK_STREQ(top_cell_format(r, TOP_COL_MAX, false, false, 6, buf, sizeof buf), "8G");
	CHECK_STREQ(top_cell_format(r, TOP_COL_ACTUAL, false, false, 6, buf, sizeof buf), "1.5G");
	CHECK_STREQ(top_cell_format(r, TOP_COL_ACTUAL, false, true, 6, buf, sizeof buf), "1610612736");
	CHECK_STREQ(top_cell_format(r, TOP_COL_RECLAIMED, false, false, 9, buf, sizeof buf), "1.5G");
	CHECK_STREQ(top_cell_format(r, TOP_COL_RATE, false, false, 8, buf, sizeof buf), "-");
	CHECK_STREQ(top_cell_format(r, TOP_COL_PSI, false, false, 5, buf, sizeof buf), "12.3");
	CHECK_STREQ(top_cell_format(r, TOP_COL_AGENT, false, false, 12, buf, sizeof buf), "disconnected");
	CHECK_STREQ(top_cell_format(r, TOP_COL_AGENT, true, false, 5, buf, sizeof buf), "disc");
	CHECK_STREQ(top_cell_format(r, TOP_COL_DISCARD, false, false, 10, buf, sizeof buf), "agent down");
	CHECK_STREQ(top_cell_format(r, TOP_COL_DISCARD, true, false, 5, buf, sizeof buf), "agdwn");
	/* Every Discard state fits its column, wide and narrow. */
	static const char *const states[] = {
		"yes", "reading", "no backing", "fpr", "no agent", "agent down", "no module",
	};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		struct ctl_machine vm = { .discard = (char *) states[i] };
		struct top_row row = { .machine = &vm };

		CHECK(strlen(top_cell_format(&row, TOP_COL_DISCARD, false, false, 10, buf, sizeof buf)) <= 10);
		CHECK(strlen(top_cell_format(&row, TOP_COL_DISCARD, true, false, 5, buf, sizeof buf)) <= 5);
	}

	/* Every line fits its layout, at every width; titles too. */
	for (unsigned w = 40; w <= 200; w += 20) {
		top_layout_columns(w, m.longest_name, 0, false, &l);
		top_format_line(&l, r, false, buf, sizeof buf);
		CHECK(strlen(buf) <= l.total);
		CHECK(strlen(buf) <= w || w < 60);
		CHECK(strncmp(buf, "a-", 2) == 0);
		CHECK(strchr(buf, '~') != NULL || l.widths[0] >= m.longest_name);
		top_format_line(&l, NULL, false, buf, sizeof buf);
		CHECK(strlen(buf) <= l.total);
		CHECK(strncmp(buf, "NAME", 4) == 0);
		CHECK(buf[strlen(buf) - 1] != ' ');
	}
	top_layout_columns(200, m.longest_name, 0, false, &l);
	top_format_line(&l, r, false, buf, sizeof buf);
	/* Wide: the name up to TOP_NAME_MAX. */
	CHECK_EQ_INT(l.widths[0], TOP_NAME_MAX);
	CHECK(strstr(buf, "a-very-long-virt~machine-name-01 ") == buf);
	top_model_done(&m);
	ctl_snapshot_done(&cur);
}

TEST(keys) {
	struct top_state s = TOP_STATE_INIT;
	char label[64];

	CHECK_EQ_INT(s.sort, TOP_SORT_BACKED);
	CHECK_STREQ(top_sort_label(&s, label, sizeof label), "BACKED (largest first)");
	CHECK_EQ_INT(top_key_handle(&s, 's'), TOP_KEY_REDRAW);
	CHECK_EQ_INT(s.sort, TOP_SORT_UNUSED);
	CHECK_EQ_INT(top_key_handle(&s, 'i'), TOP_KEY_REDRAW);
	CHECK(s.invert);
	CHECK_STREQ(top_sort_label(&s, label, sizeof label), "UNUSED (smallest first)");
	CHECK_EQ_INT(top_key_handle(&s, 'n'), TOP_KEY_REDRAW);
	CHECK_EQ_INT(s.sort, TOP_SORT_NAME);
	CHECK(!s.invert);	/* a new key starts in its natural order */
	CHECK_STREQ(top_sort_label(&s, label, sizeof label), "NAME (A-Z)");
	top_key_handle(&s, 'i');
	CHECK_STREQ(top_sort_label(&s, label, sizeof label), "NAME (Z-A)");
	CHECK_EQ_INT(top_key_handle(&s, 'b'), TOP_KEY_REDRAW);
	CHECK_EQ_INT(s.sort, TOP_SORT_BACKED);
	CHECK_EQ_INT(top_key_handle(&s, 'r'), TOP_KEY_REDRAW);
	CHECK_EQ_INT(s.sort, TOP_SORT_RECLAIMED);
	/* s cycles through every key and back. */
	for (int i = 0; i < _TOP_SORT_MAX; i++)
		top_key_handle(&s, 's');
	CHECK_EQ_INT(s.sort, TOP_SORT_RECLAIMED);
	s.sort = TOP_SORT_PSI;
	top_key_handle(&s, 's');
	CHECK_EQ_INT(s.sort, TOP_SORT_NAME);

	CHECK_EQ_INT(top_key_handle(&s, 'x'), TOP_KEY_UNHANDLED);
	CHECK_EQ_INT(top_key_handle(&s, ' '), TOP_KEY_REFRESH | TOP_KEY_REDRAW);
	/* Help: any key closes it without acting; q still quits. */
	CHECK_EQ_INT(top_key_handle(&s, '?'), TOP_KEY_REDRAW);
	CHECK(s.help);
	CHECK_EQ_INT(top_key_handle(&s, 's'), TOP_KEY_REDRAW);
	CHECK(!s.help);
	CHECK_EQ_INT(s.sort, TOP_SORT_NAME);
	top_key_handle(&s, 'h');
	CHECK_EQ_INT(top_key_handle(&s, 'q'), TOP_KEY_QUIT);
	s.help = false;
	CHECK_EQ_INT(top_key_handle(&s, 'q'), TOP_KEY_QUIT);
}

TEST(header) {
	struct ctl_snapshot cur = snapshot(three, 3);
	struct top_state s = TOP_STATE_INIT;
	struct top_model m;
	char buf[512];

	cur.manager.version = strdup("0.1");
	cur.manager.memory_total = 16 * GB;
	cur.manager.memory_available = 6 * GB;
	cur.manager.free = 6 * GB;
	cur.manager.low_watermark = GB;
	cur.manager.high_watermark = 2 * GB;
	cur.manager.reclaimed[CTL_RUNG_BALLOON] = 3 * GB / 2;
	cur.manager.rate[CTL_RUNG_UNUSED] = 12.0 * MB;
	cur.manager.reclaiming = true;
	CHECK_EQ_INT(top_model_build(NULL, &cur, 0, &m), 0);

	top_format_header(&m, &s, 0, false, 0.5, "the system bus", buf, sizeof buf);
	CHECK(strstr(buf, "Sort: BACKED (largest first)") == buf);
	CHECK(strstr(buf, "every 0.5s") && strstr(buf, "hintd 0.1 on the system bus"));
	top_format_header(&m, &s, 1, false, 1, "", buf, sizeof buf);
	CHECK_STREQ(buf, "Memory: 16G total, 6G available   PSI some 0.00% full 0.00%");
	top_format_header(&m, &s, 2, false, 1, "", buf, sizeof buf);
	CHECK_STREQ(buf, "Budget: no budget   Free: 6G (low 1G, high 2G)   Reclaiming: YES");
	cur.manager.budget_limit = 10 * GB;
	cur.manager.budget_usage = 9 * GB;
	top_format_header(&m, &s, 2, false, 1, "", buf, sizeof buf);
	CHECK(strstr(buf, "Budget: 9G of 10G ") == buf);
	top_format_header(&m, &s, 3, false, 1, "", buf, sizeof buf);
	CHECK_STREQ(buf, "Reclaim rate: unused 12M/s, volatile 0/s, balloon 0/s, total 12M/s");
	top_format_header(&m, &s, 4, false, 1, "", buf, sizeof buf);
	CHECK_STREQ(buf, "Reclaimed: unused 0, volatile 0, balloon 1.5G, total 1.5G   VMs: 3");
	top_format_header(&m, &s, 5, false, 1, "", buf, sizeof buf);
	CHECK_STREQ(buf, "Plan: -");
	top_format_header(&m, &s, 4, true, 1, "", buf, sizeof buf);
	CHECK(strstr(buf, "balloon 1610612736,") != NULL);
	/* Lines that matter fit 80 columns with ordinary values. */
	for (size_t i = 1; i < TOP_HEADER_LINES; i++) {
		top_format_header(&m, &s, i, false, 1, "", buf, sizeof buf);
		CHECK(strlen(buf) <= 80);
	}
	top_format_header(&m, &s, TOP_HEADER_LINES, false, 1, "", buf, sizeof buf);
	CHECK_STREQ(buf, "");
	top_model_done(&m);
	ctl_snapshot_done(&cur);
}

int main(void) {
	return run_tests();
}
