/* backing.c - see backing.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backing.h"
#include "macro.h"

#define WHY(r, ...) ({ if (why) snprintf(why, whylen, __VA_ARGS__); (r); })

/* The inode of the shared mapping of exactly ram_bytes in /proc/pid/maps. */
static int find_ram_mapping(pid_t pid, uint64_t ram_bytes, ino_t *ret_ino) {
	char path[64], line[512];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof path, "/proc/%d/maps", (int) pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		uint64_t start, end, ino;
		char perms[8];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %" SCNu64, &start, &end, perms, &ino) != 4)
			continue;
		if (perms[3] == 's' && ino != 0 && end - start == ram_bytes) {
			*ret_ino = (ino_t) ino;
			return 0;
		}
	}
	return -ENOENT;
}

int backing_open(pid_t pid, uint64_t ram_bytes, struct backing *ret, char *why, size_t whylen) {
	_cleanup_(closedirp_) DIR *d = NULL;
	struct dirent *de;
	char path[64];
	ino_t ino = 0;
	int r;

	r = find_ram_mapping(pid, ram_bytes, &ino);
	if (r == -ENOENT)
		return WHY(r, "guest RAM is not a shared file mapping (use <memoryBacking> with "
			   "<source type='memfd'/> and <access mode='shared'/>)");
	if (r < 0)
		return WHY(r, "cannot read /proc/%d/maps: %s", (int) pid, strerror(-r));

	snprintf(path, sizeof path, "/proc/%d/fd", (int) pid);
	d = opendir(path);
	if (!d)
		return WHY(-errno, "cannot list %s: %m", path);
	while ((de = readdir(d))) {
		char fdpath[320];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof fdpath, "%s/%s", path, de->d_name);
		if (stat(fdpath, &st) < 0 || st.st_ino != ino || !S_ISREG(st.st_mode))
			continue;
		if ((uint64_t) st.st_size < ram_bytes)
			continue;

		int fd = open(fdpath, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return WHY(-errno, "cannot open %s: %m", fdpath);
		*ret = (struct backing) { .fd = fd, .size = (uint64_t) st.st_size };
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

int backing_allocated(const struct backing *b, uint64_t *ret_bytes) {
	struct stat st;
	if (fstat(b->fd, &st) < 0)
		return -errno;
	*ret_bytes = (uint64_t) st.st_blocks * 512;
	return 0;
}

int backing_discard(const struct backing *b, uint64_t offset, uint64_t len, uint64_t *ret_freed) {
	uint64_t before, after;
	int r;

	if (offset > b->size || len > b->size - offset)
		return -ERANGE;
	/* What the punch gave back is what the file's block count lost: O(1),
	 * where walking the range with SEEK_DATA/SEEK_HOLE costs as much as the
	 * populated file after it. A page the guest faults in meanwhile only
	 * makes the figure smaller. */
	r = backing_allocated(b, &before);
	if (r < 0)
		return r;
	if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) offset, (off_t) len) < 0)
		return -errno;
	r = backing_allocated(b, &after);
	if (r < 0)
		return r;
	*ret_freed = before > after ? MIN(before - after, len) : 0;
	return 0;
}

int qemu_pid_by_uuid(const char *proc_root, const char *uuid, pid_t *ret_pid) {
	_cleanup_(closedirp_) DIR *d = opendir(proc_root);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[320], buf[16384];
		ssize_t n;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof path, "%s/%s/cmdline", proc_root, de->d_name);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (n = read(fd, buf, sizeof buf - 1)) <= 0)
			continue;
		buf[n] = '\0';
		/* argv is NUL separated: look for "-uuid" followed by the UUID. */
		for (char *p = buf; p < buf + n; p += strlen(p) + 1)
			if (strcmp(p, "-uuid") == 0 && p + strlen(p) + 1 < buf + n &&
			    strcasecmp(p + strlen(p) + 1, uuid) == 0) {
				*ret_pid = (pid_t) pid;
				return 0;
			}
	}
	return -ESRCH;
}
