/* The backing file: which pages a punch may free (whole huge pages on
 * hugetlbfs, never part of one), the granularity asked of a guest, and the
 * mapping QEMU's RAM lies in. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "backing.h"
#include "harness.h"
#include "macro.h"

static void check_whole(uint64_t offset, uint64_t len, uint64_t page, uint64_t want_offset, uint64_t want_len) {
	uint64_t o = 1, l = 1;

	backing_whole_pages(offset, len, page, &o, &l);
	CHECK_EQ_U64(l, want_len);
	if (want_len)
		CHECK_EQ_U64(o, want_offset);
}

TEST(whole_huge_pages_are_rounded_in) {
	/* Aligned ranges are kept as they are. */
	check_whole(MiB(2), MiB(4), MiB(2), MiB(2), MiB(4));
	/* A 4 KiB range, or any range inside one huge page, frees nothing. */
	check_whole(MiB(2), 4096, MiB(2), 0, 0);
	check_whole(MiB(2) + 4096, MiB(2) - 8192, MiB(2), 0, 0);
	/* Straddling a boundary without covering a whole page: nothing. */
	check_whole(MiB(1), MiB(2), MiB(2), 0, 0);
	/* The whole pages inside are kept, the partial ends dropped. */
	check_whole(MiB(1), MiB(5), MiB(2), MiB(2), MiB(4));
	check_whole(MiB(1), MiB(3), MiB(2), MiB(2), MiB(2));
	/* Base pages: every 4 KiB-aligned range is whole already. */
	check_whole(4096, 8192, 4096, 4096, 8192);
	/* Empty, a zero page size, and wrap-around give nothing. */
	check_whole(MiB(2), 0, MiB(2), 0, 0);
	check_whole(MiB(2), MiB(2), 0, 0, 0);
	check_whole(UINT64_MAX - MiB(1), MiB(4), MiB(2), 0, 0);
	/* The last whole page below 2^64 is found without overflow. */
	check_whole(UINT64_MAX - MiB(5) + 1, MiB(3), MiB(2), UINT64_MAX - MiB(4) + 1, MiB(2));
}

TEST(guests_are_asked_for_at_least_the_backing_page) {
	CHECK_EQ_U64(backing_hint_granularity(4096, MiB(2)), MiB(2));
	CHECK_EQ_U64(backing_hint_granularity(MiB(1), MiB(2)), MiB(2));
	CHECK_EQ_U64(backing_hint_granularity(MiB(2), MiB(2)), MiB(2));
	CHECK_EQ_U64(backing_hint_granularity(MiB(4), MiB(2)), MiB(4));
	CHECK_EQ_U64(backing_hint_granularity(4096, 4096), 4096);
	/* No backing known: whatever the guest offers. */
	CHECK_EQ_U64(backing_hint_granularity(4096, 0), 4096);
}

TEST(hugetlbfs_mapping_is_found_by_device_and_inode) {
	const char *maps =
		"55d0c0000000-55d0c0200000 r-xp 00000000 fe:01 1234 /usr/bin/qemu-system-x86_64\n"
		"7f2a00000000-7f2a20000000 rw-s 00000000 00:2d 4711 "
		"/dev/hugepages/libvirt/qemu/1-guest/qemu_back_mem.pc.ram.Ab12Cd (deleted)\n"
		"7f2a20000000-7f2a20001000 rw-p 00000000 00:00 0 \n";
	struct maps_entry e;

	CHECK_EQ_INT(maps_find(maps, 0x7f2a00200000, &e), 0);
	CHECK(e.shared);
	CHECK_EQ_U64(e.ino, 4711);
	CHECK_EQ_INT(e.dev_major, 0);
	CHECK_EQ_INT(e.dev_minor, 0x2d);
	CHECK_EQ_U64(e.start, 0x7f2a00000000);
	/* Anonymous memory next to it is no file, and past it nothing. */
	CHECK_EQ_INT(maps_find(maps, 0x7f2a20000000, &e), 0);
	CHECK(!e.shared && e.ino == 0);
	CHECK_EQ_INT(maps_find(maps, 0x7f2a30000000, &e), -ENOENT);
}

/* A memfd standing in for a hugetlbfs file: with a 2 MiB page size set,
 * a punch frees only the whole 2 MiB pages it covers, and leaves the rest
 * of the file as it was. */
