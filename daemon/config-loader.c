/* config-loader.c - see config-loader.h.
 *
 * Reads each file a line at a time: config-syntax.c splits the line,
 * config-keys.c parses the value of a key. Here: which section a line is in,
 * where each key was set (for messages naming file:line and for checks
 * between keys). Reading stops at the first error. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-keys.h"
#include "config-loader.h"
#include "config-syntax.h"

/* Where a [Host] or [Policy] key was last set; value NULL when it is not. */
struct origin {
	size_t file;		/* index in loader.paths */
	unsigned line;
	char *value;
};

struct header {
	enum config_section section;
	size_t vm;		/* for [VM]: index in config->vms */
	unsigned line;
};

/* "VM " and the longest name a [VM] section may have. */
#define SECTION_TITLE_MAX (sizeof "VM " + sizeof(((struct vm_state *) 0)->name))

struct config_loader {
	struct hintd_config *config;
	struct hintd_config defaults;	/* scalar fields only: what an empty value restores */
	struct origin origins[CONFIG_KEYS_MAX];	/* by index in config_keys[] */

	char **paths;			/* every file read so far; the last one is being read */
	size_t n_paths;

	/* The file being read. */
	unsigned line;
	struct header *headers;		/* its sections so far; the last one is being read */
	size_t n_headers;
	unsigned key_line[CONFIG_KEYS_MAX];	/* where each key is set in this section; 0: not */

	char *error;			/* the message of the first error */
};

static const struct header *loader_header(const struct config_loader *l) {
	return l->n_headers > 0 ? &l->headers[l->n_headers - 1] : NULL;
}

static struct config_vm *loader_vm(const struct config_loader *l) {
	return &l->config->vms[loader_header(l)->vm];
}

/* "Host", "VM db-*": a section as its header names it. */
static const char *section_title(const struct config_loader *l, const struct header *h,
				 char buf[static SECTION_TITLE_MAX]) {
	if (h->section != CONFIG_SECTION_VM)
		return config_section_name(h->section);
	snprintf(buf, SECTION_TITLE_MAX, "VM %s", l->config->vms[h->vm].pattern);
	return buf;
}

/* Records "path:line: key=value: message" as the error (without key=value
 * when key is NULL, without :line when line is 0); returns -EINVAL. */
_printf_(6, 7)
static int loader_error_at(struct config_loader *l, size_t file, unsigned line, const char *key,
			   const char *value, const char *fmt, ...) {
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return msg = NULL, -ENOMEM;
	if (line == 0)
		r = asprintf(&l->error, "%s: %s", l->paths[file], msg);
	else if (key)
		r = asprintf(&l->error, "%s:%u: %s=%s: %s", l->paths[file], line, key, value, msg);
	else
		r = asprintf(&l->error, "%s:%u: %s", l->paths[file], line, msg);
	if (r < 0)
		return l->error = NULL, -ENOMEM;
	return -EINVAL;
}

/* An error at the line being read. */
#define loader_error(l, key, value, ...) \
	loader_error_at((l), (l)->n_paths - 1, (l)->line, (key), (value), __VA_ARGS__)

/* An error about the whole of the last file added to paths. */
#define file_error(l, ...) loader_error_at((l), (l)->n_paths - 1, 0, NULL, NULL, __VA_ARGS__)

static struct origin *key_origin(struct config_loader *l, const char *name) {
	return &l->origins[config_key_find(CONFIG_SECTION_NONE, name) - config_keys];
}

/* The origin set later in the files, of two that are set. */
static const struct origin *origin_later(const struct origin *a, const struct origin *b) {
	if (a->file != b->file)
		return a->file > b->file ? a : b;
	return a->line > b->line ? a : b;
}

/* Budget= and BudgetCgroup= exclude each other; LowWatermark= must be below
 * HighWatermark= when both are sizes or both percents. */
