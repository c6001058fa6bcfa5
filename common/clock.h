/* clock.h - the time now, in microseconds. */
#ifndef HINTD_CLOCK_H
#define HINTD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_gettime(id) in µs: CLOCK_MONOTONIC for deadlines, CLOCK_REALTIME
 * for what people read. */
uint64_t clock_usec(clockid_t id);

#endif /* HINTD_CLOCK_H */
