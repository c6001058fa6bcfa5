/* table.h - plain text tables: a header line (the legend), rows of cells
 * padded to the widest cell of each column, numbers aligned right. */
#ifndef HINTCTL_TABLE_H
#define HINTCTL_TABLE_H

#include <stdbool.h>
#include <stdio.h>

struct ctl_table;

/* headers: n_columns titles; a title starting with '>' is a right-aligned
 * column (the '>' is not printed). */
int ctl_table_new(const char *const *headers, size_t n_columns, struct ctl_table **ret);
void ctl_table_free(struct ctl_table *t);
static inline void ctl_table_freep(struct ctl_table **t) {
	if (*t)
		ctl_table_free(*t);
}

/* Appends one row: n_columns strings (NULL is shown as "-"). */
int ctl_table_add_row(struct ctl_table *t, const char *const *cells);
size_t ctl_table_rows(const struct ctl_table *t);

/* Leaves column out of what is printed (a column only some hosts need,
 * such as one that is "-" on every row there). */
void ctl_table_hide_column(struct ctl_table *t, size_t column);

/* Prints the header when legend, then the rows; no trailing spaces. */
void ctl_table_print(const struct ctl_table *t, FILE *f, bool legend);

#endif /* HINTCTL_TABLE_H */
