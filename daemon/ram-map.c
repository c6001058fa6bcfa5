/* ram-map.c - see ram-map.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ram-map.h"

static int segment_cmp(const void *a, const void *b) {
	const struct ram_segment *x = a, *y = b;
	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

int ram_map_parse_memdev(const char *text, struct ram_backend *backends, size_t max) {
	size_t n = 0;

	if (!text)
		return -EINVAL;
	for (const char *p = text; (p = strstr(p, "memory backend: ")); p++) {
		struct ram_backend b = { .size = 0 };
		const char *size, *next;
		int len = 0;

		/* A name longer than the field is refused, not cut (the monitor
		 * may end lines with CR LF). */
		if (sscanf(p, "memory backend: %63s%n", b.name, &len) != 1 ||
		    (p[len] != '\0' && !isspace((unsigned char) p[len])))
			return -EBADMSG;
		/* Its own size line: before the next backend's entry. */
		size = strstr(p, "size:");
		next = strstr(p + 1, "memory backend: ");
		if (!size || (next && size > next) || sscanf(size, "size: %" SCNu64, &b.size) != 1 ||
		    b.size == 0)
			return -EBADMSG;
		if (n == max)
			return -E2BIG;
		backends[n++] = b;
	}
	return (int) n;
}

/* One flat-view line: "  START-END (prio P, KIND): NAME[ @OFFSET]".
 * Returns 1 for a RAM segment of one of the backends, 0 for any other line. */
static int parse_line(const char *line, const struct ram_backend *backends, size_t n_backends,
		      struct ram_segment *ret) {
	uint64_t start, end, offset = 0;
	char kind[16], name[128];
	int prio, consumed = 0;

	if (sscanf(line, " %" SCNx64 "-%" SCNx64 " (prio %d, %15[^)]): %127s%n",
		   &start, &end, &prio, kind, name, &consumed) != 5)
		return 0;
	if (strcmp(kind, "ram") != 0)
		return 0;
	size_t b = 0;
	while (b < n_backends && strcmp(name, backends[b].name) != 0)
		b++;
	if (b == n_backends)
		return 0;
	const char *rest = line + consumed;
	while (*rest == ' ')
		rest++;
	if (*rest == '@' && sscanf(rest + 1, "%" SCNx64, &offset) != 1)
		return -EBADMSG;
	if (end < start)
		return -EBADMSG;
	*ret = (struct ram_segment) { .gpa = start, .len = end - start + 1, .offset = offset,
				      .backend = (unsigned) b };
	return 1;
}

/* Keeps only the backends segments refer to, renumbered in their order. */
static void keep_mapped_backends(struct ram_map *map, const struct ram_backend *backends, size_t n_backends) {
	int index[RAM_MAP_MAX_BACKENDS];

	for (size_t b = 0; b < n_backends; b++)
		index[b] = -1;
	for (size_t i = 0; i < map->n_segments; i++) {
		unsigned b = map->segments[i].backend;
		if (index[b] < 0) {
			index[b] = (int) map->n_backends;
			map->backends[map->n_backends++] = backends[b];
		}
	}
	for (size_t i = 0; i < map->n_segments; i++)
		map->segments[i].backend = (unsigned) index[map->segments[i].backend];
}

int ram_map_parse_mtree(const char *text, const struct ram_backend *backends, size_t n_backends,
			struct ram_map *ret) {
	struct ram_map map = { .n_backends = 0 };
	bool in_memory_view = false, in_header = false;
	const char *p = text;

	if (!text || !backends || n_backends == 0 || n_backends > RAM_MAP_MAX_BACKENDS)
		return -EINVAL;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);
		char line[512];

		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl ? nl + 1 : p + strlen(p);

		/* A flat view starts with its name and the address spaces sharing it. */
		if (strncmp(line, "FlatView #", 10) == 0) {
			if (in_memory_view)
				break;
			in_header = true;
			continue;
		}
		if (in_header && strncmp(line, " AS \"", 5) == 0) {
			if (strncmp(line, " AS \"memory\",", 13) == 0)
				in_memory_view = true;
			continue;
		}
		in_header = false;
		if (!in_memory_view)
			continue;

		struct ram_segment seg;
		int r = parse_line(line, backends, n_backends, &seg);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (map.n_segments >= RAM_MAP_MAX_SEGMENTS)
			return -E2BIG;
		uint64_t size = backends[seg.backend].size;
		if (seg.offset > size || seg.len > size - seg.offset)
			return -ERANGE;
		map.segments[map.n_segments++] = seg;
	}

	if (map.n_segments == 0)
		return -ENOENT;
	qsort(map.segments, map.n_segments, sizeof map.segments[0], segment_cmp);
	for (size_t i = 1; i < map.n_segments; i++)
		if (map.segments[i].gpa < map.segments[i - 1].gpa + map.segments[i - 1].len)
			return -ERANGE;
	/* Two pieces of the guest's memory in one place of a file would let
	 * a hint about one punch the other. */
	for (size_t i = 0; i < map.n_segments; i++)
		for (size_t j = i + 1; j < map.n_segments; j++) {
			const struct ram_segment *x = &map.segments[i], *y = &map.segments[j];
			if (x->backend == y->backend && x->offset < y->offset + y->len &&
			    y->offset < x->offset + x->len)
				return -ERANGE;
		}
	keep_mapped_backends(&map, backends, n_backends);

	*ret = map;
	return 0;
}

int ram_map_translate(const struct ram_map *map, uint64_t gpa, uint64_t len, unsigned *ret_backend,
		      uint64_t *ret_offset) {
	if (len == 0 || gpa + len < gpa)
		return -ERANGE;
	for (size_t i = 0; i < map->n_segments; i++) {
		const struct ram_segment *s = &map->segments[i];
		if (gpa >= s->gpa && gpa - s->gpa <= s->len && len <= s->len - (gpa - s->gpa)) {
			*ret_backend = s->backend;
			*ret_offset = s->offset + (gpa - s->gpa);
			return 0;
		}
	}
	return -ERANGE;
}

uint64_t ram_map_total(const struct ram_map *map) {
	uint64_t total = 0;
	for (size_t i = 0; i < map->n_segments; i++)
		total += map->segments[i].len;
	return total;
}
