/* reclaim-choice.c - see reclaim-choice.h. */
#include <string.h>
#include "reclaim-choice.h"

void reclaim_choose(const struct reclaim_facts *f, uint64_t asked, struct reclaim_choice *ret) {
	struct reclaim_choice c = { .method = RECLAIM_NOTHING };

	c.bytes = asked < f->clean_file ? asked : f->clean_file;
	if (c.bytes > 0) {
		c.method = f->lru_reclaim ? RECLAIM_LRU : RECLAIM_FADVISE;
		c.spare_anon = c.method == RECLAIM_LRU && f->swap_total > 0;
	}
	*ret = c;
}

int cached_file_colder_first(const void *a, const void *b) {
	const struct cached_file *x = a, *y = b;

	if (x->last_use != y->last_use)
		return x->last_use < y->last_use ? -1 : 1;
	if (x->resident != y->resident)
		return x->resident < y->resident ? -1 : 1;
	return strcmp(x->path, y->path);
}
