/* test-config-keys.c - config_keys[] is the one list of hintd.conf keys:
 * man/hintd.conf.5 and etc/hintd.conf describe exactly its keys, each in
 * its section, and no other key. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-keys.h"
#include "harness.h"
#include "macro.h"

#define MAN_PAGE "man/hintd.conf.5"
#define SHIPPED_CONFIG "etc/hintd.conf"

struct mention {
	enum config_section section;
	char name[64];
	unsigned line;
	bool defines;		/* describes the key, rather than using it in an example */
};

struct mentions {
	struct mention m[256];
	size_t n;
};

/* "Name=..." at s: copies Name; false when s does not start so. */
static bool key_at(const char *s, char name[static 64]) {
	size_t n = 0;

	while (n < 63 && isalpha((unsigned char) s[n]))
		n++;
	if (n == 0 || s[n] != '=' || !isupper((unsigned char) s[0]))
		return false;
	memcpy(name, s, n);
	name[n] = '\0';
	return true;
}

/* The section a "[Host]" or "[VM db\-*]" header names. */
static enum config_section section_of_header(const char *s) {
	if (strncmp(s, "[Host]", 6) == 0)
		return CONFIG_SECTION_HOST;
	if (strncmp(s, "[Policy]", 8) == 0)
		return CONFIG_SECTION_POLICY;
	if (strncmp(s, "[VM ", 4) == 0)
		return CONFIG_SECTION_VM;
	return CONFIG_SECTION_NONE;
}

static void add(struct mentions *ms, enum config_section s, const char *name, unsigned line,
		bool defines) {
	if (ms->n == ELEMENTSOF(ms->m))
		abort();
	ms->m[ms->n] = (struct mention) { .section = s, .line = line, .defines = defines };
	snprintf(ms->m[ms->n].name, sizeof ms->m[ms->n].name, "%s", name);
	ms->n++;
}

/* The man page: ".BI Key= type" under .SH "[Host] SECTION" and the like
 * define keys; "Key=value" lines of an .nf example use them. */
static void read_man_page(FILE *f, struct mentions *ms) {
	enum config_section section = CONFIG_SECTION_NONE, example = CONFIG_SECTION_NONE;
	bool in_example = false;
	char line[512], name[64];

	for (unsigned n = 1; fgets(line, sizeof line, f); n++) {
		if (strncmp(line, ".SH ", 4) == 0)
			section = section_of_header(line + 4 + (line[4] == '"'));
		else if (strncmp(line, ".nf", 3) == 0)
			in_example = true, example = CONFIG_SECTION_NONE;
		else if (strncmp(line, ".fi", 3) == 0)
			in_example = false;
		else if (strncmp(line, ".BI ", 4) == 0 && key_at(line + 4, name))
			add(ms, section, name, n, true);
		else if (in_example && line[0] == '[')
			example = section_of_header(line);
		else if (in_example && key_at(line, name))
			add(ms, example, name, n, false);
	}
}

/* The shipped file: "#Key=default" (or "Key=value") under "[Host]" or
 * "#[VM *]" defines each key. */
static void read_shipped_config(FILE *f, struct mentions *ms) {
	enum config_section section = CONFIG_SECTION_NONE;
	char line[512], name[64];

	for (unsigned n = 1; fgets(line, sizeof line, f); n++) {
		const char *p = line + (line[0] == '#');

		if (*p == '[')
			section = section_of_header(p);
		else if (key_at(p, name))
			add(ms, section, name, n, true);
	}
}

