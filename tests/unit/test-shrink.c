/* test-shrink.c - the shrink rung and deflate-first with a virtio-mem
 * device: the device moves first (whole blocks, never below MinMemory
 * counting boot RAM and plugged memory, never above MaxMemory), the balloon
 * only for what it cannot take or give, with the balloon's shares, priority,
 * step limits and explanations. Ticks are simulated by applying each plan to
 * the model: the guest plugs or unplugs at once and the host gains or loses
 * as much. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "macro.h"
#include "policy.h"

#define SEC(n) ((usec_t) (n) * USEC_PER_SEC)
#define NOW SEC(1000)
#define BLOCK MiB(2)

/* A running VM of boot bytes of RAM (balloon not inflated) and a virtio-mem
 * device of vmem bytes, all of it plugged; half its memory free and
 * available, no agent (nothing but the shrink rung to take from). */
static struct vm_state vm_new(const char *name, uint64_t boot, uint64_t vmem) {
	struct vm_state v = {
		.measured.running = true,
		.measured.max_memory = boot + vmem,
		.measured.balloon_actual = boot,
		.measured.virtio_mem = { .block_size = BLOCK, .size = vmem, .plugged = vmem },
		.commanded.virtio_mem_requested = vmem,
		.measured.agent = AGENT_ABSENT,
		.measured.guest = {
			.valid = true,
			.total = boot + vmem,
			.free = (boot + vmem) / 2,
			.available = (boot + vmem) / 2,
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

struct hist {
	struct policy_vm_history vm[4];
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

static const char *reason(const struct plan *p, size_t vm, enum action_kind k) {
	const struct action *a = find(p, vm, k);

	return a ? a->reason : "(no action)";
}

/* The action's bytes, or UINT64_MAX when there is none. */
static uint64_t bytes(const struct plan *p, size_t vm, enum action_kind k) {
	const struct action *a = find(p, vm, k);

	return a ? a->bytes : UINT64_MAX;
}

static void decide(const struct policy_config *c, const struct host_state *host,
		   const struct vm_state *vms, size_t n, struct hist *h, usec_t now, struct plan *ret) {
	int r = policy_decide(c, host, vms, n, &h->h, now, ret);

	CHECK_EQ_INT(r, 0);
	if (r < 0)
		*ret = (struct plan) {};
}

/* The guest follows at once: memory it gives up leaves its free pages. */
static void resize_guest(struct vm_state *v, struct host_state *host, uint64_t before) {
	uint64_t after = vm_memory(&v->measured);
	struct guest_memory *g = &v->measured.guest;

	if (after < before) {
		uint64_t d = before - after;
		g->free = g->free > d ? g->free - d : 0;
		g->available = g->available > d ? g->available - d : 0;
		host->mem_available += d;
	} else {
		g->free += after - before;
		g->available += after - before;
		host->mem_available -= after - before;
	}
}

static void apply(const struct plan *p, struct vm_state *vms, struct host_state *host) {
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct action *a = &p->actions[i];
		struct vm_state *v = &vms[a->vm];
		uint64_t before = vm_memory(&v->measured);

		if (a->kind == ACTION_BALLOON)
			v->measured.balloon_actual = v->commanded.balloon_target = a->bytes;
		else if (a->kind == ACTION_VIRTIO_MEM)
			v->measured.virtio_mem.plugged = v->commanded.virtio_mem_requested = a->bytes;
		else
			continue;
		resize_guest(v, host, before);
	}
}

TEST(virtio_mem_moves_before_the_balloon) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(100));	/* need 412 MiB */
	struct vm_state vms[1] = { vm_new("a", MiB(512), GiB(1)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	/* One step (64 MiB), all of it by the device, none by the balloon. */
	CHECK_EQ_U64(bytes(&p, 0, ACTION_VIRTIO_MEM), GiB(1) - MiB(64));
	CHECK(!find(&p, 0, ACTION_BALLOON));
	CHECK(strstr(reason(&p, 0, ACTION_VIRTIO_MEM),
		     "host free 100 MiB < low watermark 256 MiB: shrink virtio-mem by 64 MiB to 960 MiB "
		     "(priority 0, 1536 MiB"));
	/* Its floor: what it uses (half of it) and the headroom. */
	CHECK(strstr(reason(&p, 0, ACTION_VIRTIO_MEM), "floor 832 MiB"));
	CHECK_EQ_U64(hist.vm[0].last_inflate, NOW);
	CHECK(strstr(p.reason, "balloon 64 MiB"));
	plan_done(&p);
}

TEST(virtio_mem_whole_blocks_never_below_the_floor) {
	struct policy_config c = config();
	struct host_state h = host_free(0);
	struct vm_state vms[1] = { vm_new("a", MiB(256), MiB(512)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	/* MinMemory counts boot RAM and plugged memory: 256 + 385 MiB, which
	 * is no whole number of blocks. */
	vms[0].settings.min_memory = MiB(641);
	vms[0].measured.guest.free = vms[0].measured.guest.available = MiB(700);
	for (int tick = 0; tick < 10; tick++) {
		h.mem_available = 0;
		decide(&c, &h, vms, 1, &hist, NOW + SEC(tick), &p);
		apply(&p, vms, &h);
		CHECK(!find(&p, 0, ACTION_BALLOON));
		CHECK(vm_memory(&vms[0].measured) >= vms[0].settings.min_memory);
		CHECK_EQ_U64(vms[0].measured.virtio_mem.plugged % BLOCK, 0);
		plan_done(&p);
	}
	/* It stops at the first whole block above the guarantee. */
	CHECK_EQ_U64(vms[0].measured.virtio_mem.plugged, MiB(386));
	CHECK_EQ_U64(vms[0].measured.balloon_actual, MiB(256));
}

TEST(balloon_takes_what_virtio_mem_cannot) {
	struct policy_config c = config();
	struct host_state h = host_free(0);
	struct vm_state vms[1] = { vm_new("a", MiB(512), MiB(128)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].measured.guest.free = vms[0].measured.guest.available = MiB(500);
	vms[0].measured.virtio_mem.plugged = vms[0].commanded.virtio_mem_requested = MiB(40);
	/* 40 MiB left to unplug, a 64 MiB step: the device gives all it has,
	 * the balloon the other 24 MiB. */
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(bytes(&p, 0, ACTION_VIRTIO_MEM), 0);
	CHECK_EQ_U64(bytes(&p, 0, ACTION_BALLOON), MiB(512) - MiB(24));
	CHECK(strstr(reason(&p, 0, ACTION_VIRTIO_MEM), "shrink virtio-mem by 40 MiB to 0 MiB"));
	CHECK(strstr(reason(&p, 0, ACTION_BALLOON), "inflate by 24 MiB to 488 MiB"));
	apply(&p, vms, &h);
	plan_done(&p);

	/* Nothing plugged: the balloon alone, a step at a time. */
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK(!find(&p, 0, ACTION_VIRTIO_MEM));
	CHECK_EQ_U64(bytes(&p, 0, ACTION_BALLOON), MiB(488) - MiB(64));
	plan_done(&p);
}

TEST(unplug_on_its_way_is_not_asked_again) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));	/* need 312 MiB */
	struct vm_state vms[1] = { vm_new("a", MiB(512), GiB(1)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	/* Asked for a step (64 MiB) less, not yet unplugged: it counts, and
	 * the step is used up. */
	vms[0].commanded.virtio_mem_requested = GiB(1) - MiB(64);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(!find(&p, 0, ACTION_VIRTIO_MEM));
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);
	/* Still plugging at boot (plugged below requested): a shrink lowers
	 * the request from what it has, not from what it was asked. */
	vms[0].measured.virtio_mem.plugged = MiB(300);
	vms[0].commanded.virtio_mem_requested = GiB(1);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(bytes(&p, 0, ACTION_VIRTIO_MEM), MiB(300) - MiB(64));
	plan_done(&p);
}

/* A guest that does not unplug (its driver unbound, its memory pinned):
 * after VIRTIO_MEM_STALL_USEC its request no longer counts as memory on
 * its way, the balloon shrinks it, and the device is not asked again. */
TEST(device_that_does_not_unplug_is_passed_over_for_the_balloon) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));	/* need 312 MiB */
	struct vm_state vms[1] = { vm_new("a", MiB(512), GiB(1)) };
	struct hist hist;
	struct plan p;
	uint64_t target;

