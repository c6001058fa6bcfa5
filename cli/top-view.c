/* top-view.c - see top-view.h. */
#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <string.h>
#include "macro.h"
#include "top-view.h"

/* Rows of the screen: the header, a line for errors, the column titles. */
#define ERROR_LINE TOP_HEADER_LINES
#define TITLE_LINE (TOP_HEADER_LINES + 1)
#define FIRST_ROW (TOP_HEADER_LINES + 2)

int top_view_init(void) {
	setlocale(LC_ALL, "");
	if (!initscr())
		return -EIO;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	return 0;
}

void top_view_end(void) {
	if (!isendwin())
		endwin();
}

/* A line cut to the screen: the last column of the last line is left
 * alone so the screen never scrolls. */
static void put_line(int y, int x, const char *s, int attrs) {
	int room = COLS - x - (y == LINES - 1 ? 1 : 0);

	if (y < 0 || y >= LINES || room <= 0)
		return;
	attrset(attrs);
	mvaddnstr(y, x, s, room);
	attrset(A_NORMAL);
}

static void draw_help(void) {
	static const char *const lines[] = {
		"hintctl top keys",
		"",
		"s      sort by the next column",
		"n      sort by name",
		"b      sort by backed memory",
		"r      sort by bytes reclaimed",
		"i      invert the order",
		"space  refresh now",
		"?, h   this help",
		"q      quit",
		"",
		"Any key closes this help.",
	};
	int h = (int) ELEMENTSOF(lines) + 2, w = 40, y, x;
	WINDOW *win;

	h = MIN(h, LINES);
	w = MIN(w, COLS);
	y = (LINES - h) / 2;
	x = (COLS - w) / 2;
	win = newwin(h, w, y, x);
	if (!win)
		return;
	werase(win);
	box(win, 0, 0);
	for (int i = 0; i < (int) ELEMENTSOF(lines) && i + 1 < h - 1; i++)
		mvwaddnstr(win, i + 1, 2, lines[i], w - 4);
	wnoutrefresh(win);
	delwin(win);
}

void top_view_draw(const struct top_model *m, const struct top_state *s,
		   const struct top_view_info *info) {
	char line[1024];
	struct top_layout layout;
	int y, x;

	erase();
	for (size_t i = 0; i < TOP_HEADER_LINES; i++) {
		top_format_header(m, s, i, info->exact_bytes, info->interval_sec, info->bus,
				  line, sizeof line);
		put_line((int) i, 0, line, i == 0 ? A_BOLD : A_NORMAL);
	}
	if (info->error)
		put_line(ERROR_LINE, 0, info->error, A_BOLD | A_REVERSE);

	top_layout_columns((unsigned) MAX(COLS, 0), m->longest_name,
			   top_model_virtio_mem_width(m, info->exact_bytes), info->exact_bytes, &layout);
	top_format_line(&layout, NULL, info->exact_bytes, line, sizeof line);
	/* The titles across the whole width, the sort column underlined. */
	if (TITLE_LINE < LINES) {
		attrset(A_REVERSE);
		mvhline(TITLE_LINE, 0, ' ', COLS);
		attrset(A_NORMAL);
	}
	put_line(TITLE_LINE, 0, line, A_REVERSE);
	x = 0;
	for (size_t i = 0; i < layout.n_columns; i++) {
		enum top_column c = layout.columns[i];

		if ((int) c == (int) s->sort) {
			const char *title = top_column_title(c, layout.narrow);
			int w = (int) layout.widths[i], t = (int) strlen(title);
			int tx = top_column_right_aligned(c) ? x + w - t : x;

			if (t <= w)
				put_line(TITLE_LINE, tx, title, A_REVERSE | A_BOLD | A_UNDERLINE);
		}
		x += (int) layout.widths[i] + 1;
	}

	y = FIRST_ROW;
	if (m->n_rows == 0)
		put_line(y, 0, "No VMs.", A_NORMAL);
	for (size_t i = 0; i < m->n_rows && y < LINES; i++, y++) {
		top_format_line(&layout, &m->rows[i], info->exact_bytes, line, sizeof line);
		put_line(y, 0, line, A_NORMAL);
	}
	wnoutrefresh(stdscr);
	if (s->help)
		draw_help();
	doupdate();
}

int top_view_read_key(int timeout_msec) {
	int key;

	timeout(timeout_msec);
	key = getch();
	return key == ERR ? -1 : key;
}

bool top_view_is_resize(int key) {
	return key == KEY_RESIZE;
}
