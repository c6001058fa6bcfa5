/* model.c - see model.h. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "model.h"

static const char *const rung_names[_RUNG_MAX] = {
	[RUNG_UNUSED] = "unused",
	[RUNG_VOLATILE] = "volatile",
	[RUNG_BALLOON] = "balloon",
};

const char *rung_to_string(enum rung r) {
	return (unsigned) r < _RUNG_MAX ? rung_names[r] : NULL;
}

const char *agent_state_to_string(enum agent_state s) {
	switch (s) {
	case AGENT_ABSENT: return "absent";
	case AGENT_DISCONNECTED: return "disconnected";
	case AGENT_CONNECTED: return "connected";
	case AGENT_FAILED: return "failed";
	}
	return "?";
}

/* Matches [p, p + n) against a rung name; -EINVAL when none. */
static int rung_from_item(const char *p, size_t n) {
	for (unsigned i = 0; i < _RUNG_MAX; i++)
		if (strlen(rung_names[i]) == n && strncmp(rung_names[i], p, n) == 0)
			return i;
	return -EINVAL;
}

int rungs_from_string(const char *s, unsigned *ret_rungs) {
	unsigned rungs = 0;
	bool none = false;
	size_t n_items = 0;

	if (!s)
		return -EINVAL;

	for (const char *p = s;; p++) {
		const char *end = strchrnul(p, ',');
		const char *q = end;
		int r;

		while (p < q && isspace((unsigned char) *p))
			p++;
		while (q > p && isspace((unsigned char) q[-1]))
			q--;
		if (p == q)
			return -EINVAL;		/* "", "a,,b", trailing comma */

		n_items++;
		if ((size_t) (q - p) == strlen("none") && strncmp(p, "none", 4) == 0)
			none = true;
		else {
			r = rung_from_item(p, q - p);
			if (r < 0)
				return r;
			if (rungs & RUNG_BIT(r))
				return -EINVAL;
			rungs |= RUNG_BIT(r);
		}

		if (*end == '\0')
			break;
		p = end;
	}

	/* "none" stands alone: "none,balloon" is a typo, not a wish. */
	if (none && n_items != 1)
		return -EINVAL;

	*ret_rungs = rungs;
	return 0;
}

void vm_settings_init(struct vm_settings *s) {
	*s = (struct vm_settings) {
		.min_memory = 0,
		.max_memory = 0,
		.shares = 1000,
		.priority = 0,
		.rungs = RUNGS_ALL,
	};
}
