/*
 * shmbox watch on a terminal, through ncurses: the terminal's own escape
 * sequences (terminfo), its alternate screen if it has one, colour if it
 * has some.  ncurses also looks after the two signals a full-screen
 * program must handle: SIGWINCH (the new size comes back from getch as
 * KEY_RESIZE) and SIGTSTP (Ctrl-Z gives the terminal back; fg takes it
 * again and redraws).  It installs its handlers only where a signal's
 * disposition is still the default, so watch installs none for them;
 * SIGINT and SIGTERM are ours (cli_catch_signals, before newterm), so
 * that Ctrl-C ends watch through cli_screen_close and status 0.  Between
 * frames watch sleeps in one ppoll on the keyboard (tool_poll), which a
 * key, any of these signals, or the time for the next frame ends.
 */
#include <curses.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"

static SCREEN *screen; /* NULL: the terminal is not ours */
static FILE *keyboard; /* /dev/tty, when standard input is not the terminal */
static int keys = -1;  /* the descriptor ncurses reads keys from */
static attr_t inks[INK_DEAD + 1];

/* Colour when the terminal has it and NO_COLOR is not set; otherwise the
 * letters tell the states apart, and attributes make the queue stand out
 * as a solid run of full cells. */
static void choose_inks(void)
{
	static const short fg[] = {
		[INK_WRITING] = COLOR_YELLOW,
		[INK_FULL] = COLOR_GREEN,
		[INK_READING] = COLOR_CYAN,
		[INK_DEAD] = COLOR_RED,
	};
	short bg, k;

	inks[INK_MARK] = A_BOLD;
	if (has_colors() && getenv("NO_COLOR") == NULL && start_color() == OK) {
		bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
		for (k = INK_WRITING; k <= INK_DEAD; k++) {
			init_pair(k, fg[k], bg);
			inks[k] = COLOR_PAIR(k) | A_BOLD;
		}
	} else {
		inks[INK_WRITING] = inks[INK_READING] = A_BOLD;
		inks[INK_FULL] = A_REVERSE;
		inks[INK_DEAD] = A_BOLD | A_UNDERLINE;
	}
}

int cli_screen_open(void)
{
	FILE *in = stdin;
	char *cup;

	if (!isatty(STDOUT_FILENO))
		return -1;
	if (!isatty(STDIN_FILENO) && (in = keyboard = fopen("/dev/tty", "re")) == NULL)
		return -1;
	setlocale(LC_CTYPE, ""); /* a path in UTF-8 is shown as such */
	/* ncurses would take these over the window's size, and then never
	 * follow it (use_env(FALSE) does not follow it either, in 6.4) */
	unsetenv("LINES");
	unsetenv("COLUMNS");
	screen = newterm(NULL, stdout, in);
	keys = fileno(in);
	cup = screen != NULL ? tigetstr("cup") : NULL;
	if (cup == NULL || cup == (char *)-1) { /* unknown TERM, or one like dumb */
		cli_screen_close();
		return -1;
	}
	cbreak(); /* keys at once; Ctrl-C and Ctrl-Z still send their signals */
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	choose_inks();
	return 0;
}

void cli_screen_close(void)
{
	if (screen != NULL) {
		endwin();
		delscreen(screen);
		screen = NULL;
	}
	if (keyboard != NULL) {
		fclose(keyboard);
		keyboard = NULL;
	}
	keys = -1;
}

/* A pen on stdscr that clips each line at the window's edge instead of
 * wrapping it, and drops what falls below the last line. */
struct screen_pen {
	struct pen pen;
	int y; /* the frame's line being drawn */
};

static void print_screen(struct pen *pen, enum ink ink, const char *fmt, va_list ap)
{
	struct screen_pen *sp = (struct screen_pen *)pen;
	char *text, *p, *end;
	int y, x;

	if (vasprintf(&text, fmt, ap) == -1)
		return;
	attrset(inks[ink]);
	for (p = text;; p = end + 1) {
		end = strchrnul(p, '\n');
		getyx(stdscr, y, x);
		if (y == sp->y && x < COLS) /* not moved on by a full line */
			addnstr(p, end - p < COLS - x ? (int)(end - p) : COLS - x);
		if (*end == '\0')
			break;
		move(++sp->y, 0); /* fails below the last line: y stays behind */
	}
	attrset(A_NORMAL);
	free(text);
}

void cli_screen_draw(struct frame *fr)
{
	struct screen_pen sp = {{print_screen}, 0};

	fr->cols = COLS < 30 ? 30 : COLS;
	fr->lines = LINES;
	fr->quit_key = true;
	erase();
	move(0, 0);
	cli_draw(&sp.pen, fr);
	refresh(); /* only what changed goes out */
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Keys ncurses has read already go first (an escape sequence comes in
 * several bytes, and a key may follow it), then the keyboard is polled. */
bool cli_screen_wait(int ms)
{
	struct pollfd p = {.fd = keys, .events = POLLIN};
	long long end = now_ms() + ms, left;
	bool signalled = false;

	timeout(0); /* getch: only what is there, at once */
	for (;;) {
		switch (getch()) {
		case ERR: break;
		case 'q':
		case 'Q': return false;
		default: return true; /* KEY_RESIZE, or any key: a frame now */
		}
		/* after a signal (Ctrl-C; or fg, after Ctrl-Z), a frame now */
		if (signalled || (left = end - now_ms()) <= 0)
			return true;
		if (tool_poll(&p, 1, (int)left) == -1)
			signalled = true; /* EINTR (ppoll fails so for nothing else here) */
		else if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
			p.fd = -1; /* no keyboard any more: ppoll skips it, and sleeps */
	}
}
