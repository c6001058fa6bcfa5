/* test-policy.c - the reclaim ladder: rung order, hysteresis, floors,
 * shares and priority, short guests, thrash guard, config checks, and the
 * Reclaim= parser. Ticks are simulated by applying each plan's balloon
 * targets to the model and moving the host's free memory by as much. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "macro.h"
#include "policy.h"

#define SEC(n) ((usec_t) (n) * USEC_PER_SEC)
#define NOW SEC(1000)

/* A running VM of size bytes with an agent, the module and a discardable
 * backing; half its memory free and available, no cache, no hints. */
static struct vm_state vm_new(const char *name, uint64_t size) {
	struct vm_state v = {
		.running = true,
		.max_memory = size,
		.balloon_actual = size,
		.agent = AGENT_CONNECTED,
		.module = true,
		.discard_capable = true,
		.guest = {
			.valid = true,
			.total = size,
			.free = size / 2,
			.available = size / 2,
		},
	};

	snprintf(v.name, sizeof v.name, "%s", name);
	vm_settings_init(&v.settings);
	return v;
}

static struct host_state host_free(uint64_t free_bytes) {
	return (struct host_state) { .mem_total = GiB(64), .mem_available = free_bytes };
}

static struct policy_config config(void) {
	struct policy_config c;

	policy_config_init(&c);
	return c;
}

/* One history for up to 8 VMs. */
struct hist {
	struct policy_vm_history vm[8];
	struct policy_history h;
};

static void hist_init(struct hist *h) {
	*h = (struct hist) {};
	h->h.vm = h->vm;
}

static const struct action *find(const struct plan *p, size_t vm, enum action_kind k) {
	for (size_t i = 0; i < p->n_actions; i++)
		if (p->actions[i].vm == vm && p->actions[i].kind == k)
			return &p->actions[i];
	return NULL;
}

static size_t count(const struct plan *p, enum action_kind k) {
	size_t n = 0;

	for (size_t i = 0; i < p->n_actions; i++)
		n += p->actions[i].kind == k;
	return n;
}

static uint64_t balloon_target(const struct plan *p, size_t vm) {
	const struct action *a = find(p, vm, ACTION_BALLOON);

	return a ? a->bytes : 0;
}

/* The action's fields, or a value no test expects when it is missing. */
static const char *reason(const struct plan *p, size_t vm, enum action_kind k) {
	const struct action *a = find(p, vm, k);

	return a ? a->reason : "(no action)";
}

/* 1 accepted, 0 released, -1 no hints action. */
static int hints(const struct plan *p, size_t vm) {
	const struct action *a = find(p, vm, ACTION_HINTS);

	return a ? a->accept : -1;
}

static uint64_t drop(const struct plan *p, size_t vm) {
	const struct action *a = find(p, vm, ACTION_DROP_CACHE);

	return a ? a->bytes : 0;
}

static void decide(const struct policy_config *c, const struct host_state *host,
		   const struct vm_state *vms, size_t n, struct hist *h, usec_t now,
		   struct plan *ret) {
	int r = policy_decide(c, host, vms, n, &h->h, now, ret);

	CHECK_EQ_INT(r, 0);
	if (r < 0)
		*ret = (struct plan) {};
}

/* The guest follows its balloon at once: its memory, free and available
 * move with it, and the host gains (or loses) as much. */
static void apply_balloons(const struct plan *p, struct vm_state *vms, struct host_state *host) {
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];
		struct vm_state *v = &vms[a->vm];

		if (a->kind != ACTION_BALLOON)
			continue;
		if (a->bytes < v->balloon_actual) {
			uint64_t d = v->balloon_actual - a->bytes;

			v->guest.free = v->guest.free > d ? v->guest.free - d : 0;
			v->guest.available = v->guest.available > d ? v->guest.available - d : 0;
			host->mem_available += d;
		} else {
			uint64_t d = a->bytes - v->balloon_actual;

			v->guest.free += d;
			v->guest.available += d;
			host->mem_available -= d;
		}
		v->balloon_actual = v->balloon_target = a->bytes;
	}
}

TEST(defaults_are_valid) {
	struct policy_config c = config();
	struct host_state h = host_free(GiB(1));
	struct vm_settings s;
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	CHECK(c.low_watermark < c.high_watermark);
	CHECK_EQ_INT(c.discard_unused, DISCARD_ALWAYS);
	vm_settings_init(&s);
	CHECK_EQ_INT(s.shares, 1000);
	CHECK_EQ_INT(s.priority, 0);
	CHECK_EQ_INT(s.rungs, RUNGS_ALL);
	CHECK_EQ_U64(s.min_memory, 0);
	CHECK_EQ_U64(s.max_memory, 0);

	decide(&c, &h, NULL, 0, &hist, NOW, &p);
	CHECK_EQ_INT(p.n_actions, 0);
	CHECK(!p.reclaiming);
	CHECK(strlen(p.reason) > 0);
	plan_done(&p);
	CHECK(p.actions == NULL);
	plan_done(&p);
	plan_done(NULL);

	CHECK_STREQ(action_kind_to_string(ACTION_HINTS), "hints");
	CHECK_STREQ(action_kind_to_string(ACTION_DROP_CACHE), "drop_cache");
	CHECK_STREQ(action_kind_to_string(ACTION_BALLOON), "balloon");
	CHECK(action_kind_to_string(99) == NULL);
}

