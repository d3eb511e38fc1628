/*
 * shmbox-bench: the speed targets, judged on this run's medians, so a run
 * says by itself which it meets (README, Performance).  A target whose
 * figures were not measured (-F, -T, n/a) is left out.  "Best kernel
 * peer" is the fastest of the pipe, the Unix sockets and the two kernel
 * message queues; Boost's queue is a peer in the table, not a kernel one.
 */
#include <stdarg.h>
#include <stdio.h>

#include "targets.h"

static const char *const kernel[] = {"pipe", "unix-seqpacket", "unix-stream", "posix-mq",
				     "sysv-msgq"};
static const char *const peers[] = {"pipe",	 "unix-seqpacket", "unix-stream",
				    "posix-mq", "sysv-msgq",	  "boost-mq"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static fig_lookup get;

static const struct figure *ok(const char *t, const char *fig)
{
	const struct figure *f = get(t, fig);

	return f != NULL && f->status == FIG_OK ? f : NULL;
}

/* The fastest kernel peer in fig: its name, or NULL. */
static const char *best_kernel(const char *fig)
{
	const char *best = NULL;

	for (size_t i = 0; i < N(kernel); i++)
		if (ok(kernel[i], fig) && (!best || ok(kernel[i], fig)->rate > ok(best, fig)->rate))
			best = kernel[i];
	return best;
}

/* One line: the target, the row judged, what it measured, the verdict. */
static void line(const char *what, const char *row, int met, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void line(const char *what, const char *row, int met, const char *fmt, ...)
{
	char got[80];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	printf("  %-42s %-10s %-34s %s\n", what, row, got, met ? "met" : "NOT met");
}

/* shmbox and shmbox-zc at least `times` the best kernel peer in fig. */
static void times_best(const char *what, const char *fig, double times)
{
	const char *b = best_kernel(fig);
	const char *rows[] = {"shmbox", "shmbox-zc"};

	if (b == NULL)
		return;
	for (size_t i = 0; i < N(rows); i++) {
		const struct figure *s = ok(rows[i], fig);

		if (s != NULL)
			line(what, rows[i], s->rate >= times * ok(b, fig)->rate, "%.2fx %s",
			     s->rate / ok(b, fig)->rate, b);
	}
}

static void round_trip(void)
{
	const struct figure *s = ok("shmbox", "rtt-64");
	const char *b50 = NULL, *b99 = NULL;

	if (s == NULL)
		return;
	for (size_t i = 0; i < N(kernel); i++) {
		const struct figure *k = ok(kernel[i], "rtt-64");

		if (k && (!b50 || k->p50_us < ok(b50, "rtt-64")->p50_us))
			b50 = kernel[i];
		if (k && (!b99 || k->p99_us < ok(b99, "rtt-64")->p99_us))
			b99 = kernel[i];
	}
	if (b50 == NULL)
		return;
	line("round trip p50 <= 1/2 the best kernel peer", "shmbox",
	     s->p50_us <= ok(b50, "rtt-64")->p50_us / 2, "%.3g us vs %.3g (%s)", s->p50_us,
	     ok(b50, "rtt-64")->p50_us, b50);
	line("round trip p99 <= the best kernel peer", "shmbox",
	     s->p99_us <= ok(b99, "rtt-64")->p99_us, "%.3g us vs %.3g (%s)", s->p99_us,
	     ok(b99, "rtt-64")->p99_us, b99);
}

/* shmbox's CPU per operation no higher than any peer's, in every figure. */
static void cpu(void)
{
	static const char *const figs[] = {"rtt-64",	  "rttpin-64",	"rttload-64",
					   "rtt1cpu-64", "1to1-64",	"1to1-4096",
					   "1to1-65536", "4to4-64",	"rpc-64"};

	for (size_t f = 0; f < N(figs); f++) {
		const struct figure *s = ok("shmbox", figs[f]);
		const char *low = NULL;

		for (size_t i = 0; s != NULL && i < N(peers); i++)
			if (ok(peers[i], figs[f]) &&
			    (!low || ok(peers[i], figs[f])->cpu_us < ok(low, figs[f])->cpu_us))
				low = peers[i];
		if (low != NULL)
			line("CPU per message <= every peer's", figs[f],
			     s->cpu_us <= ok(low, figs[f])->cpu_us, "%.3g us vs %.3g (%s)", s->cpu_us,
			     ok(low, figs[f])->cpu_us, low);
	}
}

void print_targets(fig_lookup lookup, double ring_gbps, double bare_gbps)
{
	const struct figure *s, *p;

	get = lookup;
	printf("\ntargets, on this run's medians\n");
	if ((s = ok("shmbox", "1to1-64")) && (p = ok("pipe", "1to1-64")))
		line("64 B 1->1 >= 7x the pipe", "shmbox", s->rate >= 7 * p->rate, "%.2fx pipe",
		     s->rate / p->rate);
	round_trip();
	times_best("4 KiB 1->1 >= 3x the best kernel peer", "1to1-4096", 3);
	times_best("64 KiB 1->1 >= 4x the best kernel peer", "1to1-65536", 4);
	if ((s = ok("shmbox", "1to1-65536")) && ring_gbps > 0)
		line("64 KiB 1->1 >= 1/2 the ring copy", "shmbox",
		     s->rate * 65536 / 1e9 >= ring_gbps / 2, "%.2f of %.3g GB/s",
		     s->rate * 65536 / 1e9 / ring_gbps, ring_gbps);
	if ((s = ok("shmbox", "1to1-65536")) && bare_gbps > 0) {
		char got[64];

		snprintf(got, sizeof(got), "%.2f of %.3g GB/s", s->rate * 65536 / 1e9 / bare_gbps,
			 bare_gbps);
		printf("  %-42s %-10s %-34s %s\n", "64 KiB 1->1 against the bare ring (*)", "shmbox",
		       got, "(a reference)");
	}
	for (int zc = 0; zc < 2; zc++) {
		const char *t = zc ? "shmbox-zc" : "shmbox";

		if ((s = ok(t, "4to4-64")) && (p = ok(t, "1to1-64")))
			line("4->4 >= 1->1 at 64 B", t, s->rate >= p->rate, "%.2f of 1->1",
			     s->rate / p->rate);
	}
	if ((s = ok("shmbox", "rpc-64"))) {
		const struct figure *u = ok("unix-seqpacket", "rpc-64"), *v = ok("unix-stream", "rpc-64");

		if (u == NULL || (v != NULL && v->rate > u->rate))
			u = v;
		if (u != NULL)
			line("calls >= 2x the Unix sockets", "shmbox", s->rate >= 2 * u->rate,
			     "%.2fx %s", s->rate / u->rate, u == v ? "unix-stream" : "unix-seqpacket");
	}
	cpu();
}
