/*
 * One picture of the ring, for shmbox watch: a row of cells, one per slot,
 * with the head (next get) and tail (next put) marked under them, then the
 * counts, the rates, who waits (asleep in the library, or listening on a
 * descriptor) and who is attached.  Readable at a glance from the
 * back of a room:
 *
 *        0              5              10
 *   slot [ ][ ][#][#][W][ ][ ][ ][ ][ ][ ][ ]
 *              H        T
 *
 * A ring too tall for the page is drawn one character per slot.  The
 * letters alone tell the states apart; a pen may add colour (its ink).
 */
#include <libutil.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"

#define INDENT 5 /* "slot " */

struct layout {
	int width;   /* characters per cell: 3 "[#]" or 1 "#" */
	size_t per;  /* cells per row */
	size_t rows; /* rows of cells drawn */
};

static void __attribute__((format(printf, 3, 4)))
say(struct pen *pen, enum ink ink, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pen->print(pen, ink, fmt, ap);
	va_end(ap);
}

static char glyph(unsigned char state, int wide)
{
	switch (state) {
	case SHMBOX_SLOT_FREE: return wide ? ' ' : '.';
	case SHMBOX_SLOT_WRITING: return 'W';
	case SHMBOX_SLOT_FULL: return '#';
	case SHMBOX_SLOT_READING: return 'R';
	case SHMBOX_SLOT_DEAD: return 'x';
	default: return '?';
	}
}

static enum ink ink(unsigned char state)
{
	switch (state) {
	case SHMBOX_SLOT_WRITING: return INK_WRITING;
	case SHMBOX_SLOT_FULL: return INK_FULL;
	case SHMBOX_SLOT_READING: return INK_READING;
	case SHMBOX_SLOT_DEAD: return INK_DEAD;
	default: return INK_TEXT;
	}
}

/* Three lines per row of cells (ruler, cells, markers); `budget` lines in all. */
static struct layout lay_out(size_t n, int cols, int budget)
{
	struct layout l = {.width = 3};
	int usable = cols - INDENT;

	l.per = (size_t)(usable / 3) / 5 * 5;
	if (l.per < 5)
		l.per = 5;
	if ((n + l.per - 1) / l.per * 3 > (size_t)budget) {
		l.width = 1;
		l.per = (size_t)usable / 10 * 10;
		if (l.per < 10)
			l.per = 10;
	}
	l.rows = (n + l.per - 1) / l.per;
	if (l.rows * 3 > (size_t)budget)
		l.rows = budget / 3 > 0 ? (size_t)budget / 3 : 1;
	return l;
}

/* Slot numbers above the cells, every 5 (every 10 in one-character mode). */
static void ruler(struct pen *pen, const struct layout *l, size_t first, size_t n)
{
	size_t i, step = l->width == 3 ? 5 : 10, col = 0, at;
	char num[24];

	say(pen, INK_TEXT, "%*s", INDENT, "");
	for (i = first; i < first + l->per && i < n; i += step) {
		at = (i - first) * (size_t)l->width + (l->width == 3 ? 1 : 0);
		if (at < col)
			continue;
		snprintf(num, sizeof(num), "%zu", i);
		say(pen, INK_TEXT, "%*s%s", (int)(at - col), "", num);
		col = at + strlen(num);
	}
	say(pen, INK_TEXT, "\n");
}

static void cells(struct pen *pen, const struct frame *fr, const struct layout *l, size_t first)
{
	size_t i;

	say(pen, INK_TEXT, "slot ");
	for (i = first; i < first + l->per && i < fr->nslots; i++) {
		unsigned char s = fr->states[i];

		if (l->width == 3)
			say(pen, INK_TEXT, "[");
		say(pen, ink(s), "%c", glyph(s, l->width == 3));
		if (l->width == 3)
			say(pen, INK_TEXT, "]");
	}
	say(pen, INK_TEXT, "\n");
}

static void markers(struct pen *pen, const struct frame *fr, const struct layout *l,
		    size_t first)
{
	size_t h = (size_t)(fr->head % fr->nslots), t = (size_t)(fr->tail % fr->nslots), i;
	char line[1024];
	size_t len = INDENT + l->per * (size_t)l->width, end = 0;

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memset(line, ' ', len);
	for (i = first; i < first + l->per && i < fr->nslots; i++) {
		size_t at = INDENT + (i - first) * (size_t)l->width;

		if (at + 2 >= len)
			break;
		if (l->width == 1 && i == h && i == t) {
			line[at] = '*';
			end = at + 1;
		} else if (i == h && i == t) {
			memcpy(line + at + 1, "HT", 2); /* "[ ]" over "  HT" */
			end = at + 3;
		} else if (i == h || i == t) {
			at += l->width == 3 ? 1 : 0; /* under the glyph */
			line[at] = i == h ? 'H' : 'T';
			end = at + 1;
		}
	}
	line[end] = '\0';
	say(pen, INK_MARK, "%s", line);
	say(pen, INK_TEXT, "\n");
}

