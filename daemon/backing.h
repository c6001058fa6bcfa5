/* backing.h - a VM's RAM backing file as seen from the host, and discard.
 *
 * QEMU maps the guest's RAM from a shared file (memfd, tmpfs or hugetlbfs
 * file). hintd proves which file that is from QEMU's own answers, never
 * from a guess: the process is the one whose threads QEMU names as its
 * vCPUs, and the file is the one mapped at the host addresses QEMU gives
 * for guest RAM (gpa2hva), matched by device and inode, at the offsets the
 * memory map says. The descriptor is reopened through /proc/<pid>/fd/N so
 * hintd holds its own. */
#ifndef HINTD_BACKING_H
#define HINTD_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct backing {
	int fd;			/* -1 when not open */
	uint64_t size;		/* bytes */
	dev_t dev;
	ino_t ino;
	char path[256];		/* what /proc/<pid>/fd/N points at, for humans */
};

/* One line of /proc/<pid>/maps. */
struct maps_entry {
	uint64_t start, end, offset;
	bool shared;
	unsigned dev_major, dev_minor;
	uint64_t ino;
};

/* The mapping of text (the contents of /proc/<pid>/maps) that contains
 * addr: 0, or -ENOENT. Pure. */
int maps_find(const char *text, uint64_t addr, struct maps_entry *ret);

/* Where guest RAM is in QEMU: the host address of a guest-physical address
 * (from QEMU) and the offset the RAM map says it has in the backing. */
struct backing_anchor {
	uint64_t hva;
	uint64_t offset;
};

/* Opens the file QEMU process pid maps shared at every anchor, at the
 * anchor's offset, of at least size bytes, and proves it (same device and
 * inode for all anchors and for the descriptor opened). 0, or a negative
 * errno with a sentence in why. */
int backing_open_mapped(pid_t pid, const struct backing_anchor *anchors, size_t n_anchors,
			uint64_t size, struct backing *ret, char *why, size_t whylen);
void backing_close(struct backing *b);

/* Bytes of the backing that hold host memory now (st_blocks). */
int backing_allocated(const struct backing *b, uint64_t *ret_bytes);

/* Punches [offset, offset+len) out of the backing and returns in
 * *ret_freed the host memory that gave back (the drop in allocated blocks). */
int backing_discard(const struct backing *b, uint64_t offset, uint64_t len, uint64_t *ret_freed);

/* The process (thread group) a thread belongs to, from proc_root/TID/status. */
int process_of_thread(const char *proc_root, pid_t tid, pid_t *ret_pid);

#endif /* HINTD_BACKING_H */
