/*
 * shmbox watch: a live picture of the ring.  The mailbox is attached
 * read-only (SHM_RDONLY, no token), so watching can never disturb it.
 * On a terminal the frames are drawn through ncurses (screen.c), which
 * gives the terminal back however we exit, and while stopped by Ctrl-Z;
 * to a file or a pipe, and with --once, they are plain text.
 * A mailbox removed under us is waited for until it comes back.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <unistd.h>

#include "frame.h"

#define RATE_WINDOW_MS 1000 /* rates are averaged over about this long */
#define NSAMPLES 64

struct sample {
	struct timespec t;
	uint64_t puts, gets;
};

struct watcher {
	const char *path;
	shmbox_t *box; /* NULL while the mailbox is gone */
	struct frame fr;
	struct sample hist[NSAMPLES];
	size_t nhist; /* samples in hist; the newest is hist[(nhist - 1) % NSAMPLES] */
};

/* Give the terminal back first, or the message would go with the screen. */
static void __attribute__((noreturn)) fatal(struct watcher *w)
{
	int e = errno;

	cli_screen_close();
	errno = e;
	cli_fail("watch", w->path);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Record this frame's counters; rates from the oldest sample of the last
 * window, or from the previous one if frames are further apart. */
static void rates(struct watcher *w)
{
	struct sample *now = &w->hist[w->nhist % NSAMPLES], *then = NULL;
	size_t k;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &now->t);
	now->puts = w->fr.st.puts;
	now->gets = w->fr.st.gets;
	for (k = 1; k <= w->nhist && k < NSAMPLES; k++) {
		struct sample *s = &w->hist[(w->nhist - k) % NSAMPLES];

		if (then != NULL && ms_between(&s->t, &now->t) > RATE_WINDOW_MS)
			break;
		then = s;
	}
	w->nhist++;
	w->fr.rates = then != NULL && (ms = ms_between(&then->t, &now->t)) >= 50;
	if (w->fr.rates) {
		w->fr.put_rate = (double)(now->puts - then->puts) * 1e3 / ms;
		w->fr.get_rate = (double)(now->gets - then->gets) * 1e3 / ms;
	}
}

/* A new handle: the geometry may have changed, the counters restarted.
 * -1 with errno, and the handle closed. */
static int adopt(struct watcher *w, shmbox_t *box)
{
	struct frame *fr = &w->fr;

	w->nhist = 0;
	free(fr->states);
	free(fr->procs);
	fr->states = NULL;
	fr->procs = NULL;
	if (shmbox_stat(box, &fr->st) == -1) {
		int e = errno;

		shmbox_close(box);
		errno = e;
		return -1;
	}
	w->box = box;
	fr->states = malloc(fr->st.slots);
	fr->procs = calloc(fr->st.max_procs, sizeof(*fr->procs));
	if (fr->states == NULL || fr->procs == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Fill the frame; -1 with errno (EIDRM: the mailbox was removed). */
static int sample(struct watcher *w)
{
	struct frame *fr = &w->fr;
	ssize_t n;

	if (shmbox_stat(w->box, &fr->st) == -1)
		return -1;
	n = shmbox_slot_states(w->box, fr->states, fr->st.slots, &fr->head, &fr->tail);
	if (n == -1)
		return -1;
	fr->nslots = (size_t)n;
	n = shmbox_procs(w->box, fr->procs, fr->st.max_procs);
	if (n == -1)
		return -1;
	fr->nprocs = (size_t)n;
	n = shmbox_listeners(w->box, fr->listeners, CLI_MAX_LISTENERS);
	if (n == -1)
		return -1;
	fr->nlisteners = (size_t)n;
	rates(w);
	return 0;
}

/* The page for plain text: the terminal's width (as ls does) when --once
 * prints on one, else COLUMNS, else 80; as long as it takes. */
static void text_size(struct frame *fr)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	fr->cols = 80;
	fr->lines = 0;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		fr->cols = ws.ws_col;
		fr->lines = ws.ws_row;
	} else if (env != NULL && atoi(env) >= 20) {
		fr->cols = atoi(env);
	}
	if (fr->cols < 30)
		fr->cols = 30;
}

/* Gone: let go, and look for a new mailbox at the path.  Until one is
 * there (ENOENT, or EIDRM from one being removed), the frame says so. */
static void reattach(struct watcher *w)
{
	shmbox_t *box;
	int e;

	if (w->box != NULL) {
		shmbox_close(w->box);
		w->box = NULL;
	}
	if (shmbox_open_flags(w->path, cli_proj, SHMBOX_RDONLY, &box) == 0 && adopt(w, box) == 0 &&
	    sample(w) == 0)
		return;
	e = errno;
	if (w->box != NULL) {
		shmbox_close(w->box);
		w->box = NULL;
	}
	errno = e;
	if (e != ENOENT && e != EIDRM)
		fatal(w);
}

/* The next frame's figures; the frame says so while the mailbox is gone. */
static void refresh_frame(struct watcher *w)
{
	if (w->box == NULL || sample(w) == -1) {
		if (w->box != NULL && errno != EIDRM)
			fatal(w);
		reattach(w);
	}
	w->fr.gone = w->box == NULL;
}

/* On a terminal: until q or Ctrl-C; a new window size redraws at once. */
static void live_screen(struct watcher *w)
{
	atexit(cli_screen_close); /* err(3) or exit anywhere below */
	do {
		refresh_frame(w);
		cli_screen_draw(&w->fr);
	} while (cli_screen_wait(w->fr.interval_ms) && !cli_interrupted);
	cli_screen_close();
}

/* Elsewhere: frame after frame, a blank line between them, until Ctrl-C. */
static void live_text(struct watcher *w)
{
	text_size(&w->fr);
	while (!cli_interrupted) {
		refresh_frame(w);
		cli_draw_text(stdout, &w->fr);
		putchar('\n');
		if (fflush(stdout) == EOF)
			exit(EX_IOERR);
		tool_sleep(w->fr.interval_ms); /* Ctrl-C cuts it short */
	}
}

int cli_watch(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"interval", required_argument, NULL, 'i'},
		{"once", no_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	static struct watcher w = {.fr = {.interval_ms = CLI_WATCH_INTERVAL}}; /* static: see fail.c */
	int c, once = 0, status;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:i:", longopts)) != -1) {
		switch (c) {
		case 'i':
			w.fr.interval_ms = (int)cli_number('i', optarg, "the interval in ms", 10,
							   3600000);
			break;
		case 'o': once = 1; break;
		default: cli_usage(cmd);
		}
	}
	w.path = w.fr.path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	w.fr.live = !once;
	if (adopt(&w, cli_open("watch", w.path, SHMBOX_RDONLY)) == -1 || sample(&w) == -1)
		cli_fail("watch", w.path);
	status = EX_OK;
	if (once) {
		text_size(&w.fr);
		w.fr.rates = false; /* one sample: no rate yet */
		cli_draw_text(stdout, &w.fr);
		status = fflush(stdout) == EOF ? EX_IOERR : EX_OK;
	} else {
		cli_catch_signals(); /* before ncurses, which then leaves SIGINT to us */
		if (cli_screen_open() == 0)
			live_screen(&w);
		else
			live_text(&w);
	}
	if (w.box != NULL)
		shmbox_close(w.box);
	free(w.fr.states);
	free(w.fr.procs);
	return status;
}
