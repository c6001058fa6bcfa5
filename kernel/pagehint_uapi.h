/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pagehint_uapi.h - the ABI between pagehint.ko and hint-agent.
 *
 * Cycle of one batch (all sizes in bytes, addresses guest-physical):
 *
 *   1. REPORTED  the module has taken free pages out of the allocator and
 *                read() hands them out as one struct pagehint_batch. The
 *                module keeps them for ttl_ms waiting for a CLAIM; when the
 *                ttl passes unclaimed they go back to the allocator.
 *   2. CLAIMED   the agent writes PAGEHINT_CMD_CLAIM; write() succeeds only if
 *                the batch is still held (else -ENOENT: it expired and the
 *                host must not touch it). A claimed batch is held until
 *                ACK/RELEASE, or PAGEHINT_CLAIM_TIMEOUT_MS as a last resort.
 *   3. done      PAGEHINT_CMD_ACK (host discarded it) or PAGEHINT_CMD_RELEASE
 *                (host left it alone): the pages return to the allocator.
 *
 * The host punches a range only between 2 and 3, so a page the guest may use
 * again is never discarded.
 *
 * What pagehint.ko answers (errno of the failing call):
 *   open()   EBUSY another process has the device open, or the free page
 *            reporting hook is taken (tried again on every open);
 *            EOPNOTSUPP page poisoning is on. The reason is in
 *            PAGEHINT_SYSFS_DIR/status.
 *   read()   EINVAL count < sizeof(struct pagehint_batch); EAGAIN with
 *            O_NONBLOCK and nothing queued. Blocks otherwise; poll() gives
 *            POLLIN when a batch is queued.
 *   write()  EINVAL count != sizeof(struct pagehint_cmd), unknown op, or
 *            an argument out of range; per op:
 *     CLAIM     ENOENT not held (expired, released, dropped). Claiming a
 *               claimed batch again succeeds and changes nothing.
 *     ACK       ENOENT not held; EINVAL not claimed.
 *     RELEASE   ENOENT not held; allowed before CLAIM too.
 *     REPORTING arg 0 or 1. Off also drops a batch not yet claimed. The mode
 *               (like ORDER and TTL) is kept across close and open.
 *     ORDER     arg 1..10 (0 is not a valid order for the kernel's hook),
 *               else EINVAL. Below the order the kernel's free page
 *               reporting hands chunks over from (page_reporting_order),
 *               the module registers with the kernel again asking for the
 *               new order and reads the kernel's order back: EOPNOTSUPP if
 *               it did not follow (kernels that keep the order of their
 *               first registration; Debian's 6.1 follows), EBUSY if a
 *               claimed batch is in flight (registering again would wait
 *               for its ACK). The reason of a refusal is in
 *               PAGEHINT_SYSFS_DIR/order_error (empty after an ORDER that
 *               was carried out) and in the kernel log. Carried out at
 *               once: an unclaimed batch is dropped, a claimed one settles
 *               as it was published. Every batch queued from then on has
 *               granularity PAGE_SIZE << arg and only chunks of at least
 *               that order, so ranges may be longer than the granularity
 *               (chunks up to order 10) but never shorter. The module's
 *               order is in PAGEHINT_SYSFS_DIR/order; it may start higher
 *               than asked at load if the kernel's order is higher. Above
 *               the kernel's order, the module registers again too (now,
 *               or at the next GIVE or ORDER while a claimed batch is in
 *               flight), so that the kernel stops handing over chunks it
 *               skips.
 *     TTL       arg 10..60000 ms, for batches queued from then on.
 *     GIVE      arg bytes: sets (replaces) the on-demand budget and starts a
 *               pass at once; with reporting on it only starts a pass.
 *   Batches are dropped (never to be claimed) when the device is closed,
 *   reporting goes off or the guest runs short of memory; a claimed batch
 *   is never taken back before ACK, RELEASE or PAGEHINT_CLAIM_TIMEOUT_MS.
 */
#ifndef PAGEHINT_UAPI_H
#define PAGEHINT_UAPI_H

#include <linux/types.h>

#define PAGEHINT_DEVICE		"/dev/pagehint"
#define PAGEHINT_SYSFS_DIR	"/sys/kernel/pagehint"

#define PAGEHINT_BATCH_MAGIC	0x31424850u	/* "PHB1" little endian */
#define PAGEHINT_MAX_RANGES	32		/* ranges in one batch */
#define PAGEHINT_CLAIM_TIMEOUT_MS 30000		/* claimed but never acked */

struct pagehint_range {
	__u64 gpa;	/* guest-physical start, aligned to the batch granularity */
	__u64 len;	/* bytes, a multiple of the granularity */
};

/* One read() returns exactly one batch (short reads are refused). */
struct pagehint_batch {
	__u32 magic;		/* PAGEHINT_BATCH_MAGIC */
	__u32 id;		/* nonzero, increases by one per batch */
	__u32 count;		/* ranges[] entries in use, 1..PAGEHINT_MAX_RANGES */
	__u32 ttl_ms;		/* how long the module waits for CLAIM */
	__u64 granularity;	/* bytes; every gpa and len is a multiple */
	struct pagehint_range ranges[PAGEHINT_MAX_RANGES];
};

enum pagehint_cmd_op {
	PAGEHINT_CMD_CLAIM	= 1,	/* id: batch; -ENOENT if no longer held */
	PAGEHINT_CMD_ACK	= 2,	/* id: batch; host discarded it */
	PAGEHINT_CMD_RELEASE	= 3,	/* id: batch; host did not discard it */
	PAGEHINT_CMD_REPORTING	= 4,	/* arg: 1 continuous reporting on, 0 off */
	PAGEHINT_CMD_ORDER	= 5,	/* arg: allocation order of a chunk (9 = 2 MiB) */
	PAGEHINT_CMD_TTL	= 6,	/* arg: claim wait in ms */
	PAGEHINT_CMD_GIVE	= 7,	/* arg: bytes to report now from free memory */
};

/* One write() carries exactly one command. */
struct pagehint_cmd {
	__u32 op;	/* enum pagehint_cmd_op */
	__u32 id;	/* batch id for CLAIM/ACK/RELEASE, else 0 */
	__u64 arg;
};

#endif /* PAGEHINT_UAPI_H */