TEST(no_pressure_no_balloon) {
	/* Host free at or above the low watermark and not reclaiming before:
	 * nothing changes, ballooned or not, short of a short guest. */
	static const uint64_t frees[] = { MiB(256), MiB(400), MiB(512), GiB(2) };

	for (size_t t = 0; t < ELEMENTSOF(frees); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(frees[t]);
		struct vm_state vms[2] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		vms[1].guest.volatile_ = MiB(500);
		vms[1].hinted = MiB(100);
		if (frees[t] <= c.high_watermark) {
			/* Ballooned, but no slack: left alone. */
			vms[0].max_memory = GiB(4);
		}
		decide(&c, &h, vms, 2, &hist, NOW, &p);
		CHECK(!p.reclaiming);
		CHECK_EQ_U64(p.need, 0);
		CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
		CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 0);
		/* Unused pages are taken anyway: they cost the guest nothing. */
		CHECK_EQ_INT(hints(&p, 1), 1);
		CHECK(!hist.h.reclaiming);
		CHECK_EQ_U64(hist.vm[0].last_inflate, 0);
		CHECK_EQ_U64(hist.vm[0].last_deflate, 0);
		plan_done(&p);
	}
}

TEST(hints_cover_need_no_balloon) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));	/* need 312 MiB */
	struct vm_state vms[2] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)) };
	struct hist hist;
	struct plan p;
	const struct action *a;

	hist_init(&hist);
	vms[0].hinted = MiB(200);
	vms[1].hinted = MiB(150);
	vms[1].guest.volatile_ = MiB(300);
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK(p.reclaiming);
	CHECK_EQ_U64(p.need, MiB(312));
	CHECK_EQ_U64(p.free, MiB(200));
	a = find(&p, 0, ACTION_HINTS);
	CHECK(a && a->accept);
	CHECK(a && strstr(a->reason, "host free 200 MiB < low watermark 256 MiB"));
	CHECK_EQ_INT(hints(&p, 1), 1);
	CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 0);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	CHECK(hist.h.reclaiming);
	plan_done(&p);
}

TEST(unused_backed_waited_for_only_within_the_grace) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));	/* need 312 MiB */
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].unused_backed = MiB(400);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_INT(hints(&p, 0), 1);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);
	decide(&c, &h, vms, 1, &hist, NOW + c.cheap_rung_grace - 1, &p);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);
	/* It did not come: the balloon moves. */
	decide(&c, &h, vms, 1, &hist, NOW + c.cheap_rung_grace, &p);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 1);
	plan_done(&p);
	/* In an emergency nobody waits. */
	hist_init(&hist);
	h = host_free(MiB(100));
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 1);
	plan_done(&p);
}

TEST(busy_vm_waits_while_an_idle_one_has_room) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(150));	/* reclaiming, not an emergency */
	struct vm_state vms[2] = { vm_new("busy", GiB(1)), vm_new("idle", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].guest.free = vms[0].guest.available = MiB(80);	/* using its memory */
	vms[1].guest.free = vms[1].guest.available = GiB(1) + MiB(800);
	decide(&c, &h, vms, 2, &hist, NOW + c.cheap_rung_grace * 2, &p);
	/* need 362 MiB: idle gives its 64 MiB step; busy is left alone. */
	CHECK_EQ_U64(balloon_target(&p, 1), GiB(2) - MiB(64));
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);

	/* In an emergency everybody gives. */
	hist_init(&hist);
	h = host_free(MiB(100));
	decide(&c, &h, vms, 2, &hist, NOW + c.cheap_rung_grace * 2, &p);
	CHECK(find(&p, 0, ACTION_BALLOON) != NULL);
	CHECK(find(&p, 1, ACTION_BALLOON) != NULL);
	plan_done(&p);
}

TEST(volatile_before_balloon) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));	/* need 312 MiB */
	struct vm_state vms[2] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].hinted = MiB(50);
	vms[0].guest.volatile_ = MiB(300);
	vms[1].guest.volatile_ = MiB(300);
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	/* Reclaim just started: within the grace, all of a's cache counts as
	 * coming (50 hinted + 300 cached >= 312), so a is asked for one step
	 * and no balloon moves. */
	CHECK_EQ_INT(hints(&p, 0), 1);
	CHECK_EQ_U64(drop(&p, 0), MiB(128));
	CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 1);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);

	/* Past the grace only what a tick asks counts: 50 from hints, then
	 * 128 + 128 of cache, then 6 from a balloon. */
	decide(&c, &h, vms, 2, &hist, NOW + c.cheap_rung_grace, &p);
	CHECK_EQ_INT(hints(&p, 0), 1);
	CHECK_EQ_U64(drop(&p, 0), MiB(128));
	CHECK_EQ_U64(drop(&p, 1), MiB(128));
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 1);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) - MiB(6));
	plan_done(&p);

	/* Enough cache: no balloon, and the last drop asks only what is left. */
	hist_init(&hist);
	vms[0].guest.volatile_ = MiB(20);
	vms[1].guest.volatile_ = MiB(500);
	c.volatile_step = MiB(512);
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(20));
	CHECK_EQ_U64(drop(&p, 1), MiB(242));
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);
}

