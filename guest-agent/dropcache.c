/* dropcache.c - see dropcache.h.
 *
 * How: posix_fadvise(POSIX_FADV_DONTNEED) on the files with the most cached
 * pages first, asking only for as many resident pages as are still wanted.
 * DONTNEED invalidates clean, unmapped pages; dirty pages are not dropped
 * (the kernel merely starts their normal writeback, so nothing is lost).
 * When all of the clean cache is wanted, one write of "1" to
 * /proc/sys/vm/drop_caches does the same for every file at once.
 *
 * First choice, when the guest has no swap and cgroup v2 is mounted (a
 * systemd guest): the kernel's own LRU, through the root cgroup's
 * memory.reclaim. It takes the coldest pages first (inactive before
 * active), exactly the bytes asked, and without swap it can take only page
 * cache (and slab). With swap it is not used: in 6.1 it cannot be told to
 * spare anonymous memory, and would swap the guest's working set out.
 *
 * Files on memory-backed filesystems (tmpfs, ramfs: the initramfs) have no
 * backing store and are skipped: their pages cannot be dropped. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dropcache.h"
#include "log.h"
#include "macro.h"
#include "stats.h"

#define CANDIDATES_MAX	256		/* files kept, most cached first */
#define SCAN_FILES_MAX	200000		/* files looked at per call */
#define SCAN_TIME_MAX_MS 10000		/* and time spent looking */
#define WINDOW_BYTES	MiB(256)	/* mmap window for mincore */

struct candidate {
	char *path;
	uint64_t resident;	/* bytes of the file in page cache */
};

static struct {
	struct candidate c[CANDIDATES_MAX];
	unsigned n;
	unsigned scanned;
	uint64_t deadline_ms;
	long page_size;
} scan;

