/* policy-shrink.c - which instrument carries a VM to the size a step chose.
 *
 * virtio-mem first: the guest unplugs whole blocks and QEMU discards them
 * at once, with nothing left behind in the guest; the balloon takes only
 * what the device cannot (all of it unplugged, or all of it plugged back).
 * QEMU's balloon counts the boot RAM only, so the two never move each
 * other's figures. */
#include <stdio.h>
#include "policy-tick.h"

static uint64_t round_up(uint64_t n, uint64_t block) {
	return (n + block - 1) / block * block;
}

/* The balloon's part: to target bytes. */
static size_t resize_balloon(struct tick *t, size_t i, uint64_t target, const char *why, const char *tail) {
	const struct vm_state *v = &t->vms[i];
	uint64_t actual = v->measured.balloon_actual;
	struct action *a;

	if (target == t->work[i].balloon_pending && target == v->commanded.balloon_target)
		return 0;
	a = plan_add(t->plan, i, ACTION_BALLOON);
	a->bytes = target;
	if (target == actual)
		reasonf(a->reason, "%s: stop at %s%s", why, SZ(target), tail);
	else
		reasonf(a->reason, "%s: %s by %s to %s%s", why, target < actual ? "inflate" : "deflate",
			SZ(target < actual ? actual - target : target - actual), SZ(target), tail);
	return 1;
}

/* The device's part: requested to bytes (whole blocks). */
static size_t resize_virtio_mem(struct tick *t, size_t i, uint64_t requested, const char *why,
				const char *tail) {
	uint64_t was = t->vms[i].commanded.virtio_mem_requested;
	struct action *a;

	if (requested == was)
		return 0;
	a = plan_add(t->plan, i, ACTION_VIRTIO_MEM);
	a->bytes = requested;
	reasonf(a->reason, "%s: %s virtio-mem by %s to %s%s", why, requested < was ? "shrink" : "grow",
		SZ(requested < was ? was - requested : requested - was), SZ(requested), tail);
	return 1;
}

bool virtio_mem_stalled(const struct vm_state *v, usec_t now) {
	const struct vm_virtio_mem *d = &v->measured.virtio_mem;
	usec_t since = MAX(v->commanded.virtio_mem_asked_at, d->changed_at);

	return d->block_size > 0 && v->commanded.virtio_mem_requested < d->plugged && since > 0 &&
	       sub_sat(now, since) >= VIRTIO_MEM_STALL_USEC;
}

/* A device that does not unplug keeps what it has plugged: the balloon
 * takes the rest of the way (the VM's floor counts what it keeps). */
static size_t shrink_past_stalled(struct tick *t, size_t i, uint64_t target, const char *why,
				  const char *tail) {
	const struct vm_virtio_mem *d = &t->vms[i].measured.virtio_mem;
	uint64_t balloon = t->work[i].balloon_pending;
	char stalled[ACTION_REASON_MAX];

	/* The balloon only inflates here, and never down to what the device
	 * keeps alone. */
	if (target <= d->plugged || target - d->plugged >= balloon)
		return 0;
	/* What the device did comes first: the explanation may be cut. */
	snprintf(stalled, sizeof stalled, "%s; virtio-mem unplugged nothing in %llu s (%s plugged, %s asked)",
		 why, (unsigned long long) (VIRTIO_MEM_STALL_USEC / USEC_PER_SEC), SZ(d->plugged),
		 SZ(t->vms[i].commanded.virtio_mem_requested));
	return resize_balloon(t, i, target - d->plugged, stalled, tail);
}

/* Shrinking: the device gives down to nothing plugged, rounded up to whole
 * blocks so the guest never ends below target (its floor); below that, the
 * balloon. */
static size_t shrink(struct tick *t, size_t i, uint64_t target, const char *why, const char *tail) {
	const struct vm_virtio_mem *d = &t->vms[i].measured.virtio_mem;
	const struct vm_work *w = &t->work[i];
	uint64_t requested = t->vms[i].commanded.virtio_mem_requested;

	if (w->virtio_mem_stalled)
		return shrink_past_stalled(t, i, target, why, tail);

	if (target >= w->balloon_pending) {
		uint64_t next = MIN(round_up(target - w->balloon_pending, d->block_size), d->size);

		/* Asked for less already (the guest is still unplugging). */
		return next < requested ? resize_virtio_mem(t, i, next, why, tail) : 0;
	}
	return resize_virtio_mem(t, i, 0, why, tail) + resize_balloon(t, i, target, why, tail);
}

/* Growing: the device gives up to its size (whole blocks, never past the
 * cap); above that, the balloon. */
static size_t grow(struct tick *t, size_t i, uint64_t target, const char *why, const char *tail) {
	const struct vm_virtio_mem *d = &t->vms[i].measured.virtio_mem;
	const struct vm_work *w = &t->work[i];
	uint64_t requested = t->vms[i].commanded.virtio_mem_requested;
	uint64_t want = target - MIN(target, w->balloon_pending), next;

	if (want <= d->size) {
		next = round_up(want, d->block_size);
		if (next > 0 && w->balloon_pending + next > w->cap)
			next -= d->block_size;	/* whole blocks under the cap */
		return next > requested ? resize_virtio_mem(t, i, next, why, tail) : 0;
	}
	return resize_virtio_mem(t, i, d->size, why, tail) +
	       resize_balloon(t, i, target - d->size, why, tail);
}

size_t plan_resize(struct tick *t, size_t i, uint64_t target, const char *why, const char *tail) {
	const struct vm_work *w = &t->work[i];

	if (!w->virtio_mem)
		return resize_balloon(t, i, target, why, tail);
	if (target < w->pending)
		return shrink(t, i, target, why, tail);
	if (target > w->pending)
		return grow(t, i, target, why, tail);
	return 0;
}
