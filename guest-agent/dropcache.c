/* dropcache.c - see dropcache.h; what it chooses is in reclaim-choice.h.
 *
 * The kernel's LRU, when it can be asked: the root cgroup's memory.reclaim
 * (cgroup v2; mounted by the agent at RECLAIM_MOUNT when the guest has not
 * mounted cgroup2 itself and its memory controller is free). With swap,
 * vm.swappiness is 0 for the call, so only cache goes.
 *
 * Otherwise, file by file: posix_fadvise(POSIX_FADV_DONTNEED) on the least
 * recently used files first, for only as many resident pages as are still
 * wanted. DONTNEED invalidates clean, unmapped pages; dirty and mapped
 * pages stay (the kernel merely starts writeback), so nothing is lost and
 * pages in use are not taken. Files on memory-backed filesystems (tmpfs,
 * ramfs: the initramfs) have no backing store and are skipped. */
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

#include <sys/mount.h>

#include "dropcache.h"
#include "log.h"
#include "macro.h"
#include "reclaim-choice.h"
#include "stats.h"

#define CANDIDATES_MAX	256		/* files kept, least recently used first */
#define SCAN_FILES_MAX	200000		/* files looked at per call */
#define SCAN_TIME_MAX_MS 10000		/* and time spent looking */
#define WINDOW_BYTES	MiB(256)	/* mmap window for mincore */
#define RECLAIM_CHUNK	MiB(8)

