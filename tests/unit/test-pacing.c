/* test-pacing.c - when hintd decides, asks and listens: the settle gate,
 * report passes (give), the tick's pace and the guests' stats pace. */
#include <string.h>

#include "harness.h"
#include "pacing.h"

#define SEC(n) ((usec_t) (n) * USEC_PER_SEC)
#define MSEC(n) ((usec_t) (n) * USEC_PER_MSEC)
#define T0 SEC(1000)

/* A 2 GiB VM whose agent and module are there and whose RAM can be
 * discarded, balloon at its maximum. */
static struct vm_state vm_connected(void) {
	return (struct vm_state) {
		.measured.running = true,
		.measured.max_memory = GiB(2),
		.measured.balloon_actual = GiB(2),
		.measured.agent = AGENT_CONNECTED,
		.measured.module = true,
		.measured.discard_capable = true,
		.measured.guest = { .valid = true, .total = GiB(2) },
	};
}

TEST(constants_as_documented) {
	CHECK_EQ_U64(AGENT_SETTLE_USEC, 5000000);
	CHECK_EQ_U64(GIVE_MIN_BYTES, 32ULL << 20);
	CHECK_EQ_U64(GIVE_SETTLE_USEC, 1000000);
	CHECK_EQ_U64(GIVE_INTERVAL_USEC, 1000000);
	CHECK_EQ_U64(FAST_TICK_USEC, 250000);
	CHECK_EQ_INT(FAST_STATS_MS, 250);
	CHECK_EQ_INT(NORMAL_STATS_MS, 1000);
}

TEST(settling) {
	static const struct {
		const char *what;
		enum agent_state agent;
		bool agent_stats;
		usec_t since_added;
		bool settling;
	} table[] = {
		{ "just added, channel, no stats", AGENT_DISCONNECTED, false, 0, true },
		{ "hello but no stats yet", AGENT_CONNECTED, false, SEC(2), true },
		{ "failed agent, within the wait", AGENT_FAILED, false, SEC(5) - 1, true },
		{ "waited long enough", AGENT_DISCONNECTED, false, SEC(5), false },
		{ "long gone", AGENT_CONNECTED, false, SEC(600), false },
		{ "stats arrived", AGENT_CONNECTED, true, 0, false },
		{ "no channel: nothing to wait for", AGENT_ABSENT, false, 0, false },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct vm_state v = vm_connected();
		struct pacing_vm p = { .added = T0, .agent_stats = table[t].agent_stats };

		v.measured.agent = table[t].agent;
		if (pacing_settling(&v, &p, T0 + table[t].since_added) != table[t].settling)
			FAIL_AT("%s: settling %d", table[t].what, !table[t].settling);
	}
}

TEST(hold_plan_right_after_connecting) {
	static const struct {
		size_t n_settling;
		usec_t since_connected;
		bool hold;
		const char *reason;
	} table[] = {
		{ 1, 0, true, "waiting for 1 agent to connect" },
		{ 3, SEC(5) - 1, true, "waiting for 3 agents to connect" },
		{ 0, 0, false, NULL },
		{ 2, SEC(5), false, NULL },	/* later arrivals are only left out */
		{ 2, SEC(60), false, NULL },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		char reason[64] = "untouched";
		bool hold = pacing_hold_plan(table[t].n_settling, T0, T0 + table[t].since_connected,
					     reason, sizeof reason);

		if (hold != table[t].hold)
			FAIL_AT("row %zu: hold %d", t, hold);
		CHECK_STREQ(reason, table[t].reason ? table[t].reason : "untouched");
	}

	/* A short buffer is truncated, never overrun. */
	char small[8];
	CHECK(pacing_hold_plan(2, T0, T0, small, sizeof small));
	CHECK_STREQ(small, "waiting");
}