static uint64_t now_ms(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_for_advice(const char *path) {
	int fd;

	/* O_NOATIME: looking must not dirty inodes. It needs ownership or
	 * CAP_FOWNER; fall back without it. */
	fd = open(path, O_RDONLY | O_NOATIME | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Calls fn(offset, len, arg) for each window of the file with its mincore
 * vector; fn returns > 0 to stop. Returns resident bytes seen. */
typedef int (*window_fn)(int fd, uint64_t off, const unsigned char *vec, size_t pages, void *arg);

static int64_t for_each_window(int fd, uint64_t size, window_fn fn, void *arg) {
	_cleanup_free_ unsigned char *vec = NULL;
	uint64_t resident = 0;

	vec = malloc(WINDOW_BYTES / scan.page_size);
	if (!vec)
		return -ENOMEM;
	for (uint64_t off = 0; off < size; off += WINDOW_BYTES) {
		size_t len = MIN(WINDOW_BYTES, size - off);
		size_t pages = (len + scan.page_size - 1) / scan.page_size;
		void *p;
		int r;

		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
		if (p == MAP_FAILED)
			return -errno;
		r = mincore(p, len, vec);
		munmap(p, len);
		if (r < 0)
			return -errno;
		for (size_t i = 0; i < pages; i++)
			resident += (vec[i] & 1) * scan.page_size;
		if (fn && fn(fd, off, vec, pages, arg) > 0)
			break;
	}
	return resident;
}

static void candidate_add(const char *path, uint64_t resident) {
	unsigned min = 0;

	if (scan.n < CANDIDATES_MAX) {
		char *p = strdup(path);

		if (p)
			scan.c[scan.n++] = (struct candidate) { p, resident };
		return;
	}
	/* Full: replace the smallest if this one is bigger. */
	for (unsigned i = 1; i < scan.n; i++)
		if (scan.c[i].resident < scan.c[min].resident)
			min = i;
	if (resident > scan.c[min].resident) {
		char *p = strdup(path);

		if (!p)
			return;
		free(scan.c[min].path);
		scan.c[min] = (struct candidate) { p, resident };
	}
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
	_cleanup_close_ int fd = -1;
	int64_t resident;

	if (++scan.scanned > SCAN_FILES_MAX || now_ms() > scan.deadline_ms)
		return FTW_STOP;
	if (flag != FTW_F || !S_ISREG(st->st_mode) || st->st_size == 0)
		return FTW_CONTINUE;
	fd = open_for_advice(path);
	if (fd < 0)
		return FTW_CONTINUE;
	resident = for_each_window(fd, st->st_size, NULL, NULL);
	if (resident > 0)
		candidate_add(path, resident);
	return FTW_CONTINUE;
}

/* Filesystems whose page cache has a backing store to be re-read from. */
static bool fs_droppable(const char *type) {
	static const char *const types[] = {
		"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "exfat", "f2fs", "iso9660",
		"squashfs", "erofs", "nfs", "nfs4", "9p", "virtiofs", "fuseblk", "ntfs3", "jfs",
	};

	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

/* Unescapes mountinfo's octal escapes (\040 for space) in place. */
static void unescape(char *s) {
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

static void scan_mounts(void) {
	_cleanup_fclose_ FILE *f = NULL;
	char line[4096];

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		/* id parent major:minor root mountpoint options ... - fstype source superopts */
		char *fields[5] = {}, *sep, *save = NULL, *type;
		char *tok = strtok_r(line, " ", &save);

		for (int i = 0; i < 5 && tok; i++, tok = strtok_r(NULL, " ", &save))
			fields[i] = tok;
		sep = tok;
		while (sep && strcmp(sep, "-") != 0)
			sep = strtok_r(NULL, " ", &save);
		type = sep ? strtok_r(NULL, " ", &save) : NULL;
		if (!fields[4] || !type || !fs_droppable(type))
			continue;
		unescape(fields[4]);
		/* FTW_MOUNT: other mounts get their own line here. */
		if (nftw(fields[4], visit, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL) == FTW_STOP)
			break;
	}
}

struct advise_state {
	uint64_t want;		/* bytes still to drop */
	uint64_t asked;		/* resident bytes advised away */
};

/* Advises away runs of resident pages of one window, up to st->want. */
static int advise_window(int fd, uint64_t off, const unsigned char *vec, size_t pages, void *arg) {
	struct advise_state *st = arg;

	for (size_t i = 0; i < pages && st->want > 0;) {
		size_t j;
		uint64_t run;

		if (!(vec[i] & 1)) {
			i++;
			continue;
		}
		for (j = i; j < pages && (vec[j] & 1); j++)
			;
		run = MIN((uint64_t) (j - i) * scan.page_size, st->want);
		run -= run % scan.page_size;
		if (run == 0)
			run = scan.page_size;
		(void) posix_fadvise(fd, off + i * scan.page_size, run, POSIX_FADV_DONTNEED);
		st->asked += run;
		st->want -= MIN(run, st->want);
		i = j;
	}
	return st->want == 0;
}

#define MEMORY_RECLAIM "/sys/fs/cgroup/memory.reclaim"

/* bytes from the guest kernel's LRU, coldest first: 0 when it was asked
 * (it may take less: EAGAIN), negative errno when it cannot be used here. */
static int reclaim_by_lru(uint64_t bytes) {
	_cleanup_close_ int fd = open(MEMORY_RECLAIM, O_WRONLY | O_CLOEXEC);
	char text[32];
	int n;

	if (fd < 0)
		return -errno;
	n = snprintf(text, sizeof text, "%" PRIu64, bytes);
	if (write(fd, text, (size_t) n) < 0 && errno != EAGAIN)
		return log_debug_errno(-errno, "drop_cache: %s: %m", MEMORY_RECLAIM);
	return 0;
}

static int cmp_resident(const void *a, const void *b) {
	const struct candidate *x = a, *y = b;

	return x->resident < y->resident ? 1 : x->resident > y->resident ? -1 : 0;
}

static uint64_t file_lru(const struct hint_stats *s) {
	return s->mem.active_file + s->mem.inactive_file;
}

int drop_clean_cache(uint64_t bytes, uint64_t *ret_freed) {
	struct hint_stats before = {}, after = {};
	uint64_t clean;
	int r;

	r = stats_read_meminfo("/proc/meminfo", &before);
	if (r < 0)
		return log_error_errno(r, "Failed to read /proc/meminfo: %m");
	/* The file LRU holds the droppable cache: it leaves out shmem/tmpfs
	 * (on the anon LRU) and ramfs (unevictable). */
	clean = file_lru(&before);
	clean -= MIN(clean, before.mem.dirty + before.mem.writeback);

	if (bytes == 0) {
		*ret_freed = 0;
		return 0;
	}

	if (before.mem.swap_total == 0 && reclaim_by_lru(MIN(bytes, clean)) == 0) {
		log_debug("drop_cache: %" PRIu64 " bytes asked of the kernel's LRU", MIN(bytes, clean));
		goto measure;
	}
	if (bytes >= clean) {
		_cleanup_close_ int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

		/* sync is not called: dirty pages stay, only clean ones go. */
		if (fd < 0 || write(fd, "1", 1) != 1)
			log_warning_errno(-errno, "Failed to write /proc/sys/vm/drop_caches, "
					  "dropping file by file: %m");
		else
			goto measure;
	}

	scan.page_size = sysconf(_SC_PAGESIZE);
	scan.n = scan.scanned = 0;
	scan.deadline_ms = now_ms() + SCAN_TIME_MAX_MS;
	scan_mounts();
	qsort(scan.c, scan.n, sizeof scan.c[0], cmp_resident);
	log_debug("drop_cache: %u files scanned, %u candidates", scan.scanned, scan.n);

	{
		struct advise_state st = { .want = bytes };

		for (unsigned i = 0; i < scan.n && st.want > 0; i++) {
			_cleanup_close_ int fd = open_for_advice(scan.c[i].path);
			struct stat sb;

			if (fd < 0 || fstat(fd, &sb) < 0)
				continue;
			if (scan.c[i].resident <= st.want) {
				(void) posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
				st.asked += scan.c[i].resident;
				st.want -= scan.c[i].resident;
			} else
				(void) for_each_window(fd, sb.st_size, advise_window, &st);
		}
		log_debug("drop_cache: advised %" PRIu64 " bytes away", st.asked);
	}
	for (unsigned i = 0; i < scan.n; i++)
		free(scan.c[i].path);
	scan.n = 0;

measure:
	r = stats_read_meminfo("/proc/meminfo", &after);
	if (r < 0)
		return log_error_errno(r, "Failed to read /proc/meminfo: %m");
	*ret_freed = file_lru(&before) > file_lru(&after) ? file_lru(&before) - file_lru(&after) : 0;
	return 0;
}