static struct {
	struct cached_file c[CANDIDATES_MAX];
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

static void candidate_add(const char *path, uint64_t resident, time_t last_use) {
	struct cached_file f = { (char *) path, resident, last_use };
	unsigned warmest = 0;
	char *p;

	if (scan.n == CANDIDATES_MAX) {
		/* Full: this one replaces the warmest if it is colder. */
		for (unsigned i = 1; i < scan.n; i++)
			if (cached_file_colder_first(&scan.c[i], &scan.c[warmest]) > 0)
				warmest = i;
		if (cached_file_colder_first(&f, &scan.c[warmest]) >= 0)
			return;
	}
	p = strdup(path);
	if (!p)
		return;
	f.path = p;
	if (scan.n == CANDIDATES_MAX) {
		free(scan.c[warmest].path);
		scan.c[warmest] = f;
	} else
		scan.c[scan.n++] = f;
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
		candidate_add(path, (uint64_t) resident, MAX(st->st_atime, st->st_mtime));
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

static uint64_t file_lru(const struct hint_stats *s) {
	return s->mem.active_file + s->mem.inactive_file;
}

#define MEMORY_RECLAIM "/sys/fs/cgroup/memory.reclaim"
#define RECLAIM_MOUNT "/run/hint-agent/cgroup2"
#define SWAPPINESS "/proc/sys/vm/swappiness"

/* The root cgroup's memory.reclaim, or NULL. A guest without cgroup2
 * mounted (an initramfs) gets one of the agent's own, once. */
static const char *memory_reclaim_path(void) {
	static int mounted = -1;

	if (access(MEMORY_RECLAIM, W_OK) == 0)
		return MEMORY_RECLAIM;
	if (mounted < 0) {
		mounted = 0;
		if ((mkdir("/run", 0755) == 0 || errno == EEXIST) &&
		    (mkdir("/run/hint-agent", 0700) == 0 || errno == EEXIST) &&
		    (mkdir(RECLAIM_MOUNT, 0700) == 0 || errno == EEXIST) &&
		    mount("cgroup2", RECLAIM_MOUNT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
			mounted = 1;
		else
			log_debug_errno(-errno, "drop_cache: no cgroup2 of its own at %s: %m", RECLAIM_MOUNT);
	}
	if (mounted > 0 && access(RECLAIM_MOUNT "/memory.reclaim", W_OK) == 0)
		return RECLAIM_MOUNT "/memory.reclaim";
	return NULL;
}

static int write_text(const char *path, const char *text) {
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return write(fd, text, strlen(text)) < 0 ? -errno : 0;
}

static int read_text(const char *path, char *buf, size_t size) {
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return 0;
}

/* memory.reclaim asked for all at once overshoots (it scans every cgroup
 * for its share, rounding up: 129 MiB went for 68 asked, on a Debian
 * guest): ask RECLAIM_CHUNK at a time, measuring the file LRU between. */
static int reclaim_in_chunks(const char *path, uint64_t bytes) {
	struct hint_stats before = {}, now = {};
	uint64_t dropped = 0;
	char text[32];
	int r;

	if (stats_read_meminfo("/proc/meminfo", &before) < 0)
		return -EIO;
	while (dropped < bytes) {
		snprintf(text, sizeof text, "%" PRIu64, MIN(bytes - dropped, (uint64_t) RECLAIM_CHUNK));
		r = write_text(path, text);
		if (r < 0)
			return r;
		if (stats_read_meminfo("/proc/meminfo", &now) < 0)
			return -EIO;
		if (file_lru(&now) + dropped >= file_lru(&before))
			break;		/* nothing more goes */
		dropped = file_lru(&before) - file_lru(&now);
	}
	return 0;
}

/* bytes from the guest kernel's LRU, coldest first: 0 when it was asked
 * (it may take less: EAGAIN), negative errno when it cannot be used. With
 * spare_anon, vm.swappiness is 0 for the call, or the call is not made. */
static int reclaim_by_lru(const char *path, uint64_t bytes, bool spare_anon) {
	char old[16] = "";
	int r;

	if (spare_anon && (read_text(SWAPPINESS, old, sizeof old) < 0 || write_text(SWAPPINESS, "0") < 0))
		return log_debug_errno(-EPERM, "drop_cache: cannot set %s to 0 for the call", SWAPPINESS);
	r = reclaim_in_chunks(path, bytes);
	if (spare_anon && write_text(SWAPPINESS, old) < 0)
		log_warning("drop_cache: could not put %s back to %s", SWAPPINESS, old);
	if (r < 0 && r != -EAGAIN)
		return log_debug_errno(r, "drop_cache: %s: %m", path);
	return 0;
}

/* Files advised away, least recently used first, until bytes went. */
static void reclaim_by_files(uint64_t bytes) {
	struct advise_state st = { .want = bytes };

	scan.page_size = sysconf(_SC_PAGESIZE);
	scan.n = scan.scanned = 0;
	scan.deadline_ms = now_ms() + SCAN_TIME_MAX_MS;
	scan_mounts();
	qsort(scan.c, scan.n, sizeof scan.c[0], cached_file_colder_first);
	log_debug("drop_cache: %u files scanned, %u candidates", scan.scanned, scan.n);

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
	for (unsigned i = 0; i < scan.n; i++)
		free(scan.c[i].path);
	scan.n = 0;
}

int compact_guest_memory(void) {
	uint64_t t0 = now_ms();
	int r = write_text("/proc/sys/vm/compact_memory", "1");

	if (r < 0)
		return log_debug_errno(r, "compact_memory: %m");
	log_debug("compact_memory: %" PRIu64 " ms", now_ms() - t0);
	return 0;
}

int drop_clean_cache(uint64_t bytes, uint64_t *ret_freed) {
	struct hint_stats before = {}, after = {};
	struct reclaim_facts facts;
	struct reclaim_choice c;
	const char *path;
	int r;

	r = stats_read_meminfo("/proc/meminfo", &before);
	if (r < 0)
		return log_error_errno(r, "Failed to read /proc/meminfo: %m");
	/* The file LRU holds the droppable cache: it leaves out shmem/tmpfs
	 * (on the anon LRU) and ramfs and mlocked pages (unevictable). */
	path = memory_reclaim_path();
	facts = (struct reclaim_facts) {
		.lru_reclaim = path != NULL,
		.swap_total = before.mem.swap_total,
		.clean_file = file_lru(&before) -
			      MIN(file_lru(&before), before.mem.dirty + before.mem.writeback),
	};
	reclaim_choose(&facts, bytes, &c);
	if (c.method == RECLAIM_LRU && reclaim_by_lru(path, c.bytes, c.spare_anon) == 0)
		log_debug("drop_cache: %" PRIu64 " bytes asked of the kernel's LRU%s", c.bytes,
			  c.spare_anon ? " (swappiness 0: cache only)" : "");
	else if (c.method != RECLAIM_NOTHING)
		reclaim_by_files(c.bytes);

	r = stats_read_meminfo("/proc/meminfo", &after);
	if (r < 0)
		return log_error_errno(r, "Failed to read /proc/meminfo: %m");
	*ret_freed = file_lru(&before) > file_lru(&after) ? file_lru(&before) - file_lru(&after) : 0;
	/* Not compacted here: compaction moves pages into free memory the
	 * host may have discarded already, and finer hints get most of what
	 * a drop scatters without moving anything. The host asks for it when
	 * they do not (give with compact). */
	return 0;
}
