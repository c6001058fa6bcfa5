/* mom-policy.c - oVirt MOM's default balloon policy, ported from
 * github.com/oVirt/mom doc/balloon.rules (constants and rule order in
 * mom-policy.h). */
#include <math.h>

#include "mom-policy.h"

void mom_avg_add(struct mom_avg *a, double value) {
	a->sample[a->next] = value;
	a->next = (a->next + 1) % MOM_SAMPLE_HISTORY;
	if (a->count < MOM_SAMPLE_HISTORY)
		a->count++;
}

double mom_avg_get(const struct mom_avg *a) {
	double sum = 0;

	if (a->count == 0)
		return 0;
	for (unsigned i = 0; i < a->count; i++)
		sum += a->sample[i];
	return sum / a->count;
}

double mom_host_free_fraction(double avg_mem_free, double mem_available) {
	return mem_available > 0 ? avg_mem_free / mem_available : 0;
}

/* change_big_enough: MOM skips moves under 0.25 % of the balloon. */
static bool change_big_enough(const struct mom_guest *g, double target) {
	return fabs(target - g->balloon_cur) > MOM_MIN_BALLOON_CHANGE * g->balloon_cur;
}

static double guest_used(const struct mom_guest *g) {
	return g->avg_balloon_cur - g->avg_mem_unused;
}

/* shrink_guest: the free margin shrinks with the host's free fraction and
 * goes negative (the guest must swap) when the host is critical. */
static bool shrink(double host_free, const struct mom_guest *g, double *ret_target) {
	double guest_free, floor, target;

	if (host_free <= MOM_PRESSURE_CRITICAL)
		guest_free = -0.05 + host_free;
	else
		guest_free = MOM_MIN_GUEST_FREE * (host_free / MOM_PRESSURE_THRESHOLD);
	floor = fmax(g->balloon_min, guest_used(g) + guest_free * g->balloon_cur);
	target = g->balloon_cur * (1 - MOM_MAX_BALLOON_CHANGE);
	if (target < floor)
		target = floor;
	if (target <= g->balloon_cur && change_big_enough(g, target)) {
		*ret_target = target;
		return true;
	}
	return false;
}

/* grow_guest: only a ballooned guest grows, by 5 %, at least to what it
 * uses plus 20 % free, never past its maximum. */
static bool grow(const struct mom_guest *g, double *ret_target) {
	double floor, target;

	if (g->balloon_cur >= g->balloon_max)
		return false;
	floor = fmax(g->balloon_min, guest_used(g) + MOM_MIN_GUEST_FREE * g->balloon_cur);
	target = g->balloon_cur * (1 + MOM_MAX_BALLOON_CHANGE);
	if (target < floor)
		target = floor;
	if (target > g->balloon_max)
		target = g->balloon_max;
	if (change_big_enough(g, target)) {
		*ret_target = target;
		return true;
	}
	return false;
}

bool mom_balloon_target(double host_free, const struct mom_guest *g, double *ret_target) {
	if (host_free < MOM_PRESSURE_THRESHOLD)
		return shrink(host_free, g, ret_target);
	return grow(g, ret_target);
}