TEST(discard_never_punches_part_of_a_page) {
	int fd = memfd_create("test-backing", MFD_CLOEXEC);
	struct backing b = { .fd = fd, .size = MiB(8), .page_size = MiB(2) };
	uint64_t freed = 1, backed = 0, backed_before = 0;
	char *p;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ_INT(ftruncate(fd, (off_t) MiB(8)), 0);
	p = mmap(NULL, MiB(8), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED) {
		close(fd);
		return;
	}
	memset(p, 0xa5, MiB(8));
	CHECK_EQ_INT(backing_allocated(&b, &backed_before), 0);

	/* 1 MiB..4 MiB: only 2..4 MiB goes; 1..2 MiB keeps its contents. */
	CHECK_EQ_INT(backing_discard(&b, MiB(1), MiB(3), false, &freed), 0);
	CHECK_EQ_U64(freed, MiB(2));
	CHECK_EQ_INT((unsigned char) p[MiB(1)], 0xa5);
	CHECK_EQ_INT((unsigned char) p[MiB(2) - 1], 0xa5);
	CHECK_EQ_INT(p[MiB(2)], 0);
	CHECK_EQ_INT(p[MiB(4) - 1], 0);
	CHECK_EQ_INT((unsigned char) p[MiB(4)], 0xa5);
	/* 4 KiB inside a page: nothing is punched, nothing changes. */
	freed = 1;
	CHECK_EQ_INT(backing_discard(&b, MiB(6), 4096, false, &freed), 0);
	CHECK_EQ_U64(freed, 0);
	CHECK_EQ_INT((unsigned char) p[MiB(6)], 0xa5);
	CHECK_EQ_INT(backing_allocated(&b, &backed), 0);
	/* No more than the one whole page went, whatever else shmem counts. */
	CHECK(backed + MiB(2) >= backed_before);
	/* Outside the file: refused. */
	CHECK_EQ_INT(backing_discard(&b, MiB(7), MiB(2), false, &freed), -ERANGE);

	munmap(p, MiB(8));
	close(fd);
}

/* A virtio-mem device's backend: only what holds data is punched, in
 * whatever stretches it lies, and each stretch rounded in to whole pages. */
TEST(discard_of_data_only_walks_the_stretches_that_hold_data) {
	int fd = memfd_create("test-backing-data", MFD_CLOEXEC);
	struct backing b = { .fd = fd, .size = MiB(16), .page_size = 4096 };
	uint64_t freed = 1, backed = 0;
	char *p;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ_INT(ftruncate(fd, (off_t) MiB(16)), 0);
	p = mmap(NULL, MiB(16), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED) {
		close(fd);
		return;
	}
	/* Data in 1..2 MiB, 5..7 MiB and 12..13 MiB; holes elsewhere. */
	memset(p + MiB(1), 0x5a, MiB(1));
	memset(p + MiB(5), 0x5a, MiB(2));
	memset(p + MiB(12), 0x5a, MiB(1));
	/* 0..6 MiB: the first stretch and half the second go. (Reading a
	 * hole of a shared memfd allocates a page: contents are read last.) */
	CHECK_EQ_INT(backing_discard(&b, 0, MiB(6), true, &freed), 0);
	CHECK_EQ_U64(freed, MiB(2));
	/* 6..16 MiB: what is left of the second and the third. */
	CHECK_EQ_INT(backing_discard(&b, MiB(6), MiB(10), true, &freed), 0);
	CHECK_EQ_U64(freed, MiB(2));
	CHECK_EQ_INT(backing_allocated(&b, &backed), 0);
	CHECK_EQ_U64(backed, 0);
	/* Nothing but holes: nothing to do; outside the file: refused. */
	CHECK_EQ_INT(backing_discard(&b, 0, MiB(16), true, &freed), 0);
	CHECK_EQ_U64(freed, 0);
	CHECK_EQ_INT(backing_discard(&b, MiB(15), MiB(2), true, &freed), -ERANGE);
	/* What was punched reads as zero. */
	CHECK_EQ_INT(p[MiB(1)], 0);
	CHECK_EQ_INT(p[MiB(7) - 1], 0);
	CHECK_EQ_INT(p[MiB(12)], 0);

	munmap(p, MiB(16));
	close(fd);
}

int main(void) {
	return run_tests();
}
