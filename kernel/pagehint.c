// SPDX-License-Identifier: GPL-2.0
/*
 * pagehint.c - the guest's source of unused page hints.
 *
 * pagehint takes free guest pages out of the buddy allocator in aligned
 * chunks (order 9 = 2 MiB by default, so host huge pages stay whole),
 * publishes their guest-physical ranges through /dev/pagehint to hint-agent,
 * and gives them back to the allocator only once the host has answered (or a
 * timeout ran out). While a range is out, the guest cannot use it, so the
 * host can never discard a page the guest is using.
 *
 * The pages are taken with the kernel's free page reporting hook
 * (page_reporting_register(), mm/page_reporting.c): the reporting core
 * isolates up to PAGE_REPORTING_CAPACITY free chunks of at least
 * prdev->order and calls ph_report() with them, which may sleep. Returning 0
 * makes the core mark the chunks Reported: they are skipped by later passes
 * until the guest allocates them again. Returning an error puts them back
 * unmarked and ends the pass. pagehint returns 0 only when the host
 * discarded every chunk of the scatterlist.
 *
 * Cycle of one batch (see also pagehint_uapi.h):
 *
 *   isolate  the core takes free chunks off the free lists and calls
 *            ph_report() from its delayed work (system_wq, process context).
 *   publish  ph_report() turns the next chunks of the scatterlist, at most
 *            max_held_bytes (and, on demand, the GIVE budget), into a batch:
 *            PH_QUEUED. read() hands it out: PH_REPORTED.
 *   claim    write(CLAIM) before the ttl runs out: PH_CLAIMED. From here on
 *            the host may be discarding the ranges, so nothing but ACK,
 *            RELEASE or the claim timeout ends the batch.
 *   settle   ACK: PH_ACKED. RELEASE: PH_RELEASED. ttl or claim timeout:
 *            PH_EXPIRED. Unclaimed batches are also dropped (PH_DROPPED) at
 *            once when the device is closed, reporting is switched off, the
 *            guest runs short of memory, the order changes or on rmmod.
 *   drain    when the whole scatterlist has been published and acked,
 *            ph_report() returns 0; otherwise it returns an error. The core
 *            then puts the chunks back on the free lists.
 *
 * Only one batch is in flight at a time: the core runs one pass at a time and
 * waits for ph_report() to return.
 *
 * Chunk order. The core hands over free chunks of every order from its own
 * page_reporting_order up to MAX_ORDER - 1. That order is global, and who
 * sets it depends on the kernel: Debian's 6.1 (seen in 6.1.0-57) sets it
 * from prdev->order on every registration; kernels with the later upstream
 * change keep the order of the first registration since boot; the admin
 * may change it at any time (page_reporting.page_reporting_order in sysfs
 * or on the command line). So prdev->order is a wish, and pagehint holds to
 * what it can see: it publishes only chunks of at least ph.order, with
 * granularity PAGE_SIZE << ph.order, so every range is aligned to it
 * whatever the core hands over (smaller chunks are left to the core
 * unpublished and counted in below_order_bytes). An ORDER below the core's
 * order registers again and reads the core's order back; if the core did
 * not follow, the ORDER is refused: chunks that small never come. An ORDER
 * above it registers again too, so that the core stops handing over chunks
 * pagehint skips (see ph_leave_lower_order()).
 *
 * Two modes:
 *   continuous  (reporting on) every free chunk the core finds is published.
 *   on demand   (reporting off) PAGEHINT_CMD_GIVE sets a byte budget and runs
 *               a pass at once; chunks are published until the budget is
 *               spent, then ph_report() returns -ENOSPC, which ends the pass.
 *
 * The chunks are never allocated: with CONFIG_INIT_ON_ALLOC_DEFAULT_ON (on in
 * the Debian kernel) alloc_pages() zeroes every page it hands out, which
 * writes all of the chunk and makes the host back it again - the opposite of
 * what a hint is for, and a waste when the chunk had already been discarded.
 * Isolation through the reporting core touches only struct page, never the
 * page contents.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/page_reporting.h>
#include <linux/poll.h>
#include <linux/scatterlist.h>
#include <linux/shrinker.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "pagehint_uapi.h"

/* The core hands over at most this many chunks; a batch must hold them all. */
static_assert(PAGE_REPORTING_CAPACITY <= PAGEHINT_MAX_RANGES);

#define PH_TTL_MIN_MS		10
#define PH_TTL_MAX_MS		60000
/* After the guest ran short of memory, publish nothing for this long. */
#define PH_PRESSURE_BACKOFF	(2 * HZ)
/*
 * How long the OOM notifier waits for the chunks to be back on the lists.
 * Unclaimed, only the worker has to run. A claimed batch needs the host's
 * ACK or the agent's RELEASE: milliseconds on a quiet host, but a slow host
 * under TCG took over a second, and an OOM kill costs the guest far more
 * than a wait. Each claimed batch is waited for once: a hung host delays the
 * OOM killer by PH_OOM_CLAIM_WAIT once, not at every allocation.
 */
#define PH_OOM_WAIT		HZ
#define PH_OOM_CLAIM_WAIT	(5 * HZ)
/* How long chunks handed back count as freed: the core's drain follows. */
#define PH_OOM_DRAIN		(HZ / 10)
/* Chunks acked in scatterlists that were not acked as a whole. */
#define PH_ACKED_CACHE		(2 * PAGE_REPORTING_CAPACITY)
#define PH_MAX_CHUNK		(PAGE_SIZE << (MAX_ORDER - 1))

static unsigned int order = 9;
module_param(order, uint, 0444);
MODULE_PARM_DESC(order, "Order of the smallest chunk reported, 1.."
		 __stringify(MAX_ORDER) "-1 (default 9 = 2 MiB)");

static unsigned int ttl_ms = 2000;
module_param(ttl_ms, uint, 0444);
MODULE_PARM_DESC(ttl_ms, "How long a batch waits for CLAIM, in ms (default 2000)");

/*
 * 128 MiB is the most the reporting core isolates in one call
 * (PAGE_REPORTING_CAPACITY chunks of order MAX_ORDER - 1 = 32 x 4 MiB), so
 * by default a scatterlist always goes out as one batch. A smaller value
 * splits it into batches that go out one after the other (the rest of the
 * scatterlist stays isolated meanwhile: isolated_bytes in sysfs). At least
 * one chunk of order MAX_ORDER - 1, which the core may hand over whatever
 * the order asked for.
 */
static unsigned long max_held_bytes = SZ_128M;
module_param(max_held_bytes, ulong, 0444);
MODULE_PARM_DESC(max_held_bytes, "Most bytes published at once, at least 4 MiB (default 128 MiB)");

static bool reporting = true;
module_param(reporting, bool, 0444);
MODULE_PARM_DESC(reporting, "Start in continuous mode (default on); off = on demand only");

