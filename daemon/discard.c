/* discard.c - see discard.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "discard.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "manager-state.h"

void discard_send_ack(struct vm *vm, uint64_t batch, bool discarded) {
	struct hint_msg ack = { .type = HINT_MSG_ACK, .ack = { .batch = batch, .discarded = discarded } };
	agent_send(vm->agent, &ack);
}

/* What the host got back from a punch, credited to the rung that made it
 * free: a cache drop's window first, up to what the guest said it dropped.
 * What compaction had just moved into discarded memory is no gain. */
static void credit_freed(struct vm *vm, uint64_t punched, usec_t now) {
	uint64_t freed = pacing_pay_refill(&vm->pacing, punched), as_volatile = 0;

	if (now < vm->volatile_window_end) {
		as_volatile = MIN(freed, vm->volatile_credit);
		vm->volatile_credit -= as_volatile;
	}
	if (as_volatile > 0)
		vm->state.accounted.cache_unreturned = false;
	manager_account(vm->manager, vm, RUNG_VOLATILE, as_volatile);
	manager_account(vm->manager, vm, RUNG_UNUSED, freed - as_volatile);
}

/* After a big batch, ask for the next report pass at once: the batch was
 * likely cut at the pass's limit, before the guest's stats can say so. */
static void ask_for_more(struct vm *vm, uint64_t freed) {
	struct manager *m = vm->manager;
	struct vm_measured *s = &vm->state.measured;
	uint64_t give = pacing_give_after_batch(s->unused_backed, freed, &s->unused_backed);

	s->unused_coming = MIN(s->unused_coming, s->unused_backed);
	if (give > 0 && !m->dry_run) {
		agent_send_cmd(vm->agent, (struct hint_cmd) { .name = HINT_CMD_GIVE, .bytes = give });
		vm->pacing.give_sent = manager_now(m);
	}
}

/* The guest confirmed a claim in time: punch every range while the
 * deadline holds, then acknowledge. */
static void punch_batch(struct vm *vm, struct batch *b) {
	uint64_t freed = 0, id = b->id;
	bool ok = true;
	usec_t now = 0;

	for (unsigned i = 0; i < b->n_ranges && ok; i++) {
		uint64_t f = 0;
		now = clock_usec(CLOCK_MONOTONIC);
		if (!batch_may_punch(b, now)) {
			log_warning("%s: batch %" PRIu64 ": punch deadline passed after %u of %u ranges",
				    vm->id.name, id, i, b->n_ranges);
			ok = false;
			break;
		}
		unsigned k = b->ranges[i].backend;
		/* Of a virtio-mem device's memory, only what the guest plugged
		 * holds data (QEMU discards what it unplugs). */
		int r = backing_discard(&vm->backings.b[k], b->ranges[i].offset, b->ranges[i].len,
					vm->batches.map->backends[k].pluggable, &f);
		if (r < 0) {
			log_warning_errno(r, "%s: discard of 0x%" PRIx64 "+0x%" PRIx64 " failed: %m",
					  vm->id.name, b->ranges[i].gpa, b->ranges[i].len);
			ok = false;
		}
		freed += f;
	}
	batch_table_remove(&vm->batches, id);
	credit_freed(vm, freed, now);
	/* Acknowledged as discarded even when part failed: what was punched is
	 * zero now, which is what a free page may hold. */
	discard_send_ack(vm, id, freed > 0 || ok);
	ask_for_more(vm, freed);
	log_debug("%s: batch %" PRIu64 ": %" PRIu64 " KiB returned", vm->id.name, id, freed >> 10);
}

static void on_hints(struct vm *vm, const struct hint_hints *h) {
	struct manager *m = vm->manager;
	usec_t now = clock_usec(CLOCK_MONOTONIC);
	char err[256];
	int r;

	/* The clock for every decision about a batch is read fresh: never the
	 * loop's cached time, which stands still while one callback runs. */
	batch_table_expire(&vm->batches, now);
	r = batch_table_add(&vm->batches, h, now, err, sizeof err);
	if (r < 0) {
		/* Bad batches are not acknowledged: the guest's ttl gives them
		 * back. A guest that keeps sending bad ones is cut off. */
		if (r == -EEXIST || r == -EADDRINUSE || r == -ERANGE || r == -EINVAL)
			agent_reject(vm->agent, err);
		else {
			/* Too many in flight, no discard path, or pages a claim
			 * in flight still names: a fair request declined, so the
			 * guest can use the pages at once. */
			log_debug("%s: hints declined: %s", vm->id.name, err);
			discard_send_ack(vm, h->batch, false);
		}
		return;
	}
	if (!vm->accept_hints || m->dry_run || !vm->manage) {
		batch_table_remove(&vm->batches, h->batch);
		discard_send_ack(vm, h->batch, false);
		return;
	}
	struct hint_msg claim = { .type = HINT_MSG_CLAIM, .claim = { .batch = h->batch } };
	/* The deadline counts from here: before the claim can reach the guest. */
	if (batch_table_claim_sent(&vm->batches, h->batch, clock_usec(CLOCK_MONOTONIC)) == 0)
		agent_send(vm->agent, &claim);
}

