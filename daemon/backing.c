/* backing.c - see backing.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "backing.h"
#include "macro.h"

#define WHY(r, ...) ({ if (why) snprintf(why, whylen, __VA_ARGS__); (r); })

int maps_find(const char *text, uint64_t addr, struct maps_entry *ret) {
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		struct maps_entry e = { 0 };
		char perms[8];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64, &e.start, &e.end,
			   perms, &e.offset, &e.dev_major, &e.dev_minor, &e.ino) != 7)
			continue;
		if (addr < e.start || addr >= e.end)
			continue;
		e.shared = strlen(perms) >= 4 && perms[3] == 's';
		*ret = e;
		return 0;
	}
	return -ENOENT;
}

static int read_text(const char *path, char **ret) {
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;

	if (!f)
		return -errno;
	if (getdelim(&buf, &size, '\0', f) < 0 && !feof(f)) {
		free(buf);
		return -EIO;
	}
	*ret = buf ? buf : strdup("");
	return *ret ? 0 : -ENOMEM;
}

/* Every anchor must lie in a shared mapping of the same file, at its offset. */
static int check_anchors(const char *maps, const struct backing_anchor *anchors, size_t n,
			 struct maps_entry *ret, char *why, size_t whylen) {
	struct maps_entry first = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct maps_entry e;
		uint64_t hva = anchors[i].hva;

		if (maps_find(maps, hva, &e) < 0)
			return WHY(-ENOENT, "QEMU's guest RAM address 0x%" PRIx64 " is not mapped", hva);
		if (!e.shared || e.ino == 0)
			return WHY(-EMEDIUMTYPE, "guest RAM is not a shared file mapping (use <memoryBacking> "
				   "with <source type='memfd'/> and <access mode='shared'/>)");
		if (e.offset + (hva - e.start) != anchors[i].offset)
			return WHY(-EBADSLT, "guest RAM at 0x%" PRIx64 " is at file offset 0x%" PRIx64
				   ", the memory map says 0x%" PRIx64, hva, e.offset + (hva - e.start),
				   anchors[i].offset);
		if (i == 0)
			first = e;
		else if (e.ino != first.ino || e.dev_major != first.dev_major || e.dev_minor != first.dev_minor)
			return WHY(-EXDEV, "guest RAM is mapped from more than one file");
	}
	*ret = first;
	return 0;
}

/* The unit a punch of fd frees: hugetlbfs says its huge page size in f_bsize. */
static uint64_t page_size_of(int fd) {
	struct statfs sf;

	if (fstatfs(fd, &sf) == 0 && sf.f_type == HUGETLBFS_MAGIC && sf.f_bsize > 0)
		return (uint64_t) sf.f_bsize;
	return (uint64_t) sysconf(_SC_PAGESIZE);
}

int backing_open_mapped(pid_t pid, const struct backing_anchor *anchors, size_t n_anchors,
			uint64_t size, struct backing *ret, char *why, size_t whylen) {
	_cleanup_(closedirp_) DIR *d = NULL;
	_cleanup_free_ char *maps = NULL;
	struct maps_entry e;
	struct dirent *de;
	char path[64];
	dev_t dev;
	int r;

	if (n_anchors == 0)
		return WHY(-EINVAL, "no guest RAM address to check");
	snprintf(path, sizeof path, "/proc/%d/maps", (int) pid);
	r = read_text(path, &maps);
	if (r < 0)
		return WHY(r, "cannot read %s: %s", path, strerror(-r));
	r = check_anchors(maps, anchors, n_anchors, &e, why, whylen);
	if (r < 0)
		return r;
	dev = makedev(e.dev_major, e.dev_minor);

	snprintf(path, sizeof path, "/proc/%d/fd", (int) pid);
	d = opendir(path);
	if (!d)
		return WHY(-errno, "cannot list %s: %m", path);
	while ((de = readdir(d))) {
		char fdpath[320];
		struct stat st;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof fdpath, "%s/%s", path, de->d_name);
		if (stat(fdpath, &st) < 0 || st.st_ino != e.ino || st.st_dev != dev || !S_ISREG(st.st_mode))
			continue;
		fd = open(fdpath, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return WHY(-errno, "cannot open %s: %m", fdpath);
		/* What was opened is what was checked, not what the name points at now. */
		if (fstat(fd, &st) < 0 || st.st_ino != e.ino || st.st_dev != dev || (uint64_t) st.st_size < size) {
			close(fd);
			return WHY(-ESTALE, "the RAM file of QEMU %d changed while it was opened", (int) pid);
		}
		*ret = (struct backing) { .fd = fd, .size = (uint64_t) st.st_size, .dev = dev, .ino = e.ino,
					  .page_size = page_size_of(fd) };
		ssize_t n = readlink(fdpath, ret->path, sizeof ret->path - 1);
		ret->path[n > 0 ? n : 0] = '\0';
		return 0;
	}
	return WHY(-ENOENT, "QEMU %d maps its RAM shared but holds no descriptor for it", (int) pid);
}