	hist_init(&hist);
	vms[0].measured.virtio_mem.changed_at = NOW - SEC(60);
	vms[0].commanded.virtio_mem_requested = MiB(512);
	/* Asked 5 s ago: still on its way, nothing more to do. */
	vms[0].commanded.virtio_mem_asked_at = NOW - SEC(5);
	CHECK(!virtio_mem_stalled(&vms[0], NOW));
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(p.n_actions, 0);
	plan_done(&p);
	/* 10 s and nothing unplugged: the balloon inflates, within a step. */
	CHECK(virtio_mem_stalled(&vms[0], NOW + SEC(5)));
	decide(&c, &h, vms, 1, &hist, NOW + SEC(5), &p);
	CHECK(!find(&p, 0, ACTION_VIRTIO_MEM));
	target = bytes(&p, 0, ACTION_BALLOON);
	CHECK(target < MiB(512) && target + c.balloon_step >= MiB(512));
	if (!strstr(reason(&p, 0, ACTION_BALLOON), "virtio-mem unplugged nothing in 10 s (1024 MiB plugged, 512 MiB asked): inflate by"))
		CHECK_STREQ(reason(&p, 0, ACTION_BALLOON), "");
	plan_done(&p);
	/* The balloon never goes below GuestFloor on top of what the device
	 * keeps. */
	hist_init(&hist);
	vms[0].measured.balloon_actual = vms[0].commanded.balloon_target = MiB(130);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(5), &p);
	CHECK_EQ_U64(bytes(&p, 0, ACTION_BALLOON), MiB(128));
	plan_done(&p);
	/* It unplugged a block 3 s ago: it is moving, not stalled. */
	vms[0].measured.virtio_mem.changed_at = NOW + SEC(2);
	CHECK(!virtio_mem_stalled(&vms[0], NOW + SEC(5)));
	/* Asked for no less than it has: nothing to stall on. */
	vms[0].measured.virtio_mem.changed_at = NOW - SEC(60);
	vms[0].commanded.virtio_mem_requested = GiB(1);
	CHECK(!virtio_mem_stalled(&vms[0], NOW + SEC(5)));
}

