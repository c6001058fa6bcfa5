/* vm.h - the VMs hintd manages, as libvirt reports them (vm.c). */
#ifndef HINTD_VM_H
#define HINTD_VM_H

#include "libvirt-conn.h"

struct manager;
struct vm;

/* What libvirt's connection tells the manager: domains coming and going. */
extern const struct virt_conn_callbacks vm_virt_callbacks;

void vm_apply_settings(struct manager *m, struct vm *vm);
void vm_discover_pending(struct manager *m);
void vm_forget_all(struct manager *m);

#endif /* HINTD_VM_H */
