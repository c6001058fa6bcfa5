/* top-view.h - draws the top model with curses; reads keys. Nothing here
 * decides: the model (top-model.h) does. */
#ifndef HINTCTL_TOP_VIEW_H
#define HINTCTL_TOP_VIEW_H

#include <stdbool.h>
#include "top-model.h"

struct top_view_info {
	const char *bus;		/* where hintd is reached */
	double interval_sec;
	bool exact_bytes;
	const char *error;		/* shown under the header, or NULL */
};

int top_view_init(void);
void top_view_end(void);
void top_view_draw(const struct top_model *m, const struct top_state *s,
		   const struct top_view_info *info);
/* A key, KEY_RESIZE, or -1 when none came within timeout_msec. */
int top_view_read_key(int timeout_msec);
/* Whether key is curses' resize event. */
bool top_view_is_resize(int key);

#endif /* HINTCTL_TOP_VIEW_H */