TEST(volatile_needs_a_discard_path) {
	/* Dropped cache only returns to the host as unused hints: a VM that
	 * cannot discard is not asked to drop it, the balloon is used. */
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));
	struct vm_state vms[3] = { vm_new("nobacking", GiB(2)), vm_new("nomodule", GiB(2)),
				   vm_new("noagent", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	for (size_t i = 0; i < 3; i++)
		vms[i].guest.volatile_ = MiB(500);
	vms[0].discard_capable = false;
	vms[0].hinted = MiB(40);
	vms[1].module = false;
	vms[2].agent = AGENT_DISCONNECTED;
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 0);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 3);
	/* Hints a VM cannot discard go back to the guest. */
	CHECK_EQ_INT(hints(&p, 0), 0);
	CHECK(strstr(reason(&p, 0, ACTION_HINTS), "not discard-capable"));
	CHECK_EQ_INT(hints(&p, 1), -1);
	CHECK_EQ_INT(hints(&p, 2), -1);
	plan_done(&p);
}

TEST(beyond_hints_and_cache_balloon) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(100));	/* need 412 MiB */
	struct vm_state vms[2] = { vm_new("a", GiB(4)), vm_new("b", GiB(4)) };
	struct hist hist;
	struct plan p;
	uint64_t cut;

	hist_init(&hist);
	vms[0].hinted = MiB(100);
	vms[1].guest.volatile_ = MiB(80);
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 1), MiB(80));
	/* 232 MiB left, but each balloon moves at most 64 MiB a tick. */
	cut = 2 * GiB(4) - balloon_target(&p, 0) - balloon_target(&p, 1);
	CHECK_EQ_U64(cut, MiB(128));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(4) - MiB(64));
	CHECK(strstr(reason(&p, 0, ACTION_BALLOON),
		     "host free 100 MiB < low watermark 256 MiB: inflate by 64 MiB to 4032 MiB"));
	CHECK(strstr(p.reason, "unmet 104 MiB"));
	CHECK_EQ_U64(hist.vm[0].last_inflate, NOW);
	CHECK_EQ_U64(hist.vm[1].last_inflate, NOW);
	plan_done(&p);
}

TEST(min_memory_guarantee) {
	struct policy_config c = config();
	struct host_state h = host_free(0);
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].settings.min_memory = GiB(2) - MiB(100);
	vms[0].guest.free = vms[0].guest.available = GiB(1) + MiB(512);
	for (int tick = 0; tick < 10; tick++) {
		h.mem_available = 0;	/* the host keeps needing memory */
		decide(&c, &h, vms, 1, &hist, NOW + SEC(tick), &p);
		if (tick < 2)
			CHECK_EQ_INT(count(&p, ACTION_BALLOON), 1);
		apply_balloons(&p, vms, &h);
		CHECK(vms[0].balloon_actual >= vms[0].settings.min_memory);
		plan_done(&p);
	}
	CHECK_EQ_U64(vms[0].balloon_actual, vms[0].settings.min_memory);

	/* At the guarantee: no further inflation. */
	decide(&c, &h, vms, 1, &hist, NOW + SEC(20), &p);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);

	/* Below it (raised over D-Bus): given back, even under pressure. */
	vms[0].settings.min_memory = GiB(2);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(21), &p);
	/* A quarter of its 4 GiB cap at once: the guarantee is met in one tick. */
	CHECK(balloon_target(&p, 0) >= GiB(2));
	CHECK(strstr(reason(&p, 0, ACTION_BALLOON), "below MinMemory"));
	plan_done(&p);
}

TEST(guest_floor_from_usage_and_headroom) {
	static const struct {
		uint64_t actual, available, min_memory, want_target;
	} table[] = {
		/* used 924 + headroom 64 = 988 MiB */
		{ GiB(1), MiB(100), 0, MiB(988) },
		/* plenty available: the step limits */
		{ GiB(1), MiB(600), 0, GiB(1) - MiB(64) },
		/* MinMemory above usage + headroom */
		{ GiB(1), MiB(600), MiB(1000), MiB(1000) },
		/* global floor 128 MiB */
		{ MiB(150), MiB(140), 0, MiB(128) },
		/* usage + headroom at the size: nothing */
		{ GiB(1), MiB(64), 0, 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(0);
		struct vm_state vms[1] = { vm_new("a", table[t].actual) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		vms[0].guest.available = vms[0].guest.free = table[t].available;
		vms[0].settings.min_memory = table[t].min_memory;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		CHECK_EQ_U64(balloon_target(&p, 0), table[t].want_target);
		plan_done(&p);
	}
}

TEST(floor_reason_has_numbers) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(180));
	struct vm_state vms[1] = { vm_new("a", GiB(1)) };
	struct hist hist;
	struct plan p;
	const struct action *a;

	hist_init(&hist);
	vms[0].guest.available = vms[0].guest.free = MiB(788);	/* floor 300 MiB */
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	a = find(&p, 0, ACTION_BALLOON);
	CHECK(a && strstr(a->reason, "host free 180 MiB < low watermark 256 MiB: inflate by "
			  "64 MiB to 960 MiB (priority 0, ratio "));
	CHECK(a && strstr(a->reason, "floor 300 MiB"));
	plan_done(&p);
}