void backing_close(struct backing *b) {
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

void backing_set_close(struct backing_set *s) {
	for (size_t i = 0; i < s->n; i++)
		backing_close(&s->b[i]);
	s->n = 0;
}

uint64_t backing_set_page_size(const struct backing_set *s) {
	uint64_t page = 0;
	for (size_t i = 0; i < s->n; i++)
		page = MAX(page, s->b[i].page_size);
	return page;
}

bool backing_set_same(const struct backing_set *a, const struct backing_set *b) {
	if (a->n != b->n || a->n == 0)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->b[i].dev != b->b[i].dev || a->b[i].ino != b->b[i].ino)
			return false;
	return true;
}

int backing_set_allocated(const struct backing_set *s, uint64_t *ret_bytes) {
	uint64_t total = 0;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t bytes;
		int r = backing_allocated(&s->b[i], &bytes);
		if (r < 0)
			return r;
		total += bytes;
	}
	*ret_bytes = total;
	return 0;
}

int backing_allocated(const struct backing *b, uint64_t *ret_bytes) {
	struct stat st;
	if (fstat(b->fd, &st) < 0)
		return -errno;
	*ret_bytes = (uint64_t) st.st_blocks * 512;
	return 0;
}

void backing_whole_pages(uint64_t offset, uint64_t len, uint64_t page_size, uint64_t *ret_offset,
			 uint64_t *ret_len) {
	uint64_t head, end;

	*ret_offset = offset;
	*ret_len = 0;
	if (page_size == 0 || len == 0 || offset > UINT64_MAX - len)
		return;
	/* Rounded in: the start up, the end down, to page boundaries. */
	head = offset % page_size ? page_size - offset % page_size : 0;
	end = offset + len - (offset + len) % page_size;
	if (head >= len || offset + head >= end)
		return;
	*ret_offset = offset + head;
	*ret_len = end - (offset + head);
}

uint64_t backing_hint_granularity(uint64_t asked, uint64_t page_size) {
	return asked < page_size ? page_size : asked;
}

/* Punches the whole pages of [offset, offset+len); a range with none is
 * left alone. */
static int punch_whole_pages(const struct backing *b, uint64_t offset, uint64_t len) {
	/* A backing whose page size is unknown is punched as asked. */
	if (b->page_size > 1)
		backing_whole_pages(offset, len, b->page_size, &offset, &len);
	if (len > 0 && fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) offset, (off_t) len) < 0)
		return -errno;
	return 0;
}

/* Punches each stretch of [offset, end) that holds data, nothing else. */
static int punch_data(const struct backing *b, uint64_t offset, uint64_t end) {
	while (offset < end) {
		off_t data = lseek(b->fd, (off_t) offset, SEEK_DATA), hole;
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;	/* no data after offset */
		if ((uint64_t) data >= end)
			return 0;
		hole = lseek(b->fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		int r = punch_whole_pages(b, (uint64_t) data, MIN((uint64_t) hole, end) - (uint64_t) data);
		if (r < 0)
			return r;
		offset = (uint64_t) hole;
	}
	return 0;
}

int backing_discard(const struct backing *b, uint64_t offset, uint64_t len, bool data_only,
		    uint64_t *ret_freed) {
	uint64_t before, after;
	int r;

	*ret_freed = 0;
	if (offset > b->size || len > b->size - offset)
		return -ERANGE;
	/* What the punch gave back is what the file's block count lost: O(1),
	 * where walking the range with SEEK_DATA/SEEK_HOLE costs as much as the
	 * populated file after it. A page the guest faults in meanwhile only
	 * makes the figure smaller. */
	r = backing_allocated(b, &before);
	if (r < 0)
		return r;
	r = data_only ? punch_data(b, offset, offset + len) : punch_whole_pages(b, offset, len);
	if (r < 0)
		return r;
	r = backing_allocated(b, &after);
	if (r < 0)
		return r;
	*ret_freed = before > after ? MIN(before - after, len) : 0;
	return 0;
}

int process_of_thread(const char *proc_root, pid_t tid, pid_t *ret_pid) {
	_cleanup_free_ char *status = NULL;
	char path[320];
	const char *p;
	long tgid;
	int r;

	snprintf(path, sizeof path, "%s/%d/status", proc_root, (int) tid);
	r = read_text(path, &status);
	if (r < 0)
		return r;
	p = strstr(status, "\nTgid:");
	if (!p || sscanf(p, "\nTgid: %ld", &tgid) != 1 || tgid <= 0)
		return -EBADMSG;
	*ret_pid = (pid_t) tgid;
	return 0;
}