TEST(unplugged_not_yet_in_the_host_figures_counts) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(200));	/* need 312 MiB */
	struct vm_state vms[1] = { vm_new("a", MiB(512), GiB(1)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	c.balloon_step = GiB(1);
	/* 256 MiB unplugged, which QEMU's RSS shows only with the next
	 * statistics: 56 MiB more to take, not 312. */
	vms[0].measured.virtio_mem.plugged = vms[0].commanded.virtio_mem_requested = MiB(768);
	vms[0].measured.virtio_mem.settling = MiB(256);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK_EQ_U64(bytes(&p, 0, ACTION_VIRTIO_MEM), MiB(768) - MiB(56));
	plan_done(&p);
}

TEST(short_guest_plugs_before_the_balloon_deflates) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(300));	/* between the watermarks */
	struct vm_state vms[1] = { vm_new("a", MiB(512), MiB(512)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].measured.balloon_actual = vms[0].commanded.balloon_target = MiB(384);
	vms[0].measured.virtio_mem.plugged = vms[0].commanded.virtio_mem_requested = MiB(128);
	vms[0].measured.guest.available = MiB(20);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	/* A quarter of its 1 GiB cap (256 MiB): the device plugs all of it
	 * (whole blocks), the inflated balloon stays. */
	CHECK_EQ_U64(bytes(&p, 0, ACTION_VIRTIO_MEM), MiB(384));
	CHECK(!find(&p, 0, ACTION_BALLOON));
	CHECK(strstr(reason(&p, 0, ACTION_VIRTIO_MEM),
		     "guest short: available 20 MiB < headroom 64 MiB: grow virtio-mem by 256 MiB to 384 MiB"));
	CHECK_EQ_U64(hist.vm[0].last_deflate, NOW);
	plan_done(&p);

	/* The device nearly full: it plugs the rest, the balloon deflates for
	 * what is left. */
	vms[0].measured.virtio_mem.plugged = vms[0].commanded.virtio_mem_requested = MiB(448);
	decide(&c, &h, vms, 1, &hist, NOW + SEC(1), &p);
	CHECK_EQ_U64(bytes(&p, 0, ACTION_VIRTIO_MEM), MiB(512));
	CHECK_EQ_U64(bytes(&p, 0, ACTION_BALLOON), MiB(512));
	CHECK(strstr(reason(&p, 0, ACTION_BALLOON), "deflate by 128 MiB to 512 MiB"));
	plan_done(&p);
}