TEST(unused_backed) {
	static const struct {
		const char *what;
		uint64_t backed, free;
		enum agent_state agent;
		bool module, discard_capable, valid;
		uint64_t want;
	} table[] = {
		/* All 2 GiB backed, 500 MiB free: all of it is backed. */
		{ "fully backed", GiB(2), MiB(500), AGENT_CONNECTED, true, true, true, MiB(500) },
		/* 300 MiB already punched: at least 200 of the free 500 is backed. */
		{ "partly punched", GiB(2) - MiB(300), MiB(500), AGENT_CONNECTED, true, true, true,
		  MiB(200) },
		{ "all free punched", GiB(2) - MiB(500), MiB(500), AGENT_CONNECTED, true, true, true, 0 },
		{ "more punched than free", GiB(1), MiB(500), AGENT_CONNECTED, true, true, true, 0 },
		{ "agent not connected", GiB(2), MiB(500), AGENT_DISCONNECTED, true, true, true, 0 },
		{ "no module", GiB(2), MiB(500), AGENT_CONNECTED, false, true, true, 0 },
		{ "not discard-capable", GiB(2), MiB(500), AGENT_CONNECTED, true, false, true, 0 },
		{ "no guest stats", GiB(2), MiB(500), AGENT_CONNECTED, true, true, false, 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct vm_state v = vm_connected();
		uint64_t got;

		v.measured.backed = table[t].backed;
		v.measured.guest.free = table[t].free;
		v.measured.agent = table[t].agent;
		v.measured.module = table[t].module;
		v.measured.discard_capable = table[t].discard_capable;
		v.measured.guest.valid = table[t].valid;
		got = pacing_unused_backed(&v);
		if (got != table[t].want)
			FAIL_AT("%s: %" PRIu64 " MiB, want %" PRIu64, table[t].what, got >> 20,
				table[t].want >> 20);
	}
}

TEST(unused_since_follows_the_threshold) {
	/* One VM over consecutive collections: (time, unused_backed) -> since. */
	static const struct {
		usec_t at;
		uint64_t unused_backed;
		usec_t since;
	} ticks[] = {
		{ T0, 0, 0 },
		{ T0 + SEC(1), MiB(32) - 1, 0 },
		{ T0 + SEC(2), MiB(32), T0 + SEC(2) },		/* reached: starts */
		{ T0 + SEC(3), MiB(900), T0 + SEC(2) },	/* stays: kept */
		{ T0 + SEC(4), MiB(40), T0 + SEC(2) },
		{ T0 + SEC(5), MiB(10), 0 },			/* fell below: reset */
		{ T0 + SEC(6), MiB(64), T0 + SEC(6) },
	};
	struct pacing_vm p = { .added = T0 };

	for (size_t t = 0; t < ELEMENTSOF(ticks); t++) {
		pacing_note_unused(&p, ticks[t].unused_backed, ticks[t].at);
		if (p.unused_since != ticks[t].since)
			FAIL_AT("tick %zu: since %" PRIu64, t, p.unused_since);
	}
}

TEST(unused_coming_is_what_is_new) {
	/* One VM over consecutive collections: (time, unused_backed) ->
	 * coming. Windows of 2.5 s follow each other from the first sample. */
	static const struct {
		usec_t at;
		uint64_t unused_backed, coming;
	} ticks[] = {
		{ T0, MiB(17), MiB(17) },			/* first window: all new */
		{ T0 + MSEC(2000), MiB(17), MiB(17) },
		{ T0 + MSEC(2500), MiB(17), 0 },		/* held a whole window */
		{ T0 + MSEC(4500), MiB(113), MiB(96) },		/* a drop frees 96 */
		{ T0 + MSEC(5000), MiB(60), MiB(43) },		/* part of it came */
		{ T0 + MSEC(6000), MiB(60), MiB(43) },
		{ T0 + MSEC(7500), MiB(60), 0 },		/* held since 5 s */
		{ T0 + MSEC(8000), MiB(5), 0 },
		{ T0 + SEC(20), MiB(40), MiB(40) },		/* after a gap: new */
	};
	struct pacing_vm p = { .added = T0 };

	for (size_t t = 0; t < ELEMENTSOF(ticks); t++) {
		uint64_t coming;

		pacing_note_unused(&p, ticks[t].unused_backed, ticks[t].at);
		coming = pacing_unused_coming(&p, ticks[t].unused_backed);
		if (coming != ticks[t].coming)
			FAIL_AT("tick %zu: coming %" PRIu64 " MiB", t, coming >> 20);
	}
}

TEST(give_on_tick) {
	static const struct {
		const char *what;
		bool accept;
		usec_t unused_since, give_sent, now;
		uint64_t want;
	} table[] = {
		{ "settled, never asked", true, T0, 0, T0 + SEC(1), MiB(100) },
		{ "settled, asked 1 s ago", true, T0, T0, T0 + SEC(1), MiB(100) },
		{ "not settled yet", true, T0, 0, T0 + SEC(1) - 1, 0 },
		{ "asked too recently", true, T0, T0 + MSEC(500), T0 + SEC(1), 0 },
		{ "nothing free and backed", true, 0, 0, T0 + SEC(10), 0 },
		{ "hints released", false, T0, 0, T0 + SEC(10), 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct pacing_vm p = { .unused_since = table[t].unused_since,
				       .give_sent = table[t].give_sent };
		uint64_t got = pacing_give_on_tick(&p, table[t].accept, false, MiB(100), table[t].now);

		if (got != table[t].want)
			FAIL_AT("%s: %" PRIu64 " MiB, want %" PRIu64, table[t].what, got >> 20,
				table[t].want >> 20);
	}
}

TEST(compact_when_passes_leave_free_memory_backed) {
	struct pacing_vm p = { 0 };

	/* Nothing free yet backed: no compaction, pressure or not. */
	CHECK(!pacing_compact(&p, true, false, true, 0, T0));
	pacing_note_unused(&p, MiB(200), T0);
	/* Passes first: compaction only once they have had their time. */
	CHECK(!pacing_compact(&p, true, false, true, MiB(200), T0 + COMPACT_AFTER_USEC - 1));
	CHECK(pacing_compact(&p, true, false, true, MiB(200), T0 + COMPACT_AFTER_USEC));
	/* Never without host pressure: it costs the guest. */
	CHECK(!pacing_compact(&p, false, false, true, MiB(200), T0 + COMPACT_AFTER_USEC));
	/* Never while finer hints could get it without moving a page. */
	CHECK(!pacing_compact(&p, true, false, false, MiB(200), T0 + COMPACT_AFTER_USEC));
	/* Nor right after the granularity changed: the fine pass first. */
	p.granularity_sent = T0 + SEC(1);
	CHECK(!pacing_compact(&p, true, false, true, MiB(200), T0 + SEC(1) + COMPACT_AFTER_USEC - 1));
	CHECK(pacing_compact(&p, true, false, true, MiB(200), T0 + SEC(1) + COMPACT_AFTER_USEC));
	p.granularity_sent = 0;
	/* At most every COMPACT_INTERVAL_USEC for what was there already. */
	p.compact_sent = T0 + COMPACT_AFTER_USEC;
	p.compact_unused = MiB(200);
	CHECK(!pacing_compact(&p, true, false, true, MiB(200), T0 + COMPACT_AFTER_USEC + SEC(1)));
	CHECK(!pacing_compact(&p, true, false, true, MiB(200) + GIVE_MIN_BYTES - 1, T0 + COMPACT_AFTER_USEC + SEC(1)));
	CHECK(pacing_compact(&p, true, false, true, MiB(200), T0 + COMPACT_AFTER_USEC + COMPACT_INTERVAL_USEC));
	/* A large free since (a cache dropped): its pieces were not there to
	 * compact, so again, though not at once. */
	CHECK(!pacing_compact(&p, true, false, true, MiB(264), T0 + COMPACT_AFTER_USEC + COMPACT_AFTER_USEC / 2));
	CHECK(pacing_compact(&p, true, false, true, MiB(264), T0 + COMPACT_AFTER_USEC + SEC(2)));
	CHECK(!pacing_compact(&p, false, false, true, MiB(264), T0 + COMPACT_AFTER_USEC + SEC(2)));
	/* Back under the threshold: the clock starts again. */
	pacing_note_unused(&p, MiB(1), T0 + SEC(60));
	CHECK(!pacing_compact(&p, true, false, true, MiB(264), T0 + SEC(61)));
}

TEST(compact_at_rest_only_for_a_proactive_guest_and_seldom) {
	struct pacing_vm p = { 0 };

	/* 41 MiB free yet backed in single pages after proactive trims. */
	pacing_note_unused(&p, MiB(41), T0);
	/* Fine hints first, and their time. */
	CHECK(!pacing_compact(&p, false, true, false, MiB(41), T0 + SEC(60)));
	CHECK(!pacing_compact(&p, false, true, true, MiB(41), T0 + COMPACT_AT_REST_AFTER_USEC - 1));
	CHECK(pacing_compact(&p, false, true, true, MiB(41), T0 + COMPACT_AT_REST_AFTER_USEC));
	/* A guest not asked to shrink keeps its pages where they are. */
	CHECK(!pacing_compact(&p, false, false, true, MiB(41), T0 + SEC(60)));
	/* Not right after the granularity changed. */
	p.granularity_sent = T0 + SEC(30);
	CHECK(!pacing_compact(&p, false, true, true, MiB(41), T0 + SEC(30) + COMPACT_AFTER_USEC - 1));
	CHECK(pacing_compact(&p, false, true, true, MiB(41), T0 + SEC(30) + COMPACT_AFTER_USEC));
	/* Then once a minute at most, however much more is freed. */
	p.compact_sent = T0 + SEC(40);
	p.compact_unused = MiB(41);
	CHECK(!pacing_compact(&p, false, true, true, MiB(200), T0 + SEC(40) + COMPACT_AT_REST_INTERVAL_USEC - 1));
	CHECK(pacing_compact(&p, false, true, true, MiB(200), T0 + SEC(40) + COMPACT_AT_REST_INTERVAL_USEC));
	/* Too little free and backed for a pass at rest: nothing to compact. */
	pacing_note_unused(&p, GIVE_MIN_BYTES - 1, T0 + SEC(200));
	CHECK(!pacing_compact(&p, false, true, true, GIVE_MIN_BYTES - 1, T0 + SEC(300)));
}

TEST(what_compaction_moved_into_discarded_memory_is_not_credited_again) {
	struct pacing_vm p = { 0 };

	/* Without a compaction asked, growth is the guest's own: every punch counts. */
	pacing_note_backed(&p, MiB(400), T0);
	pacing_note_backed(&p, MiB(430), T0 + SEC(1));
	CHECK_EQ_U64(pacing_pay_refill(&p, MiB(10)), MiB(10));
	CHECK_EQ_U64(p.refill_debt, 0);
	/* Compaction asked: 30 MiB moved in while 10 MiB were punched
	 * (430 - 10 expected, 450 seen). */
	p.compact_sent = T0 + SEC(1);
	pacing_note_backed(&p, MiB(450), T0 + SEC(2));
	CHECK_EQ_U64(p.refill_debt, MiB(30));
	/* A fall is no debt. */
	pacing_note_backed(&p, MiB(440), T0 + SEC(3));
	CHECK_EQ_U64(p.refill_debt, MiB(30));
	/* The moved-from pages are punched: the debt first, then the gain. */
	CHECK_EQ_U64(pacing_pay_refill(&p, MiB(20)), 0);
	CHECK_EQ_U64(pacing_pay_refill(&p, MiB(25)), MiB(15));
	CHECK_EQ_U64(p.refill_debt, 0);
	/* Those punches are expected, not growth. */
	pacing_note_backed(&p, MiB(395), T0 + SEC(4));
	CHECK_EQ_U64(p.refill_debt, 0);
	/* Past the window growth is the guest's again; an unpaid debt lapses. */
	pacing_note_backed(&p, MiB(420), T0 + SEC(1) + COMPACT_REFILL_USEC - 1);
	CHECK_EQ_U64(p.refill_debt, MiB(25));
	pacing_note_backed(&p, MiB(470), T0 + SEC(1) + COMPACT_REFILL_USEC);
	CHECK_EQ_U64(p.refill_debt, MiB(25));
	pacing_note_backed(&p, MiB(470), T0 + SEC(1) + REFILL_LAPSE_USEC);
	CHECK_EQ_U64(p.refill_debt, 0);
	CHECK_EQ_U64(pacing_pay_refill(&p, MiB(8)), MiB(8));
}

TEST(granularity_fine_under_pressure_coarse_when_calm) {
	struct pacing_vm p = { 0 };
	uint64_t g = MiB(2);

	pacing_note_reclaiming(&p, true, T0);
	pacing_note_unused(&p, MiB(60), T0);
	/* A pass first. */
	CHECK_EQ_U64(pacing_granularity(&p, true, g, g, KiB(4), T0 + FINE_AFTER_USEC - 1), g);
	g = pacing_granularity(&p, true, g, MiB(2), KiB(4), T0 + FINE_AFTER_USEC);
	CHECK_EQ_U64(g, FINE_GRANULARITY);
	/* Not on huge pages: finer hints would free nothing there. */
	CHECK_EQ_U64(pacing_granularity(&p, true, MiB(2), MiB(2), MiB(2), T0 + FINE_AFTER_USEC), MiB(2));
	/* Fine as long as the host needs memory, and for a while after. */
	pacing_note_reclaiming(&p, true, T0 + SEC(20));
	pacing_note_unused(&p, MiB(1), T0 + SEC(20));
	CHECK_EQ_U64(pacing_granularity(&p, false, g, MiB(2), KiB(4), T0 + SEC(21)), g);
	CHECK_EQ_U64(pacing_granularity(&p, false, g, MiB(2), KiB(4), T0 + SEC(20) + COARSE_AFTER_USEC),
		     MiB(2));
	/* An unknown granularity (no module) stays as it is. */
	CHECK_EQ_U64(pacing_granularity(&p, true, 0, MiB(2), KiB(4), T0 + SEC(60)), 0);
}

TEST(under_pressure_less_than_a_pass_gets_fine_hints_then_compaction) {
	struct pacing_vm p = { 0 };
	uint64_t g = MiB(2);

	/* A drop left 24 MiB scattered: too little for a pass at rest; while
	 * the host needs memory, a pass, then finer hints, then compaction. */
	pacing_note_unused(&p, MiB(24), T0);
	CHECK_EQ_U64(p.unused_since, 0);
	CHECK_EQ_U64(pacing_give_on_tick(&p, true, false, MiB(24), T0 + SEC(5)), 0);
	CHECK_EQ_U64(pacing_give_on_tick(&p, true, true, MiB(24), T0 + GIVE_SETTLE_USEC - 1), 0);
	CHECK_EQ_U64(pacing_give_on_tick(&p, true, true, MiB(24), T0 + GIVE_SETTLE_USEC), MiB(24));
	CHECK_EQ_U64(pacing_granularity(&p, false, g, g, KiB(4), T0 + SEC(60)), g);
	CHECK_EQ_U64(pacing_granularity(&p, true, g, g, KiB(4), T0 + FINE_AFTER_USEC - 1), g);
	g = pacing_granularity(&p, true, g, MiB(2), KiB(4), T0 + FINE_AFTER_USEC);
	CHECK_EQ_U64(g, FINE_GRANULARITY);
	CHECK(!pacing_hints_finest(MiB(2), KiB(4)));
	CHECK(pacing_hints_finest(g, KiB(4)));
	/* On 2 MiB pages, 2 MiB hints are as fine as it gets: compaction. */
	CHECK(pacing_hints_finest(MiB(2), MiB(2)));
	p.granularity_sent = T0 + FINE_AFTER_USEC;
	CHECK(!pacing_compact(&p, true, false, pacing_hints_finest(g, KiB(4)), MiB(24),
			      T0 + FINE_AFTER_USEC + COMPACT_AFTER_USEC - 1));
	CHECK(pacing_compact(&p, true, false, pacing_hints_finest(g, KiB(4)), MiB(24),
			     T0 + FINE_AFTER_USEC + COMPACT_AFTER_USEC));
	CHECK(!pacing_compact(&p, false, false, true, MiB(24), T0 + SEC(60)));
	/* Below SCATTERED_MIN_BYTES it is noise: nothing. */
	struct pacing_vm q = { 0 };
	pacing_note_unused(&q, SCATTERED_MIN_BYTES - 1, T0);
	CHECK_EQ_U64(pacing_give_on_tick(&q, true, true, SCATTERED_MIN_BYTES - 1, T0 + SEC(60)), 0);
	CHECK(!pacing_compact(&q, true, false, true, SCATTERED_MIN_BYTES - 1, T0 + SEC(60)));
	CHECK_EQ_U64(pacing_granularity(&q, true, MiB(2), MiB(2), KiB(4), T0 + SEC(60)), MiB(2));
}

TEST(granularity_fine_at_rest_while_free_memory_stays_backed) {
	struct pacing_vm p = { 0 };
	uint64_t g = MiB(2);

	/* A guest dropped its caches with no host pressure: 2 MiB passes go
	 * first, fine hints after FINE_AT_REST_AFTER_USEC. */
	pacing_note_unused(&p, MiB(120), T0);
	pacing_note_unused(&p, MiB(100), T0 + FINE_AFTER_USEC);
	CHECK_EQ_U64(pacing_granularity(&p, false, g, MiB(2), KiB(4), T0 + FINE_AFTER_USEC), g);
	pacing_note_unused(&p, MiB(90), T0 + FINE_AT_REST_AFTER_USEC);
	g = pacing_granularity(&p, false, g, MiB(2), KiB(4), T0 + FINE_AT_REST_AFTER_USEC);
	CHECK_EQ_U64(g, FINE_GRANULARITY);
	/* Under the threshold: it stays fine a while, then goes coarse. */
	pacing_note_unused(&p, MiB(4), T0 + SEC(12));
	CHECK_EQ_U64(pacing_granularity(&p, false, g, MiB(2), KiB(4), T0 + SEC(10) + COARSE_AFTER_USEC - 1), g);
	CHECK_EQ_U64(pacing_granularity(&p, false, g, MiB(2), KiB(4), T0 + SEC(10) + COARSE_AFTER_USEC), MiB(2));
	/* Free memory that keeps coming back keeps it fine. */
	pacing_note_unused(&p, MiB(40), T0 + SEC(45));
	CHECK_EQ_U64(pacing_granularity(&p, false, g, MiB(2), KiB(4), T0 + SEC(46)), g);
	/* A short blip of free memory is no reason to change. */
	struct pacing_vm q = { 0 };
	pacing_note_unused(&q, MiB(40), T0);
	pacing_note_unused(&q, MiB(2), T0 + SEC(5));
	CHECK_EQ_U64(pacing_granularity(&q, false, MiB(2), MiB(2), KiB(4), T0 + SEC(30)), MiB(2));
	/* Never on huge pages. */
	CHECK_EQ_U64(pacing_granularity(&p, false, MiB(2), MiB(2), MiB(2), T0 + SEC(60)), MiB(2));
}

TEST(give_after_batch) {
	static const struct {
		const char *what;
		uint64_t unused_backed, freed, want_left, want_give;
	} table[] = {
		{ "much still backed", MiB(200), MiB(8), MiB(192), MiB(192) },
		{ "big batch, little left", MiB(40), MiB(36), MiB(4), MiB(36) },
		{ "big batch beyond the estimate", MiB(10), MiB(64), 0, MiB(64) },
		{ "both at the threshold", MiB(64), MiB(32), MiB(32), MiB(32) },
		{ "small batch, little left", MiB(40), MiB(10), MiB(30), 0 },
		{ "nothing", 0, 0, 0, 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		uint64_t left = 12345;
		uint64_t give = pacing_give_after_batch(table[t].unused_backed, table[t].freed, &left);

		if (left != table[t].want_left || give != table[t].want_give)
			FAIL_AT("%s: left %" PRIu64 " KiB give %" PRIu64 " KiB", table[t].what,
				left >> 10, give >> 10);
	}
}

TEST(ballooned) {
	static const struct {
		uint64_t max, actual, target;
		bool ballooned;
	} table[] = {
		{ GiB(2), GiB(2), 0, false },
		{ GiB(2), GiB(2), GiB(2), false },
		{ GiB(2), GiB(2) - MiB(1), 0, false },		/* rounding, not a balloon */
		{ GiB(2), GiB(2) - MiB(1) - 1, 0, true },
		{ GiB(2), GiB(1), GiB(1), true },
		{ GiB(2), GiB(2), GiB(2) - MiB(64), true },	/* inflation on its way */
		{ GiB(2), GiB(1), GiB(2), true },		/* deflation on its way */
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct vm_state v = vm_connected();

		v.measured.max_memory = table[t].max;
		v.measured.balloon_actual = table[t].actual;
		v.commanded.balloon_target = table[t].target;
		if (pacing_ballooned(&v) != table[t].ballooned)
			FAIL_AT("row %zu: ballooned %d", t, !table[t].ballooned);
	}
}

TEST(tick_interval) {
	static const struct {
		usec_t configured;
		bool reclaiming;
		size_t n_vms, n_ballooned;
		usec_t want;
	} table[] = {
		{ SEC(1), false, 3, 0, SEC(1) },
		{ SEC(1), true, 3, 0, MSEC(250) },
		{ SEC(1), false, 3, 1, MSEC(250) },
		{ SEC(1), true, 3, 3, MSEC(250) },
		{ SEC(1), true, 0, 0, SEC(1) },		/* no guest to hear from */
		{ MSEC(100), true, 2, 2, MSEC(100) },	/* already faster */
		{ SEC(5), false, 1, 1, MSEC(250) },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		usec_t got = pacing_tick_interval(table[t].configured, table[t].reclaiming,
						  table[t].n_vms, table[t].n_ballooned);

		if (got != table[t].want)
			FAIL_AT("row %zu: %" PRIu64 " us", t, got);
	}
}

TEST(stats_interval) {
	static const struct {
		const char *what;
		enum agent_state agent;
		bool ballooned;
		unsigned sent_ms, want;
	} table[] = {
		{ "new agent, ballooned", AGENT_CONNECTED, true, 0, FAST_STATS_MS },
		{ "new agent, not ballooned: its own pace", AGENT_CONNECTED, false, 0, 0 },
		{ "fast already", AGENT_CONNECTED, true, FAST_STATS_MS, 0 },
		{ "balloon gone: back to normal", AGENT_CONNECTED, false, FAST_STATS_MS,
		  NORMAL_STATS_MS },
		{ "normal already", AGENT_CONNECTED, false, NORMAL_STATS_MS, 0 },
		{ "ballooned again", AGENT_CONNECTED, true, NORMAL_STATS_MS, FAST_STATS_MS },
		{ "agent not connected", AGENT_DISCONNECTED, true, 0, 0 },
		{ "no agent", AGENT_ABSENT, true, 0, 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct vm_state v = vm_connected();
		unsigned got;

		v.measured.agent = table[t].agent;
		if (table[t].ballooned)
			v.measured.balloon_actual = GiB(1);
		got = pacing_stats_interval_ms(&v, table[t].sent_ms);
		if (got != table[t].want)
			FAIL_AT("%s: %u ms, want %u", table[t].what, got, table[t].want);
	}
}

TEST(cold_cache_after_drops_is_what_was_cold_before) {
	struct pacing_vm p = { 0 };

	/* No drop yet: as measured. */
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(150), T0), MiB(150));
	/* 96 MiB asked of 150 cold: at most 54 left, whatever stats say. */
	pacing_note_drop(&p, MiB(150), MiB(96), T0);
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(110), T0 + SEC(3)), MiB(54));
	/* Less measured than that: what is measured. */
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(20), T0 + SEC(3)), MiB(20));
	/* A follow-up counts against the same basis, whatever cold it saw. */
	pacing_note_drop(&p, MiB(110), MiB(50), T0 + SEC(3));
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(90), T0 + SEC(5)), MiB(4));
	pacing_note_drop(&p, MiB(90), MiB(10), T0 + SEC(6));
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(90), T0 + SEC(7)), 0);
	/* The basis ages out: what the kernel has kept inactive since is cold. */
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(90), T0 + COLD_BASIS_USEC - 1), 0);
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(90), T0 + COLD_BASIS_USEC), MiB(90));
	/* The next drop starts a new basis from what it saw. */
	pacing_note_drop(&p, MiB(90), MiB(32), T0 + COLD_BASIS_USEC);
	CHECK_EQ_U64(pacing_cold_left(&p, MiB(200), T0 + COLD_BASIS_USEC + SEC(1)), MiB(58));
}

int main(void) {
	return run_tests();
}
