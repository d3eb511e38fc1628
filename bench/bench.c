/*
 * shmbox-bench: shmbox side by side with the kernel's carriers and Boost's
 * message_queue.  The options, the figures and their repetitions, the
 * tables, the CSV and the plot; README.md says what each figure measures.
 */
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <shmbox.h>

#include "../common/tool.h" /* the option number parser of the shmbox command */
#include "bench.h"

#ifndef HAVE_BOOST_IPC
const struct transport t_boostmq = {.name = "boost-mq"}; /* reads NOT_BUILT */
#endif
#ifndef HAVE_ZMQ
#define NO_ZMQ "not built (libzmq3-dev not installed)"
const struct transport t_zmq = {.name = "zmq", .not_built = NO_ZMQ};
const struct transport t_zmq_curve = {.name = "zmq-curve", .not_built = NO_ZMQ};
#endif

static const struct transport *const all[] = {
	&t_shmbox, &t_shmbox_zc, &t_shmbox_poll, &t_shmbox_poll1, &t_pipe,
	&t_unix_seqpacket, &t_unix_stream, &t_posixmq, &t_sysvmsg, &t_boostmq,
	&t_zmq, &t_bridge, &t_zmq_curve, &t_bridge_curve,
};
#define NT ((int)(sizeof(all) / sizeof(all[0])))

enum fig_id {
	F_RTT, F_RTT_PIN, F_RTT_LOAD, F_RTT_1CPU, F_1_64, F_1_4K, F_1_64K, F_MPMC, F_CALL, F_RPC, NF
};

static const struct figdef {
	const char *sel;   /* what -F selects it by; the CSV names it sel-size */
	const char *title; /* section heading */
	enum work_kind kind;
	size_t size;
	int np, nc;
	int pin, load; /* run_children's placement and the work alongside */
	int with;      /* the figure measured in the same rounds (0: none) */
} figs[NF] = {
	[F_RTT] = {"rtt", "round trip, 64 B: ping-pong between 2 processes over two channels",
		   W_RTT, 64, 1, 1, PIN_NONE, LOAD_NONE, 0},
	[F_RTT_PIN] = {"rttpin",
		       "round trip, 64 B, the same with the two processes pinned to different CPUs",
		       W_RTT, 64, 1, 1, PIN_SPREAD, LOAD_NONE, 0},
	[F_RTT_LOAD] = {"rttload",
			"round trip, 64 B, on a busy machine: one CPU-bound process per CPU "
			"running alongside",
			W_RTT, 64, 1, 1, PIN_NONE, LOAD_PER_CPU, 0},
	[F_RTT_1CPU] = {"rtt1cpu",
			"round trip, 64 B, crowded: both processes and a CPU-bound one pinned to "
			"one CPU",
			W_RTT, 64, 1, 1, PIN_ONE, LOAD_ONE_CPU, 0},
	/* 1 -> 1 and 4 -> 4 at 64 B are read against each other: in the same
	 * rounds, a slow phase of the machine falls on both alike */
	[F_1_64] = {"1to1", "one-way, 1 -> 1 process, 64 B messages", W_ONEWAY, 64, 1, 1,
		    PIN_NONE, LOAD_NONE, F_MPMC},
	[F_1_4K] = {"1to1", "one-way, 1 -> 1 process, 4 KiB messages", W_ONEWAY, 4096, 1, 1,
		    PIN_NONE, LOAD_NONE, 0},
	[F_1_64K] = {"1to1", "one-way, 1 -> 1 process, 64 KiB messages", W_ONEWAY, 65536, 1, 1,
		     PIN_NONE, LOAD_NONE, 0},
	[F_MPMC] = {"4to4", "one-way, 4 -> 4 processes on one channel, 64 B messages", W_ONEWAY,
		    64, 4, 4, PIN_NONE, LOAD_NONE, 0},
	[F_CALL] = {"call", "call round trip, 64 B: one client process calling one server process",
		    W_RPC, 64, 1, 1, PIN_NONE, LOAD_NONE, 0},
	[F_RPC] = {"rpc", "request/reply, 4 client processes -> 1 server process, 64 B", W_RPC,
		   64, 4, 1, PIN_NONE, LOAD_NONE, 0},
};
static const char *const unit[] = {[W_RTT] = "round trip", [W_ONEWAY] = "message", [W_RPC] = "call"};

