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
		.measured.running = true,
		.measured.max_memory = size,
		.measured.balloon_actual = size,
		.measured.agent = AGENT_CONNECTED,
		.measured.module = true,
		.measured.discard_capable = true,
		.measured.guest = {
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
		if (a->bytes < v->measured.balloon_actual) {
			uint64_t d = v->measured.balloon_actual - a->bytes;

			v->measured.guest.free = v->measured.guest.free > d ? v->measured.guest.free - d : 0;
			v->measured.guest.available = v->measured.guest.available > d ? v->measured.guest.available - d : 0;
			host->mem_available += d;
		} else {
			uint64_t d = a->bytes - v->measured.balloon_actual;

			v->measured.guest.free += d;
			v->measured.guest.available += d;
			host->mem_available -= d;
		}
		v->measured.balloon_actual = v->commanded.balloon_target = a->bytes;
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
		vms[1].measured.guest.volatile_ = vms[1].measured.guest.cold = MiB(500);
		vms[1].measured.hinted = MiB(100);
		if (frees[t] <= c.high_watermark) {
			/* Ballooned, but no slack: left alone. */
			vms[0].measured.max_memory = GiB(4);
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
	vms[0].measured.hinted = MiB(200);
	vms[1].measured.hinted = MiB(150);
	vms[1].measured.guest.volatile_ = vms[1].measured.guest.cold = MiB(300);
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
	vms[0].measured.unused_backed = vms[0].measured.unused_coming = MiB(400);
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
	vms[0].measured.guest.free = vms[0].measured.guest.available = MiB(80);	/* using its memory */
	vms[1].measured.guest.free = vms[1].measured.guest.available = GiB(1) + MiB(800);
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
	vms[0].measured.hinted = MiB(50);
	vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = MiB(300);
	vms[1].measured.guest.volatile_ = vms[1].measured.guest.cold = MiB(300);
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
	vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = MiB(20);
	vms[1].measured.guest.volatile_ = vms[1].measured.guest.cold = MiB(500);
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
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = MiB(500);
	vms[0].measured.discard_capable = false;
	vms[0].measured.hinted = MiB(40);
	vms[1].measured.module = false;
	vms[2].measured.agent = AGENT_DISCONNECTED;
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
	vms[0].measured.hinted = MiB(100);
	vms[1].measured.guest.volatile_ = vms[1].measured.guest.cold = MiB(80);
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
	vms[0].measured.guest.free = vms[0].measured.guest.available = GiB(1) + MiB(512);
	for (int tick = 0; tick < 10; tick++) {
		h.mem_available = 0;	/* the host keeps needing memory */
		decide(&c, &h, vms, 1, &hist, NOW + SEC(tick), &p);
		if (tick < 2)
			CHECK_EQ_INT(count(&p, ACTION_BALLOON), 1);
		apply_balloons(&p, vms, &h);
		CHECK(vms[0].measured.balloon_actual >= vms[0].settings.min_memory);
		plan_done(&p);
	}
	CHECK_EQ_U64(vms[0].measured.balloon_actual, vms[0].settings.min_memory);

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
		vms[0].measured.guest.available = vms[0].measured.guest.free = table[t].available;
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
	vms[0].measured.guest.available = vms[0].measured.guest.free = MiB(788);	/* floor 300 MiB */
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	a = find(&p, 0, ACTION_BALLOON);
	/* 788 of 1024 MiB idle, counted 4x: 1024 * (0.23 + 4 * 0.77) = 3388 MiB
	 * against a fair share of all 1024 MiB. No raw ratio. */
	CHECK(a && strstr(a->reason, "host free 180 MiB < low watermark 256 MiB: inflate by "
			  "64 MiB to 960 MiB (priority 0, 1024 MiB, 77% idle: 331% of fair share 1024 MiB)"));
	CHECK(a && !strstr(a->reason, "e-0") && !strstr(a->reason, "ratio"));
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
		vms[i].measured.guest.valid = false;
	vms[0].settings.shares = 2000;

	/* A little pressure: the VM with fewer shares per byte gives it all. */
	run_pressure(&c, vms, 2, MiB(48), 10);
	lost0 = GiB(4) - vms[0].measured.balloon_actual;
	lost1 = GiB(4) - vms[1].measured.balloon_actual;
	CHECK_EQ_U64(lost1, MiB(480));
	CHECK(lost0 * 2 <= lost1);

	/* Long pressure: sizes settle in proportion to shares, 2:1. */
	run_pressure(&c, vms, 2, MiB(48), 54);
	lost0 = GiB(4) - vms[0].measured.balloon_actual;
	lost1 = GiB(4) - vms[1].measured.balloon_actual;
	CHECK_EQ_U64(lost0 + lost1, MiB(48) * 64);
	CHECK(lost0 > 0);
	CHECK(vms[0].measured.balloon_actual + MiB(32) >= 2 * vms[1].measured.balloon_actual);
	CHECK(vms[0].measured.balloon_actual <= 2 * vms[1].measured.balloon_actual + MiB(32));
}

TEST(idle_memory_taxed) {
	struct policy_config c = config();
	struct vm_state vms[2] = { vm_new("busy", GiB(4)), vm_new("idle", GiB(4)) };

	vms[0].measured.guest.free = vms[0].measured.guest.available = GiB(1);
	vms[1].measured.guest.free = vms[1].measured.guest.available = GiB(3);
	run_pressure(&c, vms, 2, MiB(48), 5);
	CHECK_EQ_U64(vms[0].measured.balloon_actual, GiB(4));
	CHECK_EQ_U64(vms[1].measured.balloon_actual, GiB(4) - 5 * MiB(48));

	/* Without the tax both are alike by shares, so they share the cut. */
	c.idle_tax = 0;
	run_pressure(&c, vms, 2, MiB(48), 10);
	CHECK(vms[0].measured.balloon_actual < GiB(4));
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
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = MiB(100);
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
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = 0;
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
	vms[0].commanded.balloon_target = GiB(2);
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
	vms[0].measured.hinted = MiB(64);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(2), &p);
	CHECK(p.reclaiming);
	CHECK_EQ_INT(hints(&p, 0), 1);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);

	/* Below the high watermark, the request adds to the need. */
	vms[0].measured.hinted = 0;
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
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = MiB(100);
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
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = 0;
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
		vms[0].measured.max_memory = GiB(4);
		vms[0].measured.guest.available = table[t].available;
		vms[0].measured.guest.psi_some_avg10 = table[t].psi;
		vms[0].measured.swapin_rate = table[t].swapin;
		vms[0].measured.refault_rate = table[t].refault;
		vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = MiB(500);
		vms[1].measured.hinted = MiB(412);
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
	vms[0].measured.max_memory = vms[1].measured.max_memory = GiB(4);
	vms[0].measured.guest.available = vms[1].measured.guest.available = MiB(10);
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
	vms[0].measured.max_memory = vms[1].measured.max_memory = GiB(4);
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
	vms[1].commanded.balloon_target = GiB(2) + MiB(64);
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
	vms[0].measured.max_memory = GiB(4);

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

	/* ...unless the host is in an emergency (below half the low mark),
	 * past the short settle... */
	h = host_free(MiB(100));
	decide(&c, &h, vms, 1, &hist, NOW + SEC(16), &p);
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
	vms[0].measured.balloon_actual = vms[0].commanded.balloon_target = GiB(2);
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
		vms[i].measured.hinted = MiB(10);
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = MiB(200);
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
	vms[1].measured.max_memory = GiB(4);
	vms[1].measured.guest.available = MiB(1);
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
	vms[0].measured.running = false;
	vms[0].measured.hinted = MiB(500);
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	for (size_t i = 0; i < p.n_actions; i++)
		CHECK(p.actions[i].vm == 1);
	CHECK_EQ_U64(balloon_target(&p, 1), GiB(2) - MiB(64));
	plan_done(&p);
}