enum ph_state {
	PH_IDLE,	/* no batch */
	PH_QUEUED,	/* published, not read yet */
	PH_REPORTED,	/* read, waiting for CLAIM */
	PH_CLAIMED,	/* the host may be discarding it */
	/* settled: ph_report() may let the chunks go */
	PH_ACKED,	/* the host discarded it */
	PH_RELEASED,	/* the host left it alone */
	PH_EXPIRED,	/* ttl or claim timeout ran out */
	PH_DROPPED,	/* taken back before a claim */
};

struct ph_chunk {
	unsigned long pfn;
	unsigned int order;
};

struct ph_batch {
	enum ph_state state;
	unsigned long deadline;		/* jiffies: ttl, then claim timeout */
	u64 bytes;
	unsigned int nr_chunks;
	struct ph_chunk chunks[PAGE_REPORTING_CAPACITY];
	struct pagehint_batch uapi;	/* what read() hands out */
};

static struct pagehint {
	struct page_reporting_dev_info prdev;

	/*
	 * reg_mutex protects the registration with the reporting core
	 * (registered, prdev.order) and serialises the kicks of its work with
	 * page_reporting_unregister(). Never taken by ph_report(), which
	 * page_reporting_unregister() waits for.
	 */
	struct mutex reg_mutex;
	bool registered;
	bool core_low;		/* the core's order may be below ph.order: see
				 * ph_leave_lower_order() */

	/*
	 * lock protects the batch, the mode, the open flag and the counters
	 * below. Taken in process context only (file operations, the reporting
	 * worker, shrinker, OOM notifier); never held while sleeping.
	 */
	spinlock_t lock;
	char status[160];		/* written under reg_mutex and lock */
	struct ph_batch cur;
	u32 last_id;
	/* Written under reg_mutex and lock: either one is enough to read. */
	unsigned int order;		/* smallest chunk published: the granularity */
	unsigned int ttl_ms;
	bool open;			/* an agent has /dev/pagehint open */
	bool continuous;		/* reporting on */
	bool flushing;			/* unregistering: publish nothing */
	char order_error[200];		/* why the last ORDER was refused */
	u64 give_bytes;			/* on-demand budget left */
	unsigned long pressure_until;	/* jiffies: publish nothing before */
	u64 isolated_bytes;		/* scatterlist inside ph_report() */
	unsigned long returned_at;	/* jiffies: ph_report() returned ... */
	u64 returned_bytes;		/* ... this scatterlist to the core */
	u64 oom_claim_waits;		/* OOM kills that waited for a claim */
	u32 oom_waited_id;		/* the claimed batch they waited for last */
	u64 reported_bytes, acked_bytes, released_bytes;
	u64 timed_out_bytes, dropped_bytes;
	u64 below_order_bytes;		/* chunks smaller than ph.order, skipped */

	wait_queue_head_t readq;	/* read()/poll(): a batch was queued */
	wait_queue_head_t doneq;	/* ph_report(): its batch settled */
	wait_queue_head_t idleq;	/* OOM notifier: ph_report() returned */

	/*
	 * Chunks that the host discarded in scatterlists that as a whole were
	 * not acked (a later chunk was released, timed out or left over when
	 * the GIVE budget ran out). The core puts such a scatterlist back
	 * unmarked and usually hands the same chunks over again; these are not
	 * published twice. A stale entry (the chunk was allocated and freed
	 * again meanwhile) only costs that hint. Used by ph_report() alone, one
	 * call at a time, and reset under reg_mutex while unregistered.
	 */
	struct ph_chunk acked[PH_ACKED_CACHE];
	unsigned long acked_at[PH_ACKED_CACHE];	/* jiffies of each ack */
	unsigned int nr_acked;

	struct shrinker shrinker;
	struct notifier_block oom_nb;
	struct kobject *kobj;
} ph;

static inline bool ph_settled(enum ph_state state)
{
	return state >= PH_ACKED;
}

static inline bool ph_unclaimed(enum ph_state state)
{
	return state == PH_QUEUED || state == PH_REPORTED;
}

/**
 * ph_drop_locked() - take an unclaimed batch back at once
 *
 * Context: ph.lock held. The caller wakes ph.doneq after unlocking.
 * Return: pages of the scatterlist that go back, or 0 if no unclaimed
 * batch was in flight. A claimed batch is left alone: the host may be
 * discarding it right now.
 */
static unsigned long ph_drop_locked(void)
{
	if (!ph_unclaimed(ph.cur.state))
		return 0;
	ph.cur.state = PH_DROPPED;
	ph.dropped_bytes += ph.cur.bytes;
	return ph.isolated_bytes >> PAGE_SHIFT;
}

/* ---- the reporting side --------------------------------------------- */

/*
 * An entry only vouches for a chunk briefly: once the guest may have
 * allocated it (the host backs it again) and freed it, skipping it would
 * leave it backed and let the core mark it Reported, so it is never hinted
 * again until its next free. Retries of one pass follow each other within
 * milliseconds; PH_ACKED_TRUST_MS is ample for them.
 */
#define PH_ACKED_TRUST_MS 500

static bool ph_chunk_acked(const struct ph_chunk *c)
{
	unsigned int i;

	for (i = 0; i < ph.nr_acked; i++)
		if (ph.acked[i].pfn == c->pfn && ph.acked[i].order == c->order)
			return time_before(jiffies, ph.acked_at[i] +
					   msecs_to_jiffies(PH_ACKED_TRUST_MS));
	return false;
}

/* When full, the oldest entry goes: forgetting one only costs a re-punch. */
static void ph_remember_acked(const struct ph_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_chunks; i++) {
		if (ph.nr_acked == PH_ACKED_CACHE) {
			memmove(&ph.acked[0], &ph.acked[1],
				sizeof(ph.acked[0]) * (PH_ACKED_CACHE - 1));
			memmove(&ph.acked_at[0], &ph.acked_at[1],
				sizeof(ph.acked_at[0]) * (PH_ACKED_CACHE - 1));
			ph.nr_acked--;
		}
		ph.acked_at[ph.nr_acked] = jiffies;
		ph.acked[ph.nr_acked++] = b->chunks[i];
	}
}

/* The core marks these Reported now: no need to remember them. */
static void ph_forget_acked(struct scatterlist *sgl, unsigned int nents)
{
	struct scatterlist *sg;
	unsigned int i, j, n = 0;

	for (j = 0; j < ph.nr_acked; j++) {
		bool found = false;

		for_each_sg(sgl, sg, nents, i) {
			if (page_to_pfn(sg_page(sg)) == ph.acked[j].pfn &&
			    get_order(sg->length) == ph.acked[j].order) {
				found = true;
				break;
			}
		}
		if (!found) {
			ph.acked_at[n] = ph.acked_at[j];
			ph.acked[n++] = ph.acked[j];
		}
	}
	ph.nr_acked = n;
}

