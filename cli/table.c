/* table.c - see table.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "macro.h"
#include "table.h"

struct ctl_table {
	size_t n_columns, n_rows, allocated;
	char **headers;
	bool *right;
	bool *hidden;
	char **cells;		/* n_rows * n_columns */
};

void ctl_table_free(struct ctl_table *t) {
	if (!t)
		return;
	for (size_t i = 0; i < t->n_columns; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->right);
	free(t->hidden);
	free(t->cells);
	free(t);
}

int ctl_table_new(const char *const *headers, size_t n_columns, struct ctl_table **ret) {
	_cleanup_(ctl_table_freep) struct ctl_table *t = NULL;

	t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->headers = calloc(n_columns, sizeof *t->headers);
	t->right = calloc(n_columns, sizeof *t->right);
	t->hidden = calloc(n_columns, sizeof *t->hidden);
	if (!t->headers || !t->right || !t->hidden)
		return -ENOMEM;
	t->n_columns = n_columns;
	for (size_t i = 0; i < n_columns; i++) {
		const char *h = headers[i];

		if (h[0] == '>') {
			t->right[i] = true;
			h++;
		}
		t->headers[i] = strdup(h);
		if (!t->headers[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

int ctl_table_add_row(struct ctl_table *t, const char *const *cells) {
	if (t->n_rows == t->allocated) {
		size_t n = t->allocated ? t->allocated * 2 : 16;
		char **c = reallocarray(t->cells, n * t->n_columns, sizeof *c);

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->allocated = n;
	}
	char **row = t->cells + t->n_rows * t->n_columns;
	for (size_t i = 0; i < t->n_columns; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i > 0)
				free(row[--i]);
			return -ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

size_t ctl_table_rows(const struct ctl_table *t) {
	return t->n_rows;
}

void ctl_table_hide_column(struct ctl_table *t, size_t column) {
	if (column < t->n_columns)
		t->hidden[column] = true;
}

static void print_line(const struct ctl_table *t, FILE *f, char *const *cells, const size_t *width) {
	size_t last_shown = 0;
	bool first = true;

	for (size_t i = 0; i < t->n_columns; i++)
		if (!t->hidden[i])
			last_shown = i;
	for (size_t i = 0; i < t->n_columns; i++) {
		bool last = i == last_shown;
		int w = (int) width[i];

		if (t->hidden[i])
			continue;
		if (!first)
			fputs("  ", f);
		first = false;
		if (t->right[i])
			fprintf(f, "%*s", w, cells[i]);
		else if (last)
			fputs(cells[i], f);
		else
			fprintf(f, "%-*s", w, cells[i]);
	}
	fputc('\n', f);
}

void ctl_table_print(const struct ctl_table *t, FILE *f, bool legend) {
	_cleanup_free_ size_t *width = calloc(t->n_columns ? t->n_columns : 1, sizeof *width);

	if (!width)
		return;
	for (size_t i = 0; i < t->n_columns; i++) {
		if (legend)
			width[i] = strlen(t->headers[i]);
		for (size_t r = 0; r < t->n_rows; r++)
			width[i] = MAX(width[i], strlen(t->cells[r * t->n_columns + i]));
	}
	if (legend)
		print_line(t, f, t->headers, width);
	for (size_t r = 0; r < t->n_rows; r++)
		print_line(t, f, t->cells + r * t->n_columns, width);
}
