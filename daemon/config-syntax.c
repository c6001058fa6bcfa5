/* config-syntax.c - see config-syntax.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "config-syntax.h"
#include "macro.h"

static const char syntax_error[] = "syntax error: expected [Section], Key=Value or a # comment";

static bool is_space(char c) {
	return isspace((unsigned char) c);
}

static char *skip_space(char *s) {
	while (is_space(*s))
		s++;
	return s;
}

static void trim_end(char *s, const char *spaces) {
	size_t n = strlen(s);

	while (n > 0 && strchr(spaces, s[n - 1]))
		s[--n] = '\0';
}

/* The first of chars in s, the ';' of a comment that follows whitespace, or
 * the end of s. */
static char *find_or_comment(char *s, const char *chars) {
	bool after_space = false;

	for (; *s; s++) {
		if ((chars && strchr(chars, *s)) || (after_space && *s == ';'))
			break;
		after_space = is_space(*s);
	}
	return s;
}

/* "[name]", then nothing but whitespace or a comment. */
static int split_section(char *line, struct config_line *ret, const char **ret_why) {
	char *end = find_or_comment(line + 1, "]"), *rest, *name;

	if (*end != ']')
		return *ret_why = strchr(end, ']') ? syntax_error : "section header without ']'", -EINVAL;
	*end = '\0';
	rest = end + 1 + strspn(end + 1, " \t\r");
	if (*rest != '\0' && *rest != '#' && *rest != ';')
		return *ret_why = "unexpected text after the section header", -EINVAL;

	name = line + 1 + strspn(line + 1, " \t");
	trim_end(name, " \t");
	ret->section = name;
	return 0;
}

/* "key=value" or "key:value", the value up to a comment. */
static int split_key(char *line, struct config_line *ret, const char **ret_why) {
	char *sep = find_or_comment(line, "=:"), *value;

	if (*sep != '=' && *sep != ':')
		return *ret_why = syntax_error, -EINVAL;
	*sep = '\0';
	trim_end(line, " \t\n\v\f\r");
	if (*line == '\0')
		return *ret_why = "missing key name before '='", -EINVAL;

	value = sep + 1;
	*find_or_comment(value, NULL) = '\0';
	value = skip_space(value);
	trim_end(value, " \t\n\v\f\r");
	ret->key = line;
	ret->value = value;
	return 0;
}

int config_line_split(char *line, struct config_line *ret, const char **ret_why) {
	*ret = (struct config_line) { .kind = CONFIG_LINE_BLANK };

	line = skip_space(line);
	if (*line == '\0' || *line == '#' || *line == ';')
		return 0;
	if (strlen(line) > CONFIG_LINE_MAX)
		return *ret_why = "line longer than " STRINGIFY(CONFIG_LINE_MAX) " characters", -EINVAL;

	if (*line == '[') {
		ret->kind = CONFIG_LINE_SECTION;
		return split_section(line, ret, ret_why);
	}
	ret->kind = CONFIG_LINE_KEY;
	return split_key(line, ret, ret_why);
}