static void on_claimed(struct vm *vm, const struct hint_claimed *c) {
	struct batch *b;
	int r;

	b = batch_table_claimed(&vm->batches, c->batch, c->ok, clock_usec(CLOCK_MONOTONIC), &r);
	if (r == -ETIMEDOUT) {
		/* Not the guest's fault: its pages stay its own. */
		log_info("%s: batch %" PRIu64 " confirmed after the punch deadline, handed back",
			 vm->id.name, c->batch);
		discard_send_ack(vm, c->batch, false);
		return;
	}
	if (r < 0) {
		char err[128];
		snprintf(err, sizeof err, "\"claimed\" for batch %" PRIu64 " that was not claimed", c->batch);
		agent_reject(vm->agent, err);
		return;
	}
	if (b)
		punch_batch(vm, b);
}

/* Figures no guest of this size can have: the message is a lie or broken. */
static bool stats_impossible(const struct vm *vm, const struct hint_stats *s, char *err, size_t errlen) {
	uint64_t max = vm->info.max_memory;
	const struct { const char *name; uint64_t value; } parts[] = {
		{ "free", s->mem.free }, { "available", s->mem.available }, { "cached", s->mem.cached },
		{ "dirty", s->mem.dirty }, { "mlocked", s->mem.mlocked },
		{ "inactive_file", s->mem.inactive_file },
		{ "unused", s->has_pages ? s->pages.unused : 0 },
		{ "volatile", s->has_pages ? s->pages.volatile_ : 0 },
		{ "stable", s->has_pages ? s->pages.stable : 0 },
	};

	if (s->mem.total == 0 || (max && s->mem.total > max)) {
		snprintf(err, errlen, "stats: total %" PRIu64 " bytes in a guest of %" PRIu64, s->mem.total, max);
		return true;
	}
	for (size_t i = 0; i < ELEMENTSOF(parts); i++)
		if (parts[i].value > s->mem.total) {
			snprintf(err, errlen, "stats: %s %" PRIu64 " bytes exceeds total %" PRIu64,
				 parts[i].name, parts[i].value, s->mem.total);
			return true;
		}
	if (s->psi.some_avg10_permyriad > 10000 || s->psi.full_avg10_permyriad > 10000) {
		snprintf(err, errlen, "stats: pressure over 100%%");
		return true;
	}
	return false;
}

static void on_stats(struct vm *vm, const struct hint_stats *s) {
	struct guest_memory *g = &vm->state.measured.guest;
	char err[160];

	if (stats_impossible(vm, s, err, sizeof err)) {
		agent_reject(vm->agent, err);
		return;
	}
	vm->pacing.agent_stats = true;
	*g = (struct guest_memory) {
		.valid = true,
		.total = s->mem.total, .free = s->mem.free, .available = s->mem.available,
		.cached = s->mem.cached, .dirty = s->mem.dirty, .mlocked = s->mem.mlocked,
		.psi_some_avg10 = (double) s->psi.some_avg10_permyriad / 100.0,
		.psi_full_avg10 = (double) s->psi.full_avg10_permyriad / 100.0,
		.pgmajfault = s->vmstat.pgmajfault, .pswpin = s->vmstat.pswpin,
		.pswpout = s->vmstat.pswpout,
		.workingset_refault = s->vmstat.workingset_refault_file + s->vmstat.workingset_refault_anon,
		.workingset_refault_file = s->vmstat.workingset_refault_file,
	};
	if (s->has_pages) {
		g->unused = s->pages.unused;
		g->volatile_ = s->pages.volatile_;
		g->stable = s->pages.stable;
		g->mlocked = s->pages.mlocked;
	} else {
		/* Without the module: clean cache is what is cached and not dirty. */
		g->unused = s->mem.free;
		g->volatile_ = s->mem.cached > s->mem.dirty ? s->mem.cached - s->mem.dirty : 0;
		g->stable = s->mem.total - MIN(s->mem.total, s->mem.free + g->volatile_);
	}
	/* Dirty and writeback pages sit on the file lists too, and cannot go. */
	g->cold = s->mem.inactive_file - MIN(s->mem.inactive_file, s->mem.dirty + s->mem.writeback);
	g->cold = MIN(g->cold, g->volatile_);
}

/* A drop_cache answer: what the guest says it dropped only bounds how much
 * of the discards that follow count for the volatile rung. */
