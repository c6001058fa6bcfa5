/* pve-policy.h - Proxmox VE's auto-ballooning, as a pure function.
 *
 * Ported from Proxmox VE's published code: git.proxmox.com qemu-server,
 * PVE/AutoBalloon.pm (compute_alg1), and pve-manager, PVE/Service/pvestatd.pm
 * (the auto-ballooning step of the status update, every 10 s). Written anew
 * here in C; the numbers and the order of the rules are Proxmox's.
 *
 * Every 10 s pvestatd aims at 80 % host memory use: goal = 0.8 * MemTotal -
 * used. Over +10 MiB it grows balloons, guests under memory pressure first
 * (free memory at most a quarter of their minimum); under -10 MiB it shrinks
 * them, guests with free memory first; either way in proportion to their
 * shares (default 1000) of the memory above their minimums, at most 100 MiB
 * per VM per run, never below the minimum nor above the maximum. A VM without
 * a running balloon, without a minimum (balloon=0 in its config) or with
 * shares 0 is left alone. */
#ifndef HINTD_PVE_POLICY_H
#define HINTD_PVE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVE_TARGET_USE 0.8			/* of the host's memory */
#define PVE_MAX_CHANGE (100LL << 20)		/* bytes per VM per run */
#define PVE_MIN_GOAL (10LL << 20)		/* smaller goals are ignored */
#define PVE_DEFAULT_SHARES 1000
#define PVE_INTERVAL_SEC 10

/* One VM as pvestatd's vmstatus gives it, sizes in bytes. */
struct pve_vm {
	int64_t balloon;	/* the balloon's current size (0: no balloon driver) */
	int64_t balloon_min;	/* the configured minimum (0: not ballooned) */
	int64_t maxmem;		/* the configured memory */
	int64_t freemem;	/* the guest's free memory (0: unknown) */
	unsigned shares;	/* 0 means the default, 1000 (as an unset value) */
	bool shares_zero;	/* shares explicitly set to 0: never ballooned */
};

/* The change to reach 80 % use of MEMTOTAL when USED is in use (bytes,
 * positive: memory to hand out). */
int64_t pve_goal(uint64_t memtotal, uint64_t used);

/* compute_alg1: writes each VM's new balloon size to ret_target[i] and sets
 * ret_set[i] when the VM gets one (it may equal the current size). */
void pve_compute(const struct pve_vm *vms, size_t n, int64_t goal, int64_t maxchange,
		 int64_t *ret_target, bool *ret_set);

#endif /* HINTD_PVE_POLICY_H */
