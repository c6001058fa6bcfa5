/* mom-policy.h - oVirt MOM's default balloon policy, as a pure function.
 *
 * Ported from MOM's published rules: github.com/oVirt/mom, doc/balloon.rules
 * (the "Auto-Balloon" policy) with the defaults of doc/mom-balloon.conf
 * (policy-engine-interval 10 s, guest and host monitors every 5 s,
 * sample-history-length 10) and the host figures of
 * mom/Collectors/HostMemory.py (mem_free = MemFree + Buffers + Cached,
 * mem_available = MemTotal). Written anew here in C; the numbers and the
 * order of the rules are MOM's.
 *
 * Every tick the host's free fraction decides the direction for all guests:
 * under 20 % free every guest shrinks by at most 5 % of its balloon, down to
 * what it uses plus a free margin that scales with the host's free fraction
 * (below 5 % the margin turns negative, to make the guest swap); at 20 % or
 * more every ballooned guest grows by 5 % (at least to what it uses plus 20 %
 * free), up to its maximum. Changes under 0.25 % of the balloon are skipped. */
#ifndef HINTD_MOM_POLICY_H
#define HINTD_MOM_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define MOM_PRESSURE_THRESHOLD 0.20	/* host free fraction: under it, shrink */
#define MOM_PRESSURE_CRITICAL 0.05	/* at or under it, make guests swap */
#define MOM_MIN_GUEST_FREE 0.20		/* free fraction a guest would like to keep */
#define MOM_MAX_BALLOON_CHANGE 0.05	/* of the balloon, per policy run */
#define MOM_MIN_BALLOON_CHANGE 0.0025	/* smaller changes are not worth a call */
#define MOM_SAMPLE_HISTORY 10		/* samples in a StatAvg moving average */
#define MOM_POLICY_INTERVAL_SEC 10
#define MOM_MONITOR_INTERVAL_SEC 5

/* MOM's StatAvg: the mean of the last MOM_SAMPLE_HISTORY samples. */
struct mom_avg {
	double sample[MOM_SAMPLE_HISTORY];
	unsigned count, next;
};

void mom_avg_add(struct mom_avg *a, double value);
/* The mean; 0 when there is no sample yet. */
double mom_avg_get(const struct mom_avg *a);

/* One guest as the policy sees it, sizes in bytes. */
struct mom_guest {
	double balloon_cur;	/* the balloon's current size (libvirt "actual") */
	double balloon_max;	/* the guest's maximum memory */
	double balloon_min;	/* the guarantee it is never shrunk below */
	double avg_balloon_cur;	/* StatAvg of balloon_cur */
	double avg_mem_unused;	/* StatAvg of the guest's free memory */
};

/* StatAvg(mem_free) / mem_available; 0 when mem_available is 0. */
double mom_host_free_fraction(double avg_mem_free, double mem_available);

/* The balloon target MOM sets for the guest at this host free fraction:
 * true and *ret_target (bytes) when the balloon should move, false when it
 * stays. */
bool mom_balloon_target(double host_free, const struct mom_guest *g, double *ret_target);

#endif /* HINTD_MOM_POLICY_H */