TEST(growth_never_above_max_memory) {
	struct policy_config c = config();
	struct host_state h = host_free(GiB(8));	/* plenty of slack */
	struct vm_state vms[1] = { vm_new("a", MiB(256), MiB(512)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].settings.max_memory = MiB(501);	/* 245 MiB of the device: not whole blocks */
	vms[0].measured.virtio_mem.plugged = vms[0].commanded.virtio_mem_requested = 0;
	for (int tick = 0; tick < 10; tick++) {
		decide(&c, &h, vms, 1, &hist, NOW + SEC(tick), &p);
		CHECK(!find(&p, 0, ACTION_BALLOON));
		if (tick == 0)
			CHECK(strstr(reason(&p, 0, ACTION_VIRTIO_MEM), "grow virtio-mem by 64 MiB to 64 MiB "
				     "(priority 0); cap 501 MiB"));
		apply(&p, vms, &h);
		CHECK(vm_memory(&vms[0].measured) <= MiB(501));
		plan_done(&p);
	}
	CHECK_EQ_U64(vms[0].measured.virtio_mem.plugged, MiB(244));
}

TEST(virtio_mem_follows_priority_and_shares) {
	struct policy_config c = config();
	struct host_state h = host_free(MiB(480));	/* reclaiming: need 32 MiB */
	struct vm_state vms[2] = { vm_new("a", MiB(512), GiB(1)), vm_new("b", MiB(512), GiB(1)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	hist.h.reclaiming = true;
	vms[1].settings.priority = -10;
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK(!find(&p, 0, ACTION_VIRTIO_MEM));
	CHECK_EQ_U64(bytes(&p, 1, ACTION_VIRTIO_MEM), GiB(1) - MiB(32));
	CHECK(strstr(reason(&p, 1, ACTION_VIRTIO_MEM), "(priority -10,"));
	plan_done(&p);

	/* Same priority: more shares, less given. */
	vms[1].settings.priority = 0;
	vms[0].settings.shares = 4000;
	hist_init(&hist);
	hist.h.reclaiming = true;
	decide(&c, &h, vms, 2, &hist, NOW, &p);
	CHECK(!find(&p, 0, ACTION_VIRTIO_MEM));
	CHECK(find(&p, 1, ACTION_VIRTIO_MEM));
	plan_done(&p);
}

TEST(reclaim_off_leaves_the_device_alone) {
	struct policy_config c = config();
	struct host_state h = host_free(0);
	struct vm_state vms[1] = { vm_new("a", MiB(512), GiB(1)) };
	struct hist hist;
	struct plan p;

	hist_init(&hist);
	vms[0].settings.rungs = RUNG_BIT(RUNG_UNUSED) | RUNG_BIT(RUNG_VOLATILE);
	decide(&c, &h, vms, 1, &hist, NOW, &p);
	CHECK(!find(&p, 0, ACTION_VIRTIO_MEM));
	CHECK(!find(&p, 0, ACTION_BALLOON));
	plan_done(&p);
}

TEST(action_kind_named) {
	CHECK_STREQ(action_kind_to_string(ACTION_VIRTIO_MEM), "virtio_mem");
	CHECK_STREQ(instrument_to_string(INSTRUMENT_VIRTIO_MEM), "virtio-mem");
	CHECK_STREQ(instrument_to_string(INSTRUMENT_NONE), "none");
}

int main(void) {
	return run_tests();
}
