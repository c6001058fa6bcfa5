/* rungs.c - see rungs.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "rungs.h"

static const char *const rung_names[_RUNG_MAX] = {
	[RUNG_UNUSED] = "unused",
	[RUNG_VOLATILE] = "volatile",
	[RUNG_BALLOON] = "balloon",
};

const char *rung_to_string(enum rung r) {
	return (unsigned) r < _RUNG_MAX ? rung_names[r] : NULL;
}

/* [p, p + n) is name, in any case when ignore_case. */
static bool item_is(const char *p, size_t n, const char *name, bool ignore_case) {
	if (strlen(name) != n)
		return false;
	return ignore_case ? strncasecmp(p, name, n) == 0 : strncmp(p, name, n) == 0;
}

/* The rung [p, p + n) names; -EINVAL when none. */
static int rung_from_item(const char *p, size_t n, bool ignore_case) {
	for (unsigned i = 0; i < _RUNG_MAX; i++)
		if (item_is(p, n, rung_names[i], ignore_case))
			return i;
	return -EINVAL;
}

int rungs_parse(const char *s, unsigned flags, unsigned *ret_rungs) {
	bool lenient = flags & RUNGS_PARSE_LENIENT, none = false;
	unsigned rungs = 0;
	size_t n_items = 0;

	if (!s)
		return -EINVAL;

	for (const char *p = s;; p++) {
		const char *end = strchrnul(p, ','), *q = end;
		int r;

		while (p < q && isspace((unsigned char) *p))
			p++;
		while (q > p && isspace((unsigned char) q[-1]))
			q--;
		if (p == q)
			return -EINVAL;		/* "", "a,,b", trailing comma */

		n_items++;
		if (item_is(p, q - p, "none", lenient))
			none = true;
		else {
			r = rung_from_item(p, q - p, lenient);
			if (r < 0)
				return r;
			if ((rungs & RUNG_BIT(r)) && !lenient)
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
