/* pacing.h - when hintd decides, asks and listens: pure decisions.
 *
 * Policy says what to reclaim; pacing says when. It gates policy while a
 * VM's agent settles, asks guests for a report pass of their free memory
 * (the "give" command), and sets the tick's and the guests' stats pace.
 * Nothing here reads a clock, a file or a library: callers pass the model
 * (model.h), what pacing remembers per VM, and the time (CLOCK_MONOTONIC
 * microseconds, as everywhere in the model). Callers keep the I/O: whether
 * an agent is there to send to, and --dry-run, which sends nothing. */
#ifndef HINTD_PACING_H
#define HINTD_PACING_H

#include "macro.h"
#include "model.h"

/* A guest with an agent channel gets this long to send its stats before
 * policy decides about it: without its hints and cache, the balloon would
 * be the only rung left. */
#define AGENT_SETTLE_USEC (5 * USEC_PER_SEC)
/* A guest with this much free memory still backed is asked to report it at
 * once, at most every GIVE_INTERVAL_USEC: the kernel reports free memory
 * 2 s after it appears, and at most 32 chunks per order per pass. */
#define GIVE_MIN_BYTES MiB(32)
/* ...once it has stayed free that long: memory a program frees and takes
 * again at once is not worth discarding and faulting back in. */
#define GIVE_SETTLE_USEC (1 * USEC_PER_SEC)
#define GIVE_INTERVAL_USEC (1 * USEC_PER_SEC)
/* While the host reclaims or a balloon is inflated, a guest may start
 * allocating at any moment: tick and hear from ballooned guests faster. */
#define FAST_TICK_USEC (250 * USEC_PER_MSEC)
#define FAST_STATS_MS 250
#define NORMAL_STATS_MS 1000

/* What pacing remembers about one VM. The caller keeps one per VM, zeroed
 * when it starts managing the VM, and writes the fields marked "caller". */
struct pacing_vm {
	usec_t added;		/* caller: when hintd started managing the VM */
	bool agent_stats;	/* caller: true when the agent sends stats, false
				 * again when its connection goes */
	usec_t unused_since;	/* pacing_note_unused(): unused_backed has been
				 * >= GIVE_MIN_BYTES since; 0 = it is not */
	usec_t give_sent;	/* caller: when a report pass was last sent; 0 = never */
	usec_t compact_sent;	/* caller: when a pass with compaction was sent */
	usec_t granularity_sent;	/* caller: when a granularity was last asked */
	uint64_t compact_unused;	/* caller: unused_backed then */
	uint64_t backed_last;	/* pacing_note_backed(): backing at the last sample */
	uint64_t punched_since;	/* pacing_pay_refill(): freed by punches since */
	uint64_t refill_debt;	/* pacing_note_backed(): see there */
	usec_t reclaiming_seen;	/* pacing_note_reclaiming(): the last tick the host
				 * needed memory; 0 = never */
	usec_t unused_seen;	/* pacing_note_unused(): the last time unused_backed
				 * was >= GIVE_MIN_BYTES; 0 = never */
	usec_t scattered_since;	/* pacing_note_unused(): unused_backed has been
				 * >= SCATTERED_MIN_BYTES since; 0 = it is not */
	usec_t held_window;	/* pacing_note_unused(): when the current window
				 * of HELD_WINDOW_USEC began */
	uint64_t held_low, held_low_prev;	/* pacing_note_unused(): the lowest
				 * unused_backed in this window and the one before */
	usec_t cold_basis_at;	/* pacing_note_drop(): when cold_basis was taken */
	uint64_t cold_basis;	/* pacing_note_drop(): cold cache before the drops */
	uint64_t cold_asked;	/* pacing_note_drop(): what they asked since */
};

/* ---- settling ----------------------------------------------------------- */

/* True while vm is settling: it has an agent channel (vm->agent is not
 * AGENT_ABSENT), that agent has not sent stats (p->agent_stats false), and
 * hintd started managing it less than AGENT_SETTLE_USEC before now. Policy
 * must not see a settling VM: leave it out of the vms[] given to
 * policy_decide(), and count it for pacing_hold_plan(). */
bool pacing_settling(const struct vm_state *vm, const struct pacing_vm *p, usec_t now);

/* True when no plan at all may be made this tick: n_settling VMs are
 * settling and libvirt was (re)connected less than AGENT_SETTLE_USEC before
 * now, so every agent is still being waited for (reclaiming now would take
 * it all from the balloons). Then reason gets "waiting for N agent(s) to
 * connect" (truncated to reason_size, which must be > 0). Otherwise
 * returns false and leaves reason alone. */
bool pacing_hold_plan(size_t n_settling, usec_t connected, usec_t now, char *reason,
		      size_t reason_size);

/* ---- report passes (give) ----------------------------------------------- */

/* Bytes free in the guest yet still backed on the host: at least
 * free - (max_memory - backed), when that is positive and the unused rung
 * can take them (agent connected, module, discard-capable, guest stats
 * valid); else 0. The caller stores it in vm->unused_backed after
 * collecting backed and the guest's stats. */
uint64_t pacing_unused_backed(const struct vm_state *vm);