/* Each operation timed: p50 and p99 shown (the round trips, one client's calls). */
static bool timed(int fi)
{
	return figs[fi].kind == W_RTT || fi == F_CALL;
}

static struct work works[NT][NF];
static bool t_on[NT], fig_on[NF], measured[NF];

static void machine(char *buf, size_t len)
{
	char model[160] = "unknown CPU", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;
	cpu_set_t set;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "model name : %159[^\n]", model) == 1)
			break;
	if (f != NULL)
		fclose(f);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		ncpu = CPU_COUNT(&set); /* what nproc says */
	uname(&u); /* fails only for a bad pointer */
	snprintf(buf, len, "%s, nproc %d, %s %s %s", model, ncpu, u.sysname, u.release, u.machine);
}

static void loadavg(char *buf, size_t len)
{
	double l[3];

	if (getloadavg(l, 3) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", l[0], l[1], l[2]);
	else
		snprintf(buf, len, "unknown");
}

/* The library this run uses: the point of a bench that uses only the
 * public API is to be run against other builds of it. */
static const char *library(void)
{
	Dl_info info;

	return dladdr((void *)shmbox_put, &info) != 0 && info.dli_fname != NULL ? info.dli_fname
										 : "unknown";
}

/* ---- measuring ---- */

#define PILOT_MIN_S 0.04
#define MIN_OPS 200

static int g_reps = 5;
static double g_rep_s = 0.25;

static void fail(struct work *w, const char *why)
{
	w->status = FIG_FAIL;
	snprintf(w->note, sizeof(w->note), "FAILED: %s", g_interrupted ? "interrupted" : why);
}

/* n for a repetition of about g_rep_s, from one that took wall_s */
static void rescale(struct work *w, double wall_s)
{
	uint64_t n = (uint64_t)((double)w->n * g_rep_s / wall_s);

	w->n = n < MIN_OPS ? MIN_OPS : n;
}

/* Pilot runs (also warm-ups): grow n until a run lasts PILOT_MIN_S, then
 * scale it so that one repetition takes about g_rep_s. */
static void calibrate(struct work *w)
{
	struct run_result rr;

	for (int i = 0;; i++) {
		double k;

		if (work_rep(w, &rr) == -1 || g_interrupted) {
			fail(w, rr.err);
			return;
		}
		if (rr.wall_s >= PILOT_MIN_S || i >= 8)
			break;
		k = 2 * PILOT_MIN_S / (rr.wall_s > 1e-5 ? rr.wall_s : 1e-5);
		w->n = (uint64_t)((double)w->n * (k < 2 ? 2 : k > 50 ? 50 : k));
	}
	rescale(w, rr.wall_s);
}

/* One repetition; its results kept.  One that ran over twice its time (a
 * transport whose speed swings, like a spinning one on a busy machine)
 * shortens the later ones back to it: calibrated in a fast phase, they
 * could last 25 times too long. */
static void repeat(struct work *w)
{
	struct run_result rr;
	int r = w->reps;
	uint64_t ops = w->n * (uint64_t)(w->kind == W_RTT ? 1 : w->np); /* carried */

	if (work_rep(w, &rr) == -1 || g_interrupted) {
		fail(w, rr.err);
		return;
	}
	if (rr.wall_s > 2 * g_rep_s)
		rescale(w, rr.wall_s);
	w->rates[r] = (double)ops / rr.wall_s;
	w->cpus[r] = rr.cpu_s / (double)ops * 1e6;
	w->p50s[r] = rr.res[0].p50_us;
	w->p99s[r] = rr.res[0].p99_us;
	w->reps++;
}

static double median(double *v, int n) /* sorts v */
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void finish(struct work *w)
{
	if (g_interrupted) {
		fail(w, "interrupted");
		return;
	}
	w->status = FIG_OK;
	w->rate = median(w->rates, w->reps);
	w->rate_min = w->rates[0]; /* median() sorted them */
	w->rate_max = w->rates[w->reps - 1];
	w->cpu_us = median(w->cpus, w->reps);
	w->p50_us = median(w->p50s, w->reps);
	w->p99_us = median(w->p99s, w->reps);
}

/* Transport ti still measures figure fi. */
static bool part(int ti, int fi)
{
	return t_on[ti] && works[ti][fi].status == FIG_NONE;
}

/* Figure fi, and the one measured with it, for every selected transport:
 * each calibrated, then g_reps rounds of one repetition each, a different
 * transport first in each round.  A virtual machine goes through slow and
 * fast phases lasting seconds: interleaved, each falls on all alike. */
static void measure_figure(int fi)
{
	int f[2] = {fi, figs[fi].with}, nf = f[1] && fig_on[f[1]] ? 2 : 1;

	g_pin = figs[fi].pin;
	g_load = figs[fi].load;
	for (int k = 0; k < nf; k++)
		measured[f[k]] = true;
	for (int ti = 0; ti < NT; ti++) {
		for (int k = 0; k < nf && t_on[ti]; k++) {
			const struct figdef *d = &figs[f[k]];
			struct work *w = &works[ti][f[k]];

			*w = (struct work){.t = all[ti], .kind = d->kind, .size = d->size,
					   .np = d->np, .nc = d->nc, .timed = timed(f[k])};
			work_init(w);
			if (w->status == FIG_NONE && !g_interrupted)
				calibrate(w);
		}
	}
	for (int r = 0; r < g_reps && !g_interrupted; r++) {
		int order[NT], m = 0;

		for (int ti = 0; ti < NT; ti++)
			if (part(ti, f[0]) || part(ti, f[nf - 1]))
				order[m++] = ti;
		for (int j = 0; j < m; j++) {
			int ti = order[(r + j) % m];

			for (int k = 0; k < nf && !g_interrupted; k++)
				if (part(ti, f[k]))
					repeat(&works[ti][f[k]]);
		}
	}
	for (int ti = 0; ti < NT; ti++)
		for (int k = 0; k < nf; k++)
			if (part(ti, f[k]))
				finish(&works[ti][f[k]]);
}

/* ---- the table ---- */

static const char *fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.3g M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.3g k", v / 1e3);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

static const char *fmt_num(char *buf, size_t len, double v)
{
	snprintf(buf, len, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
	return buf;
}

static void print_head(int fi)
{
	printf("\n%s\n", figs[fi].title);
	if (figs[fi].kind == W_RTT)
		printf("  %-16s %9s %9s %14s %18s\n", "transport", "p50 us", "p99 us",
		       "round trips/s", "CPU us/round trip");
	else if (timed(fi))
		printf("  %-16s %9s %9s %14s %18s\n", "transport", "p50 us", "p99 us", "calls/s",
		       "CPU us/call");
	else if (fi == F_RPC)
		printf("  %-16s %10s %13s\n", "transport", "calls/s", "CPU us/call");
	else
		printf("  %-16s %10s %10s %12s   %s\n", "transport", "msgs/s", "MB/s", "CPU us/msg",
		       "msgs/s min..max");
}

static void print_row(int fi, const char *name, const struct work *r)
{
	char a[32], b[32], c[32], d[32], e[32];

	if (r->status != FIG_OK)
		printf("  %-16s %s\n", name, r->note);
	else if (timed(fi))
		printf("  %-16s %9s %9s %12s/s %18s\n", name, fmt_num(a, sizeof(a), r->p50_us),
		       fmt_num(b, sizeof(b), r->p99_us), fmt_rate(c, sizeof(c), r->rate),
		       fmt_num(d, sizeof(d), r->cpu_us));
	else if (fi == F_RPC)
		printf("  %-16s %8s/s %13s\n", name, fmt_rate(a, sizeof(a), r->rate),
		       fmt_num(b, sizeof(b), r->cpu_us));
	else
		printf("  %-16s %8s/s %10s %12s   %s..%s\n", name, fmt_rate(a, sizeof(a), r->rate),
		       fmt_num(b, sizeof(b), r->rate * (double)figs[fi].size / 1e6),
		       fmt_num(c, sizeof(c), r->cpu_us), fmt_rate(d, sizeof(d), r->rate_min),
		       fmt_rate(e, sizeof(e), r->rate_max));
	fflush(stdout);
}

/* Each round trip's p50 over the pipe's, the kernel's cheapest wake-up,
 * in the same rounds; wrapped. */
static void print_rtt_ratios(void)
{
	const struct work *p = NULL;
	int col = 0;
	char a[32];

	for (int ti = 0; ti < NT; ti++)
		if (all[ti] == &t_pipe && t_on[ti] && works[ti][F_RTT].status == FIG_OK)
			p = &works[ti][F_RTT];
	for (int ti = 0; ti < NT && p != NULL; ti++) {
		const struct work *r = &works[ti][F_RTT];

		if (!t_on[ti] || r == p || r->status != FIG_OK)
			continue;
		if (col == 0)
			col = printf("  rtt p50 over the pipe's:");
		else if (col > 80)
			col = printf(",\n   ") - 1;
		else
			col += printf(",");
		col += printf(" %s %s", all[ti]->name, fmt_num(a, sizeof(a), r->p50_us / p->p50_us));
	}
	if (col > 0)
		printf("\n");
}

static const struct work *measured_work(const struct transport *t, int fi)
{
	for (int ti = 0; ti < NT; ti++)
		if (all[ti] == t && t_on[ti] && fig_on[fi] && works[ti][fi].status == FIG_OK)
			return &works[ti][fi];
	return NULL;
}

/* Issue 17 sets the bridge two goals against raw ZeroMQ in the same run:
 * 64 B messages/s at least half, a call's round trip at most 1.5 times. */
static void print_bridge_ratios(const struct transport *bridged, const struct transport *raw)
{
	const struct work *b = measured_work(bridged, F_1_64), *r = measured_work(raw, F_1_64);
	char a[32];
	int n = 0;

	if (b != NULL && r != NULL)
		n = printf("  %s over %s: 64 B 1->1 msgs/s %s (issue 17's goal: >= 0.5)",
			   bridged->name, raw->name, fmt_num(a, sizeof(a), b->rate / r->rate));
	b = measured_work(bridged, F_CALL);
	r = measured_work(raw, F_CALL);
	if (b != NULL && r != NULL)
		printf("%s call p50 %s (goal: <= 1.5)", n ? "," : "  ",
		       fmt_num(a, sizeof(a), b->p50_us / r->p50_us));
	if (n || (b != NULL && r != NULL))
		printf("\n");
}

/* One line per transport: what a user chooses by, at a glance. */
static void print_summary(void)
{
	static const int cols[] = {F_RTT, F_RTT_PIN, F_CALL, F_1_64, F_1_4K, F_1_64K, F_MPMC, F_RPC};
	char a[32];

	printf("\nsummary (medians; round trip and call p50 in us, then messages/s or calls/s)\n");
	printf("  %-16s %9s %9s %9s %10s %10s %10s %10s %10s\n", "transport", "rtt p50", "pinned",
	       "call p50", "64 B 1->1", "4K 1->1", "64K 1->1", "64 B 4->4", "calls 4->1");
	for (int ti = 0; ti < NT; ti++) {
		if (!t_on[ti])
			continue;
		printf("  %-16s", all[ti]->name);
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			const struct work *r = &works[ti][cols[k]];

			printf(" %*s", k < 3 ? 9 : 10,
			       !fig_on[cols[k]]		? "-"
			       : r->status == FIG_NA	? "n/a"
			       : r->status != FIG_OK	? "FAILED"
			       : k < 3			? fmt_num(a, sizeof(a), r->p50_us)
							: fmt_rate(a, sizeof(a), r->rate));
		}
		printf("\n");
	}
	print_rtt_ratios();
	print_bridge_ratios(&t_bridge, &t_zmq);
	print_bridge_ratios(&t_bridge_curve, &t_zmq_curve);
}

/* ---- CSV ---- */

/* s as one CSV cell, quoted if it needs it, then a comma or the line's end */
static void csv_text(FILE *f, const char *s, char after)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, f);
	} else {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	}
	fputc(after, f);
}

