/* shmbox watch: what one frame shows, and drawing it with a pen: plain
 * text for a file, a pipe or --once; ncurses on a terminal (screen.c). */
#ifndef SHMBOX_CLI_FRAME_H
#define SHMBOX_CLI_FRAME_H

#include <stdarg.h>

#include "cli.h"

struct frame {
	const char *path;
	bool gone; /* the mailbox was removed: only the path is valid */
	struct shmbox_stat st;
	unsigned char *states; /* one SHMBOX_SLOT_* per slot */
	size_t nslots;
	uint64_t head, tail;	   /* ring positions: next get, next put */
	struct shmbox_proc *procs; /* attached processes */
	size_t nprocs;
	struct shmbox_listener listeners[CLI_MAX_LISTENERS]; /* the descriptors' */
	size_t nlisteners;
	double put_rate, get_rate; /* per second */
	bool rates;		   /* false: not measured yet */
	int interval_ms;
	int cols, lines; /* the page's size; lines 0: no limit */
	bool live;	 /* refreshing, not --once */
	bool quit_key;	 /* q stops it too */
};

/* What a piece of text is, for a pen that shows kinds apart. */
enum ink {
	INK_TEXT,
	INK_MARK, /* the head and tail markers */
	INK_WRITING,
	INK_FULL,
	INK_READING,
	INK_DEAD,
};

/* Where a frame goes: printf-like pieces, each in one ink; "\n" ends a line. */
struct pen {
	void (*print)(struct pen *pen, enum ink ink, const char *fmt, va_list ap);
};

void cli_draw(struct pen *pen, const struct frame *fr);
/* The frame as plain text on f: no escape sequences. */
void cli_draw_text(FILE *f, const struct frame *fr);

/* screen.c: watch on a terminal, through ncurses */
/* Take the terminal: 0, or -1 if standard output is not one ncurses can
 * draw on (then nothing was changed). */
int cli_screen_open(void);
/* Give it back as it was; harmless when not taken. */
void cli_screen_close(void);
/* The frame, laid out for the terminal's present size. */
void cli_screen_draw(struct frame *fr);
/* Wait up to ms, less if the window's size changes (KEY_RESIZE), a key is
 * pressed or a signal comes (Ctrl-C: cli_interrupted; fg after Ctrl-Z);
 * false if the key was q. */
bool cli_screen_wait(int ms);

#endif /* SHMBOX_CLI_FRAME_H */