static int check_host(struct config_loader *l) {
	const struct hintd_config *c = l->config;
	const struct config_watermark *lo = &c->low_watermark, *hi = &c->high_watermark;
	const struct origin *budget = key_origin(l, "Budget"), *cgroup = key_origin(l, "BudgetCgroup");
	const struct origin *low = key_origin(l, "LowWatermark"), *high = key_origin(l, "HighWatermark");

	if (c->budget > 0 && c->budget_cgroup) {
		const struct origin *o = origin_later(budget, cgroup), *other = o == budget ? cgroup : budget;

		return loader_error_at(l, o->file, o->line, o == budget ? "Budget" : "BudgetCgroup",
				       o->value, "%s= is set too (%s:%u); use one or the other",
				       o == budget ? "BudgetCgroup" : "Budget", l->paths[other->file],
				       other->line);
	}
	if (lo->is_percent == hi->is_percent &&
	    (lo->is_percent ? hi->permyriad <= lo->permyriad : hi->bytes <= lo->bytes)) {
		const struct origin *o = !low->value ? high : !high->value ? low : origin_later(low, high);
		const struct origin *other = o == high ? low : high;
		char other_at[PATH_MAX + 32] = "the default";

		if (other->value)
			snprintf(other_at, sizeof other_at, "%s:%u", l->paths[other->file], other->line);
		if (o == high)
			return loader_error_at(l, o->file, o->line, "HighWatermark", o->value,
					       "must be greater than LowWatermark= (%s)", other_at);
		return loader_error_at(l, o->file, o->line, "LowWatermark", o->value,
				       "must be less than HighWatermark= (%s)", other_at);
	}
	return 0;
}

/* MinMemory= may not be above MaxMemory=, when this section sets either. */
static int check_vm(struct config_loader *l) {
	const struct config_vm *v = loader_vm(l);
	unsigned both = CONFIG_VM_BIT(CONFIG_VM_MIN_MEMORY) | CONFIG_VM_BIT(CONFIG_VM_MAX_MEMORY);
	unsigned line_min = l->key_line[config_key_find(CONFIG_SECTION_VM, "MinMemory") - config_keys];
	unsigned line_max = l->key_line[config_key_find(CONFIG_SECTION_VM, "MaxMemory") - config_keys];

	if ((v->set & both) == both && v->settings.max_memory > 0 &&
	    v->settings.min_memory > v->settings.max_memory && (line_min || line_max))
		return loader_error_at(l, l->n_paths - 1, MAX(line_min, line_max), NULL, NULL,
				       "[VM %s]: MinMemory= is larger than MaxMemory=", v->pattern);
	return 0;
}

/* Checks between keys, once a section is complete. */
static int loader_end_section(struct config_loader *l) {
	const struct header *h = loader_header(l);

	if (!h)
		return 0;
	if (h->section == CONFIG_SECTION_HOST)
		return check_host(l);
	if (h->section == CONFIG_SECTION_VM)
		return check_vm(l);
	return 0;
}

/* The index in config->vms of the section with this pattern, added if new. */
static int loader_add_vm(struct config_loader *l, const char *pattern, size_t *ret) {
	struct hintd_config *c = l->config;
	struct config_vm *vms;
	char *p;

	for (size_t i = 0; i < c->n_vms; i++)
		if (strcmp(c->vms[i].pattern, pattern) == 0)
			return *ret = i, 0;

	p = strdup(pattern);
	vms = p ? reallocarray(c->vms, c->n_vms + 1, sizeof *vms) : NULL;
	if (!vms)
		return free(p), -ENOMEM;
	c->vms = vms;
	vms[c->n_vms] = (struct config_vm) { .pattern = p, .manage = true };
	vm_settings_init(&vms[c->n_vms].settings);
	*ret = c->n_vms++;
	return 0;
}