/* A number, or nothing if it does not apply; then a comma. */
static void csv_num(FILE *f, bool applies, const char *fmt, double v)
{
	if (applies)
		fprintf(f, fmt, v);
	fputc(',', f);
}

static void csv_figure(FILE *f, int fi, int ti)
{
	const struct work *r = &works[ti][fi];
	const struct figdef *d = &figs[fi];
	bool ok = r->status == FIG_OK;

	fprintf(f, "figure,%s-%zu,%s,%zu,%d,%d,", d->sel, d->size, all[ti]->name, d->size, d->np,
		d->nc);
	csv_num(f, ok, "%.0f", r->reps);
	csv_num(f, ok, "%.0f", (double)r->n);
	csv_num(f, ok, "%.6g", r->rate);
	csv_num(f, ok, "%.6g", r->rate_min);
	csv_num(f, ok, "%.6g", r->rate_max);
	csv_num(f, ok && d->kind == W_ONEWAY, "%.6g", r->rate * (double)d->size / 1e6);
	csv_num(f, ok && timed(fi), "%.4g", r->p50_us);
	csv_num(f, ok && timed(fi), "%.4g", r->p99_us);
	csv_num(f, ok, "%.4g", r->cpu_us);
	fprintf(f, "%s,%s,", unit[d->kind], ok ? "ok" : r->status == FIG_NA ? "n/a" : "failed");
	csv_text(f, ok ? "" : r->note, ',');
	csv_text(f, r->config, '\n');
}

