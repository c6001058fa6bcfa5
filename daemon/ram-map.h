/* ram-map.h - where each guest-physical address lives in a VM's RAM backings.
 *
 * QEMU maps each RAM backend into the guest in pieces (below 4 GiB it leaves
 * holes for PCI and ROM shadows; above 4 GiB it continues at an offset). A
 * VM has one backend, or one per NUMA node, plus one per memory device
 * (virtio-mem): each is a file of its own. The map is read from QEMU's flat
 * memory view ("info mtree -f") once per VM start, never guessed. Only
 * writable RAM segments are kept: a ROM shadow backed by RAM must never be
 * discarded. Pure: parsing and lookups only. */
#ifndef HINTD_RAM_MAP_H
#define HINTD_RAM_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAM_MAP_MAX_SEGMENTS 32
#define RAM_MAP_MAX_BACKENDS 8

/* A memory backend QEMU lists ("info memdev"): its id, which is also the
 * name of its region in the memory tree, and the size of its file. */
struct ram_backend {
	char name[64];
	uint64_t size;		/* bytes */
	/* A memory device's backend (virtio-mem): the guest plugs parts of
	 * it, and QEMU discards every part it unplugs, so a part that holds
	 * data on the host is a plugged one. */
	bool pluggable;
};

struct ram_segment {
	uint64_t gpa;		/* guest-physical start */
	uint64_t len;		/* bytes */
	uint64_t offset;	/* offset in its backend's file */
	unsigned backend;	/* index in ram_map.backends */
};

struct ram_map {
	/* The backends the guest's memory view maps, in QEMU's order; a
	 * backend the view does not map is left out. */
	size_t n_backends;
	struct ram_backend backends[RAM_MAP_MAX_BACKENDS];
	size_t n_segments;	/* sorted by gpa, non-overlapping */
	struct ram_segment segments[RAM_MAP_MAX_SEGMENTS];
};

/* Parses `info memdev`: the backends, in the order QEMU lists them. Returns
 * how many (0 or more), -EBADMSG when one has no size or an unusable name,
 * -E2BIG with more than RAM_MAP_MAX_BACKENDS. */
int ram_map_parse_memdev(const char *text, struct ram_backend *backends, size_t max);

/* Parses the "memory" address space of `info mtree -f` for RAM segments of
 * the given backends. Returns 0, -ENOENT when none of them is mapped,
 * -EBADMSG on text it cannot read, -ERANGE when a segment does not fit in
 * its backend or segments overlap, -E2BIG with too many segments. */
int ram_map_parse_mtree(const char *text, const struct ram_backend *backends, size_t n_backends,
			struct ram_map *ret);

/* The backend and offset of [gpa, gpa+len) when the whole range lies inside
 * one writable RAM segment; -ERANGE otherwise. */
int ram_map_translate(const struct ram_map *map, uint64_t gpa, uint64_t len, unsigned *ret_backend,
		      uint64_t *ret_offset);

/* Bytes of guest RAM the map covers. */
uint64_t ram_map_total(const struct ram_map *map);

#endif /* HINTD_RAM_MAP_H */
