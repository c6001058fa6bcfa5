/* lab-runner - runs host commands inside a lab guest.
 *
 * Reads shell scripts from a virtio-serial port, each ended by a line
 * "@@lab-end", runs each with /bin/sh -c, and writes back its output followed
 * by "@@lab-exit <status>". Scripts run one at a time. The port reports POLLHUP (and read() returns EOF) while no
 * host client is connected: wait and retry, never exit. A command that should
 * keep running must redirect its output and end with '&'. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_FILE "/tmp/.lab-runner.out"
#define MAX_LINE 65536
#define MAX_OUTPUT (1 << 20)

static int write_all(int fd, const char *buf, size_t len) {
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				poll(&(struct pollfd) { .fd = fd, .events = POLLOUT }, 1, 100);
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

static int run_command(const char *cmd, int port) {
	char buf[8192];
	size_t sent = 0;
	char last = '\n';
	int status = 0, out;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(OUTPUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		close(port);
		execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	out = open(OUTPUT_FILE, O_RDONLY);
	if (out >= 0) {
		ssize_t n;
		while (sent < MAX_OUTPUT && (n = read(out, buf, sizeof buf)) > 0) {
			if (write_all(port, buf, (size_t) n) < 0)
				break;
			sent += (size_t) n;
			last = buf[n - 1];
		}
		close(out);
	}
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	/* The marker must stand on a line of its own. */
	int len = snprintf(buf, sizeof buf, "%s@@lab-exit %d\n", last != '\n' ? "\n" : "", rc);
	return write_all(port, buf, (size_t) len);
}

int main(int argc, char **argv) {
	const char *path = argc > 1 ? argv[1] : "/dev/virtio-ports/org.hintd.lab.0";
	static char line[MAX_LINE], script[MAX_LINE];
	size_t used = 0, script_len = 0;
	int port;

	for (;;) {
		port = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (port >= 0)
			break;
		fprintf(stderr, "lab-runner: %s: %m, retrying\n", path);
		sleep(1);
	}

	for (;;) {
		struct pollfd p = { .fd = port, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, -1) < 0) {
			if (errno != EINTR)
				usleep(250000);
			continue;
		}
		if (!(p.revents & POLLIN)) {
			/* No host client yet: the port hangs up. */
			used = script_len = 0;
			usleep(250000);
			continue;
		}
		n = read(port, line + used, sizeof line - 1 - used);
		if (n <= 0) {
			usleep(n == 0 ? 250000 : 10000);
			continue;
		}
		used += (size_t) n;

		char *start = line, *nl;
		while ((nl = memchr(start, '\n', used - (size_t) (start - line)))) {
			size_t len = (size_t) (nl - start);
			*nl = '\0';
			if (strcmp(start, "@@lab-end") == 0) {
				script[script_len] = '\0';
				run_command(script, port);
				script_len = 0;
			} else if (script_len + len + 1 < sizeof script) {
				memcpy(script + script_len, start, len);
				script[script_len + len] = '\n';
				script_len += len + 1;
			}
			start = nl + 1;
		}
		used -= (size_t) (start - line);
		memmove(line, start, used);
		if (used == sizeof line - 1)
			used = 0; /* an over-long line: drop it */
	}
}