/* facts: the machine, when, the load, the library */
static int write_csv(const char *path, const char *const facts[][2], int nfacts)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		warn("%s", path);
		return -1;
	}
	fputs("kind,name,transport,msg_bytes,senders,receivers,reps,ops_per_rep,ops_per_s,"
	      "ops_per_s_min,ops_per_s_max,MB_per_s,p50_us,p99_us,cpu_us_per_op,unit,status,note,"
	      "config\n",
	      f);
	for (int i = 0; i < nfacts; i++) {
		fprintf(f, "machine,%s,,,,,,,,,,,,,,,ok,", facts[i][0]);
		csv_text(f, facts[i][1], ',');
		fputc('\n', f);
	}
	for (int fi = 0; fi < NF; fi++)
		for (int ti = 0; ti < NT; ti++)
			if (fig_on[fi] && t_on[ti])
				csv_figure(f, fi, ti);
	if (fclose(f) == EOF) {
		warn("%s", path);
		return -1;
	}
	printf("csv: %s\n", path);
	return 0;
}

static const int plot_figs[] = {F_1_64, F_1_4K, F_1_64K};

static bool plotted(int ti, int k)
{
	return t_on[ti] && fig_on[plot_figs[k]] && works[ti][plot_figs[k]].status == FIG_OK;
}