/* Follows unused_backed from tick to tick: p->unused_since becomes 0 when
 * unused_backed < GIVE_MIN_BYTES, and now when it reaches GIVE_MIN_BYTES
 * (kept while it stays there); p->unused_seen is now whenever it is there;
 * p->scattered_since is the same at SCATTERED_MIN_BYTES. Call once per collection, after
 * pacing_unused_backed(). */
void pacing_note_unused(struct pacing_vm *p, uint64_t unused_backed, usec_t now);

/* The part of unused_backed on its way back: the kernel reports free memory
 * ~2 s after it appears, so what is new comes with the next passes. What
 * stayed backed through the whole of the last window of HELD_WINDOW_USEC
 * and the current one (the lower of their lowest unused_backed; windows
 * follow each other from the first pacing_note_unused()) had its passes
 * and lies in pieces they do not return: counted as coming, it would stand
 * in for a cache drop that never happens. */
#define HELD_WINDOW_USEC (2500 * USEC_PER_MSEC)
uint64_t pacing_unused_coming(const struct pacing_vm *p, uint64_t unused_backed);

/* At a tick, applying the plan's ACTION_HINTS for this VM: the bytes to ask
 * the guest to report now (HINT_CMD_GIVE), or 0 for none. Non-zero only
 * when accept (the action's accept), unused_backed has stayed
 * >= GIVE_MIN_BYTES for GIVE_SETTLE_USEC (p->unused_since set and at least
 * that old) — while the host needs memory (reclaiming), >= SCATTERED_MIN_BYTES
 * (p->scattered_since: what a drop leaves scattered is often less than
 * GIVE_MIN_BYTES, and finer hints or compaction come with a pass) — and
 * the last pass was asked for GIVE_INTERVAL_USEC ago or more; then it is
 * unused_backed. When the caller sends it, it sets
 * p->give_sent = now. */
uint64_t pacing_give_on_tick(const struct pacing_vm *p, bool accept, bool reclaiming,
			     uint64_t unused_backed, usec_t now);

/* Free memory the passes do not bring back lies in pieces smaller than the
 * granularity (after a guest dropped its caches, say). Finer hints return
 * such pieces without moving anything (pacing_granularity()); what is left
 * once the hints are as fine as they get (finest: FINE_GRANULARITY, or the
 * guest cannot go finer) lies in single pages between used ones, and only
 * compaction makes blocks of it, at the cost of moving pages into memory
 * already discarded (pacing_note_backed()). So while the host needs memory
 * (reclaiming), the hints are finest, unused_backed has stayed >=
 * SCATTERED_MIN_BYTES for COMPACT_AFTER_USEC and the granularity was last
 * asked for (p->granularity_sent) that long ago, the next pass asks the
 * guest to compact first; at most every COMPACT_INTERVAL_USEC (compaction
 * costs the guest CPU time), unless unused_backed has grown by
 * GIVE_MIN_BYTES since the last one (pieces that were not there to compact
 * then), and then no sooner than COMPACT_AFTER_USEC after it. When the
 * caller sends it, it sets p->compact_sent = now and p->compact_unused =
 * unused_backed. With no host pressure only for a guest that is to shrink
 * to its working set anyway (proactive: Proactive=yes): once unused_backed
 * has stayed >= GIVE_MIN_BYTES for COMPACT_AT_REST_AFTER_USEC (the fine
 * hints at rest had their time), at most every COMPACT_AT_REST_INTERVAL_USEC. */
#define COMPACT_AFTER_USEC (2 * USEC_PER_SEC)
#define COMPACT_INTERVAL_USEC (15 * USEC_PER_SEC)
#define COMPACT_AT_REST_AFTER_USEC (20 * USEC_PER_SEC)
#define COMPACT_AT_REST_INTERVAL_USEC (60 * USEC_PER_SEC)
bool pacing_compact(const struct pacing_vm *p, bool reclaiming, bool proactive, bool finest,
		    uint64_t unused_backed, usec_t now);

/* True when hints of current granularity are as fine as pacing asks for:
 * FINE_GRANULARITY or finer, or a backing whose pages are larger (finer
 * hints would free nothing there). */
bool pacing_hints_finest(uint64_t current, uint64_t page_size);

/* Compaction moves the guest's pages into free memory the host had
 * discarded: the backing grows by what it moved, and the pages it moved
 * from are free and discarded later, which returns nothing new. So while
 * COMPACT_REFILL_USEC after a compaction was asked, pacing_note_backed()
 * adds the backing's growth since its last sample (backed now, against
 * backed then less what punches freed since) to p->refill_debt, and
 * pacing_pay_refill() takes what a punch freed off that debt first: it
 * returns what is left, the bytes the host really got back. An unpaid debt
 * lapses REFILL_LAPSE_USEC after the compaction (the moved-from pages have
 * been hinted by then; what the guest allocated meanwhile was its own). */
#define COMPACT_REFILL_USEC (10 * USEC_PER_SEC)
#define REFILL_LAPSE_USEC (30 * USEC_PER_SEC)
void pacing_note_backed(struct pacing_vm *p, uint64_t backed, usec_t now);
uint64_t pacing_pay_refill(struct pacing_vm *p, uint64_t freed);