/* [Host], [Policy] or [VM pattern], as a header. */
static int parse_header(struct config_loader *l, const char *name, struct header *ret) {
	const size_t name_max = sizeof(((struct vm_state *) 0)->name) - 1;
	const char *pattern;

	*ret = (struct header) { .line = l->line };
	if (strcmp(name, "Host") == 0)
		return ret->section = CONFIG_SECTION_HOST, 0;
	if (strcmp(name, "Policy") == 0)
		return ret->section = CONFIG_SECTION_POLICY, 0;
	if (strncmp(name, "VM", 2) != 0 || (name[2] != '\0' && name[2] != ' ' && name[2] != '\t'))
		return loader_error(l, NULL, NULL,
				    "unknown section [%s]; sections are [Host], [Policy] and [VM name]",
				    name);

	pattern = name + 2 + strspn(name + 2, " \t");
	if (*pattern == '\0')
		return loader_error(l, NULL, NULL,
				    "[VM] needs a domain name or a pattern, like [VM web] or [VM db-*]");
	if (strlen(pattern) > name_max)
		return loader_error(l, NULL, NULL, "[VM %s]: name longer than %zu characters",
				    pattern, name_max);
	if (strchr(pattern, '/'))
		return loader_error(l, NULL, NULL, "[VM %s]: domain names cannot contain '/'",
				    pattern);
	ret->section = CONFIG_SECTION_VM;
	return loader_add_vm(l, pattern, &ret->vm);
}

/* A "[...]" line: starts a section, once per file. */
static int loader_section(struct config_loader *l, const char *name) {
	char title[SECTION_TITLE_MAX];
	struct header h, *headers;
	int r;

	r = parse_header(l, name, &h);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n_headers; i++)
		if (l->headers[i].section == h.section && l->headers[i].vm == h.vm)
			return loader_error(l, NULL, NULL,
					    "section [%s] appears twice in this file (first at line %u)",
					    section_title(l, &h, title), l->headers[i].line);

	headers = reallocarray(l->headers, l->n_headers + 1, sizeof *headers);
	if (!headers)
		return -ENOMEM;
	l->headers = headers;
	headers[l->n_headers++] = h;
	memset(l->key_line, 0, sizeof l->key_line);
	return 0;
}

/* Where a key is not: before any section, or in another section. */
static int misplaced_key(struct config_loader *l, const char *name, const char *value) {
	const struct config_key *elsewhere = config_key_find(CONFIG_SECTION_NONE, name);
	const struct header *h = loader_header(l);
	char title[SECTION_TITLE_MAX], belongs[64] = "";

	if (elsewhere)
		snprintf(belongs, sizeof belongs, "; it belongs in [%s]",
			 elsewhere->section == CONFIG_SECTION_VM ? "VM name" :
			 config_section_name(elsewhere->section));
	if (!h)
		return loader_error(l, name, value, "outside of any section%s", belongs);
	return loader_error(l, name, value, "unknown key in [%s]%s", section_title(l, h, title),
			    belongs);
}

/* key= restores the default: for a [VM] key, the key is no longer set in
 * this section and comes from a wider one. */
static void key_restore_default(struct config_loader *l, const struct config_key *k, void *field) {
	struct config_vm vm_default = { .manage = true };

	if (k->section != CONFIG_SECTION_VM) {
		memcpy(field, (char *) &l->defaults + k->offset, k->size);
		return;
	}
	vm_settings_init(&vm_default.settings);
	memcpy(field, (char *) &vm_default + k->offset, k->size);
	loader_vm(l)->set &= ~CONFIG_VM_BIT(k->vm_key);
}

/* Remembers where a [Host] or [Policy] key was set, or that it is not. */
static int key_set_origin(struct config_loader *l, const struct config_key *k, const char *value) {
	struct origin *o = &l->origins[k - config_keys];
	char *v = NULL;

	if (*value) {
		v = strdup(value);
		if (!v)
			return -ENOMEM;
	}
	free(o->value);
	*o = (struct origin) { .file = l->n_paths - 1, .line = l->line, .value = v };
	return 0;
}

