/*
 * One picture of the ring, for shmbox watch: a row of cells, one per slot,
 * with the head (next get) and tail (next put) marked under them, then the
 * counts, the rates and who is attached.  Readable at a glance from the
 * back of a room:
 *
 *        0              5              10
 *   slot [ ][ ][#][#][W][ ][ ][ ][ ][ ][ ][ ]
 *              H        T
 *
 * A ring too tall for the terminal is drawn one character per slot.
 */
#include <stdio.h>
#include <string.h>

#include "frame.h"

#define INDENT 5 /* "slot " */

/* SGR colours, when the output is a terminal that wants them */
#define C_FULL "\033[1;32m"
#define C_WRITING "\033[1;33m"
#define C_READING "\033[1;36m"
#define C_DEAD "\033[1;31m"
#define C_MARK "\033[1m"
#define C_OFF "\033[0m"

struct layout {
	int width;   /* characters per cell: 3 "[#]" or 1 "#" */
	size_t per;  /* cells per row */
	size_t rows; /* rows of cells drawn */
};

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

static const char *colour(unsigned char state)
{
	switch (state) {
	case SHMBOX_SLOT_WRITING: return C_WRITING;
	case SHMBOX_SLOT_FULL: return C_FULL;
	case SHMBOX_SLOT_READING: return C_READING;
	case SHMBOX_SLOT_DEAD: return C_DEAD;
	default: return NULL;
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
static void ruler(FILE *f, const struct layout *l, size_t first, size_t n)
{
	size_t i, step = l->width == 3 ? 5 : 10, col = 0, at;
	char num[24];

	fprintf(f, "%*s", INDENT, "");
	for (i = first; i < first + l->per && i < n; i += step) {
		at = (i - first) * (size_t)l->width + (l->width == 3 ? 1 : 0);
		if (at < col)
			continue;
		fprintf(f, "%*s", (int)(at - col), "");
		col = at + (size_t)snprintf(num, sizeof(num), "%zu", i);
		fputs(num, f);
	}
	putc('\n', f);
}

static void cells(FILE *f, const struct frame *fr, const struct layout *l, size_t first)
{
	size_t i;

	fputs("slot ", f);
	for (i = first; i < first + l->per && i < fr->nslots; i++) {
		unsigned char s = fr->states[i];
		const char *c = fr->colour ? colour(s) : NULL;

		if (l->width == 3)
			putc('[', f);
		if (c != NULL)
			fprintf(f, "%s%c%s", c, glyph(s, l->width == 3), C_OFF);
		else
			putc(glyph(s, l->width == 3), f);
		if (l->width == 3)
			putc(']', f);
	}
	putc('\n', f);
}

static void markers(FILE *f, const struct frame *fr, const struct layout *l, size_t first)
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
	if (fr->colour && end > 0)
		fprintf(f, "%s%s%s\n", C_MARK, line, C_OFF);
	else
		fprintf(f, "%s\n", line);
}

static void ring(FILE *f, const struct frame *fr, int budget)
{
	struct layout l = lay_out(fr->nslots, fr->cols, budget);
	size_t r;

	for (r = 0; r < l.rows; r++) {
		ruler(f, &l, r * l.per, fr->nslots);
		cells(f, fr, &l, r * l.per);
		markers(f, fr, &l, r * l.per);
	}
	if (l.rows * l.per < fr->nslots)
		fprintf(f, "     ... and %zu more slots (a larger terminal shows them)\n",
			fr->nslots - l.rows * l.per);
	if (l.width == 3)
		fputs("[ ] free  [W] being written  [#] full  [R] being read  [x] dead put\n", f);
	else
		fputs(". free  W being written  # full  R being read  x dead put  * H and T\n", f);
	fputs("H next get (head)  T next put (tail)\n", f);
}

static void rate(FILE *f, const char *what, const struct frame *fr, double r, uint64_t total)
{
	if (fr->rates)
		fprintf(f, "%s %8.1f/s (%llu in all)", what, r, (unsigned long long)total);
	else
		fprintf(f, "%s        -/s (%llu in all)", what, (unsigned long long)total);
}

static void procs(FILE *f, const struct frame *fr)
{
	char comm[32], item[64];
	int col;
	size_t i;

	col = fprintf(f, "attached %zu of %zu%s", fr->nprocs, fr->st.max_procs,
		      fr->nprocs ? ":" : "");
	for (i = 0; i < fr->nprocs; i++) {
		int w = snprintf(item, sizeof(item), " %ld %s%s", (long)fr->procs[i].pid,
				 cli_comm(fr->procs[i].pid, comm, sizeof(comm)),
				 i + 1 < fr->nprocs ? "," : "");

		if (col + w > fr->cols - 12 && i + 1 < fr->nprocs) {
			fprintf(f, " ... %zu more", fr->nprocs - i);
			break;
		}
		fputs(item, f);
		col += w;
	}
	putc('\n', f);
}

void cli_draw(FILE *f, const struct frame *fr)
{
	size_t count[SHMBOX_SLOT_DEAD + 1] = {0}, i;
	char size[16], now[32];
	int budget;

	for (i = 0; i < fr->nslots; i++)
		if (fr->states[i] <= SHMBOX_SLOT_DEAD)
			count[fr->states[i]]++;
	fprintf(f, "shmbox watch %s   key 0x%08x  shmid %d   %s\n", fr->path,
		(unsigned)fr->st.key, fr->st.shmid, cli_time(now, sizeof(now), time(NULL)));
	fprintf(f, "%zu slots of %s: %zu queued, %zu free, %zu being written, %zu being read",
		fr->nslots, cli_size(size, sizeof(size), fr->st.slot_size),
		count[SHMBOX_SLOT_FULL], count[SHMBOX_SLOT_FREE], count[SHMBOX_SLOT_WRITING],
		count[SHMBOX_SLOT_READING]);
	if (count[SHMBOX_SLOT_DEAD] > 0)
		fprintf(f, ", %zu dead", count[SHMBOX_SLOT_DEAD]);
	fputs("\n\n", f);
	budget = fr->lines > 0 ? fr->lines - 14 : 60;
	ring(f, fr, budget < 3 ? 3 : budget);
	putc('\n', f);
	rate(f, "put", fr, fr->put_rate, fr->st.puts);
	fputs("   ", f);
	rate(f, "get", fr, fr->get_rate, fr->st.gets);
	putc('\n', f);
	fprintf(f, "asleep: %zu in get, %zu in put, %zu in accept   calls: %zu waiting, %zu in "
		"progress\n", fr->st.getters_waiting, fr->st.putters_waiting,
		fr->st.servers_waiting, fr->st.requests, fr->st.calls);
	procs(f, fr);
	if (fr->live)
		fprintf(f, "every %d ms, read-only; Ctrl-C to stop\n", fr->interval_ms);
}