/* Runs ticks with the host short by need_per_tick each time. */
static void run_pressure(struct policy_config *c, struct vm_state *vms, size_t n,
			 uint64_t need_per_tick, int ticks) {
	struct host_state h;
	struct hist hist;

	hist_init(&hist);
	hist.h.reclaiming = true;	/* went below low before: keep going up to high */
	for (int tick = 0; tick < ticks; tick++) {
		struct plan p;

		h = host_free(c->high_watermark - need_per_tick);
		decide(c, &h, vms, n, &hist, NOW + SEC(tick), &p);
		apply_balloons(&p, vms, &h);
		plan_done(&p);
	}
}

TEST(shares_proportional) {
	struct policy_config c = config();
	struct vm_state vms[2] = { vm_new("double", GiB(4)), vm_new("single", GiB(4)) };
	uint64_t lost0, lost1;

	/* No guest stats: all memory counts as active, only shares matter. */
	for (size_t i = 0; i < 2; i++)
		vms[i].guest.valid = false;
	vms[0].settings.shares = 2000;

	/* A little pressure: the VM with fewer shares per byte gives it all. */
	run_pressure(&c, vms, 2, MiB(48), 10);
	lost0 = GiB(4) - vms[0].balloon_actual;
	lost1 = GiB(4) - vms[1].balloon_actual;
	CHECK_EQ_U64(lost1, MiB(480));
	CHECK(lost0 * 2 <= lost1);

	/* Long pressure: sizes settle in proportion to shares, 2:1. */
	run_pressure(&c, vms, 2, MiB(48), 54);
	lost0 = GiB(4) - vms[0].balloon_actual;
	lost1 = GiB(4) - vms[1].balloon_actual;
	CHECK_EQ_U64(lost0 + lost1, MiB(48) * 64);
	CHECK(lost0 > 0);
	CHECK(vms[0].balloon_actual + MiB(32) >= 2 * vms[1].balloon_actual);
	CHECK(vms[0].balloon_actual <= 2 * vms[1].balloon_actual + MiB(32));
}

TEST(idle_memory_taxed) {
	struct policy_config c = config();
	struct vm_state vms[2] = { vm_new("busy", GiB(4)), vm_new("idle", GiB(4)) };

	vms[0].guest.free = vms[0].guest.available = GiB(1);
	vms[1].guest.free = vms[1].guest.available = GiB(3);
	run_pressure(&c, vms, 2, MiB(48), 5);
	CHECK_EQ_U64(vms[0].balloon_actual, GiB(4));
	CHECK_EQ_U64(vms[1].balloon_actual, GiB(4) - 5 * MiB(48));

	/* Without the tax both are alike by shares, so they share the cut. */
	c.idle_tax = 0;
	run_pressure(&c, vms, 2, MiB(48), 10);
	CHECK(vms[0].balloon_actual < GiB(4));
}

TEST(priority_order) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(400));
	struct vm_state vms[3] = { vm_new("high", GiB(2)), vm_new("low", GiB(8)),
				   vm_new("mid", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].settings.priority = 50;
	vms[1].settings.priority = -50;
	/* The low-priority VM has more shares per byte: priority still wins. */
	vms[1].settings.shares = 10000;
	h.mem_available = MiB(200);	/* need 312 */
	for (size_t i = 0; i < 3; i++)
		vms[i].guest.volatile_ = MiB(100);
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	/* Cache: low, then mid, then high, 100 each. */
	CHECK_EQ_U64(drop(&p, 1), MiB(100));
	CHECK_EQ_U64(drop(&p, 2), MiB(100));
	CHECK_EQ_U64(drop(&p, 0), MiB(100));
	/* Balloon: the last 12 MiB from the low one. */
	CHECK_EQ_U64(balloon_target(&p, 1), GiB(8) - MiB(12));
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 1);
	plan_done(&p);

	/* More than one step: low gives 64, then mid, never high first. */
	hist_init(&hist);
	for (size_t i = 0; i < 3; i++)
		vms[i].guest.volatile_ = 0;
	h.mem_available = MiB(412);	/* need 100, still reclaiming */
	hist.h.reclaiming = true;
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK_EQ_U64(balloon_target(&p, 1), GiB(8) - MiB(64));
	CHECK_EQ_U64(balloon_target(&p, 2), GiB(2) - MiB(36));
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);
}

