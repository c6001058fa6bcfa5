/* test-config-syntax.c - hintd.conf lines split into sections and Key=Value
 * pairs, comments dropped, malformed lines refused with what is wrong. */
#include <errno.h>
#include <string.h>

#include "config-syntax.h"
#include "harness.h"
#include "macro.h"

TEST(lines_split) {
	static const struct {
		const char *text;
		enum config_line_kind kind;
		const char *a, *b;	/* section, or key and value */
	} table[] = {
		{ "", CONFIG_LINE_BLANK, NULL, NULL },
		{ " \t\r\v\f", CONFIG_LINE_BLANK, NULL, NULL },
		{ "# a comment", CONFIG_LINE_BLANK, NULL, NULL },
		{ "; a comment", CONFIG_LINE_BLANK, NULL, NULL },
		{ "   # indented comment", CONFIG_LINE_BLANK, NULL, NULL },
		{ "[Host]", CONFIG_LINE_SECTION, "Host", NULL },
		{ "  [ VM db-* ]  ", CONFIG_LINE_SECTION, "VM db-*", NULL },
		{ "[Host] # comment", CONFIG_LINE_SECTION, "Host", NULL },
		{ "[Host]; comment", CONFIG_LINE_SECTION, "Host", NULL },
		{ "[VM a;b]", CONFIG_LINE_SECTION, "VM a;b", NULL },
		{ "[]", CONFIG_LINE_SECTION, "", NULL },
		{ "Key=Value", CONFIG_LINE_KEY, "Key", "Value" },
		{ "  Key = Value  ", CONFIG_LINE_KEY, "Key", "Value" },
		{ "Key=", CONFIG_LINE_KEY, "Key", "" },
		{ "Key=a=b", CONFIG_LINE_KEY, "Key", "a=b" },
		{ "Key: value", CONFIG_LINE_KEY, "Key", "value" },
		{ "Uri=qemu:///system", CONFIG_LINE_KEY, "Uri", "qemu:///system" },
		{ "Key=value ; comment", CONFIG_LINE_KEY, "Key", "value" },
		{ "Key=value\t;comment", CONFIG_LINE_KEY, "Key", "value" },
		{ "Key=a;b", CONFIG_LINE_KEY, "Key", "a;b" },
		{ "Key=value # not a comment", CONFIG_LINE_KEY, "Key", "value # not a comment" },
		{ "Key = ; comment", CONFIG_LINE_KEY, "Key", "" },
		{ "Two words=x", CONFIG_LINE_KEY, "Two words", "x" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		char buf[256];
		struct config_line line;
		const char *why = NULL;
		int r;

		snprintf(buf, sizeof buf, "%s", table[i].text);
		r = config_line_split(buf, &line, &why);
		if (r < 0) {
			FAIL_AT("\"%s\": %s", table[i].text, why);
			continue;
		}
		CHECK_EQ_INT(line.kind, table[i].kind);
		if (line.kind == CONFIG_LINE_SECTION)
			CHECK_STREQ(line.section, table[i].a);
		if (line.kind == CONFIG_LINE_KEY) {
			CHECK_STREQ(line.key, table[i].a);
			CHECK_STREQ(line.value, table[i].b);
		}
	}
}

TEST(lines_refused) {
	static const struct {
		const char *text;
		enum config_line_kind kind;	/* as set on failure */
		const char *why;
	} table[] = {
		{ "[Host", CONFIG_LINE_SECTION, "section header without ']'" },
		{ "[Host] junk", CONFIG_LINE_SECTION, "unexpected text after the section header" },
		{ "[Host]\v", CONFIG_LINE_SECTION, "unexpected text after the section header" },
		{ "[VM a ;b]", CONFIG_LINE_SECTION, "syntax error" },
		{ "Budget", CONFIG_LINE_KEY, "syntax error" },
		{ "Budget ;=6G", CONFIG_LINE_KEY, "syntax error" },
		{ "=5", CONFIG_LINE_KEY, "missing key name before '='" },
		{ "  : 5", CONFIG_LINE_KEY, "missing key name" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		char buf[64];
		struct config_line line;
		const char *why = NULL;

		snprintf(buf, sizeof buf, "%s", table[i].text);
		CHECK_EQ_INT(config_line_split(buf, &line, &why), -EINVAL);
		CHECK_EQ_INT(line.kind, table[i].kind);
		if (!why || !strstr(why, table[i].why))
			FAIL_AT("\"%s\": \"%s\" lacks \"%s\"", table[i].text, why ?: "(null)",
				table[i].why);
	}
}

/* "    Uri=xxx...", n characters after the indentation. */
static char *long_line(char buf[static CONFIG_LINE_MAX + 16], size_t n) {
	memset(buf, ' ', 4);
	memcpy(buf + 4, "Uri=", 4);
	memset(buf + 8, 'x', n - 4);
	buf[4 + n] = '\0';
	return buf;
}

TEST(line_length) {
	char buf[CONFIG_LINE_MAX + 16];
	struct config_line line;
	const char *why = NULL;

	/* Exactly the limit, after indentation, is fine. */
	CHECK_EQ_INT(config_line_split(long_line(buf, CONFIG_LINE_MAX), &line, &why), 0);
	CHECK_EQ_INT(strlen(line.value), CONFIG_LINE_MAX - 4);

	/* One more is not. */
	CHECK_EQ_INT(config_line_split(long_line(buf, CONFIG_LINE_MAX + 1), &line, &why), -EINVAL);
	CHECK(why && strcmp(why, "line longer than 197 characters") == 0);

	/* A comment may be as long as it likes. */
	long_line(buf, CONFIG_LINE_MAX + 1)[0] = '#';
	CHECK_EQ_INT(config_line_split(buf, &line, &why), 0);
	CHECK_EQ_INT(line.kind, CONFIG_LINE_BLANK);
}

int main(void) {
	return run_tests();
}