/* Prints what disagrees with config_keys[]; returns how many things do. */
static unsigned disagreements(const char *doc, const struct mentions *ms) {
	unsigned bad = 0;

	for (size_t i = 0; i < ms->n; i++) {
		const struct mention *m = &ms->m[i];

		if (m->section != CONFIG_SECTION_NONE && config_key_find(m->section, m->name))
			continue;
		printf("  %s:%u: %s= is not a key of [%s]\n", doc, m->line, m->name,
		       config_section_name(m->section) ?: "any section");
		bad++;
	}
	for (size_t k = 0; k < config_n_keys; k++) {
		bool found = false;

		for (size_t i = 0; i < ms->n && !found; i++)
			found = ms->m[i].defines && ms->m[i].section == config_keys[k].section &&
				strcmp(ms->m[i].name, config_keys[k].name) == 0;
		if (!found) {
			printf("  %s: does not describe [%s] %s=\n", doc,
			       config_section_name(config_keys[k].section), config_keys[k].name);
			bad++;
		}
	}
	return bad;
}

static char *read_text(const char *path) {
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t size = 0;

	if (!f || getdelim(&text, &size, '\0', f) < 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Disagreements of text, read by reader, with its first "from" replaced by "to". */
static unsigned disagreements_edited(const char *doc, const char *text, const char *from,
				     const char *to, void (*reader)(FILE *, struct mentions *)) {
	_cleanup_free_ char *edited = NULL;
	const char *at = strstr(text, from);
	struct mentions ms = {};
	FILE *f;

	if (!at) {
		FAIL_AT("%s lacks \"%s\"", doc, from);
		return 0;
	}
	if (asprintf(&edited, "%.*s%s%s", (int) (at - text), text, to, at + strlen(from)) < 0)
		abort();
	f = fmemopen(edited, strlen(edited), "r");
	if (!f)
		abort();
	reader(f, &ms);
	fclose(f);
	return disagreements(doc, &ms);
}

TEST(man_page_describes_every_key) {
	_cleanup_fclose_ FILE *f = fopen(MAN_PAGE, "re");
	struct mentions ms = {};

	if (!f)
		{ FAIL_AT("cannot read " MAN_PAGE); return; }
	read_man_page(f, &ms);
	CHECK(ms.n > config_n_keys);
	CHECK_EQ_INT(disagreements(MAN_PAGE, &ms), 0);
}

TEST(shipped_config_shows_every_key) {
	_cleanup_fclose_ FILE *f = fopen(SHIPPED_CONFIG, "re");
	struct mentions ms = {};

	if (!f)
		{ FAIL_AT("cannot read " SHIPPED_CONFIG); return; }
	read_shipped_config(f, &ms);
	CHECK_EQ_INT(ms.n, config_n_keys);
	CHECK_EQ_INT(disagreements(SHIPPED_CONFIG, &ms), 0);
}

/* The checks above catch a key renamed, moved or left out. */
TEST(disagreements_are_found) {
	_cleanup_free_ char *man = read_text(MAN_PAGE), *shipped = read_text(SHIPPED_CONFIG);

	if (!man || !shipped)
		{ FAIL_AT("cannot read " MAN_PAGE " or " SHIPPED_CONFIG); return; }
	printf("  (the disagreements below are expected)\n");
	/* Renamed: one key unknown, one missing. */
	CHECK_EQ_INT(disagreements_edited(MAN_PAGE, man, ".BI DryRun=", ".BI DryRunn=",
					  read_man_page), 2);
	CHECK_EQ_INT(disagreements_edited(SHIPPED_CONFIG, shipped, "#DryRun=", "#DryRunn=",
					  read_shipped_config), 2);
	/* In the wrong section: unknown there, and missing where it belongs. */
	CHECK_EQ_INT(disagreements_edited(SHIPPED_CONFIG, shipped, "#AdminGroup=\n",
					  "\n[Policy]\n#AdminGroup=\n", read_shipped_config), 2);
	/* Left out. */
	CHECK_EQ_INT(disagreements_edited(SHIPPED_CONFIG, shipped, "#Manage=yes", "",
					  read_shipped_config), 1);
	/* An example using a key that does not exist. */
	CHECK_EQ_INT(disagreements_edited(MAN_PAGE, man, "Manage=no\n", "Manage=no\nManaged=no\n",
					  read_man_page), 1);
}

int main(void) {
	return run_tests();
}