TEST(reclaim_request_forces_reclaim) {
	/* Host free well above the high watermark: nothing to do until a
	 * reclaim is requested; then reclaim is on, need is the request, and
	 * it comes from the cheapest rung that has it. */
	struct policy_config c = config();
	struct host_state h = host_free(GiB(4));
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].balloon_target = GiB(2);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(!p.reclaiming);
	CHECK_EQ_U64(p.need, 0);
	plan_done(&p);

	h.reclaim_request = MiB(48);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK(p.reclaiming);
	CHECK(hist.h.reclaiming);
	CHECK_EQ_U64(p.need, MiB(48));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) - MiB(48));
	CHECK(strstr(reason(&p, 0, ACTION_BALLOON), "reclaim of 48 MiB requested: inflate by 48 MiB"));
	CHECK(strstr(p.reason, "reclaim of 48 MiB requested"));
	plan_done(&p);

	/* Hints cover it: no balloon. */
	vms[0].hinted = MiB(64);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(2), &p);
	CHECK(p.reclaiming);
	CHECK_EQ_INT(hints(&p, 0), 1);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);

	/* Below the high watermark, the request adds to the need. */
	vms[0].hinted = 0;
	h.mem_available = MiB(500);	/* need 12 MiB + 20 MiB */
	h.reclaim_request = MiB(20);
	hist_init(&hist);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(p.reclaiming);
	CHECK_EQ_U64(p.need, MiB(32));
	plan_done(&p);

	/* Request met (cleared by the manager), host above high: reclaim stops. */
	h.mem_available = GiB(4);
	h.reclaim_request = 0;
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK(!p.reclaiming);
	CHECK(!hist.h.reclaiming);
	plan_done(&p);
}

TEST(reclaim_first_goes_first) {
	/* Three equal VMs; "c" would come last. Named by a request, it is asked
	 * for cache first, and its balloon moves before the others'. */
	struct policy_config c = config();
	struct host_state h = host_free(GiB(4));
	struct vm_state vms[3] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)),
				   vm_new("c", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].settings.priority = -10;	/* the one policy would pick */
	for (size_t i = 0; i < 3; i++)
		vms[i].guest.volatile_ = MiB(100);
	h.reclaim_request = MiB(40);
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(40));
	CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 1);
	plan_done(&p);

	vms[2].reclaim_first = true;
	hist_init(&hist);
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 2), MiB(40));
	CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 1);
	plan_done(&p);

	/* No cache: the balloon of "c" first, up to its step, then "a". */
	for (size_t i = 0; i < 3; i++)
		vms[i].guest.volatile_ = 0;
	h.reclaim_request = MiB(80);
	hist_init(&hist);
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK_EQ_U64(balloon_target(&p, 2), GiB(2) - MiB(64));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) - MiB(16));
	CHECK(!find(&p, 1, ACTION_BALLOON));
	plan_done(&p);
}

TEST(short_guest_deflated_first) {
	static const struct {
		const char *why;
		uint64_t available;
		double psi, swapin, refault;
	} table[] = {
		{ "guest short: available 40 MiB < headroom 64 MiB: deflate by",
		  MiB(40), 0, 0, 0 },
		{ "guest short: PSI some 25.0% > 10.0%: deflate by", GiB(1), 25, 0, 0 },
		{ "guest short: swap-in 80 pages/s > 50: deflate", GiB(1), 0, 80, 0 },
		{ "guest short: refaults 900/s > 500: deflate", GiB(1), 0, 0, 900 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(MiB(100));	/* host reclaiming */
		struct vm_state vms[2] = { vm_new("short", GiB(2)), vm_new("ok", GiB(4)) };
		struct hist hist;
		struct plan p;
		const struct action *a;

		hist_init(&hist);
		vms[0].max_memory = GiB(4);
		vms[0].guest.available = table[t].available;
		vms[0].guest.psi_some_avg10 = table[t].psi;
		vms[0].swapin_rate = table[t].swapin;
		vms[0].refault_rate = table[t].refault;
		vms[0].guest.volatile_ = MiB(500);
		vms[1].hinted = MiB(412);
		decide(&c, &h, vms, 2, &hist, NOW, &p);
		/* First action of the plan, never inflated, no cache asked. */
		a = &p.actions[0];
		CHECK(a->vm == 0 && a->kind == ACTION_BALLOON);
		/* A quarter of its 4 GiB cap: one decisive step, not 64 MiB a tick. */
		CHECK_EQ_U64(a->bytes, GiB(3));
		CHECK(strstr(a->reason, table[t].why));
		CHECK(!find(&p, 0, ACTION_DROP_CACHE));
		CHECK_EQ_U64(hist.vm[0].last_deflate, NOW);
		/* The other VM makes up for it: 412 + 64 = 476 needed. */
		CHECK_EQ_INT(hints(&p, 1), 1);
		CHECK_EQ_U64(balloon_target(&p, 1), GiB(4) - MiB(64));
		plan_done(&p);
	}
}

TEST(short_guest_capped_by_max_memory) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(400));
	struct vm_state vms[2] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].max_memory = vms[1].max_memory = GiB(4);
	vms[0].guest.available = vms[1].guest.available = MiB(10);
	vms[0].settings.max_memory = GiB(2) + MiB(20);
	vms[1].settings.max_memory = GiB(2);
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) + MiB(20));
	CHECK(!find(&p, 1, ACTION_BALLOON));
	plan_done(&p);
}