/* One Key=Value line of the current section. */
static int loader_key(struct config_loader *l, const char *name, const char *value) {
	const struct header *h = loader_header(l);
	const struct config_key *k = h ? config_key_find(h->section, name) : NULL;
	char why[CONFIG_WHY_MAX];
	unsigned *seen;
	void *field;
	int r;

	if (!k)
		return misplaced_key(l, name, value);
	seen = &l->key_line[k - config_keys];
	if (*seen)
		return loader_error(l, name, value, "already set in this section at line %u", *seen);
	*seen = l->line;

	field = k->section == CONFIG_SECTION_VM ? (char *) loader_vm(l) + k->offset :
						  (char *) l->config + k->offset;
	if (*value == '\0' && !k->parse_empty)
		key_restore_default(l, k, field);
	else {
		r = k->parse(k, value, field, why);
		if (r == -EINVAL)
			return loader_error(l, name, value, "%s", why);
		if (r < 0)
			return r;
		if (k->section == CONFIG_SECTION_VM)
			loader_vm(l)->set |= CONFIG_VM_BIT(k->vm_key);
	}
	return k->section == CONFIG_SECTION_VM ? 0 : key_set_origin(l, k, value);
}

/* One line as getline() read it, n bytes with its newline. */
static int loader_line(struct config_loader *l, char *text, size_t n) {
	struct config_line line;
	const char *why;
	int r, q;

	if (memchr(text, '\0', n))
		return loader_error(l, NULL, NULL, "contains a NUL byte");
	if (n > 0 && text[n - 1] == '\n')
		text[n - 1] = '\0';
	if (l->line == 1 && strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;

	r = config_line_split(text, &line, &why);
	if (line.kind == CONFIG_LINE_SECTION) {
		q = loader_end_section(l);
		if (q < 0)
			return q;
	}
	if (r < 0)
		return loader_error(l, NULL, NULL, "%s", why);
	if (line.kind == CONFIG_LINE_SECTION)
		return loader_section(l, line.section);
	if (line.kind == CONFIG_LINE_KEY)
		return loader_key(l, line.key, line.value);
	return 0;
}

static int loader_add_path(struct config_loader *l, const char *path) {
	char **paths, *p;

	p = strdup(path);
	paths = p ? reallocarray(l->paths, l->n_paths + 1, sizeof *paths) : NULL;
	if (!paths)
		return free(p), -ENOMEM;
	l->paths = paths;
	paths[l->n_paths++] = p;
	return 0;
}

int config_loader_read_file(struct config_loader *l, const char *path, bool missing_ok) {
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t buf_size = 0;
	struct stat st;
	ssize_t n;
	int r;

	r = loader_add_path(l, path);
	if (r < 0)
		return r;
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		if (r == -ENOENT && missing_ok) {
			free(l->paths[--l->n_paths]);
			return 0;
		}
		return file_error(l, "cannot open: %s", strerror(-r)), r;
	}
	if (fstat(fileno(f), &st) < 0) {
		r = -errno;
		return file_error(l, "cannot stat: %s", strerror(-r)), r;
	}
	if (S_ISDIR(st.st_mode))
		return file_error(l, "is a directory"), -EISDIR;

	l->line = 0;
	l->n_headers = 0;
	while ((errno = 0, n = getline(&buf, &buf_size, f)) >= 0) {
		l->line++;
		r = loader_line(l, buf, n);
		if (r < 0)
			return r;
	}
	if (errno == ENOMEM)
		return -ENOMEM;
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		return file_error(l, "read error: %s", strerror(-r)), r;
	}
	r = loader_end_section(l);
	return r < 0 ? r : 1;
}

int config_loader_fail(struct config_loader *l, const char *path, const char *what, int r) {
	if (loader_add_path(l, path) < 0)
		return -ENOMEM;
	file_error(l, "%s: %s", what, strerror(-r));
	return r;
}

int config_loader_new(struct hintd_config *c, struct config_loader **ret) {
	struct config_loader *l = calloc(1, sizeof *l);

	if (!l)
		return -ENOMEM;
	l->config = c;
	l->defaults = *c;
	l->defaults.uri = NULL;
	*ret = l;
	return 0;
}

char *config_loader_take_error(struct config_loader *l) {
	return TAKE_PTR(l->error);
}

void config_loader_free(struct config_loader *l) {
	if (!l)
		return;
	for (size_t i = 0; i < l->n_paths; i++)
		free(l->paths[i]);
	free(l->paths);
	free(l->headers);
	for (size_t i = 0; i < config_n_keys; i++)
		free(l->origins[i].value);
	free(l->error);
	free(l);
}
