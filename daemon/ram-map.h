/* ram-map.h - where each guest-physical address lives in a VM's RAM backing.
 *
 * QEMU maps the RAM backend into the guest in pieces (below 4 GiB it leaves
 * holes for PCI and ROM shadows; above 4 GiB it continues at an offset). The
 * map is read from QEMU's flat memory view ("info mtree -f") once per VM
 * start, never guessed. Only writable RAM segments are kept: a ROM shadow
 * backed by RAM must never be discarded. Pure: parsing and lookups only. */
#ifndef HINTD_RAM_MAP_H
#define HINTD_RAM_MAP_H

#include <stddef.h>
#include <stdint.h>

#define RAM_MAP_MAX_SEGMENTS 32

struct ram_segment {
	uint64_t gpa;		/* guest-physical start */
	uint64_t len;		/* bytes */
	uint64_t offset;	/* offset in the backing file */
};

struct ram_map {
	uint64_t backing_size;	/* bytes of the backing file */
	size_t n_segments;	/* sorted by gpa, non-overlapping */
	struct ram_segment segments[RAM_MAP_MAX_SEGMENTS];
};

/* Parses the "memory" address space of `info mtree -f` for RAM segments of
 * the memory region named backend. Returns 0, -ENOENT when backend is not
 * mapped, -EBADMSG on text it cannot read, -ERANGE when a segment does not
 * fit in backing_size or segments overlap, -E2BIG with too many segments. */
int ram_map_parse_mtree(const char *text, const char *backend, uint64_t backing_size,
			struct ram_map *ret);

/* The backing offset of [gpa, gpa+len) when the whole range lies inside one
 * writable RAM segment; -ERANGE otherwise. */
int ram_map_translate(const struct ram_map *map, uint64_t gpa, uint64_t len, uint64_t *ret_offset);

/* Bytes of guest RAM the map covers. */
uint64_t ram_map_total(const struct ram_map *map);

#endif /* HINTD_RAM_MAP_H */
