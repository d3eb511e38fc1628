/*
 * shmbox watch: a live picture of the ring.  The mailbox is attached
 * read-only (SHM_RDONLY, no token), so watching can never disturb it.
 * Frames are drawn with plain ANSI escapes on the terminal's alternate
 * screen, which is given back, with the cursor, however we exit (and
 * while stopped by Ctrl-Z).
 * A mailbox removed under us is waited for until it comes back.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <unistd.h>

#include "frame.h"

#define ENTER "\033[?1049h\033[?25l\033[2J" /* alternate screen, no cursor, clear */
#define LEAVE "\033[?25h\033[?1049l"
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

static volatile sig_atomic_t on_screen;

static void leave_screen(void)
{
	if (on_screen) {
		fputs(LEAVE, stdout);
		fflush(stdout);
		on_screen = 0;
	}
}

static void on_tstp(int sig);

static void catch(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Ctrl-Z: give the terminal back, then stop as the default action would;
 * fg: take the screen again (the next frame redraws it).  Signal
 * handlers: only async-signal-safe calls (write, sigaction, raise). */
static void on_tstp(int sig)
{
	if (on_screen)
		(void)!write(STDOUT_FILENO, LEAVE, sizeof(LEAVE) - 1);
	catch(sig, SIG_DFL);
	raise(sig); /* blocked until we return, then it stops us */
}

static void on_cont(int sig)
{
	(void)sig;
	catch(SIGTSTP, on_tstp);
	if (on_screen)
		(void)!write(STDOUT_FILENO, ENTER, sizeof(ENTER) - 1);
}

/* Leave the alternate screen first, or the message would go with it. */
static void __attribute__((noreturn)) fatal(struct watcher *w)
{
	int e = errno;

	leave_screen();
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
	rates(w);
	return 0;
}

static void terminal_size(struct frame *fr)
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

/* Home, the frame with each line's rest cleared, then the rest of the
 * screen cleared: no flicker, no leftovers from a longer frame. */
static void show(const char *text, size_t len)
{
	size_t i;

	fputs("\033[H", stdout);
	for (i = 0; i < len; i++) {
		if (text[i] == '\n')
			fputs("\033[K", stdout);
		putchar(text[i]);
	}
	fputs("\033[J", stdout);
	if (fflush(stdout) == EOF)
		exit(EX_IOERR);
}

static void draw(struct watcher *w)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		err(EX_OSERR, "watch %s", w->path);
	if (w->box != NULL)
		cli_draw(f, &w->fr);
	else
		fprintf(f, "shmbox watch %s\n\nThe mailbox was removed: waiting for a new one "
			"(project %d).\n\nCtrl-C to stop\n", w->path, cli_proj);
	fclose(f);
	show(text, len);
	free(text);
}

static void nap(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&t, NULL); /* Ctrl-C cuts it short */
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

static int live(struct watcher *w)
{
	cli_catch_signals();
	atexit(leave_screen);
	fputs(ENTER, stdout);
	on_screen = 1;
	catch(SIGTSTP, on_tstp);
	catch(SIGCONT, on_cont);
	while (!cli_interrupted) {
		terminal_size(&w->fr);
		if (w->box == NULL || sample(w) == -1) {
			if (w->box != NULL && errno != EIDRM)
				fatal(w);
			reattach(w);
		}
		draw(w);
		nap(w->fr.interval_ms);
	}
	leave_screen();
	return EX_OK;
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
	w.fr.colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
		      (getenv("TERM") == NULL || strcmp(getenv("TERM"), "dumb") != 0);
	w.fr.live = !once;
	if (adopt(&w, cli_open("watch", w.path, SHMBOX_RDONLY)) == -1 || sample(&w) == -1)
		cli_fail("watch", w.path);
	if (once) {
		terminal_size(&w.fr);
		w.fr.rates = false; /* one sample: no rate yet */
		cli_draw(stdout, &w.fr);
		status = fflush(stdout) == EOF ? EX_IOERR : EX_OK;
	} else {
		status = live(&w);
	}
	if (w.box != NULL)
		shmbox_close(w.box);
	free(w.fr.states);
	free(w.fr.procs);
	return status;
}
