/* backing.h - a VM's RAM backing file as seen from the host, and discard.
 *
 * QEMU maps the guest's RAM from a shared file (memfd, tmpfs or hugetlbfs
 * file). hintd finds it through /proc/<qemu pid>: the shared mapping whose
 * size is the guest's RAM, and the open descriptor of the same inode. The
 * descriptor is reopened through /proc/<pid>/fd/N so hintd holds its own. */
#ifndef HINTD_BACKING_H
#define HINTD_BACKING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct backing {
	int fd;			/* -1 when not open */
	uint64_t size;		/* bytes */
	char path[256];		/* what /proc/<pid>/fd/N points at, for humans */
};

/* Finds and opens the RAM backing of QEMU process pid, of ram_bytes. Returns
 * 0, or a negative errno with a sentence in why (e.g. "guest RAM is not a
 * shared file mapping; add <memoryBacking><source type='memfd'/>..."). */
int backing_open(pid_t pid, uint64_t ram_bytes, struct backing *ret, char *why, size_t whylen);
void backing_close(struct backing *b);

/* Bytes of the backing that hold host memory now (st_blocks). */
int backing_allocated(const struct backing *b, uint64_t *ret_bytes);

/* Punches [offset, offset+len) out of the backing and returns in
 * *ret_freed the host memory that gave back (the drop in allocated blocks). */
int backing_discard(const struct backing *b, uint64_t offset, uint64_t len, uint64_t *ret_freed);

/* The QEMU process of the domain with this UUID ("-uuid UUID" on its
 * command line), found under proc_root (normally "/proc"). */
int qemu_pid_by_uuid(const char *proc_root, const char *uuid, pid_t *ret_pid);

#endif /* HINTD_BACKING_H */