/**
 * ph_may_publish_locked() - may a new batch go out now?
 * @zone: zone of the chunks the core isolated
 *
 * Context: ph.lock held.
 * Return: 0, or the error ph_report() hands to the core.
 */
static int ph_may_publish_locked(struct zone *zone)
{
	if (!ph.open || ph.flushing)
		return -ENODEV;
	if (!ph.continuous && !ph.give_bytes)
		return -EAGAIN;
	if (time_before(jiffies, ph.pressure_until))
		return -EAGAIN;
	/*
	 * The core checks the low watermark once per zone and pass; stop as
	 * soon as the zone itself dips below its high watermark, i.e. as soon
	 * as kswapd would have work to do.
	 */
	if (zone_page_state(zone, NR_FREE_PAGES) < high_wmark_pages(zone)) {
		ph.pressure_until = jiffies + PH_PRESSURE_BACKOFF;
		return -EAGAIN;
	}
	return 0;
}

static void ph_fill_uapi_locked(struct ph_batch *b)
{
	struct pagehint_batch *u = &b->uapi;
	unsigned int i, n = 0;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < b->nr_chunks; i++) {
		u64 gpa = PFN_PHYS(b->chunks[i].pfn);
		u64 len = PAGE_SIZE << b->chunks[i].order;

		if (n && u->ranges[n - 1].gpa + u->ranges[n - 1].len == gpa) {
			u->ranges[n - 1].len += len;
			continue;
		}
		u->ranges[n].gpa = gpa;
		u->ranges[n].len = len;
		n++;
	}

	if (!++ph.last_id)
		ph.last_id = 1;
	u->magic = PAGEHINT_BATCH_MAGIC;
	u->id = ph.last_id;
	u->count = n;
	u->ttl_ms = ph.ttl_ms;
	u->granularity = PAGE_SIZE << ph.order;
}

/**
 * ph_publish() - publish the next chunks of a scatterlist as one batch
 * @sgl: the scatterlist ph_report() got
 * @nents: entries in @sgl
 * @next: in: first entry not handled yet; out: first entry not published
 *
 * Chunks the host already discarded (ph.acked) and chunks smaller than
 * ph.order are skipped. Nothing is published unless ph_may_publish_locked()
 * agrees.
 *
 * Context: reporting worker, process context; takes ph.lock.
 * Return: 1 if a batch was published, 0 if nothing is left to publish,
 * else a negative errno for the core (nothing published).
 */
static int ph_publish(struct scatterlist *sgl, unsigned int nents,
		      unsigned int *next)
{
	struct ph_batch *b = &ph.cur;
	struct scatterlist *sg;
	u64 room;
	unsigned int i;
	int err;

	spin_lock(&ph.lock);
	room = max_held_bytes;
	if (!ph.continuous)
		room = min(room, ph.give_bytes);

	b->nr_chunks = 0;
	b->bytes = 0;
	for_each_sg(sgl, sg, nents, i) {
		struct ph_chunk c = {
			.pfn = page_to_pfn(sg_page(sg)),
			.order = get_order(sg->length),
		};

		if (i < *next)
			continue;
		if (ph_chunk_acked(&c)) {
			*next = i + 1;
			continue;
		}
		/*
		 * The core's order is below ours (see "Chunk order"): such a
		 * chunk would break the granularity. It goes back to the
		 * core with the rest: marked Reported if the rest was acked,
		 * until it merges into a larger chunk; else offered again.
		 */
		if (c.order < ph.order) {
			ph.below_order_bytes += sg->length;
			*next = i + 1;
			continue;
		}
		if (b->bytes + sg->length > room)
			break;
		b->chunks[b->nr_chunks++] = c;
		b->bytes += sg->length;
		*next = i + 1;
	}

	/*
	 * The rest was acked before or is below the order: let the core mark
	 * it all Reported (a small chunk loses the mark when it merges).
	 */
	if (!b->nr_chunks && *next >= nents) {
		err = 0;
		goto out_unlock;
	}
	err = ph_may_publish_locked(page_zone(sg_page(sgl)));
	if (err)
		goto out_unlock;
	/* The GIVE budget is smaller than the next chunk. */
	if (!b->nr_chunks) {
		err = -ENOSPC;
		goto out_unlock;
	}

	ph_fill_uapi_locked(b);
	b->state = PH_QUEUED;
	b->deadline = jiffies + msecs_to_jiffies(ph.ttl_ms);
	ph.reported_bytes += b->bytes;
	if (!ph.continuous)
		ph.give_bytes -= b->bytes;
	err = 1;

out_unlock:
	spin_unlock(&ph.lock);
	if (err > 0)
		wake_up_interruptible(&ph.readq);
	return err;
}

static bool ph_cur_settled(void)
{
	return ph_settled(READ_ONCE(ph.cur.state));
}

/**
 * ph_settle() - wait until the published batch has settled
 *
 * Runs the ttl and the claim timeout: nobody else expires a batch.
 *
 * Context: reporting worker, process context; sleeps (TASK_IDLE) for at
 * most ttl_ms plus PAGEHINT_CLAIM_TIMEOUT_MS.
 * Return: 0 if the host discarded the batch, else a negative errno.
 */
static int ph_settle(void)
{
	struct ph_batch *b = &ph.cur;
	enum ph_state state;

	spin_lock(&ph.lock);
	for (;;) {
		long timeout;

		state = b->state;
		if (ph_settled(state))
			break;
		if (time_after_eq(jiffies, b->deadline)) {
			state = b->state = PH_EXPIRED;
			ph.timed_out_bytes += b->bytes;
			break;
		}
		timeout = b->deadline - jiffies;
		/* Drop the lock to sleep; write() and the drops settle it. */
		spin_unlock(&ph.lock);
		wait_event_idle_timeout(ph.doneq, ph_cur_settled(), timeout);
		spin_lock(&ph.lock);
	}
	if (state == PH_ACKED)
		ph_remember_acked(b);
	b->state = PH_IDLE;
	spin_unlock(&ph.lock);

	return state == PH_ACKED ? 0 : -EAGAIN;
}

/**
 * ph_report() - page_reporting_dev_info.report callback
 * @prdev: our device info
 * @sgl: chunks the core isolated, each at least of order prdev->order
 * @nents: entries in @sgl, at most PAGE_REPORTING_CAPACITY
 *
 * Publishes the chunks in batches of at most max_held_bytes, one after the
 * other, and waits for each to settle. Returns at once with an error when no
 * agent has the device open, reporting is off without a GIVE budget, the
 * guest is short of memory or the module is going away.
 *
 * Context: the core's delayed work (system_wq), process context, no locks
 * held; may sleep. One call at a time.
 * Return: 0 when the host discarded every chunk, so the core marks them
 * Reported; a negative errno otherwise, which ends the pass.
 */