/* The VM the first cache drop of the plan goes to. */
static size_t first_drop_vm(const struct plan *p) {
	for (size_t i = 0; i < p->n_actions; i++)
		if (p->actions[i].kind == ACTION_DROP_CACHE)
			return p->actions[i].vm;
	return SIZE_MAX;
}

TEST(volatile_is_sized_from_cold_cache) {
	/* 500 MiB of clean cache, of which only 30 MiB is inactive: the rest
	 * is the guest's working set, and is not cheap. */
	struct policy_config c = config();
	struct host_state h = host_free(GiB(1));
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	h.reclaim_request = MiB(100);
	vms[0].measured.guest.volatile_ = MiB(500);
	vms[0].measured.guest.cold = MiB(30);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(30));
	CHECK(strstr(reason(&p, 0, ACTION_DROP_CACHE), "of 30 MiB cold cache") != NULL);
	plan_done(&p);
	/* Too little cold cache to be worth a request: none, whatever is hot. */
	vms[0].measured.guest.cold = MiB(3);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 0);
	plan_done(&p);
}

TEST(a_follow_up_drop_takes_no_more_than_was_cold_before) {
	/* Its stats say 120 MiB are cold, but the drops of the last seconds
	 * left only 40 MiB of what was cold before them: the rest was hot
	 * cache the guest's kernel moved to its inactive list. */
	struct policy_config c = config();
	struct host_state h = host_free(GiB(1));
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	h.reclaim_request = MiB(96);
	vms[0].measured.guest.volatile_ = MiB(250);
	vms[0].measured.guest.cold = MiB(120);
	vms[0].accounted.cold_capped = true;
	vms[0].accounted.cold_cap = MiB(40);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(40));
	CHECK(strstr(reason(&p, 0, ACTION_DROP_CACHE), "of 40 MiB cold cache") != NULL);
	plan_done(&p);
	/* Nothing cold left of it: no drop at all. */
	vms[0].accounted.cold_cap = 0;
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 0);
	plan_done(&p);
}

TEST(free_memory_held_backed_does_not_shrink_the_drop) {
	/* A request of 96 MiB; the guest holds 17 MiB free yet backed. New,
	 * it is on its way and the drop is the rest; held through its passes
	 * (pieces they do not return), it counts for nothing. */
	struct policy_config c = config();
	struct host_state h = host_free(GiB(1));
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	h.reclaim_request = MiB(96);
	vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = MiB(150);
	vms[0].measured.unused_backed = vms[0].measured.unused_coming = MiB(17);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(79));
	plan_done(&p);
	hist_init(&hist);
	vms[0].measured.unused_coming = 0;
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(96));
	plan_done(&p);
}

TEST(cache_on_its_way_is_not_asked_again) {
	/* a said it dropped 60 MiB the host has not seen yet: that counts, a
	 * is left alone, and only the rest is asked of b. */
	struct policy_config c = config();
	struct host_state h = host_free(GiB(1));
	struct vm_state vms[2] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	h.reclaim_request = MiB(100);
	for (size_t i = 0; i < 2; i++)
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = MiB(300);
	vms[0].accounted.cache_coming = MiB(60);
	/* Within the grace a's whole cache counts: nothing more is asked, no
	 * balloon moves. */
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	CHECK(!find(&p, 1, ACTION_DROP_CACHE));
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);
	/* After it (no progress for the grace), only what a dropped counts. */
	decide(&c, &h, vms, 2, &hist, NOW + c.cheap_rung_grace, &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	CHECK_EQ_U64(drop(&p, 1), MiB(40));
	plan_done(&p);
}