/* Free memory that the passes do not bring back lies in pieces smaller than
 * the granularity (a guest that dropped its caches keeps much of what they
 * held backed that way). While the host needs memory, once unused_backed
 * has stayed >= SCATTERED_MIN_BYTES for FINE_AFTER_USEC (a pass had its
 * chance), or at rest once it has stayed >= GIVE_MIN_BYTES for
 * FINE_AT_REST_AFTER_USEC (the caller asks only while it takes hints:
 * DiscardUnused=always), hints are asked at FINE_GRANULARITY, the module's
 * finest; punches that small run at ~0.35 GiB/s, plenty for the rest. Back
 * to coarse, the granularity the guest started with, once the host has not
 * needed memory and no such free memory has been seen for COARSE_AFTER_USEC
 * (at fine granularity every small free is a hint, and its page comes back
 * with a fault when the guest reuses it). Never finer than the backing's
 * pages (page_size). Returns the granularity to ask for: current when
 * nothing changes. When the caller asks for another, it sets
 * p->granularity_sent = now. */
#define FINE_GRANULARITY KiB(8)
#define SCATTERED_MIN_BYTES MiB(8)
#define COARSE_GRANULARITY MiB(2)
#define FINE_AFTER_USEC (1 * USEC_PER_SEC)
#define FINE_AT_REST_AFTER_USEC (10 * USEC_PER_SEC)
#define COARSE_AFTER_USEC (30 * USEC_PER_SEC)
void pacing_note_reclaiming(struct pacing_vm *p, bool reclaiming, usec_t now);
uint64_t pacing_granularity(const struct pacing_vm *p, bool reclaiming, uint64_t current,
			    uint64_t coarse, uint64_t page_size, usec_t now);

/* After a claimed batch was punched, freeing freed bytes of backing: the
 * kernel reports a few dozen chunks a pass, then waits 2 s, so while much is
 * still free and backed the next pass is asked for at once, with no
 * interval; a big batch says so too, as it was likely cut at the pass's
 * limit. *ret_unused_backed gets unused_backed less freed (0 at least), to
 * store in vm->unused_backed. Returns the bytes to ask for,
 * max(remaining unused_backed, freed), when either is >= GIVE_MIN_BYTES;
 * else 0. When the caller sends it, it sets p->give_sent = now. */
uint64_t pacing_give_after_batch(uint64_t unused_backed, uint64_t freed,
				 uint64_t *ret_unused_backed);

/* ---- cold cache --------------------------------------------------------- */

/* The guest's inactive clean file memory is not all cold. As a drop empties
 * the inactive list, the guest's kernel refills it from the active one (it
 * keeps the two in balance), hot pages among them, which its programs touch
 * again within a second or two. Stats from just after a drop count those as
 * cold, and a follow-up drop sized from them takes hot cache. So for
 * COLD_BASIS_USEC after a drop, the guest's cold cache is at most what it
 * was before the first of them, less what they asked since. */
#define COLD_BASIS_USEC (15 * USEC_PER_SEC)

/* The caller sends a drop of bytes; cold is the guest's cold cache as
 * measured now. Starts a new basis when the last is COLD_BASIS_USEC old. */
void pacing_note_drop(struct pacing_vm *p, uint64_t cold, uint64_t bytes, usec_t now);

/* The cold cache policy may take: cold (as measured), capped as above while
 * a basis is younger than COLD_BASIS_USEC. */
uint64_t pacing_cold_left(const struct pacing_vm *p, uint64_t cold, usec_t now);

/* ---- pace --------------------------------------------------------------- */

/* True when vm's balloon is inflated, by hintd or anyone: actual more than
 * 1 MiB below max_memory, or a target (non-zero) below max_memory on its
 * way. Such a guest may run short as soon as it allocates. */
bool pacing_ballooned(const struct vm_state *vm);

/* The time to the next tick: FAST_TICK_USEC (or configured, when shorter)
 * while the host is reclaiming or any VM is ballooned; else configured.
 * n_vms counts every VM hintd watches, managed or not; n_ballooned those
 * of them for which pacing_ballooned() holds. No VM, no fast tick:
 * there is no guest to hear from sooner. */
usec_t pacing_tick_interval(usec_t configured, bool reclaiming, size_t n_vms,
			    size_t n_ballooned);

/* The stats interval (ms) to send to vm's agent now, or 0 when nothing is
 * due: FAST_STATS_MS for a ballooned guest, NORMAL_STATS_MS for the others,
 * only to a connected agent (vm->agent == AGENT_CONNECTED), and only when it
 * differs from sent_ms, the interval last sent on this connection. sent_ms
 * 0 (nothing sent since the agent connected) counts as NORMAL_STATS_MS: a
 * new agent runs at its own pace until a ballooned guest needs faster.
 * The caller sets its sent_ms to the value once the command is sent, and
 * back to 0 when the agent's connection goes. */
unsigned pacing_stats_interval_ms(const struct vm_state *vm, unsigned sent_ms);

#endif /* HINTD_PACING_H */