static int ph_report(struct page_reporting_dev_info *prdev,
		     struct scatterlist *sgl, unsigned int nents)
{
	struct scatterlist *sg;
	unsigned int i, next = 0;
	u64 bytes = 0;
	int err;

	for_each_sg(sgl, sg, nents, i)
		bytes += sg->length;

	spin_lock(&ph.lock);
	ph.isolated_bytes = bytes;
	spin_unlock(&ph.lock);

	for (;;) {
		err = ph_publish(sgl, nents, &next);
		if (err <= 0)
			break;
		err = ph_settle();
		if (err)
			break;
	}

	/* Every chunk was discarded: they get marked Reported. */
	if (!err)
		ph_forget_acked(sgl, nents);

	spin_lock(&ph.lock);
	ph.isolated_bytes = 0;
	ph.returned_bytes = bytes;
	ph.returned_at = jiffies;
	spin_unlock(&ph.lock);
	wake_up_all(&ph.idleq);
	return err;
}

/* ---- registration with the reporting core --------------------------- */

/**
 * ph_register() - take the free page reporting hook
 * @prdev_order: the order to ask the core for (see "Chunk order")
 *
 * Sets ph.status to "active" or to the reason why not.
 *
 * Context: process context, reg_mutex held, not registered.
 * Return: 0 or a negative errno.
 */
static int ph_register(unsigned int prdev_order)
{
	int err;

	lockdep_assert_held(&ph.reg_mutex);

	/*
	 * With page poisoning, free pages hold a pattern that is checked when
	 * they are allocated; a discarded page reads back as zeroes and would
	 * be reported as memory corruption. (init_on_free is fine: it expects
	 * zeroes, which is what a discarded page reads back as.)
	 */
	if (page_poisoning_enabled()) {
		err = -EOPNOTSUPP;
		goto out_status;
	}

	ph.prdev.report = ph_report;
	ph.prdev.order = prdev_order;
	err = page_reporting_register(&ph.prdev);
	if (!err)
		ph.registered = true;

out_status:
	spin_lock(&ph.lock);
	if (err == -EOPNOTSUPP)
		snprintf(ph.status, sizeof(ph.status),
			 "inactive: page poisoning is on (page_poison=1); discarded pages would fail the poison check");
	else if (err == -EBUSY)
		snprintf(ph.status, sizeof(ph.status),
			 "inactive: the free page reporting hook is taken by another driver (virtio-balloon free page reporting?)");
	else if (err)
		snprintf(ph.status, sizeof(ph.status),
			 "inactive: page_reporting_register failed (%d)", err);
	else
		snprintf(ph.status, sizeof(ph.status), "active");
	spin_unlock(&ph.lock);
	return err;
}

/**
 * ph_unregister() - give the hook back
 *
 * Drops an unclaimed batch; a claimed one keeps page_reporting_unregister()
 * waiting until it settles (at most PAGEHINT_CLAIM_TIMEOUT_MS).
 *
 * Context: process context, reg_mutex held, registered; sleeps.
 */
static void ph_unregister(void)
{
	lockdep_assert_held(&ph.reg_mutex);

	spin_lock(&ph.lock);
	ph.flushing = true;
	ph_drop_locked();
	spin_unlock(&ph.lock);
	wake_up_all(&ph.doneq);

	/* Waits for a running pass, i.e. for ph_report() to return. */
	page_reporting_unregister(&ph.prdev);

	spin_lock(&ph.lock);
	ph.flushing = false;
	spin_unlock(&ph.lock);
	ph.registered = false;
	ph.nr_acked = 0;
}

/**
 * ph_kick() - start a full reporting pass now
 *
 * The core runs its pass from prdev.work, normally PAGE_REPORTING_DELAY
 * after a free. Running that work early is a pass like any other: the core
 * sets its own state when the work starts and ends, and a work item never
 * runs twice at once on one workqueue. Chunks that were released or timed
 * out are not marked Reported, so they are offered again.
 *
 * Context: process context, reg_mutex held (serialises with unregister).
 */
static void ph_kick(void)
{
	lockdep_assert_held(&ph.reg_mutex);

	if (ph.registered)
		mod_delayed_work(system_wq, &ph.prdev.work, 0);
}

/* ---- the chunk order --------------------------------------------------- */

/*
 * page_reporting_order is neither exported nor in a header; the kernel
 * publishes it as this parameter, 0644 (see "Chunk order" above).
 */
#define PH_CORE_ORDER_PARAM "/sys/module/page_reporting/parameters/page_reporting_order"

/**
 * ph_core_order() - the smallest order the reporting core hands over
 * @ret_order: set on success
 *
 * Context: process context; sleeps. Needs sysfs mounted at /sys.
 * Return: 0; -ENOENT while no device has registered since boot (the core's
 * order is still unset and the next registration sets it); another negative
 * errno if the parameter cannot be read.
 */