static int write_plot(const char *gp, const char *png, const char *mach)
{
	FILE *f = fopen(gp, "w");
	const char *sep = "plot ";

	if (f == NULL) {
		warn("%s", gp);
		return -1;
	}
	fprintf(f, "# made by shmbox-bench: 1 -> 1 throughput against message size\n"
		   "# run it again with: gnuplot %s\n"
		   "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
		   "  set terminal pngcairo size 1000,650 noenhanced font ',10'\n"
		   "} else {\n"
		   "  set terminal png size 1000,650 noenhanced\n"
		   "}\n"
		   "set output '%s'\n"
		   "set title \"one-way throughput, 1 -> 1 process, median of %d (%s)\"\n"
		   "set logscale x 2\nset logscale y 10\nset xrange [40:100000]\n"
		   "set xtics ('64 B' 64, '4 KiB' 4096, '64 KiB' 65536)\n"
		   "set xlabel 'message size'\nset ylabel 'messages/s (log scale)'\n"
		   "set format y '%%.0s%%c'\nset grid\nset key bottom left box opaque\n",
		gp, png, g_reps, mach);
	for (int ti = 0; ti < NT; ti++) {
		fprintf(f, "$t%d << EOD\n", ti);
		for (int k = 0; k < 3; k++)
			if (plotted(ti, k))
				fprintf(f, "%zu %.6g\n", figs[plot_figs[k]].size,
					works[ti][plot_figs[k]].rate);
		fprintf(f, "EOD\n");
	}
	for (int ti = 0; ti < NT; ti++) {
		if (plotted(ti, 0) || plotted(ti, 1) || plotted(ti, 2)) {
			fprintf(f, "%s$t%d using 1:2 with linespoints lw 2 pt 7 title '%s'", sep, ti,
				all[ti]->name);
			sep = ", \\\n     ";
		}
	}
	fprintf(f, "%s\n", *sep == 'p' ? "plot NaN notitle" : "");
	if (fclose(f) == EOF) {
		warn("%s", gp);
		return -1;
	}
	return 0;
}

/* gnuplot draws it, if it is installed; without it the run goes on. */
static void run_gnuplot(const char *gp, const char *png)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		execlp("gnuplot", "gnuplot", gp, (char *)NULL);
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (pid == -1 || waitpid(pid, &st, 0) == -1)
		st = -1; /* neither exited nor 127 */
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		printf("plot: gnuplot not found (Debian: apt-get install gnuplot-nox); no plot. "
		       "Script: %s\n", gp);
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("plot: gnuplot %s failed; no plot\n", gp);
	else
		printf("plot: %s (script %s)\n", png, gp);
}

