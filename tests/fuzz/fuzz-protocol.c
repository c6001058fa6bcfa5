/* Fuzz target: one line from a guest. Whatever hint_msg_parse() accepts must
 * format and parse again to the same message: the host never emits what a
 * guest would refuse, and never accepts what it could not say itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct hint_msg m, again;
	char err[256], *line = NULL;

	if (hint_msg_parse((const char *) data, size, &m, err, sizeof err) < 0) {
		uint64_t id;
		(void) hint_msg_peek_id((const char *) data, size, &id);
		return 0;
	}
	if (hint_msg_format(&m, &line, err, sizeof err) < 0)
		abort();
	if (hint_msg_parse(line, strlen(line), &again, err, sizeof err) < 0)
		abort();
	if (again.type != m.type)
		abort();
	free(line);
	return 0;
}