static int ph_core_order(unsigned int *ret_order)
{
	char buf[16] = "";
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	int val, err;

	f = filp_open(PH_CORE_ORDER_PARAM, O_RDONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
	filp_close(f, NULL);
	if (n < 0)
		return n;
	err = kstrtoint(buf, 10, &val);
	if (err)
		return err;
	if (val < 0)
		return -ENOENT;
	if (val >= MAX_ORDER)
		return -ERANGE;
	*ret_order = val;
	return 0;
}

/**
 * ph_adopt_core_order() - never announce chunks finer than the core's
 *
 * A core that settled on a higher order (an earlier registration with
 * another order, page_reporting.page_reporting_order= on the command line
 * or in sysfs) hands over nothing below it: that is the real granularity.
 *
 * Context: process context, reg_mutex held, registered; sleeps.
 */
static void ph_adopt_core_order(void)
{
	unsigned int core;

	lockdep_assert_held(&ph.reg_mutex);

	if (ph_core_order(&core) || core <= ph.order)
		return;
	pr_warn("the reporting core hands over chunks of order %u and up (page_reporting_order): publishing those, not order %u\n",
		core, ph.order);
	spin_lock(&ph.lock);
	ph.order = core;
	ph_drop_locked();	/* it has the old granularity */
	spin_unlock(&ph.lock);
	wake_up_all(&ph.doneq);
}

/**
 * ph_core_reregister() - register again so that the core's order is @want
 * @want: the order to ask the core for
 *
 * Context: process context, reg_mutex held, registered; sleeps.
 * Return: 0 (the core's order may still differ: see "Chunk order"); -EBUSY
 * if a claimed batch is in flight; another negative errno if the hook could
 * not be taken again (ph.status says why).
 */
static int ph_core_reregister(unsigned int want)
{
	bool claimed;

	lockdep_assert_held(&ph.reg_mutex);

	/*
	 * Unregistering waits for ph_report(), i.e. for a claimed batch to be
	 * acked, most likely by the very agent that is waiting in write().
	 */
	spin_lock(&ph.lock);
	claimed = ph.cur.state == PH_CLAIMED;
	spin_unlock(&ph.lock);
	if (claimed)
		return -EBUSY;

	ph_unregister();
	if (ph_register(want))
		return -EIO;
	ph_kick();
	return 0;
}

/**
 * ph_reach_order() - make the core hand over chunks of @new_order
 * @new_order: lower than ph.order
 * @why: set to the reason on failure
 * @size: of @why
 *
 * If the core's order is higher, registers again asking for @new_order and
 * reads the core's order back (see "Chunk order").
 *
 * Context: process context, reg_mutex held; sleeps.
 * Return: 0; -EOPNOTSUPP if the core does not hand over chunks that small;
 * -EBUSY if a claimed batch is in flight; another negative errno if the
 * hook could not be taken again (ph.status says why).
 */
static int ph_reach_order(unsigned int new_order, char *why, size_t size)
{
	unsigned int core;
	int err;

	lockdep_assert_held(&ph.reg_mutex);

	err = ph_core_order(&core);
	if (err == -ENOENT || (!err && core <= new_order))
		return 0;	/* -ENOENT: our next registration sets it */
	if (err || !ph.registered)
		goto out_refuse;

	err = ph_core_reregister(new_order);
	if (err == -EBUSY) {
		snprintf(why, size,
			 "order %u not carried out now: a batch the host claimed is in flight; try again once it is acked",
			 new_order);
		return err;
	}
	if (err) {
		snprintf(why, size, "order %u: registering again failed: %s",
			 new_order, ph.status);
		return err;
	}
	err = ph_core_order(&core);
	if (!err && core <= new_order)
		return 0;

out_refuse:
	if (err)
		snprintf(why, size,
			 "order %u refused: the reporting core's order cannot be read from %s (%d)",
			 new_order, PH_CORE_ORDER_PARAM, err);
	else
		snprintf(why, size,
			 "order %u refused: the kernel reports free chunks of order %u and up; lower %s first",
			 new_order, core, PH_CORE_ORDER_PARAM);
	return -EOPNOTSUPP;
}

/**
 * ph_leave_lower_order() - have the core stop handing over chunks below ph.order
 *
 * After a higher ORDER, the core may still hand over smaller chunks (it was
 * lowered for an earlier, finer ORDER). ph_publish() skips them, and when
 * the rest of their scatterlist was discarded the core marks them Reported
 * too: they stay backed on the host, yet no later pass offers them - not
 * even at a finer order - until they merge into a larger chunk. Registering
 * again at ph.order raises the core's order where the kernel follows
 * registrations (Debian's 6.1 does). Not while a claimed batch is in flight:
 * then ph.core_low stays set and the next GIVE or ORDER tries again.
 *
 * Context: process context, reg_mutex held; sleeps.
 */
static void ph_leave_lower_order(void)
{
	unsigned int core;

	lockdep_assert_held(&ph.reg_mutex);

	ph.core_low = false;
	if (!ph.registered || ph_core_order(&core) || core >= ph.order)
		return;
	if (ph_core_reregister(ph.order) == -EBUSY)
		ph.core_low = true;
}

/**
 * ph_set_order() - publish chunks of at least @new_order from now on
 * @new_order: 1 .. MAX_ORDER - 1
 *
 * A lower order needs the core to hand over chunks that small:
 * ph_reach_order(). A higher one takes effect at once (ph_publish() skips
 * the smaller chunks), and ph_leave_lower_order() raises the core's order
 * with it. The reason of a refusal goes to order_error in sysfs and to the
 * log. An unclaimed batch is dropped (it has the old granularity); a
 * claimed one settles with the granularity it was published with.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL (out of range), or an error of ph_reach_order().
 */
static int ph_set_order(unsigned int new_order)
{
	char why[sizeof(ph.order_error)] = "";
	int err = 0;

	mutex_lock(&ph.reg_mutex);
	if (!new_order || new_order >= MAX_ORDER) {
		snprintf(why, sizeof(why), "order %u refused: must be 1..%u",
			 new_order, MAX_ORDER - 1);
		err = -EINVAL;
	} else if (new_order < ph.order) {
		err = ph_reach_order(new_order, why, sizeof(why));
	}

	spin_lock(&ph.lock);
	memcpy(ph.order_error, why, sizeof(why));
	if (!err && new_order != ph.order) {
		ph.order = new_order;
		ph_drop_locked();
	}
	spin_unlock(&ph.lock);

	if (err) {
		pr_warn_ratelimited("%s\n", why);
	} else {
		wake_up_all(&ph.doneq);
		ph_leave_lower_order();
		ph_kick();
	}
	mutex_unlock(&ph.reg_mutex);
	return err;
}

/* ---- letting go when the guest runs short ---------------------------- */

/**
 * ph_let_go() - the guest is short of memory: give back what we may
 *
 * Drops the unclaimed batch, so the whole scatterlist goes back to the free
 * lists as soon as ph_report() returns, and publishes nothing for
 * PH_PRESSURE_BACKOFF. A claimed batch cannot be taken back (the host may be
 * discarding it); it settles within PAGEHINT_CLAIM_TIMEOUT_MS.
 *
 * Context: process context, any reclaim context; does not sleep.
 * Return: pages that go back.
 */
static unsigned long ph_let_go(void)
{
	unsigned long pages;

	spin_lock(&ph.lock);
	ph.pressure_until = jiffies + PH_PRESSURE_BACKOFF;
	pages = ph_drop_locked();
	spin_unlock(&ph.lock);
	if (pages)
		wake_up_all(&ph.doneq);
	return pages;
}

/*
 * The shrinker is how reclaim tells us the guest runs short: kswapd calls it
 * once a zone falls below its low watermark, and so does every direct
 * reclaim, before the OOM killer is considered. seeks = 0 means "cheap to
 * recreate": it is asked to scan at once instead of at low priority only.
 */
static unsigned long ph_shrink_count(struct shrinker *shrinker,
				     struct shrink_control *sc)
{
	unsigned long pages = 0;

	spin_lock(&ph.lock);
	if (ph_unclaimed(ph.cur.state))
		pages = ph.isolated_bytes >> PAGE_SHIFT;
	spin_unlock(&ph.lock);
	return pages ? pages : SHRINK_EMPTY;
}

static unsigned long ph_shrink_scan(struct shrinker *shrinker,
				    struct shrink_control *sc)
{
	unsigned long pages = ph_let_go();

	return pages ? pages : SHRINK_STOP;
}

/*
 * Last resort before a process is killed: let an unclaimed batch go and wait
 * until ph_report() has handed the chunks back. A claimed batch cannot be
 * taken back (the host may be discarding it), but it settles by ACK or
 * RELEASE while the host runs, and the agent releases it as soon as the
 * host's end is gone: waiting for it beats a kill (see PH_OOM_CLAIM_WAIT).
 * The core puts the chunks on the free lists just after ph_report() returns,
 * so the allocation's retry may come too early: a return within PH_OOM_DRAIN
 * still counts as freed, or that retry would let the OOM killer in after all.
 */
static int ph_oom_notify(struct notifier_block *nb, unsigned long unused,
			 void *parm)
{
	unsigned long *freed = parm;
	unsigned long wait = PH_OOM_WAIT;
	u64 returned = 0;

	ph_let_go();
	spin_lock(&ph.lock);
	if (ph.cur.state == PH_CLAIMED) {
		if (ph.cur.uapi.id != ph.oom_waited_id) {
			ph.oom_waited_id = ph.cur.uapi.id;
			ph.oom_claim_waits++;
			wait = PH_OOM_CLAIM_WAIT;
		} else {
			wait = 0;	/* waited for it once: the host hangs */
		}
	}
	spin_unlock(&ph.lock);
	if (READ_ONCE(ph.isolated_bytes) &&
	    !wait_event_timeout(ph.idleq, !READ_ONCE(ph.isolated_bytes), wait))
		return NOTIFY_OK;	/* still out: a hung host */

	spin_lock(&ph.lock);
	if (ph.returned_bytes &&
	    time_before(jiffies, ph.returned_at + PH_OOM_DRAIN))
		returned = ph.returned_bytes;
	spin_unlock(&ph.lock);
	*freed += returned >> PAGE_SHIFT;
	return NOTIFY_OK;
}

/* ---- /dev/pagehint --------------------------------------------------- */

/**
 * ph_open() - one agent at a time
 * @inode: device inode
 * @file: the new open file
 *
 * Retries the registration if the hook was taken at load time, and starts a
 * pass at once so that free memory is reported without waiting for a free.
 *
 * Return: 0; -EBUSY if the device is open already or the hook is taken;
 * -EOPNOTSUPP with page poisoning on.
 */
static int ph_open(struct inode *inode, struct file *file)
{
	int err = 0;

	mutex_lock(&ph.reg_mutex);
	if (!ph.registered) {
		err = ph_register(ph.order);
		if (err)
			goto out_unlock;
		pr_info("free page reporting hook taken; active\n");
	}
	/* The core's order may have been raised since (sysfs). */
	ph_adopt_core_order();

	spin_lock(&ph.lock);
	if (ph.open)
		err = -EBUSY;
	else
		ph.open = true;
	spin_unlock(&ph.lock);

	if (!err)
		ph_kick();
out_unlock:
	mutex_unlock(&ph.reg_mutex);
	if (err)
		return err;
	return stream_open(inode, file);
}

static int ph_release(struct inode *inode, struct file *file)
{
	spin_lock(&ph.lock);
	ph.open = false;
	/* A claimed batch stays until ACK, RELEASE or its claim timeout. */
	ph_drop_locked();
	spin_unlock(&ph.lock);
	wake_up_all(&ph.doneq);
	return 0;
}

/* Context: ph.lock held. */
static bool ph_readable_locked(void)
{
	return ph.cur.state == PH_QUEUED &&
	       time_before(jiffies, ph.cur.deadline);
}

static bool ph_readable(void)
{
	bool ret;

	spin_lock(&ph.lock);
	ret = ph_readable_locked();
	spin_unlock(&ph.lock);
	return ret;
}

/*
 * read(), poll() and write() run in process context and take ph.lock only;
 * read() sleeps (interruptibly) until a batch is queued unless O_NONBLOCK.
 */
static ssize_t ph_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct pagehint_batch batch;
	int err;

	if (count < sizeof(batch))
		return -EINVAL;

	for (;;) {
		spin_lock(&ph.lock);
		if (ph_readable_locked()) {
			batch = ph.cur.uapi;
			ph.cur.state = PH_REPORTED;
			spin_unlock(&ph.lock);
			break;
		}
		spin_unlock(&ph.lock);

		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(ph.readq, ph_readable());
		if (err)
			return err;
	}

	/* On a fault the batch just expires unclaimed. */
	if (copy_to_user(buf, &batch, sizeof(batch)))
		return -EFAULT;
	return sizeof(batch);
}

