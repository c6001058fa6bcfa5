/* clock.c - see clock.h. */
#include "clock.h"

uint64_t clock_usec(clockid_t id) {
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}
