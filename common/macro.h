/* macro.h - small helpers shared by every hintd program.
 * Debian 12's libsystemd exports only the sd-bus/sd-event unref helpers, so
 * the cleanup attribute glue lives here. */
#ifndef HINTD_MACRO_H
#define HINTD_MACRO_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

#define KiB(n) ((uint64_t) (n) << 10)
#define MiB(n) ((uint64_t) (n) << 20)
#define GiB(n) ((uint64_t) (n) << 30)

/* Hand a pointer out of a _cleanup_ variable: the variable is left NULL. */
#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) _p_ = (p);     \
		(p) = NULL;                  \
		_p_;                         \
	})

#define TAKE_FD(fd)                          \
	({                                   \
		int _fd_ = (fd);             \
		(fd) = -1;                   \
		_fd_;                        \
	})

/* Defines name(type *p) calling func(*p) when *p is set: for _cleanup_. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)          \
	static inline void func##p(type *p) {             \
		if (*p)                                   \
			func(*p);                         \
	}

static inline void freep(void *p) {
	free(*(void **) p);
}

static inline void closep(int *fd) {
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f) {
	if (*f)
		fclose(*f);
}

#include <dirent.h>
static inline void closedirp_(DIR **d) {
	if (*d)
		closedir(*d);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* A NULL-terminated array of strings, each freed, then the array. */
static inline void strv_free(char **l) {
	for (char **p = l; p && *p; p++)
		free(*p);
	free(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

#endif /* HINTD_MACRO_H */