static __poll_t ph_poll(struct file *file, poll_table *wait)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &ph.readq, wait);
	if (ph_readable())
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* CLAIM, ACK, RELEASE. Context: process context; takes ph.lock. */
static int ph_cmd_batch(const struct pagehint_cmd *cmd)
{
	struct ph_batch *b = &ph.cur;
	int err = 0;

	spin_lock(&ph.lock);
	if (b->state == PH_IDLE || ph_settled(b->state) || b->uapi.id != cmd->id) {
		err = -ENOENT;
		goto out_unlock;
	}

	switch (cmd->op) {
	case PAGEHINT_CMD_CLAIM:
		if (b->state == PH_CLAIMED)
			break;
		/* Expiry is up to the worker; the ttl still counts here. */
		if (time_after_eq(jiffies, b->deadline)) {
			err = -ENOENT;
			break;
		}
		b->state = PH_CLAIMED;
		b->deadline = jiffies +
			      msecs_to_jiffies(PAGEHINT_CLAIM_TIMEOUT_MS);
		break;
	case PAGEHINT_CMD_ACK:
		/* The host discards claimed batches only. */
		if (b->state != PH_CLAIMED) {
			err = -EINVAL;
			break;
		}
		b->state = PH_ACKED;
		ph.acked_bytes += b->bytes;
		break;
	case PAGEHINT_CMD_RELEASE:
		b->state = PH_RELEASED;
		ph.released_bytes += b->bytes;
		break;
	}
out_unlock:
	spin_unlock(&ph.lock);
	if (!err && cmd->op != PAGEHINT_CMD_CLAIM)
		wake_up_all(&ph.doneq);
	return err;
}

static int ph_cmd_reporting(u64 on)
{
	if (on > 1)
		return -EINVAL;

	spin_lock(&ph.lock);
	ph.continuous = on;
	if (!on)
		ph_drop_locked();
	spin_unlock(&ph.lock);
	wake_up_all(&ph.doneq);

	if (on) {
		mutex_lock(&ph.reg_mutex);
		ph_kick();
		mutex_unlock(&ph.reg_mutex);
	}
	return 0;
}

static int ph_cmd_give(u64 bytes)
{
	spin_lock(&ph.lock);
	ph.give_bytes = bytes;
	spin_unlock(&ph.lock);

	mutex_lock(&ph.reg_mutex);
	if (ph.core_low)
		ph_leave_lower_order();
	ph_kick();
	mutex_unlock(&ph.reg_mutex);
	return 0;
}