TEST(hysteresis) {
	static const struct {
		uint64_t free;
		bool reclaiming;
		uint64_t need;
	} ticks[] = {
		{ MiB(400), false, 0 },		/* between, never started: idle */
		{ MiB(200), true, MiB(312) },	/* below low: start */
		{ MiB(400), true, MiB(112) },	/* between: go on */
		{ MiB(511), true, MiB(1) },
		{ MiB(512), false, 0 },		/* high reached: stop */
		{ MiB(400), false, 0 },		/* between again: stay stopped */
		{ MiB(255), true, MiB(257) },
	};
	struct policy_config c = config();
	struct vm_state vms[1] = { vm_new("a", GiB(4)) };
	struct hist hist;

	hist_init(&hist);
	for (size_t t = 0; t < ELEMENTSOF(ticks); t++) {
		struct host_state h = host_free(ticks[t].free);
		struct plan p;

		decide(&c, &h, vms, 1, &hist, NOW + SEC(t), &p);
		if (p.reclaiming != ticks[t].reclaiming)
			FAIL_AT("tick %zu: reclaiming %d", t, p.reclaiming);
		CHECK_EQ_U64(p.need, ticks[t].need);
		CHECK_EQ_INT(hist.h.reclaiming, ticks[t].reclaiming);
		CHECK_EQ_INT(count(&p, ACTION_BALLOON), ticks[t].reclaiming ? 1 : 0);
		plan_done(&p);
	}
}

TEST(host_psi_and_budget) {
	struct policy_config c = config();
	struct host_state h = host_free(GiB(8));
	struct vm_state vms[1] = { vm_new("a", GiB(4)) };
	struct hist hist;
	struct plan p;

	/* PSI over its limit with memory to spare: at least a step. */
	hist_init(&hist);
	h.psi_some_avg10 = 30;
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(p.reclaiming);
	CHECK_EQ_U64(p.need, MiB(64));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(4) - MiB(64));
	CHECK(strstr(p.reason, "host PSI some 30.0% > 10.0%"));
	plan_done(&p);

	/* psi_limit 0 ignores PSI. */
	hist_init(&hist);
	c.psi_limit = 0;
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(!p.reclaiming);
	plan_done(&p);

	/* A budget: free is what is left of it, 0 when over it. */
	hist_init(&hist);
	h = host_free(GiB(30));
	h.budget_set = true;
	h.budget_limit = GiB(8);
	h.budget_usage = GiB(8) - MiB(100);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(p.free, MiB(100));
	CHECK_EQ_U64(p.need, MiB(412));
	plan_done(&p);
	h.budget_usage = GiB(9);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(p.free, 0);
	CHECK_EQ_U64(p.need, MiB(512));
	plan_done(&p);
}

TEST(slack_deflates_by_priority) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(512) + MiB(100));	/* slack 100 MiB */
	struct vm_state vms[3] = { vm_new("low", GiB(2)), vm_new("high", GiB(2)),
				   vm_new("full", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].max_memory = vms[1].max_memory = GiB(4);
	vms[0].settings.priority = -10;
	vms[1].settings.priority = 10;
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK(!p.reclaiming);
	CHECK_EQ_U64(balloon_target(&p, 1), GiB(2) + MiB(64));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) + MiB(36));
	CHECK(!find(&p, 2, ACTION_BALLOON));
	CHECK(strstr(reason(&p, 1, ACTION_BALLOON), "deflate by 64 MiB"));
	CHECK_EQ_U64(hist.vm[1].last_deflate, NOW);
	plan_done(&p);

	/* Deflation in flight counts against the slack and the step. */
	hist_init(&hist);
	vms[1].balloon_target = GiB(2) + MiB(64);
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK(!find(&p, 1, ACTION_BALLOON));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) + MiB(36));
	plan_done(&p);
}