TEST(proactive_trims_an_idle_guest_slowly_and_backs_off) {
	struct policy_config c = config();
	struct host_state h = host_free(GiB(4));	/* no pressure at all */
	struct vm_state vms[2] = { vm_new("idle", GiB(1)), vm_new("other", GiB(1)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	for (size_t i = 0; i < 2; i++)
		vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = MiB(250);
	vms[0].settings.proactive = true;
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), PROACTIVE_STEP);
	CHECK(!find(&p, 1, ACTION_DROP_CACHE));		/* Proactive=no: left alone */
	CHECK(strstr(reason(&p, 0, ACTION_DROP_CACHE), "Proactive=yes") != NULL);
	plan_done(&p);
	/* Slowly: one step per interval. */
	decide(&c, &h, vms, 2, &hist, NOW + SEC(1), &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	plan_done(&p);
	decide(&c, &h, vms, 2, &hist, NOW + PROACTIVE_INTERVAL_USEC, &p);
	CHECK_EQ_U64(drop(&p, 0), PROACTIVE_STEP);
	plan_done(&p);
	/* Its pressure rises: it backs off at once, for the back-off time. */
	vms[0].measured.guest.psi_some_avg10 = 0.5;
	decide(&c, &h, vms, 2, &hist, NOW + 2 * PROACTIVE_INTERVAL_USEC, &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	plan_done(&p);
	vms[0].measured.guest.psi_some_avg10 = 0;
	decide(&c, &h, vms, 2, &hist, NOW + 3 * PROACTIVE_INTERVAL_USEC, &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	plan_done(&p);
	decide(&c, &h, vms, 2, &hist, NOW + 2 * PROACTIVE_INTERVAL_USEC + PROACTIVE_BACKOFF_USEC, &p);
	CHECK_EQ_U64(drop(&p, 0), PROACTIVE_STEP);
	plan_done(&p);
	/* Its cache comes back: the same. */
	vms[0].measured.cache_refault_rate = 3 * CACHE_REFAULT_QUIET;
	decide(&c, &h, vms, 2, &hist, NOW + SEC(200), &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	plan_done(&p);
	vms[0].measured.cache_refault_rate = 0;
	/* Never more than its cold cache; nothing when too little is left. */
	vms[0].measured.guest.cold = MiB(6);
	decide(&c, &h, vms, 2, &hist, NOW + SEC(300), &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(6));
	plan_done(&p);
	vms[0].measured.guest.cold = MiB(2);
	decide(&c, &h, vms, 2, &hist, NOW + SEC(400), &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	plan_done(&p);
	/* Only with DiscardUnused=always: the dropped cache must be taken. */
	vms[0].measured.guest.cold = MiB(200);
	c.discard_unused = DISCARD_ON_PRESSURE;
	decide(&c, &h, vms, 2, &hist, NOW + SEC(500), &p);
	CHECK(!find(&p, 0, ACTION_DROP_CACHE));
	plan_done(&p);
}

TEST(proactive_gives_way_to_reclaim) {
	/* Under host pressure the volatile rung decides, by its own rules. */
	struct policy_config c = config();
	struct host_state h = host_free(MiB(100));
	struct vm_state vms[1] = { vm_new("idle", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = MiB(250);
	vms[0].settings.proactive = true;
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), c.volatile_step);
	CHECK(strstr(reason(&p, 0, ACTION_DROP_CACHE), "Proactive") == NULL);
	plan_done(&p);
}

TEST(cache_cost_from_refaults) {
	CHECK_EQ_INT((int) cache_cost(0), 1);
	CHECK_EQ_INT((int) cache_cost(CACHE_REFAULT_QUIET), 1);
	CHECK_EQ_INT((int) cache_cost(2.5 * CACHE_REFAULT_QUIET), 2);
	CHECK_EQ_INT((int) cache_cost(4 * CACHE_REFAULT_QUIET), 4);
	CHECK_EQ_INT((int) cache_cost(1e9), (int) CACHE_COST_MAX);
}

TEST(refaulting_cache_goes_later_and_for_less) {
	/* a is further over its fair share, but its dropped cache comes
	 * straight back: b's cache is taken first, a's next drop shrinks. */
	struct policy_config c = config();
	struct host_state h = host_free(GiB(1));
	struct vm_state vms[2] = { vm_new("a", GiB(4)), vm_new("b", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	h.reclaim_request = GiB(1);
	vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = MiB(300);
	vms[1].measured.guest.volatile_ = vms[1].measured.guest.cold = MiB(100);
	vms[0].measured.cache_refault_rate = 4 * CACHE_REFAULT_QUIET;
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 1), MiB(100));
	CHECK_EQ_U64(drop(&p, 0), c.volatile_step / 4);
	CHECK_EQ_INT((int) first_drop_vm(&p), 1);
	CHECK(strstr(reason(&p, 0, ACTION_DROP_CACHE), "1/4 step") != NULL);
	plan_done(&p);
	/* Quiet again: it is asked first, for a whole step. */
	vms[0].measured.cache_refault_rate = 1;
	decide(&c, &h, vms, 2, &hist, NOW + SEC(1), &p);
	CHECK_EQ_U64(drop(&p, 0), c.volatile_step);
	CHECK_EQ_INT((int) first_drop_vm(&p), 0);
	plan_done(&p);
}

TEST(step_limits) {
	struct policy_config c = config();
	struct host_state h = host_free(0);
	struct vm_state vms[1] = { vm_new("a", GiB(8)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = GiB(1);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(drop(&p, 0), MiB(128));
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(8) - MiB(64));
	plan_done(&p);

	/* A target still on its way counts towards the step and the need:
	 * only the rest of the step is handed out, then nothing. */
	vms[0].commanded.balloon_target = GiB(8) - MiB(64);
	vms[0].measured.balloon_actual = GiB(8) - MiB(10);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK_EQ_U64(balloon_target(&p, 0), GiB(8) - MiB(74));
	plan_done(&p);
	vms[0].measured.balloon_actual = GiB(8);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(2), &p);
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);

	/* Other steps are honoured too. */
	c.balloon_step = MiB(8);
	c.volatile_step = MiB(4);
	vms[0].commanded.balloon_target = 0;
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
	vms[0].measured.balloon_actual = GiB(2) - MiB(20);
	vms[0].commanded.balloon_target = GiB(2) - MiB(64);
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
		vms[0].measured.hinted = MiB(30);
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

/* ---- Step by step: each of policy_decide()'s steps, through a table. ---- */

TEST(step_host_assessment) {
	static const struct {
		const char *what;
		uint64_t free;
		bool was_reclaiming;
		double psi;
		uint64_t request;
		bool budget_over;
		bool reclaiming;
		uint64_t need;
		const char *reason;	/* the plan's, from its start */
	} table[] = {
		{ "below low", MiB(100), false, 0, 0, false, true, MiB(412),
		  "host free 100 MiB < low watermark 256 MiB: need 412 MiB; hints 0 MiB, "
		  "cache 0 MiB, balloon 0 MiB, unmet 412 MiB" },
		{ "between, going up", MiB(400), true, 0, 0, false, true, MiB(112),
		  "host free 400 MiB < high watermark 512 MiB: need 112 MiB" },
		{ "between, idle", MiB(400), false, 0, 0, false, false, 0,
		  "host free 400 MiB between watermarks 256 MiB and 512 MiB: no reclaim" },
		{ "at low: not below it", MiB(256), false, 0, 0, false, false, 0,
		  "host free 256 MiB between watermarks" },
		{ "high reached", MiB(512), true, 0, 0, false, false, 0,
		  "host free 512 MiB between watermarks" },
		{ "above high", GiB(1), false, 0, 0, false, false, 0,
		  "host free 1024 MiB > high watermark 512 MiB: give back 0 MiB" },
		{ "PSI alone: a step", GiB(1), false, 30, 0, false, true, MiB(64),
		  "host PSI some 30.0% > 10.0%: need 64 MiB" },
		{ "PSI and short", MiB(300), false, 30, 0, false, true, MiB(212),
		  "host PSI some 30.0% > 10.0%: need 212 MiB" },
		{ "PSI at its limit", GiB(1), false, 10, 0, false, false, 0, "host free 1024 MiB >" },
		{ "request", GiB(1), false, 0, MiB(48), false, true, MiB(48),
		  "reclaim of 48 MiB requested: need 48 MiB" },
		{ "request adds to need", MiB(100), false, 0, MiB(48), false, true, MiB(460),
		  "host free 100 MiB < low watermark 256 MiB: need 460 MiB" },
		{ "request saturates", MiB(100), false, 0, UINT64_MAX - 1, false, true, UINT64_MAX,
		  "host free 100 MiB < low watermark" },
		{ "over budget", GiB(30), false, 0, 0, true, true, MiB(512),
		  "host free 0 MiB < low watermark 256 MiB: need 512 MiB" },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(table[t].free);
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		hist.h.reclaiming = table[t].was_reclaiming;
		hist.h.reclaim_since = SEC(5);
		h.psi_some_avg10 = table[t].psi;
		h.reclaim_request = table[t].request;
		if (table[t].budget_over) {
			h.budget_set = true;
			h.budget_limit = GiB(8);
			h.budget_usage = GiB(9);
		}
		decide(&c, &h, NULL, 0, &hist, NOW, &p);
		if (p.reclaiming != table[t].reclaiming || p.need != table[t].need ||
		    strncmp(p.reason, table[t].reason, strlen(table[t].reason)) != 0)
			FAIL_AT("%s: reclaiming %d need %" PRIu64 " MiB: %s", table[t].what,
				p.reclaiming, p.need >> 20, p.reason);
		CHECK_EQ_INT(hist.h.reclaiming, table[t].reclaiming);
		/* Started now, or kept from when it started. */
		if (table[t].reclaiming)
			CHECK_EQ_U64(hist.h.reclaim_since, table[t].was_reclaiming ? SEC(5) : NOW);
		plan_done(&p);
	}
}

TEST(step_cheap_rung_grace) {
	/* need 312 MiB; the guest has 400 MiB free and backed to report. Within
	 * the grace that counts as coming and no balloon moves. */
	static const struct {
		const char *what;
		uint64_t free;
		bool was_reclaiming;
		usec_t progress_age;	/* history.cheap_progress = NOW - this */
		uint64_t reclaimed_before, reclaimed_now;
		bool balloon;
		usec_t progress_after_age;
	} table[] = {
		{ "reclaim starts: grace starts", MiB(200), false, SEC(60), 0, 0, false, 0 },
		{ "no progress for 4 s", MiB(200), true, SEC(4), MiB(10), MiB(10), false, SEC(4) },
		{ "no progress for 5 s", MiB(200), true, SEC(5), MiB(10), MiB(10), true, SEC(5) },
		{ "progress restarts it", MiB(200), true, SEC(60), MiB(10), MiB(11), false, 0 },
		{ "emergency: nobody waits", MiB(100), false, 0, 0, 0, true, 0 },
		{ "half the low mark is no emergency", MiB(128), false, 0, 0, 0, false, 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(table[t].free);
		struct vm_state vms[1] = { vm_new("a", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		hist.h.reclaiming = table[t].was_reclaiming;
		hist.h.cheap_progress = NOW - table[t].progress_age;
		hist.h.cheap_reclaimed = table[t].reclaimed_before;
		vms[0].measured.unused_backed = vms[0].measured.unused_coming = MiB(400);
		vms[0].accounted.reclaimed[RUNG_UNUSED] = table[t].reclaimed_now / 2;
		vms[0].accounted.reclaimed[RUNG_VOLATILE] = table[t].reclaimed_now - table[t].reclaimed_now / 2;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		if ((find(&p, 0, ACTION_BALLOON) != NULL) != table[t].balloon)
			FAIL_AT("%s: %s", table[t].what, p.reason);
		CHECK_EQ_U64(hist.h.cheap_progress, NOW - table[t].progress_after_age);
		CHECK_EQ_U64(hist.h.cheap_reclaimed, table[t].reclaimed_now);
		plan_done(&p);
	}
}

TEST(step_short_guests) {
	/* Host between its watermarks: only a short guest's balloon moves. */
	static const struct {
		const char *what;
		uint64_t cap, actual, available, min_memory;
		double psi, swapin, refault;
		bool stats;
		unsigned rungs;
		uint64_t target;	/* 0: no balloon action */
		const char *reason;
	} table[] = {
		{ "at the headroom", GiB(4), GiB(2), MiB(64), 0, 0, 0, 0, true, RUNGS_ALL, 0, NULL },
		{ "below the headroom: a quarter of the cap", GiB(4), GiB(2), MiB(63), 0, 0, 0, 0,
		  true, RUNGS_ALL, GiB(3),
		  "guest short: available 63 MiB < headroom 64 MiB: deflate by 1024 MiB to 3072 MiB" },
		{ "PSI at its limit", GiB(4), GiB(2), GiB(1), 0, 10.0, 0, 0, true, RUNGS_ALL, 0, NULL },
		{ "PSI over", GiB(4), GiB(2), GiB(1), 0, 10.5, 0, 0, true, RUNGS_ALL, GiB(3),
		  "guest short: PSI some 10.5% > 10.0%: deflate by 1024 MiB" },
		{ "swap-in at its limit", GiB(4), GiB(2), GiB(1), 0, 0, 50, 0, true, RUNGS_ALL, 0, NULL },
		{ "swap-in over", GiB(4), GiB(2), GiB(1), 0, 0, 51, 0, true, RUNGS_ALL, GiB(3),
		  "guest short: swap-in 51 pages/s > 50: deflate by 1024 MiB" },
		{ "refaults at their limit", GiB(4), GiB(2), GiB(1), 0, 0, 0, 500, true, RUNGS_ALL, 0,
		  NULL },
		{ "refaults over", GiB(4), GiB(2), GiB(1), 0, 0, 0, 501, true, RUNGS_ALL, GiB(3),
		  "guest short: refaults 501/s > 500: deflate by 1024 MiB" },
		{ "no stats: not short", GiB(4), GiB(2), 0, 0, 0, 0, 0, false, RUNGS_ALL, 0, NULL },
		{ "no stats, below MinMemory", GiB(4), GiB(2), 0, GiB(3), 0, 0, 0, false, RUNGS_ALL,
		  GiB(3), "below MinMemory: 2048 MiB < 3072 MiB: deflate by 1024 MiB to 3072 MiB" },
		{ "at its cap already", GiB(4), GiB(4), MiB(10), 0, 0, 0, 0, true, RUNGS_ALL, 0, NULL },
		{ "small cap: up to it", MiB(256), MiB(200), MiB(8), 0, 0, 0, 0, true, RUNGS_ALL,
		  MiB(256), "deflate by 56 MiB to 256 MiB" },
		{ "twice what it lacks", MiB(400), MiB(100), 0, 0, 0, 0, 0, true, RUNGS_ALL, MiB(228),
		  "deflate by 128 MiB to 228 MiB" },
		{ "balloon rung excluded", GiB(4), GiB(2), MiB(10), 0, 0, 0, 0, true,
		  RUNG_BIT(RUNG_UNUSED), 0, NULL },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(MiB(400));
		struct vm_state vms[1] = { vm_new("a", table[t].actual) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		vms[0].measured.max_memory = table[t].cap;
		vms[0].measured.guest.available = table[t].available;
		vms[0].measured.guest.valid = table[t].stats;
		vms[0].settings.min_memory = table[t].min_memory;
		vms[0].settings.rungs = table[t].rungs;
		vms[0].measured.guest.psi_some_avg10 = table[t].psi;
		vms[0].measured.swapin_rate = table[t].swapin;
		vms[0].measured.refault_rate = table[t].refault;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		if (balloon_target(&p, 0) != table[t].target)
			FAIL_AT("%s: target %" PRIu64 " MiB", table[t].what, balloon_target(&p, 0) >> 20);
		if (table[t].reason && !strstr(reason(&p, 0, ACTION_BALLOON), table[t].reason))
			FAIL_AT("%s: %s", table[t].what, reason(&p, 0, ACTION_BALLOON));
		CHECK_EQ_U64(hist.vm[0].last_deflate, table[t].target ? NOW : 0);
		CHECK_EQ_INT(count(&p, ACTION_DROP_CACHE), 0);
		plan_done(&p);
	}
}

TEST(step_floors) {
	/* An inflation still on its way that a raised floor now forbids. */
	static const struct {
		const char *what;
		uint64_t actual, target, min_memory, available;
		unsigned rungs;
		uint64_t stop;	/* 0: no balloon action */
	} table[] = {
		{ "MinMemory raised", GiB(2) - MiB(20), GiB(2) - MiB(64), GiB(2) - MiB(40), GiB(1),
		  RUNGS_ALL, GiB(2) - MiB(40) },
		{ "global floor above the size: stop where it is", MiB(100), MiB(60), 0, MiB(90),
		  RUNGS_ALL, MiB(100) },
		{ "guest grew: floor from usage", GiB(2) - MiB(20), GiB(2) - MiB(64), 0, MiB(100),
		  RUNGS_ALL, GiB(2) - MiB(56) },
		{ "target above the floor", GiB(2) - MiB(20), GiB(2) - MiB(64), 0, GiB(1),
		  RUNGS_ALL, 0 },
		{ "deflation on its way", GiB(2) - MiB(20), GiB(2), GiB(2) - MiB(20), GiB(1),
		  RUNGS_ALL, 0 },
		{ "no target", GiB(2) - MiB(20), 0, GiB(2) - MiB(20), GiB(1), RUNGS_ALL, 0 },
		{ "balloon rung excluded", GiB(2) - MiB(20), GiB(2) - MiB(64), GiB(2) - MiB(40),
		  GiB(1), RUNG_BIT(RUNG_UNUSED), 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(MiB(400));
		struct vm_state vms[1] = { vm_new("a", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		vms[0].measured.balloon_actual = table[t].actual;
		vms[0].commanded.balloon_target = table[t].target;
		vms[0].settings.min_memory = table[t].min_memory;
		vms[0].settings.rungs = table[t].rungs;
		vms[0].measured.guest.available = vms[0].measured.guest.free = table[t].available;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		if (balloon_target(&p, 0) != table[t].stop)
			FAIL_AT("%s: target %" PRIu64 " MiB", table[t].what, balloon_target(&p, 0) >> 20);
		if (table[t].stop && !strstr(reason(&p, 0, ACTION_BALLOON), "below floor"))
			FAIL_AT("%s: %s", table[t].what, reason(&p, 0, ACTION_BALLOON));
		/* Stopping is not an inflation or a deflation. */
		CHECK_EQ_U64(hist.vm[0].last_inflate, 0);
		CHECK_EQ_U64(hist.vm[0].last_deflate, 0);
		plan_done(&p);
	}
}

TEST(step_unused_rung) {
	static const struct {
		const char *what;
		bool running;
		enum agent_state agent;
		bool module, capable;
		unsigned rungs;
		enum discard_mode mode;
		uint64_t free;
		int hints;	/* 1 accept, 0 release, -1 no action */
		const char *reason;
	} table[] = {
		{ "idle host: take them", true, AGENT_CONNECTED, true, true, RUNGS_ALL, DISCARD_ALWAYS,
		  GiB(1), 1, "unused pages cost the guest nothing: take 30 MiB of hints" },
		{ "reclaiming: take them", true, AGENT_CONNECTED, true, true, RUNGS_ALL,
		  DISCARD_ALWAYS, MiB(100), 1,
		  "host free 100 MiB < low watermark 256 MiB: take 30 MiB of unused hints" },
		{ "on pressure, idle", true, AGENT_CONNECTED, true, true, RUNGS_ALL,
		  DISCARD_ON_PRESSURE, GiB(1), 0,
		  "host not reclaiming, discard on pressure: release 30 MiB of hints" },
		{ "on pressure, reclaiming", true, AGENT_CONNECTED, true, true, RUNGS_ALL,
		  DISCARD_ON_PRESSURE, MiB(100), 1, "take 30 MiB of unused hints" },
		{ "no discard path", true, AGENT_CONNECTED, true, false, RUNGS_ALL, DISCARD_ALWAYS,
		  MiB(100), 0, "RAM backing not discard-capable: release 30 MiB of hints" },
		{ "Reclaim= without unused", true, AGENT_CONNECTED, true, true,
		  RUNG_BIT(RUNG_BALLOON), DISCARD_ALWAYS, MiB(100), 0,
		  "Reclaim= excludes unused: release 30 MiB of hints" },
		{ "both: the discard path is said", true, AGENT_CONNECTED, true, false, 0,
		  DISCARD_ALWAYS, MiB(100), 0, "not discard-capable" },
		{ "no module: nothing to decide", true, AGENT_CONNECTED, false, true, RUNGS_ALL,
		  DISCARD_ALWAYS, MiB(100), -1, NULL },
		{ "agent gone", true, AGENT_DISCONNECTED, true, true, RUNGS_ALL, DISCARD_ALWAYS,
		  MiB(100), -1, NULL },
		{ "agent failed", true, AGENT_FAILED, true, true, RUNGS_ALL, DISCARD_ALWAYS,
		  MiB(100), -1, NULL },
		{ "not running", false, AGENT_CONNECTED, true, true, RUNGS_ALL, DISCARD_ALWAYS,
		  MiB(100), -1, NULL },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(table[t].free);
		struct vm_state vms[1] = { vm_new("a", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		c.discard_unused = table[t].mode;
		vms[0].measured.running = table[t].running;
		vms[0].measured.agent = table[t].agent;
		vms[0].measured.module = table[t].module;
		vms[0].measured.discard_capable = table[t].capable;
		vms[0].settings.rungs = table[t].rungs;
		vms[0].measured.hinted = MiB(30);
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		if (hints(&p, 0) != table[t].hints)
			FAIL_AT("%s: hints %d", table[t].what, hints(&p, 0));
		if (table[t].reason && !strstr(reason(&p, 0, ACTION_HINTS), table[t].reason))
			FAIL_AT("%s: %s", table[t].what, reason(&p, 0, ACTION_HINTS));
		plan_done(&p);
	}
}

TEST(step_volatile_candidates_and_amount) {
	/* One VM with clean cache; which ones are asked, and for how much. */
	static const struct {
		const char *what;
		uint64_t volatile_, step, request;
		unsigned rungs;
		bool is_short, stats, capable, module, running;
		enum agent_state agent;
		uint64_t drop;
	} table[] = {
		{ "asked", MiB(100), MiB(128), 0, RUNGS_ALL, false, true, true, true, true,
		  AGENT_CONNECTED, MiB(100) },
		{ "up to a step", MiB(300), MiB(32), 0, RUNGS_ALL, false, true, true, true, true,
		  AGENT_CONNECTED, MiB(32) },
		{ "up to the need", MiB(300), MiB(128), MiB(20), RUNGS_ALL, false, true, true, true,
		  true, AGENT_CONNECTED, MiB(20) },
		{ "4 MiB is worth it", MiB(4), MiB(128), 0, RUNGS_ALL, false, true, true, true, true,
		  AGENT_CONNECTED, MiB(4) },
		{ "less is not", MiB(4) - 1, MiB(128), 0, RUNGS_ALL, false, true, true, true, true,
		  AGENT_CONNECTED, 0 },
		{ "short guest", MiB(100), MiB(128), 0, RUNGS_ALL, true, true, true, true, true,
		  AGENT_CONNECTED, 0 },
		{ "no stats", MiB(100), MiB(128), 0, RUNGS_ALL, false, false, true, true, true,
		  AGENT_CONNECTED, 0 },
		{ "no discard path", MiB(100), MiB(128), 0, RUNGS_ALL, false, true, false, true, true,
		  AGENT_CONNECTED, 0 },
		{ "no module", MiB(100), MiB(128), 0, RUNGS_ALL, false, true, true, false, true,
		  AGENT_CONNECTED, 0 },
		{ "agent gone", MiB(100), MiB(128), 0, RUNGS_ALL, false, true, true, true, true,
		  AGENT_DISCONNECTED, 0 },
		{ "not running", MiB(100), MiB(128), 0, RUNGS_ALL, false, true, true, true, false,
		  AGENT_CONNECTED, 0 },
		{ "Reclaim= without volatile", MiB(100), MiB(128), 0,
		  RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_BALLOON), false, true, true, true, true,
		  AGENT_CONNECTED, 0 },
		{ "Reclaim= without unused", MiB(100), MiB(128), 0,
		  RUNG_BIT(RUNG_VOLATILE) | RUNG_BIT(RUNG_BALLOON), false, true, true, true, true,
		  AGENT_CONNECTED, 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		/* need 312 MiB, or only the request above the high watermark */
		struct host_state h = host_free(table[t].request ? GiB(1) : MiB(200));
		struct vm_state vms[1] = { vm_new("a", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		h.reclaim_request = table[t].request;
		c.volatile_step = table[t].step;
		vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = table[t].volatile_;
		vms[0].settings.rungs = table[t].rungs;
		vms[0].measured.guest.valid = table[t].stats;
		vms[0].measured.discard_capable = table[t].capable;
		vms[0].measured.module = table[t].module;
		vms[0].measured.running = table[t].running;
		vms[0].measured.agent = table[t].agent;
		if (table[t].is_short)
			vms[0].measured.swapin_rate = 1000;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		if (drop(&p, 0) != table[t].drop)
			FAIL_AT("%s: drop %" PRIu64 " KiB", table[t].what, drop(&p, 0) >> 10);
		plan_done(&p);
	}
}

TEST(step_volatile_order) {
	/* Two VMs with cache, 50 MiB requested: one is asked, which? */
	static const struct {
		const char *what;
		uint64_t size[2];
		unsigned shares[2];
		int priority[2];
		bool first[2];
		size_t asked;
		const char *reason;
	} table[] = {
		{ "alike: vms[] order", { GiB(2), GiB(2) }, { 1000, 1000 }, { 0, 0 },
		  { false, false }, 0, "(priority 0, 2048 MiB, at its fair share of 2048 MiB)" },
		{ "most over the fair share", { GiB(2), GiB(4) }, { 1000, 1000 }, { 0, 0 },
		  { false, false }, 1, "(priority 0, 4096 MiB, 1024 MiB over its fair share of 3072 MiB)" },
		{ "fewer shares, more over", { GiB(2), GiB(2) }, { 3000, 1000 }, { 0, 0 },
		  { false, false }, 1, "2048 MiB, 1024 MiB over its fair share of 1024 MiB" },
		{ "lower priority first", { GiB(2), GiB(4) }, { 1000, 1000 }, { -1, 0 },
		  { false, false }, 0, "(priority -1, 2048 MiB, 1024 MiB under its fair share of 3072 MiB)" },
		{ "named by the request first", { GiB(2), GiB(4) }, { 1000, 1000 }, { -1, 0 },
		  { false, true }, 1, "(priority 0," },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(GiB(1));
		struct vm_state vms[2] = { vm_new("a", table[t].size[0]),
					   vm_new("b", table[t].size[1]) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		h.reclaim_request = MiB(50);
		for (size_t i = 0; i < 2; i++) {
			vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = MiB(100);
			vms[i].settings.shares = table[t].shares[i];
			vms[i].settings.priority = table[t].priority[i];
			vms[i].reclaim_first = table[t].first[i];
		}
		decide(&c, &h, vms, 2, &hist, NOW, &p);
		if (count(&p, ACTION_DROP_CACHE) != 1 || drop(&p, table[t].asked) != MiB(50))
			FAIL_AT("%s: asked %" PRIu64 " and %" PRIu64 " MiB", table[t].what,
				drop(&p, 0) >> 20, drop(&p, 1) >> 20);
		if (!strstr(reason(&p, table[t].asked, ACTION_DROP_CACHE), table[t].reason))
			FAIL_AT("%s: %s", table[t].what, reason(&p, table[t].asked, ACTION_DROP_CACHE));
		plan_done(&p);
	}
}

TEST(step_balloon_one_vm) {
	/* A 4 GiB guest with 3 GiB available, no hints or cache. */
	static const struct {
		const char *what;
		uint64_t free, request, target, min_memory;
		usec_t deflated_ago;	/* 0: never */
		unsigned rungs;
		uint64_t want;		/* 0: no balloon action */
	} table[] = {
		{ "a step", MiB(200), 0, 0, 0, 0, RUNGS_ALL, GiB(4) - MiB(64) },
		{ "only the need, in slices", GiB(1), MiB(20), 0, 0, 0, RUNGS_ALL, GiB(4) - MiB(20) },
		{ "in flight counts to the step", MiB(200), 0, GiB(4) - MiB(40), 0, 0, RUNGS_ALL,
		  GiB(4) - MiB(64) },
		{ "in flight covers the need", GiB(1), MiB(30), GiB(4) - MiB(40), 0, 0, RUNGS_ALL, 0 },
		{ "down to MinMemory", MiB(200), 0, 0, GiB(4) - MiB(16), 0, RUNGS_ALL,
		  GiB(4) - MiB(16) },
		{ "at MinMemory", MiB(200), 0, 0, GiB(4), 0, RUNGS_ALL, 0 },
		{ "deflated 10 s ago", MiB(200), 0, 0, 0, SEC(10), RUNGS_ALL, 0 },
		{ "deflated 30 s ago", MiB(200), 0, 0, 0, SEC(30), RUNGS_ALL, GiB(4) - MiB(64) },
		{ "deflated 10 s ago, emergency", MiB(100), 0, 0, 0, SEC(10), RUNGS_ALL, 0 },
		{ "deflated 20 s ago, emergency", MiB(100), 0, 0, 0, SEC(20), RUNGS_ALL,
		  GiB(4) - MiB(64) },
		{ "balloon rung excluded", MiB(200), 0, 0, 0, 0,
		  RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_VOLATILE), 0 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(table[t].free);
		struct vm_state vms[1] = { vm_new("a", GiB(4)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		h.reclaim_request = table[t].request;
		vms[0].measured.guest.free = vms[0].measured.guest.available = GiB(3);
		vms[0].commanded.balloon_target = table[t].target;
		vms[0].settings.min_memory = table[t].min_memory;
		vms[0].settings.rungs = table[t].rungs;
		if (table[t].deflated_ago)
			hist.vm[0].last_deflate = NOW - table[t].deflated_ago;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		if (balloon_target(&p, 0) != table[t].want)
			FAIL_AT("%s: target %" PRIu64 " MiB", table[t].what, balloon_target(&p, 0) >> 20);
		CHECK_EQ_U64(hist.vm[0].last_inflate, table[t].want ? NOW : 0);
		plan_done(&p);
	}

	/* Sizes not known: nothing to inflate. */
	for (int unknown = 0; unknown < 2; unknown++) {
		struct policy_config c = config();
		struct host_state h = host_free(MiB(200));
		struct vm_state vms[1] = { vm_new("a", GiB(4)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		if (unknown)
			vms[0].measured.max_memory = 0;
		else
			vms[0].measured.balloon_actual = 0;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
		plan_done(&p);
	}
}

TEST(step_balloon_who_gives) {
	/* Two 2 GiB guests, one 16 MiB slice requested: who gives it? */
	static const struct {
		const char *what;
		uint64_t free[2];
		unsigned shares[2];
		int priority[2];
		bool first[2];
		size_t gives;
	} table[] = {
		{ "alike: vms[] order", { GiB(1), GiB(1) }, { 1000, 1000 }, { 0, 0 },
		  { false, false }, 0 },
		{ "the idler one", { GiB(1), GiB(1) + MiB(100) }, { 1000, 1000 }, { 0, 0 },
		  { false, false }, 1 },
		{ "fewer shares", { GiB(1), GiB(1) }, { 2000, 1000 }, { 0, 0 }, { false, false }, 1 },
		{ "lower priority beats shares", { GiB(1), GiB(1) }, { 1000, 10000 }, { 0, -1 },
		  { false, false }, 1 },
		{ "named by the request beats priority", { GiB(1), GiB(1) }, { 1000, 1000 },
		  { -1, 0 }, { false, true }, 1 },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(GiB(1));
		struct vm_state vms[2] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		h.reclaim_request = MiB(16);
		for (size_t i = 0; i < 2; i++) {
			vms[i].measured.guest.free = vms[i].measured.guest.available = table[t].free[i];
			vms[i].settings.shares = table[t].shares[i];
			vms[i].settings.priority = table[t].priority[i];
			vms[i].reclaim_first = table[t].first[i];
		}
		decide(&c, &h, vms, 2, &hist, NOW, &p);
		if (count(&p, ACTION_BALLOON) != 1 ||
		    balloon_target(&p, table[t].gives) != GiB(2) - MiB(16))
			FAIL_AT("%s: targets %" PRIu64 ", %" PRIu64 " MiB", table[t].what,
				balloon_target(&p, 0) >> 20, balloon_target(&p, 1) >> 20);
		plan_done(&p);
	}
}

TEST(step_slack) {
	/* A 2 GiB guest that may grow to 4 GiB; the host above its high mark. */
	static const struct {
		const char *what;
		uint64_t free, target, max_setting, step;
		usec_t inflated_ago;	/* 0: never */
		uint64_t want;		/* 0: no balloon action */
	} table[] = {
		{ "a step", MiB(612), 0, 0, MiB(64), 0, GiB(2) + MiB(64) },
		{ "no more than the slack", MiB(532), 0, 0, MiB(64), 0, GiB(2) + MiB(20) },
		{ "no slack at the high mark", MiB(512), 0, 0, MiB(64), 0, 0 },
		{ "in flight counts to the step", MiB(612), GiB(2) + MiB(30), 0, MiB(64), 0,
		  GiB(2) + MiB(64) },
		{ "in flight, a step already", MiB(612), GiB(2) + MiB(64), 0, MiB(64), 0, 0 },
		{ "in flight eats the slack", MiB(542), GiB(2) + MiB(30), 0, MiB(64), 0, 0 },
		{ "inflated 10 s ago", MiB(612), 0, 0, MiB(64), SEC(10), 0 },
		{ "inflated 30 s ago", MiB(612), 0, 0, MiB(64), SEC(30), GiB(2) + MiB(64) },
		{ "up to MaxMemory", MiB(612), 0, GiB(2) + MiB(10), MiB(64), 0, GiB(2) + MiB(10) },
		{ "at MaxMemory", MiB(612), 0, GiB(2), MiB(64), 0, 0 },
		{ "a smaller step", MiB(612), 0, 0, MiB(8), 0, GiB(2) + MiB(8) },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(table[t].free);
		struct vm_state vms[1] = { vm_new("a", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		c.balloon_step = table[t].step;
		vms[0].measured.max_memory = GiB(4);
		vms[0].commanded.balloon_target = table[t].target;
		vms[0].settings.max_memory = table[t].max_setting;
		if (table[t].inflated_ago)
			hist.vm[0].last_inflate = NOW - table[t].inflated_ago;
		decide(&c, &h, vms, 1, &hist, NOW, &p);
		if (balloon_target(&p, 0) != table[t].want)
			FAIL_AT("%s: target %" PRIu64 " MiB", table[t].what, balloon_target(&p, 0) >> 20);
		CHECK_EQ_U64(hist.vm[0].last_deflate, table[t].want ? NOW : 0);
		plan_done(&p);
	}

	/* The reason says it all. */
	struct policy_config c = config();
	struct host_state h = host_free(MiB(612));
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].measured.max_memory = GiB(4);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_STREQ(reason(&p, 0, ACTION_BALLOON), "host free 612 MiB > high watermark 512 MiB: "
		    "deflate by 64 MiB to 2112 MiB (priority 0); cap 4096 MiB");
	plan_done(&p);
}

TEST(step_summary) {
	static const struct {
		const char *what;
		uint64_t free;
		size_t n_short;		/* the first n VMs are short */
		uint64_t hinted, volatile_;
		const char *reason;
	} table[] = {
		{ "every rung, unmet", MiB(100), 0, MiB(100), MiB(80),
		  "host free 100 MiB < low watermark 256 MiB: need 412 MiB; hints 200 MiB, "
		  "cache 80 MiB, balloon 128 MiB, unmet 4 MiB" },
		{ "met by hints", MiB(200), 0, MiB(400), 0,
		  "host free 200 MiB < low watermark 256 MiB: need 312 MiB; hints 800 MiB, "
		  "cache 0 MiB, balloon 0 MiB" },
		{ "slack", MiB(612), 0, 0, 0,
		  "host free 612 MiB > high watermark 512 MiB: give back 100 MiB" },
		{ "between", MiB(400), 0, 0, 0,
		  "host free 400 MiB between watermarks 256 MiB and 512 MiB: no reclaim" },
		{ "between, one short", MiB(400), 1, 0, 0,
		  "host free 400 MiB between watermarks 256 MiB and 512 MiB: no reclaim; "
		  "1 short guest given 1024 MiB" },
		{ "reclaiming, two short", MiB(100), 2, 0, 0,
		  "host free 100 MiB < low watermark 256 MiB: need 2460 MiB; hints 0 MiB, "
		  "cache 0 MiB, balloon 0 MiB, unmet 2460 MiB; 2 short guests given 2048 MiB" },
	};

	for (size_t t = 0; t < ELEMENTSOF(table); t++) {
		struct policy_config c = config();
		struct host_state h = host_free(table[t].free);
		struct vm_state vms[2] = { vm_new("a", GiB(2)), vm_new("b", GiB(2)) };
		struct hist hist;
		struct plan p;

		hist_init(&hist);
		for (size_t i = 0; i < 2; i++) {
			vms[i].measured.max_memory = GiB(4);
			vms[i].measured.hinted = table[t].hinted;
			vms[i].measured.guest.volatile_ = vms[i].measured.guest.cold = i == 1 ? table[t].volatile_ : 0;
			if (i < table[t].n_short)
				vms[i].measured.guest.available = MiB(10);
		}
		decide(&c, &h, vms, 2, &hist, NOW, &p);
		if (strcmp(p.reason, table[t].reason) != 0)
			FAIL_AT("%s: \"%s\"", table[t].what, p.reason);
		plan_done(&p);
	}
}

/* A guest that says it drops its cache and does not (the host saw nothing
 * of its last drop) holds no balloon off once the grace is over. */
TEST(unreturned_cache_holds_no_balloon_off) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));	/* need 312 MiB */
	struct vm_state vms[2] = { vm_new("liar", GiB(2)), vm_new("b", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].settings.rungs = RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_VOLATILE);
	vms[0].measured.guest.volatile_ = vms[0].measured.guest.cold = MiB(400);
	/* Within the grace, the liar's 400 MiB of cache counts: no balloon. */
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK_EQ_INT(count(&p, ACTION_BALLOON), 0);
	plan_done(&p);

	/* Past it, a tick's request (128 MiB) still counts while nothing says
	 * otherwise, and b's balloon is asked for the rest... */
	decide(&c, &h, vms, 2, &hist, NOW + c.cheap_rung_grace, &p);
	CHECK(find(&p, 1, ACTION_BALLOON) != NULL);
	CHECK(strstr(p.reason, "cache 128 MiB") != NULL);
	plan_done(&p);
	/* ...and for all of the need once the host saw nothing of its last
	 * drop; the drop is still asked for. */
	vms[0].accounted.cache_unreturned = true;
	decide(&c, &h, vms, 2, &hist, NOW + c.cheap_rung_grace + USEC_PER_SEC, &p);
	CHECK(find(&p, 1, ACTION_BALLOON) != NULL);
	CHECK(strstr(p.reason, "cache 0 MiB") != NULL);
	CHECK_EQ_U64(drop(&p, 0), MiB(128));
	plan_done(&p);
}

/* Even in an emergency, a guest deflated a moment ago (it was short) is
 * not inflated again at once: it is still allocating. */
TEST(emergency_leaves_a_just_deflated_guest_alone_for_a_moment) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(10));	/* below low / 2 */
	struct vm_state vms[1] = { vm_new("a", GiB(2)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	hist.vm[0].last_deflate = NOW - USEC_PER_SEC;
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(find(&p, 0, ACTION_BALLOON) == NULL);
	plan_done(&p);
	hist.vm[0].last_deflate = NOW - 10 * USEC_PER_SEC;
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(find(&p, 0, ACTION_BALLOON) == NULL);
	plan_done(&p);
	hist.vm[0].last_deflate = NOW - 16 * USEC_PER_SEC;
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(find(&p, 0, ACTION_BALLOON) != NULL);
	plan_done(&p);
}

int main(void) {
	return run_tests();
}