static void ring(struct pen *pen, const struct frame *fr, int budget)
{
	struct layout l = lay_out(fr->nslots, fr->cols, budget);
	size_t r;

	for (r = 0; r < l.rows; r++) {
		ruler(pen, &l, r * l.per, fr->nslots);
		cells(pen, fr, &l, r * l.per);
		markers(pen, fr, &l, r * l.per);
	}
	if (l.rows * l.per < fr->nslots)
		say(pen, INK_TEXT, "     ... and %zu more slots (a larger terminal shows them)\n",
		    fr->nslots - l.rows * l.per);
	if (l.width == 3)
		say(pen, INK_TEXT,
		    "[ ] free  [W] being written  [#] full  [R] being read  [x] dead put\n");
	else
		say(pen, INK_TEXT,
		    ". free  W being written  # full  R being read  x dead put  * H and T\n");
	say(pen, INK_TEXT, "H next get (head)  T next put (tail)\n");
}

/* A rate in 8 columns: tenths while slow enough to read them, then
 * scaled to four characters (123k, 1.7M), so that the line keeps its place under load. */
static void rate(struct pen *pen, const char *what, const struct frame *fr, double r,
		 uint64_t total)
{
	char n[5];

	if (fr->rates && r < 100000)
		say(pen, INK_TEXT, "%s %8.1f/s (%llu in all)", what, r, (unsigned long long)total);
	else if (fr->rates) {
		humanize_number(n, sizeof(n), (int64_t)(r + 0.5), "", HN_AUTOSCALE,
				HN_DECIMAL | HN_DIVISOR_1000 | HN_NOSPACE);
		say(pen, INK_TEXT, "%s %8s/s (%llu in all)", what, n, (unsigned long long)total);
	} else
		say(pen, INK_TEXT, "%s        -/s (%llu in all)", what, (unsigned long long)total);
}

static void procs(struct pen *pen, const struct frame *fr)
{
	char comm[32], item[64];
	int col;
	size_t i;

	col = snprintf(item, sizeof(item), "attached %zu of %zu%s", fr->nprocs, fr->st.max_procs,
		       fr->nprocs ? ":" : "");
	say(pen, INK_TEXT, "%s", item);
	for (i = 0; i < fr->nprocs; i++) {
		int w = snprintf(item, sizeof(item), " %ld %s%s", (long)fr->procs[i].pid,
				 cli_comm(fr->procs[i].pid, comm, sizeof(comm)),
				 i + 1 < fr->nprocs ? "," : "");

		if (col + w > fr->cols - 12 && i + 1 < fr->nprocs) {
			say(pen, INK_TEXT, " ... %zu more", fr->nprocs - i);
			break;
		}
		say(pen, INK_TEXT, "%s", item);
		col += w;
	}
	say(pen, INK_TEXT, "\n");
}

static void footer(struct pen *pen, const struct frame *fr)
{
	if (fr->live)
		say(pen, INK_TEXT, "every %d ms, read-only; %sCtrl-C to stop\n", fr->interval_ms,
		    fr->quit_key ? "q or " : "");
}

void cli_draw(struct pen *pen, const struct frame *fr)
{
	size_t count[SHMBOX_SLOT_DEAD + 1] = {0}, i;
	char size[16], now[32], listening[128];
	int budget;

	if (fr->gone) {
		say(pen, INK_TEXT, "shmbox watch %s\n\nThe mailbox was removed: waiting for a new "
			"one (project %d).\n\n", fr->path, cli_proj);
		footer(pen, fr);
		return;
	}
	for (i = 0; i < fr->nslots; i++)
		if (fr->states[i] <= SHMBOX_SLOT_DEAD)
			count[fr->states[i]]++;
	say(pen, INK_TEXT, "shmbox watch %s   key 0x%08x  shmid %d   %s\n", fr->path,
	    (unsigned)fr->st.key, fr->st.shmid, cli_time(now, sizeof(now), time(NULL)));
	say(pen, INK_TEXT, "%zu slots of %s: %zu queued, %zu free, %zu being written, %zu being read",
	    fr->nslots, cli_size(size, sizeof(size), fr->st.slot_size), count[SHMBOX_SLOT_FULL],
	    count[SHMBOX_SLOT_FREE], count[SHMBOX_SLOT_WRITING], count[SHMBOX_SLOT_READING]);
	if (count[SHMBOX_SLOT_DEAD] > 0)
		say(pen, INK_TEXT, ", %zu dead", count[SHMBOX_SLOT_DEAD]);
	say(pen, INK_TEXT, "\n\n");
	budget = fr->lines > 0 ? fr->lines - 15 : 60;
	ring(pen, fr, budget < 3 ? 3 : budget);
	say(pen, INK_TEXT, "\n");
	rate(pen, "put", fr, fr->put_rate, fr->st.puts);
	say(pen, INK_TEXT, "   ");
	rate(pen, "get", fr, fr->get_rate, fr->st.gets);
	say(pen, INK_TEXT, "\n");
	say(pen, INK_TEXT, "asleep: %zu in get, %zu in put, %zu in accept   calls: %zu waiting, "
		"%zu in progress\n", fr->st.getters_waiting, fr->st.putters_waiting,
	    fr->st.servers_waiting, fr->st.requests, fr->st.calls);
	say(pen, INK_TEXT, "listening: %s\n",
	    cli_listening(listening, sizeof(listening), fr->listeners, fr->nlisteners));
	procs(pen, fr);
	footer(pen, fr);
}

struct text_pen {
	struct pen pen;
	FILE *f;
};

static void print_text(struct pen *pen, enum ink ink, const char *fmt, va_list ap)
{
	(void)ink;
	vfprintf(((struct text_pen *)pen)->f, fmt, ap);
}

void cli_draw_text(FILE *f, const struct frame *fr)
{
	struct text_pen tp = {{print_text}, f};

	cli_draw(&tp.pen, fr);
}