/* ---- options ---- */

#define TIME_MAX_MS 60000
#define SYNOPSIS "[-h] [-o csv] [-p png] [-r reps] [-t ms] [-T transport,...] [-F figure,...]"

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: %s " SYNOPSIS "\n", getprogname());
	exit(EX_USAGE);
}

static void __attribute__((noreturn)) help(void)
{
	printf("usage: %s " SYNOPSIS "\n"
	       "Measure shmbox next to the kernel's message carriers and Boost's queue.\n"
	       "  -o, --csv PATH         the results as CSV (default bench/results.csv, or\n"
	       "                         results.csv where there is no bench/ directory)\n"
	       "  -p, --png PATH         the plot (default: the CSV's path ending in .png);\n"
	       "                         its gnuplot script goes next to it, ending in .gp\n"
	       "  -r, --reps N           repetitions per figure, the median shown, 1 to %d\n"
	       "                         (default %d)\n"
	       "  -t, --time MS          how long one repetition runs, in milliseconds, 1 to\n"
	       "                         %d (default %.0f)\n"
	       "  -T, --transports LIST  some of shmbox,shmbox-zc,shmbox-poll,shmbox-poll1,\n"
	       "                         pipe,unix-seqpacket,unix-stream,posix-mq,sysv-msgq,\n"
	       "                         boost-mq,zmq,bridge,zmq-curve,bridge-curve\n"
	       "                         (default all)\n"
	       "  -F, --figures LIST     some of rtt,rttpin,rttload,rtt1cpu,1to1,4to4,call,rpc\n"
	       "                         (default all)\n"
	       "  -h, --help             this text\n"
	       "Key files go in $TMPDIR (default /tmp); bench/README.md says what is measured.\n"
	       "The bridge rows run the shmbox command next to this program (or\n"
	       "$BENCH_SHMBOX_BIN).\n",
	       getprogname(), MAX_REPS, g_reps, TIME_MAX_MS, g_rep_s * 1000);
	exit(EX_OK);
}

/* on[i] for each of names[0..n-1] that the comma-separated list names;
 * another name is a usage error. */
static void parse_list(char opt, const char *list, const char *const *names, int n, bool *on)
{
	char *copy = strdup(list), *rest = copy, *word;

	if (copy == NULL)
		err(EX_OSERR, "strdup");
	memset(on, 0, sizeof(bool) * (size_t)n);
	while ((word = strsep(&rest, ",")) != NULL) {
		bool found = false;

		for (int i = 0; i < n; i++)
			if (strcmp(word, names[i]) == 0)
				found = on[i] = true;
		if (!found) {
			warnx("-%c %s: no such name as \"%s\"; see --help", opt, list, word);
			usage();
		}
	}
	free(copy);
}

/* path with its ".csv" or ".png" ending (if any) replaced by ext, in buf */
static const char *with_ext(char *buf, size_t len, const char *path, const char *ext)
{
	size_t n = strlen(path);

	if (n > 4 && (strcmp(path + n - 4, ".csv") == 0 || strcmp(path + n - 4, ".png") == 0))
		n -= 4;
	snprintf(buf, len, "%.*s%s", (int)n, path, ext);
	return buf;
}

