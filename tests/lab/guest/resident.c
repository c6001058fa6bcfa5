/* resident - how much of files is in the guest's page cache, for the tests
 * (busybox has no fincore).
 *
 *   resident FILE...
 *
 * Prints "RESIDENT SIZE" in bytes, summed over the files, from mincore(2)
 * on a read-only mapping (which reads nothing from disk). Exits 1 when a
 * file cannot be read. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
	long page = sysconf(_SC_PAGESIZE);
	uint64_t resident = 0, size = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		unsigned char *vec;
		size_t pages;
		void *p;
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		size += (uint64_t) st.st_size;
		if (st.st_size == 0) {
			close(fd);
			continue;
		}
		pages = ((size_t) st.st_size + page - 1) / page;
		p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		vec = malloc(pages);
		if (p == MAP_FAILED || !vec || mincore(p, (size_t) st.st_size, vec) < 0) {
			perror(argv[i]);
			return 1;
		}
		for (size_t j = 0; j < pages; j++)
			resident += (uint64_t) (vec[j] & 1) * (uint64_t) page;
		munmap(p, (size_t) st.st_size);
		free(vec);
		close(fd);
	}
	printf("%llu %llu\n", (unsigned long long) resident, (unsigned long long) size);
	return 0;
}