static int ph_cmd_ttl(u64 ms)
{
	if (ms < PH_TTL_MIN_MS || ms > PH_TTL_MAX_MS)
		return -EINVAL;

	spin_lock(&ph.lock);
	ph.ttl_ms = ms;		/* for batches published from now on */
	spin_unlock(&ph.lock);
	return 0;
}

static ssize_t ph_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct pagehint_cmd cmd;
	int err;

	if (count != sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(&cmd, buf, sizeof(cmd)))
		return -EFAULT;

	switch (cmd.op) {
	case PAGEHINT_CMD_CLAIM:
	case PAGEHINT_CMD_ACK:
	case PAGEHINT_CMD_RELEASE:
		err = ph_cmd_batch(&cmd);
		break;
	case PAGEHINT_CMD_REPORTING:
		err = ph_cmd_reporting(cmd.arg);
		break;
	case PAGEHINT_CMD_ORDER:
		err = ph_set_order(min_t(u64, cmd.arg, UINT_MAX));
		break;
	case PAGEHINT_CMD_TTL:
		err = ph_cmd_ttl(cmd.arg);
		break;
	case PAGEHINT_CMD_GIVE:
		err = ph_cmd_give(cmd.arg);
		break;
	default:
		err = -EINVAL;
		break;
	}
	return err ? err : sizeof(cmd);
}

static const struct file_operations ph_fops = {
	.owner		= THIS_MODULE,
	.open		= ph_open,
	.release	= ph_release,
	.read		= ph_read,
	.write		= ph_write,
	.poll		= ph_poll,
	.llseek		= no_llseek,
};

static struct miscdevice ph_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "pagehint",
	.fops	= &ph_fops,
	.mode	= 0600,
};

/* ---- /sys/kernel/pagehint -------------------------------------------- */

struct ph_page_states {
	u64 unused, volatile_, stable, mlocked;	/* bytes */
};

/*
 * unused:   free pages, plus the chunks pagehint holds off the free lists.
 * volatile: clean page cache: the file LRU lists less dirty and writeback
 *           pages. Mlocked pages live on the unevictable list, so they are
 *           not on the file LRU in the first place (nor are ramfs pages).
 * stable:   everything else (anonymous, shmem, dirty, kernel); mlocked is a
 *           part of it. unused + volatile + stable = MemTotal.
 */
static void ph_page_states(struct ph_page_states *s)
{
	unsigned long total = totalram_pages();
	unsigned long unused, file, dirty, clean;

	unused = global_zone_page_state(NR_FREE_PAGES) +
		 (READ_ONCE(ph.isolated_bytes) >> PAGE_SHIFT);
	file = global_node_page_state(NR_ACTIVE_FILE) +
	       global_node_page_state(NR_INACTIVE_FILE);
	dirty = global_node_page_state(NR_FILE_DIRTY) +
		global_node_page_state(NR_WRITEBACK);
	clean = file > dirty ? file - dirty : 0;

	unused = min(unused, total);
	clean = min(clean, total - unused);
	s->unused = (u64)unused << PAGE_SHIFT;
	s->volatile_ = (u64)clean << PAGE_SHIFT;
	s->stable = (u64)(total - unused - clean) << PAGE_SHIFT;
	s->mlocked = (u64)global_zone_page_state(NR_MLOCK) << PAGE_SHIFT;
}

static ssize_t status_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	char status[sizeof(ph.status)];

	spin_lock(&ph.lock);
	memcpy(status, ph.status, sizeof(status));
	spin_unlock(&ph.lock);
	return sysfs_emit(buf, "%s\n", status);
}

/* A u64 read under ph.lock, one attribute each. */
#define PH_ATTR_LOCKED(name, expr)					\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	u64 val;							\
									\
	spin_lock(&ph.lock);						\
	val = (expr);							\
	spin_unlock(&ph.lock);						\
	return sysfs_emit(buf, "%llu\n", val);				\
}									\
static struct kobj_attribute name##_attr = __ATTR_RO(name)

PH_ATTR_LOCKED(reported_bytes, ph.reported_bytes);
PH_ATTR_LOCKED(acked_bytes, ph.acked_bytes);
PH_ATTR_LOCKED(released_bytes, ph.released_bytes);
PH_ATTR_LOCKED(timed_out_bytes, ph.timed_out_bytes);
PH_ATTR_LOCKED(dropped_bytes, ph.dropped_bytes);
PH_ATTR_LOCKED(below_order_bytes, ph.below_order_bytes);
PH_ATTR_LOCKED(held_bytes,
	       ph.cur.state != PH_IDLE && !ph_settled(ph.cur.state) ?
	       ph.cur.bytes : 0);
PH_ATTR_LOCKED(isolated_bytes, ph.isolated_bytes);
PH_ATTR_LOCKED(order, ph.order);
PH_ATTR_LOCKED(ttl_ms, ph.ttl_ms);
PH_ATTR_LOCKED(max_held_bytes, max_held_bytes);
PH_ATTR_LOCKED(reporting, ph.continuous);
PH_ATTR_LOCKED(give_bytes, ph.continuous ? 0 : ph.give_bytes);
PH_ATTR_LOCKED(agent, ph.open);
PH_ATTR_LOCKED(oom_claim_waits, ph.oom_claim_waits);

#define PH_ATTR_STATE(name, field)					\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	struct ph_page_states s;					\
									\
	ph_page_states(&s);						\
	return sysfs_emit(buf, "%llu\n", s.field);			\
}									\
static struct kobj_attribute name##_attr = __ATTR_RO(name)

PH_ATTR_STATE(unused_bytes, unused);
PH_ATTR_STATE(volatile_bytes, volatile_);
PH_ATTR_STATE(stable_bytes, stable);
PH_ATTR_STATE(mlocked_bytes, mlocked);

static struct kobj_attribute status_attr = __ATTR_RO(status);

/* Why the last ORDER was refused; empty after one that was carried out. */
static ssize_t order_error_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	char why[sizeof(ph.order_error)];

	spin_lock(&ph.lock);
	memcpy(why, ph.order_error, sizeof(why));
	spin_unlock(&ph.lock);
	return sysfs_emit(buf, "%s\n", why);
}
static struct kobj_attribute order_error_attr = __ATTR_RO(order_error);

static struct attribute *ph_attrs[] = {
	&status_attr.attr,
	&reported_bytes_attr.attr,
	&acked_bytes_attr.attr,
	&released_bytes_attr.attr,
	&timed_out_bytes_attr.attr,
	&dropped_bytes_attr.attr,
	&below_order_bytes_attr.attr,
	&held_bytes_attr.attr,
	&isolated_bytes_attr.attr,
	&order_attr.attr,
	&order_error_attr.attr,
	&ttl_ms_attr.attr,
	&max_held_bytes_attr.attr,
	&reporting_attr.attr,
	&give_bytes_attr.attr,
	&agent_attr.attr,
	&oom_claim_waits_attr.attr,
	&unused_bytes_attr.attr,
	&volatile_bytes_attr.attr,
	&stable_bytes_attr.attr,
	&mlocked_bytes_attr.attr,
	NULL,
};