static void on_reply(struct vm *vm, const struct hint_reply *r) {
	if ((int64_t) r->id == vm->granularity_id) {
		/* Its hints stay finer than the backing's pages: only the whole
		 * pages among them are discarded. */
		vm->granularity_id = -1;
		if (!r->ok) {
			/* It keeps what it has; asking again would only be refused. */
			log_warning("%s: guest refused the granularity asked: %s", vm->id.name, r->error);
			vm->fine_refused = true;
			vm->coarse_granularity = vm->batches.granularity;
		}
		return;
	}
	if ((int64_t) r->id != vm->drop_cache_id)
		return;
	vm->drop_cache_id = -1;
	if (!r->ok) {
		log_warning("%s: drop_cache failed: %s", vm->id.name, r->error);
		vm->state.accounted.cache_unreturned = true;
		return;
	}
	for (unsigned i = 0; i < r->n_result; i++) {
		uint64_t said = r->result[i].value;
		if (strcmp(r->result[i].key, "freed") != 0)
			continue;
		if (said > vm->info.max_memory) {
			char err[128];
			snprintf(err, sizeof err, "drop_cache: freed %" PRIu64 " bytes of a %" PRIu64 "-byte guest",
				 said, vm->info.max_memory);
			agent_reject(vm->agent, err);
			vm->state.accounted.cache_unreturned = true;
			return;
		}
		vm->volatile_credit = vm->volatile_said = said;
		vm->volatile_window_end = manager_now(vm->manager) + VOLATILE_WINDOW_USEC;
		log_info("%s: guest says it dropped %" PRIu64 " MiB of clean cache", vm->id.name, said >> 20);
	}
}

/* Hints finer than the backing's pages (a 4 KiB guest on 2 MiB hugetlbfs
 * pages) could free only the whole pages among them: the guest is asked
 * for the backing's page size, and says hello again when it has it. */
static void ask_granularity(struct vm *vm, struct agent *a, uint64_t asked, bool first_hello) {
	uint64_t page = backing_set_page_size(&vm->backings);
	uint64_t want = backing_hint_granularity(asked, page);

	if (want == asked)
		return;
	log_full_errno(first_hello ? LOG_INFO : LOG_DEBUG, 0,
		       "%s: guest hints at %" PRIu64 " KiB granularity, its RAM is in %" PRIu64
		       " KiB huge pages: asking for %" PRIu64 " KiB (only whole huge pages are discarded)",
		       vm->id.name, asked >> 10, page >> 10, want >> 10);
	if (!vm->manager->dry_run && vm->granularity_id < 0)
		vm->granularity_id = agent_send_cmd(a, (struct hint_cmd) {
			.name = HINT_CMD_GRANULARITY, .bytes = want });
}

static void on_hello(struct vm *vm, struct agent *a, const struct hint_hello *h) {
	uint64_t granularity = h->module ? h->granularity : 0;
	const struct ram_map *map = vm->state.measured.discard_capable ? &vm->map : NULL;
	bool first_hello = agent_get_state(a) != AGENT_CONNECTED;

	vm->state.measured.module = h->module;
	/* A repeated hello (a new granularity) keeps the batches in flight:
	 * their answers are still to come, and were checked when they came. */
	if (vm->batches.batches && granularity && map && vm->batches.map == map)
		vm->batches.granularity = granularity;
	else if (batch_table_init(&vm->batches, granularity, map) < 0)
		log_error("%s: out of memory for hint batches, not taking any", vm->id.name);
	/* A repeated hello is answered, not logged again: a guest must not
	 * be able to fill the log with valid messages either. */
	log_full_errno(first_hello ? LOG_INFO : LOG_DEBUG, 0,
		       "%s: agent %s connected (module: %s)", vm->id.name, h->agent,
		       h->module ? "active" : h->module_status);
	agent_set_connected(a);
	/* Hints as fine as hintd may have asked for (a guest still at them
	 * after hintd restarted) are not the coarse ones: those are 2 MiB. */
	if (granularity && !vm->coarse_granularity)
		vm->coarse_granularity = backing_hint_granularity(MAX(granularity, COARSE_GRANULARITY),
					 backing_set_page_size(&vm->backings));
	if (granularity && map)
		ask_granularity(vm, a, granularity, first_hello);
}

static void on_agent_message(struct agent *a, const struct hint_msg *msg, void *userdata) {
	struct vm *vm = userdata;

	switch (msg->type) {
	case HINT_MSG_HELLO:
		on_hello(vm, a, &msg->hello);
		break;
	case HINT_MSG_STATS:
		on_stats(vm, &msg->stats);
		break;
	case HINT_MSG_HINTS:
		if (agent_get_state(a) != AGENT_CONNECTED) {
			agent_reject(a, "hints before hello");
			return;
		}
		on_hints(vm, &msg->hints);
		break;
	case HINT_MSG_CLAIMED:
		on_claimed(vm, &msg->claimed);
		break;
	case HINT_MSG_REPLY:
		on_reply(vm, &msg->reply);
		break;
	default:
		break;
	}
}

static void on_agent_state(struct agent *a, enum agent_state s, void *userdata) {
	struct vm *vm = userdata;

	vm->state.measured.agent = s;
	if (s != AGENT_CONNECTED) {
		/* Whatever was in flight went back to the guest with the connection:
		 * the agent releases unclaimed batches, the module times out the rest. */
		batch_table_init(&vm->batches, 0, NULL);
		vm->state.measured.guest.valid = false;
		vm->state.measured.module = false;
		vm->drop_cache_id = -1;
		vm->granularity_id = -1;
		vm->stats_ms = 0;	/* a new agent starts at its own pace */
		vm->pacing.agent_stats = false;
	}
}

const struct agent_callbacks discard_agent_callbacks = {
	.message = on_agent_message,
	.state_changed = on_agent_state,
};
