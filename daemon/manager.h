/* manager.h - hintd's state and its one event loop.
 *
 * Each tick: collect (host, libvirt, agents) into the model, let policy turn
 * the model into a plan, carry the plan out (discard, cache drops, balloon
 * targets). Agent messages are handled as they arrive: hint batches are
 * claimed, punched and acknowledged at once when the VM's plan allows it. */
#ifndef HINTD_MANAGER_H
#define HINTD_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>
#include "config.h"
#include "model.h"

#define HINTD_VERSION "0.1"

struct bus;
struct manager;
struct vm;

int manager_new(sd_event *e, const char *config_path, const char *config_dir,
		struct hintd_config *config, bool dry_run, struct manager **ret);
struct manager *manager_free(struct manager *m);

/* Connects to libvirt and starts ticking. */
int manager_start(struct manager *m);

/* Loads the configuration again; keeps the old one when the new is bad. */
int manager_reload(struct manager *m, char **ret_error);

/* Releases every held batch and forgets VMs (SIGTERM). */
void manager_stop(struct manager *m);

struct vm *manager_find_vm(struct manager *m, const char *name);



/* One tick, now. */
int manager_tick(struct manager *m);

/* Replaces a running VM's settings and Manage= until the configuration is
 * reloaded, hintd restarts or the domain stops. s must be valid (shares
 * 1..10000, priority -100..100, min <= max when both are set): -EINVAL
 * otherwise, and nothing changes. */
int manager_set_vm_settings(struct manager *m, struct vm *vm, const struct vm_settings *s,
			    bool manage);

/* Asks the next ticks to reclaim bytes more than the watermarks need, from
 * vm first (or as policy chooses when vm is NULL), and ticks at once. The
 * request shrinks by what is reclaimed (from vm, when named) and lapses
 * RECLAIM_REQUEST_USEC after the last request. -EINVAL for 0 bytes. */
#define RECLAIM_REQUEST_USEC (30 * USEC_PER_SEC)
int manager_request_reclaim(struct manager *m, struct vm *vm, uint64_t bytes);

/* D-Bus, once open: the manager announces changes through it and frees it. */
void manager_set_bus(struct manager *m, struct bus *b);
bool manager_dry_run(const struct manager *m);
const char *manager_admin_group(const struct manager *m);

/* Read-only views for D-Bus (view.c). */
size_t manager_vm_count(const struct manager *m);
struct vm *manager_vm(const struct manager *m, size_t i);
const char *vm_name(const struct vm *vm);
/* Where the bus last found the VM's record: a guess it checks by name. */
size_t *vm_bus_slot(struct vm *vm);
/* A VM's settings and Manage=, as SetMachine starts from. */
void vm_get_settings(const struct vm *vm, struct vm_settings *ret, bool *ret_manage);

/* The state as text: what `hintctl dump` prints. */
int manager_dump(struct manager *m, char **ret);

#endif /* HINTD_MANAGER_H */
