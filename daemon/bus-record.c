/* bus-record.c - see bus-record.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bus-record.h"

/* Where the record of name is, or would go: records are kept sorted by
 * name, so a tick over 1000 VMs looks each up in a few steps. */
static size_t record_slot(const struct machine_records *b, const char *name, bool *ret_found) {
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->v[mid].name, name);
		if (c == 0) {
			*ret_found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_found = false;
	return lo;
}

/* The record of the machine named, made when first needed (a VM may have
 * come before the bus was open). NULL only without memory. */
struct machine_record *machine_record_get(struct machine_records *b, const char *name) {
	struct machine_record *r;
	bool found;
	size_t i = record_slot(b, name, &found);

	if (found)
		return &b->v[i];
	r = realloc(b->v, (b->n + 1) * sizeof *r);
	if (!r)
		return NULL;
	b->v = r;
	memmove(&r[i + 1], &r[i], (b->n - i) * sizeof *r);
	b->n++;
	r[i] = (struct machine_record) { 0 };
	snprintf(r[i].name, sizeof r[i].name, "%s", name);
	return &r[i];
}

struct machine_record *machine_record_get_hinted(struct machine_records *b, const char *name,
						 size_t *slot) {
	struct machine_record *r;

	if (*slot < b->n && strcmp(b->v[*slot].name, name) == 0)
		return &b->v[*slot];
	r = machine_record_get(b, name);
	if (r)
		*slot = (size_t) (r - b->v);
	return r;
}

void machine_record_forget(struct machine_records *b, const char *name) {
	bool found;
	size_t i = record_slot(b, name, &found);

	if (!found)
		return;
	memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof *b->v);
	b->n--;
}

void machine_records_done(struct machine_records *b) {
	free(b->v);
	*b = (struct machine_records) { 0 };
}
