/* metrics.c - `hintctl metrics`: hintd's metrics in the Prometheus text
 * format, on stdout or into a file for node_exporter's textfile collector. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bus.h"
#include "log.h"
#include "macro.h"
#include "verbs.h"

/* The collector may read the file at any moment: write a temporary file
 * beside it (a name the collector ignores, it reads *.prom only) and
 * rename it over the old one. */
static int write_atomically(const char *path, const char *text) {
	_cleanup_free_ char *tmp = NULL;
	size_t len = strlen(text);
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t) len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int verb_metrics(const struct ctl_options *opts, const char *output) {
	_cleanup_free_ char *text = NULL;
	int r;

	r = ctl_call_text(opts, "Metrics", &text);
	if (r != 0)
		return r;
	if (!output) {
		fputs(text, stdout);
		return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
	}
	errno = 0;
	r = write_atomically(output, text);
	if (r < 0) {
		log_error_errno(r, "hintctl: metrics: cannot write %s: %m", output);
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}
