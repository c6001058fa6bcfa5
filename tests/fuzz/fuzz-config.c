/* Fuzz target: a hintd.conf. Loading either succeeds or fails with a
 * message; it never crashes, leaks or reads past what it was given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char path[] = "/tmp/hintd-fuzz-config-XXXXXX";
	struct hintd_config *c = NULL;
	char *error = NULL;
	int fd = mkstemp(path);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t) size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	if (config_load(path, NULL, &c, &error) == 0) {
		struct vm_settings s;
		bool manage;
		uint64_t low, high;
		config_vm_settings(c, "web-01", &s, &manage);
		(void) config_resolve_watermarks(c, GiB(16), &low, &high);
		config_free(c);
	} else if (!error)
		abort();
	free(error);
	unlink(path);
	return 0;
}