static const struct attribute_group ph_attr_group = {
	.attrs = ph_attrs,
};

/* ---- module ---------------------------------------------------------- */

/*
 * The core starts a pass PAGE_REPORTING_DELAY (2 s) after a free and takes
 * at most PAGE_REPORTING_CAPACITY chunks per order a pass, then waits again.
 * A guest that frees hundreds of MiB at once would wait seconds for its
 * hints. The watch reads the free page counter every PH_WATCH_MS and starts
 * a pass once PH_WATCH_BYTES more are free than when it last kicked, and
 * still are at the next look: memory a program frees and takes again at
 * once (an allocate/free loop) is left alone, as the core's delay would,
 * instead of being discarded and faulted back in. Chunks coming back from a
 * batch raise the counter too, so the next pass follows the last one
 * without the core's delay.
 */
#define PH_WATCH_MS	250
#define PH_WATCH_BYTES	(32UL << 20)

static struct delayed_work ph_watch;
static unsigned long ph_watch_base;	/* free pages at the last kick (watch only) */
static bool ph_watch_seen;		/* the rise was there at the last look too */

static void ph_watch_fn(struct work_struct *work)
{
	unsigned long free = global_zone_page_state(NR_FREE_PAGES);
	bool wanted;

	spin_lock(&ph.lock);
	wanted = ph.open && ph.continuous;
	spin_unlock(&ph.lock);

	if (free < ph_watch_base || !wanted) {
		ph_watch_base = free;
		ph_watch_seen = false;
	} else if (free - ph_watch_base < (PH_WATCH_BYTES >> PAGE_SHIFT)) {
		ph_watch_seen = false;
	} else if (!ph_watch_seen) {
		ph_watch_seen = true;
	} else {
		mutex_lock(&ph.reg_mutex);
		ph_kick();
		mutex_unlock(&ph.reg_mutex);
		ph_watch_base = free;
		ph_watch_seen = false;
	}
	schedule_delayed_work(&ph_watch, msecs_to_jiffies(PH_WATCH_MS));
}

/*
 * Refusal: with page poisoning on, or with the hook taken, the module loads
 * but stays inactive: status says why, pr_err says it once, and open()
 * fails (-EOPNOTSUPP, -EBUSY). A taken hook is tried again on every open().
 */
static int __init ph_init(void)
{
	int err;

	if (!order || order >= MAX_ORDER) {
		pr_err("order=%u: must be 1..%u\n", order, MAX_ORDER - 1);
		return -EINVAL;
	}
	if (ttl_ms < PH_TTL_MIN_MS || ttl_ms > PH_TTL_MAX_MS) {
		pr_err("ttl_ms=%u: must be %u..%u\n", ttl_ms, PH_TTL_MIN_MS,
		       PH_TTL_MAX_MS);
		return -EINVAL;
	}
	if (max_held_bytes < PH_MAX_CHUNK) {
		pr_err("max_held_bytes=%lu: smaller than the largest chunk (%lu)\n",
		       max_held_bytes, PH_MAX_CHUNK);
		return -EINVAL;
	}

	mutex_init(&ph.reg_mutex);
	spin_lock_init(&ph.lock);
	init_waitqueue_head(&ph.readq);
	init_waitqueue_head(&ph.doneq);
	init_waitqueue_head(&ph.idleq);
	ph.order = order;
	ph.ttl_ms = ttl_ms;
	ph.continuous = reporting;
	snprintf(ph.status, sizeof(ph.status), "inactive: starting");

	ph.kobj = kobject_create_and_add("pagehint", kernel_kobj);
	if (!ph.kobj)
		return -ENOMEM;
	err = sysfs_create_group(ph.kobj, &ph_attr_group);
	if (err)
		goto err_put_kobj;

	mutex_lock(&ph.reg_mutex);
	if (ph_register(ph.order))
		pr_err("%s\n", ph.status);
	else
		ph_adopt_core_order();
	mutex_unlock(&ph.reg_mutex);

	ph.shrinker.count_objects = ph_shrink_count;
	ph.shrinker.scan_objects = ph_shrink_scan;
	ph.shrinker.seeks = 0;
	err = register_shrinker(&ph.shrinker, "pagehint");
	if (err)
		goto err_unregister_reporting;

	ph.oom_nb.notifier_call = ph_oom_notify;
	err = register_oom_notifier(&ph.oom_nb);
	if (err)
		goto err_unregister_shrinker;

	err = misc_register(&ph_misc);
	if (err)
		goto err_unregister_oom;

	INIT_DELAYED_WORK(&ph_watch, ph_watch_fn);
	ph_watch_base = global_zone_page_state(NR_FREE_PAGES);
	schedule_delayed_work(&ph_watch, msecs_to_jiffies(PH_WATCH_MS));

	pr_info("loaded: chunks of order %u, ttl %u ms, at most %lu bytes held, %s\n",
		ph.order, ph.ttl_ms, max_held_bytes,
		ph.continuous ? "continuous" : "on demand");
	return 0;

err_unregister_oom:
	unregister_oom_notifier(&ph.oom_nb);
err_unregister_shrinker:
	unregister_shrinker(&ph.shrinker);
err_unregister_reporting:
	mutex_lock(&ph.reg_mutex);
	if (ph.registered)
		ph_unregister();
	mutex_unlock(&ph.reg_mutex);
	sysfs_remove_group(ph.kobj, &ph_attr_group);
err_put_kobj:
	kobject_put(ph.kobj);
	return err;
}

/*
 * The device cannot be open here (it pins the module). An unclaimed batch
 * goes back at once; a claimed one, left by an agent that went away, is held
 * until it settles: the host may still be discarding it.
 */
static void __exit ph_exit(void)
{
	misc_deregister(&ph_misc);
	/* Before reg_mutex: the watch takes it. */
	cancel_delayed_work_sync(&ph_watch);

	mutex_lock(&ph.reg_mutex);
	if (ph.registered) {
		if (READ_ONCE(ph.cur.state) == PH_CLAIMED)
			pr_info("waiting for claimed batch %u (at most %u ms)\n",
				ph.cur.uapi.id, PAGEHINT_CLAIM_TIMEOUT_MS);
		ph_unregister();
	}
	mutex_unlock(&ph.reg_mutex);

	unregister_oom_notifier(&ph.oom_nb);
	unregister_shrinker(&ph.shrinker);
	sysfs_remove_group(ph.kobj, &ph_attr_group);
	kobject_put(ph.kobj);
}

module_init(ph_init);
module_exit(ph_exit);

MODULE_DESCRIPTION("Unused page hints for the host: /dev/pagehint");
MODULE_LICENSE("GPL");