TEST(thrash_guard) {
	struct policy_config c = config();
	struct host_state h;
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].max_memory = GiB(4);

	/* Deflated for slack at NOW... */
	h = host_free(GiB(1));
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) + MiB(64));
	apply_balloons(&p, vms, &h);
	plan_done(&p);

	/* ...so not inflated 10 s later, under mild pressure... */
	h = host_free(MiB(200));
	decide(&c, &h, vms, 1, &hist, NOW + SEC(10), &p);
	CHECK(p.reclaiming);
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);

	/* ...unless the host is in an emergency (below half the low mark)... */
	h = host_free(MiB(100));
	decide(&c, &h, vms, 1, &hist, NOW + SEC(10), &p);
	CHECK(find(&p, 0, ACTION_BALLOON));
	plan_done(&p);

	/* ...and normally again once the holdoff has passed. */
	hist_init(&hist);
	hist.vm[0].last_deflate = NOW;
	h = host_free(MiB(200));
	decide(&c, &h, vms, 1, &hist, NOW + SEC(31), &p);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2));
	CHECK_EQ_U64(hist.vm[0].last_inflate, NOW + SEC(31));
	plan_done(&p);

	/* Inflated at NOW + 31 s: slack 20 s later gives nothing back yet. */
	vms[0].balloon_actual = vms[0].balloon_target = GiB(2);
	h = host_free(GiB(1));
	decide(&c, &h, vms, 1, &hist, NOW + SEC(51), &p);
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(62), &p);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) + MiB(64));
	plan_done(&p);
}

TEST(rungs_honoured) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(100));
	struct vm_state vms[3] = { vm_new("balloon-only", GiB(2)), vm_new("none", GiB(2)),
				   vm_new("unused-only", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	for (size_t i = 0; i < 3; i++) {
		vms[i].hinted = MiB(10);
		vms[i].guest.volatile_ = MiB(200);
	}
	vms[0].settings.rungs = RUNG_BIT(RUNG_BALLOON);
	vms[1].settings.rungs = 0;
	vms[2].settings.rungs = RUNG_BIT(RUNG_UNUSED);
	decide(&c, &h, vms, 3, &hist, NOW, &p);

	CHECK_EQ_INT(hints(&p, 0), 0);
	CHECK(strstr(reason(&p, 0, ACTION_HINTS), "Reclaim= excludes unused"));
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) - MiB(64));

	CHECK_EQ_INT(hints(&p, 1), 0);
	CHECK(!find(&p, 1, ACTION_DROP_CACHE));
	CHECK(!find(&p, 1, ACTION_BALLOON));

	CHECK_EQ_INT(hints(&p, 2), 1);
	CHECK(!find(&p, 2, ACTION_DROP_CACHE));
	CHECK(!find(&p, 2, ACTION_BALLOON));
	plan_done(&p);

	/* Without the balloon rung a VM is not deflated either: a short guest
	 * or host slack leaves its admin's size alone. */
	hist_init(&hist);
	h = host_free(GiB(2));
	vms[1].max_memory = GiB(4);
	vms[1].guest.available = MiB(1);
	decide(&c, &h, vms, 3, &hist, NOW, &p);
	CHECK(!find(&p, 1, ACTION_BALLOON));
	plan_done(&p);
}

TEST(not_running_ignored) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(100));
	struct vm_state vms[2] = { vm_new("off", GiB(2)), vm_new("on", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].running = false;
	vms[0].hinted = MiB(500);
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	for (size_t i = 0; i < p.n_actions; i++)
		CHECK(p.actions[i].vm == 1);
	CHECK_EQ_U64(balloon_target(&p, 1), GiB(2) - MiB(64));
	plan_done(&p);
}

TEST(step_limits) {
	struct policy_config c = config();
	struct host_state h = host_free(0);
	struct vm_state vms[1] = { vm_new("a", GiB(8)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].guest.volatile_ = GiB(1);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(128));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(8) - MiB(64));
	plan_done(&p);

	/* A target still on its way counts towards the step and the need:
	 * only the rest of the step is handed out, then nothing. */
	vms[0].balloon_target = GiB(8) - MiB(64);
	vms[0].balloon_actual = GiB(8) - MiB(10);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(8) - MiB(74));
	plan_done(&p);
	vms[0].balloon_actual = GiB(8);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(2), &p);
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);

	/* Other steps are honoured too. */
	c.balloon_step = MiB(8);
	c.volatile_step = MiB(4);
	vms[0].balloon_target = 0;
	decide(&c, &h, vms, 1, &hist, NOW + SEC(3), &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(4));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(8) - MiB(8));
	plan_done(&p);
}

TEST(in_flight_target_below_floor_stopped) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(400));
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].balloon_actual = GiB(2) - MiB(20);
	vms[0].balloon_target = GiB(2) - MiB(64);
	vms[0].settings.min_memory = GiB(2) - MiB(40);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(2) - MiB(40));
	CHECK(strstr(reason(&p, 0, ACTION_BALLOON), "below floor"));
	plan_done(&p);
}

TEST(discard_modes) {
	static const struct {
		enum discard_mode mode;
		uint64_t free;
		bool accept;
	} table[] = {
		{ DISCARD_ALWAYS, GiB(2), true },
		{ DISCARD_ALWAYS, MiB(400), true },
		{ DISCARD_ALWAYS, MiB(100), true },
		{ DISCARD_ON_PRESSURE, GiB(2), false },
		{ DISCARD_ON_PRESSURE, MiB(400), false },
		{ DISCARD_ON_PRESSURE, MiB(100), true },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(table[t].free);
		struct vm_state vms[1] = { vm_new("a", GiB(2)) };
		struct hist hist;
		struct plan p;
		const struct action *a;

		hist_init(&hist);
		c.discard_unused = table[t].mode;
		vms[0].hinted = MiB(30);
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		a = find(&p, 0, ACTION_HINTS);
		CHECK(a != NULL);
		if (a && a->accept != table[t].accept)
			FAIL_AT("row %zu: accept %d: %s", t, a->accept, a->reason);
		plan_done(&p);
	}
}

