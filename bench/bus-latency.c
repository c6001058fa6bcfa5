/* bus-latency - how long hintd takes to answer a D-Bus property read.
 *
 *   build/bench/bus-latency ADDRESS CALLS
 *
 * Connects once to the bus at ADDRESS and calls
 * org.freedesktop.DBus.Properties.GetAll("org.hintd1.Manager") on
 * org.hintd1 /org/hintd1 CALLS times, one after the other, as a dashboard
 * polling hintd would. Prints "median p99 max" in milliseconds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

static double now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
	sd_bus *bus = NULL;
	double *ms;
	long calls;
	int r;

	if (argc != 3 || (calls = strtol(argv[2], NULL, 10)) < 1 || calls > 100000) {
		fprintf(stderr, "usage: bus-latency ADDRESS CALLS\n");
		return 2;
	}
	ms = calloc((size_t) calls, sizeof *ms);
	if (!ms)
		return 1;
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, argv[1]);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		fprintf(stderr, "bus-latency: connecting to %s: %s\n", argv[1], strerror(-r));
		free(ms);
		return 1;
	}
	for (long i = 0; i < calls; i++) {
		sd_bus_error error = SD_BUS_ERROR_NULL;
		sd_bus_message *reply = NULL;
		double t = now_ms();

		r = sd_bus_call_method(bus, "org.hintd1", "/org/hintd1", "org.freedesktop.DBus.Properties",
				       "GetAll", &error, &reply, "s", "org.hintd1.Manager");
		ms[i] = now_ms() - t;
		if (r < 0) {
			fprintf(stderr, "bus-latency: GetAll: %s\n", error.message ? error.message : strerror(-r));
			return 1;
		}
		sd_bus_message_unref(reply);
		sd_bus_error_free(&error);
	}
	qsort(ms, (size_t) calls, sizeof *ms, cmp_double);
	long p99 = (calls * 99 + 99) / 100 - 1;
	printf("%.2f %.2f %.2f\n", calls % 2 ? ms[calls / 2] : (ms[calls / 2 - 1] + ms[calls / 2]) / 2,
	       ms[p99], ms[calls - 1]);
	sd_bus_unref(bus);
	free(ms);
	return 0;
}
