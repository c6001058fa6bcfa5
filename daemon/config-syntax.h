/* config-syntax.h - one line of hintd.conf(5) at a time: a blank line or a
 * comment, a "[Section]" header or a "Key=Value" pair. Knows no section or
 * key names (config-keys.h does). Pure.
 *
 * The syntax is the INI dialect hintd.conf has always had: leading
 * whitespace is ignored (no continuation lines), '#' or ';' first on a line
 * makes it a comment, and a ';' after whitespace starts a comment at the end
 * of a Key=Value line; ':' separates a key from its value as '=' does. */
#ifndef HINTD_CONFIG_SYNTAX_H
#define HINTD_CONFIG_SYNTAX_H

/* Longer lines are refused, comments excepted. */
#define CONFIG_LINE_MAX 197

enum config_line_kind {
	CONFIG_LINE_BLANK,	/* nothing, or a comment */
	CONFIG_LINE_SECTION,
	CONFIG_LINE_KEY,
};

struct config_line {
	enum config_line_kind kind;
	const char *section;		/* CONFIG_LINE_SECTION: between the brackets, trimmed */
	const char *key, *value;	/* CONFIG_LINE_KEY: trimmed; value may be "" */
};

/* Splits line (one line without its newline; cut in place, the results
 * point into it). Returns 0, or -EINVAL with *ret_why saying what is wrong.
 * ret->kind is set even when a "[" line is malformed, so that the caller can
 * finish the previous section before reporting it, as for a good header. */
int config_line_split(char *line, struct config_line *ret, const char **ret_why);

#endif /* HINTD_CONFIG_SYNTAX_H */
