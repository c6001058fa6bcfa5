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
	/* The unit a punch frees, in bytes: the huge page size on hugetlbfs,
	 * where a punch of part of a page frees nothing (it is zeroed and
	 * kept); the base page size elsewhere. */
	uint64_t page_size;
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

/* The backings of one VM's RAM, indexed like its RAM map's backends: one
 * file, or one per NUMA node and memory device. Open when n > 0. */
#define BACKING_SET_MAX 8
struct backing_set {
	size_t n;
	struct backing b[BACKING_SET_MAX];
};

static inline bool backing_set_open(const struct backing_set *s) {
	return s->n > 0;
}
void backing_set_close(struct backing_set *s);
/* The largest unit a punch frees in any of them; 0 when none is open. */
uint64_t backing_set_page_size(const struct backing_set *s);
/* The same files (device and inode, in the same order). */
bool backing_set_same(const struct backing_set *a, const struct backing_set *b);
/* Bytes of all of them that hold host memory now. */
int backing_set_allocated(const struct backing_set *s, uint64_t *ret_bytes);

/* Bytes of the backing that hold host memory now (st_blocks). Measured on
 * tmpfs/memfd and hugetlbfs alike: hugetlbfs counts its huge pages in
 * st_blocks, while its SEEK_DATA/SEEK_HOLE call every byte data, punched or
 * not, so they are never used here. */
int backing_allocated(const struct backing *b, uint64_t *ret_bytes);

/* The whole pages of page_size inside [offset, offset+len): *ret_len is 0
 * when there is none. Pure. */
void backing_whole_pages(uint64_t offset, uint64_t len, uint64_t page_size, uint64_t *ret_offset,
			 uint64_t *ret_len);

/* The hint granularity to ask of a guest that offers asked bytes, on a
 * backing of page_size pages: asked, or page_size when asked is smaller
 * (hints finer than a huge page could only free whole huge pages). Pure. */
uint64_t backing_hint_granularity(uint64_t asked, uint64_t page_size);

/* Punches the whole pages of [offset, offset+len) out of the backing (the
 * rest is left alone: a partial huge page would be zeroed, not freed) and
 * returns in *ret_freed the host memory that gave back (the drop in
 * allocated blocks). With data_only, only the stretches that hold data are
 * punched: a virtio-mem device's backend, where a hole may be a block the
 * guest has not plugged. */
int backing_discard(const struct backing *b, uint64_t offset, uint64_t len, bool data_only,
		    uint64_t *ret_freed);

/* The process (thread group) a thread belongs to, from proc_root/TID/status. */
int process_of_thread(const char *proc_root, pid_t tid, pid_t *ret_pid);

#endif /* HINTD_BACKING_H */