static void options(int argc, char **argv, const char **csv, const char **png)
{
	static const struct option opts[] = {
		{"csv", required_argument, NULL, 'o'},	  {"png", required_argument, NULL, 'p'},
		{"reps", required_argument, NULL, 'r'},	  {"time", required_argument, NULL, 't'},
		{"transports", required_argument, NULL, 'T'},
		{"figures", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *tnames[NT], *fnames[NF];
	int c;

	for (int i = 0; i < NT; i++)
		tnames[i] = all[i]->name, t_on[i] = true;
	for (int i = 0; i < NF; i++)
		fnames[i] = figs[i].sel, fig_on[i] = true;
	opterr = 0; /* our own messages, under the program's name */
	while ((c = getopt_long(argc, argv, ":ho:p:r:t:T:F:", opts, NULL)) != -1) {
		switch (c) {
		case 'h': help();
		case 'o': *csv = optarg; break;
		case 'p': *png = optarg; break;
		case 'r': g_reps = (int)tool_number(EX_USAGE, NULL, 'r', optarg, "the number of repetitions", 1, MAX_REPS); break;
		case 't':
			g_rep_s = tool_number(EX_USAGE, NULL, 't', optarg, "the length in milliseconds", 1,
					 TIME_MAX_MS) / 1e3;
			break;
		case 'T': parse_list('T', optarg, tnames, NT, t_on); break;
		case 'F': parse_list('F', optarg, fnames, NF, fig_on); break;
		case ':': warnx("%s needs a value", argv[optind - 1]); usage();
		default:
			if (optopt != 0)
				warnx("-%c: no such option", optopt);
			else
				warnx("%s: no such option", argv[optind - 1]);
			usage();
		}
	}
	if (optind < argc) {
		warnx("unexpected argument: %s", argv[optind]);
		usage();
	}
	if (*csv == NULL) /* bench/. exists if bench is a directory */
		*csv = access("bench/.", F_OK) == 0 ? "bench/results.csv" : "results.csv";
}

static void print_config(void)
{
	char msg[640];

	printf("\nconfiguration\n");
	for (int ti = 0; ti < NT; ti++) {
		const struct transport *t = all[ti];
		struct chan *c;

		if (!t_on[ti])
			continue;
		const char *why = t->create == NULL	? (t->not_built ? t->not_built : NOT_BUILT)
				  : t->unavailable != NULL ? t->unavailable()
							   : NULL;

		if (why == NULL && (c = t->create(64, msg, sizeof(msg))) != NULL)
			t->destroy(c);
		printf("  %-16s %s\n", t->name, why != NULL ? why : msg);
		if ((fig_on[F_RPC] || fig_on[F_CALL]) && why == NULL)
			printf("  %-16s request/reply: %s\n", "", t->call ? t->rpc_how : RPC_GENERIC);
	}
}

int main(int argc, char **argv)
{
	const char *csv = NULL, *png = NULL;
	char mach[400], started[64], load0[64], load1[64], png_buf[4096], gp[4096];
	time_t now = time(NULL);
	uint64_t t_begin = now_ns();
	int failures = 0;

	options(argc, argv, &csv, &png);
	if (png == NULL)
		png = with_ext(png_buf, sizeof(png_buf), csv, ".png");
	with_ext(gp, sizeof(gp), png, ".gp");

	measure_init();
	machine(mach, sizeof(mach));
	strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S %z", localtime(&now));
	loadavg(load0, sizeof(load0));
	printf("shmbox-bench (shmbox.h %s), %s\n", SHMBOX_VERSION_STRING, started);
	printf("library: %s\n", library());
	printf("machine: %s\n", mach);
	printf("load average before: %s (other work on the machine shows in the figures)\n", load0);
	printf("each figure: the median of %d repetitions of about %.0f ms (after a calibration "
	       "run), taking turns across the transports, a different one first in each round; "
	       "every message checked (sequence number, sender, length, checksum of the whole "
	       "payload); CPU = user + system time of all the processes (wait4), per operation\n",
	       g_reps, g_rep_s * 1000);
	print_config();

	for (int fi = 0; fi < NF && !g_interrupted; fi++) {
		if (!fig_on[fi])
			continue;
		print_head(fi);
		if (!measured[fi])
			measure_figure(fi);
		for (int ti = 0; ti < NT; ti++) {
			if (t_on[ti]) {
				failures += works[ti][fi].status == FIG_FAIL;
				print_row(fi, all[ti]->name, &works[ti][fi]);
			}
		}
	}
	if (g_interrupted) {
		fprintf(stderr, "shmbox-bench: interrupted; every channel made so far is removed\n");
		return 130;
	}
	print_summary();

	printf("\n");
	loadavg(load1, sizeof(load1));
	const char *const facts[][2] = {{"machine", mach},	   {"started", started},
					{"load_before", load0}, {"load_after", load1},
					{"library", library()}};
	if (write_csv(csv, facts, (int)(sizeof(facts) / sizeof(facts[0]))) == -1)
		failures++;
	if (!fig_on[F_1_64] && !fig_on[F_1_4K] && !fig_on[F_1_64K])
		printf("plot: no 1 -> 1 figure measured; no plot\n");
	else if (write_plot(gp, png, mach) == 0)
		run_gnuplot(gp, png);
	printf("load average after: %s\n", load1);
	printf("total time: %.1f s\n", (double)(now_ns() - t_begin) / 1e9);
	return failures ? 1 : 0;
}