TEST(bad_config_rejected) {
	static const struct {
		const char *what;
		uint64_t low, high, balloon_step, volatile_step;
		double idle_tax, psi_limit;
		int discard;
	} table[] = {
		{ "low > high", MiB(600), MiB(512), MiB(64), MiB(128), 0.75, 10, 0 },
		{ "idle tax 1", MiB(256), MiB(512), MiB(64), MiB(128), 1.0, 10, 0 },
		{ "idle tax < 0", MiB(256), MiB(512), MiB(64), MiB(128), -0.1, 10, 0 },
		{ "zero balloon step", MiB(256), MiB(512), 0, MiB(128), 0.75, 10, 0 },
		{ "zero volatile step", MiB(256), MiB(512), MiB(64), 0, 0.75, 10, 0 },
		{ "negative psi", MiB(256), MiB(512), MiB(64), MiB(128), 0.75, -1, 0 },
		{ "bad discard mode", MiB(256), MiB(512), MiB(64), MiB(128), 0.75, 10, 7 },
	};
	struct host_state h = host_free(MiB(100));
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p = { .n_actions = 12345 };

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		int r;

		hist_init(&hist);
		c.low_watermark = table[t].low;
		c.high_watermark = table[t].high;
		c.balloon_step = table[t].balloon_step;
		c.volatile_step = table[t].volatile_step;
		c.idle_tax = table[t].idle_tax;
		c.psi_limit = table[t].psi_limit;
		c.discard_unused = table[t].discard;
		r = policy_decide(&c, &h, vms, 1, &hist.h, NOW, &p);
		if (r != -EINVAL)
			FAIL_AT("%s: %d", table[t].what, r);
		/* Nothing written on failure. */
		CHECK_EQ_INT(p.n_actions, 12345);
		CHECK(!hist.h.reclaiming);
	}

	/* Missing history for VMs. */
	struct policy_config c = config();
	struct policy_history none = {};

	CHECK_EQ_INT(policy_decide(&c, &h, vms, 1, &none, NOW, &p), -EINVAL);
	CHECK_EQ_INT(p.n_actions, 12345);
}

TEST(rungs_from_string_inputs) {
	static const struct {
		const char *s;
		int r;
		unsigned rungs;
	} table[] = {
		{ "unused,volatile,balloon", 0, RUNGS_ALL },
		{ "balloon,unused,volatile", 0, RUNGS_ALL },
		{ "balloon", 0, RUNG_BIT(RUNG_BALLOON) },
		{ "unused", 0, RUNG_BIT(RUNG_UNUSED) },
		{ " volatile , balloon ", 0, RUNG_BIT(RUNG_VOLATILE) | RUNG_BIT(RUNG_BALLOON) },
		{ "\tunused,\tballoon\n", 0, RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_BALLOON) },
		{ "none", 0, 0 },
		{ "  none ", 0, 0 },
		{ "", -EINVAL, 0 },
		{ " ", -EINVAL, 0 },
		{ ",", -EINVAL, 0 },
		{ "unused,", -EINVAL, 0 },
		{ ",unused", -EINVAL, 0 },
		{ "unused,,balloon", -EINVAL, 0 },
		{ "unused,unused", -EINVAL, 0 },
		{ "balloon, balloon", -EINVAL, 0 },
		{ "swap", -EINVAL, 0 },
		{ "Balloon", -EINVAL, 0 },
		{ "balloons", -EINVAL, 0 },
		{ "ball", -EINVAL, 0 },
		{ "none,balloon", -EINVAL, 0 },
		{ "none,none", -EINVAL, 0 },
		{ "unused volatile", -EINVAL, 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		unsigned rungs = 0xdead;
		int r = rungs_from_string(table[t].s, &rungs);

		if (r != table[t].r)
			FAIL_AT("\"%s\": %d, want %d", table[t].s, r, table[t].r);
		else if (r == 0 && rungs != table[t].rungs)
			FAIL_AT("\"%s\": %#x, want %#x", table[t].s, rungs, table[t].rungs);
		else if (r < 0 && rungs != 0xdead)
			FAIL_AT("\"%s\": written on failure", table[t].s);
	}
	CHECK_EQ_INT(rungs_from_string(NULL, &(unsigned) { 0 }), -EINVAL);

	CHECK_STREQ(rung_to_string(RUNG_UNUSED), "unused");
	CHECK_STREQ(rung_to_string(RUNG_VOLATILE), "volatile");
	CHECK_STREQ(rung_to_string(RUNG_BALLOON), "balloon");
	CHECK(rung_to_string(_RUNG_MAX) == NULL);
}

int main(void) {
	return run_tests();
}
