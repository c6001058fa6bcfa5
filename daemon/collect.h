/* collect.h - filling the model each tick (collect.c). */
#ifndef HINTD_COLLECT_H
#define HINTD_COLLECT_H

#include "model.h"

struct manager;
struct vm;

/* Host memory, pressure and budget. */
int collect_host(struct manager *m);
/* Starts this tick's bulk statistics call; results land when it answers. */
void collect_libvirt(struct manager *m, usec_t now);
/* A VM's backing, batches, rates and whether its QEMU answers. */
void collect_vm(struct manager *m, struct vm *vm, usec_t now);
/* Per second, from a counter's two readings dt apart (0 when it went back). */
double collect_rate(uint64_t now, uint64_t before, usec_t dt);
/* The balloon size libvirt reports: what the balloon rung is credited from. */
void vm_balloon_seen(struct vm *vm, uint64_t actual);
/* What libvirt reports the guest plugged of its virtio-mem device: what the
 * shrink rung is credited from there, never what was requested. */
void vm_virtio_mem_seen(struct vm *vm, uint64_t plugged);

#endif /* HINTD_COLLECT_H */
