/*
 * shmbox-bench: shmbox side by side with pipes, Unix sockets, POSIX and
 * System V message queues and Boost.Interprocess's message_queue (when
 * configure found it), between fork()ed processes, every message
 * checked.  A table on stdout, the same data as CSV, and a gnuplot script
 * (run if gnuplot is installed) that draws messages/s against message size.
 *
 * See bench/README.md for what each figure means.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shmbox.h>

#include "figures.h"
#include "targets.h"

#define NCLIENTS 4
#define NMULTI 4

static const struct transport *const all_transports[] = {
	&t_shmbox, &t_shmbox_zc, &t_pipe, &t_unix_seqpacket, &t_unix_stream, &t_posixmq, &t_sysvmsg,
#ifdef HAVE_BOOST_IPC
	&t_boostmq,
#endif
};
/* A transport this build left out, and why (the run says so). */
#ifndef HAVE_BOOST_IPC
#define NOT_BUILT_NAME "boost-mq"
#define NOT_BUILT_WHY "not built (libboost-dev not installed)"
#endif
#define NT ((int)(sizeof(all_transports) / sizeof(all_transports[0])))

enum fig_id { F_RTT, F_RTT_PIN, F_RTT_LOAD, F_RTT_1CPU, F_1_64, F_1_4K, F_1_64K, F_MPMC, F_RPC, NF };

static const struct figdef {
	const char *key;   /* CSV name, and what -F selects (before the '-') */
	const char *title; /* section heading */
	const char *unit;  /* one operation */
	size_t size;
	int np, nc;
	int pin;  /* PIN_SPREAD: each process on its own CPU; PIN_ONE: all on one */
	int load; /* CPU-bound processes alongside (load.c): LOAD_PER_CPU, LOAD_ONE_CPU */
} figs[NF] = {
	[F_RTT] = {"rtt-64", "round trip, 64 B: ping-pong between 2 processes over two channels",
		   "round trip", 64, 1, 1, PIN_NONE, LOAD_NONE},
	[F_RTT_PIN] = {"rttpin-64",
		       "round trip, 64 B, the same with the two processes pinned to different "
		       "CPUs",
		       "round trip", 64, 1, 1, PIN_SPREAD, LOAD_NONE},
	[F_RTT_LOAD] = {"rttload-64",
			"round trip, 64 B, on a busy machine: one CPU-bound process per CPU "
			"running alongside",
			"round trip", 64, 1, 1, PIN_NONE, LOAD_PER_CPU},
	[F_RTT_1CPU] = {"rtt1cpu-64",
			"round trip, 64 B, crowded: both processes and a CPU-bound one "
			"pinned to one CPU",
			"round trip", 64, 1, 1, PIN_ONE, LOAD_ONE_CPU},
	[F_1_64] = {"1to1-64", "one-way, 1 -> 1 process, 64 B messages", "message", 64, 1, 1, 0, 0},
	[F_1_4K] = {"1to1-4096", "one-way, 1 -> 1 process, 4 KiB messages", "message", 4096, 1,
		    1, 0, 0},
	[F_1_64K] = {"1to1-65536", "one-way, 1 -> 1 process, 64 KiB messages", "message", 65536,
		     1, 1, 0, 0},
	[F_MPMC] = {"4to4-64", "one-way, 4 -> 4 processes on one channel, 64 B messages",
		    "message", 64, NMULTI, NMULTI, 0, 0},
	[F_RPC] = {"rpc-64", "request/reply, 4 client processes -> 1 server process, 64 B",
		   "call", 64, NCLIENTS, 1, 0, 0},
};

static struct figure results[FIG_MAX_ENTRIES][NF];
static const struct transport *sel[FIG_MAX_ENTRIES];
static int nsel;
static int fig_on[NF];
static int do_refs = 1;
static const struct rpc_ops *unix_rpc_override;
static int pin_all;

/* For targets.c: a transport's result in a figure, by their names. */
static const struct figure *lookup(const char *transport, const char *fig)
{
	for (int fi = 0; fi < NF; fi++)
		for (int ti = 0; ti < nsel && fig_on[fi]; ti++)
			if (strcmp(figs[fi].key, fig) == 0 && strcmp(sel[ti]->name, transport) == 0)
				return &results[ti][fi];
	return NULL;
}

/* ---- machine ---- */

static void machine(char *buf, size_t len)
{
	char model[160] = "unknown CPU", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;
	cpu_set_t set;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *colon = strchr(line, ':');

			if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
				snprintf(model, sizeof(model), "%s", colon + 2);
				model[strcspn(model, "\n")] = '\0';
				break;
			}
		}
		fclose(f);
	}
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		ncpu = CPU_COUNT(&set); /* what nproc says */
	if (uname(&u) == -1)
		memset(&u, 0, sizeof(u));
	snprintf(buf, len, "%s, nproc %d, %s %s %s", model, ncpu, u.sysname, u.release, u.machine);
}

/* The first three fields of /proc/loadavg. */
static void loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a, b, c;

	if (f != NULL && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
	else
		snprintf(buf, len, "unknown");
	if (f != NULL)
		fclose(f);
}

/* ---- formatting ---- */

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
	if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (v >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
	return buf;
}

static int is_rtt(int fi)
{
	return fi == F_RTT || fi == F_RTT_PIN || fi == F_RTT_LOAD || fi == F_RTT_1CPU;
}

static void print_section_head(int fi)
{
	printf("\n%s\n", figs[fi].title);
	if (is_rtt(fi))
		printf("  %-16s %9s %9s %14s %18s\n", "transport", "p50 us", "p99 us",
		       "round trips/s", "CPU us/round trip");
	else if (fi == F_RPC)
		printf("  %-16s %10s %13s\n", "transport", "calls/s", "CPU us/call");
	else
		printf("  %-16s %10s %10s %12s   %s\n", "transport", "msgs/s", "MB/s",
		       "CPU us/msg", "msgs/s min..max");
}

static void print_row(int fi, const struct transport *t, const struct figure *f)
{
	char a[32], b[32], c[32], d[32];

	if (f->status != FIG_OK) {
		printf("  %-16s %s\n", t->name, f->note);
		return;
	}
	if (is_rtt(fi))
		printf("  %-16s %9s %9s %12s/s %18s\n", t->name, fmt_num(a, sizeof(a), f->p50_us),
		       fmt_num(b, sizeof(b), f->p99_us), fmt_rate(c, sizeof(c), f->rate),
		       fmt_num(d, sizeof(d), f->cpu_us));
	else if (fi == F_RPC)
		printf("  %-16s %8s/s %13s\n", t->name, fmt_rate(a, sizeof(a), f->rate),
		       fmt_num(b, sizeof(b), f->cpu_us));
	else {
		char lo[32], hi[32];

		printf("  %-16s %8s/s %10s %12s   %s..%s\n", t->name,
		       fmt_rate(a, sizeof(a), f->rate),
		       fmt_num(b, sizeof(b), f->rate * (double)figs[fi].size / 1e6),
		       fmt_num(c, sizeof(c), f->cpu_us), fmt_rate(lo, sizeof(lo), f->rate_min),
		       fmt_rate(hi, sizeof(hi), f->rate_max));
	}
	fflush(stdout);
}

/* ---- the figures ---- */

static const struct rpc_ops *rpc_of(const struct transport *t)
{
	return t == &t_unix_seqpacket && unix_rpc_override ? unix_rpc_override : t->rpc;
}

static enum fig_kind kind_of(int fi)
{
	return is_rtt(fi) ? FK_RTT : fi == F_RPC ? FK_RPC : FK_ONEWAY;
}

/* 4->4 is judged against 1->1 at 64 B, so the two are measured together,
 * their repetitions in the same rounds: a slow phase of this machine lasts
 * seconds, and would otherwise fall on one of them only. */
static int measured[NF];

static int measured_with(int fi)
{
	return fi == F_1_64 && fig_on[F_MPMC] ? F_MPMC : -1;
}

/* Figure fi for every selected transport, their repetitions interleaved,
 * and the figure measured with it if there is one (the same pinning and
 * load: neither has any). */
static void measure_figure(int fi)
{
	struct fig_entry e[FIG_MAX_TOGETHER * FIG_MAX_ENTRIES];
	struct fig_spec spec[FIG_MAX_TOGETHER];
	int f[FIG_MAX_TOGETHER] = {fi, measured_with(fi)}, n = f[1] >= 0 ? 2 : 1;

	for (int k = 0; k < n; k++) {
		for (int ti = 0; ti < nsel; ti++)
			e[k * nsel + ti] = (struct fig_entry){.t = sel[ti], .rpc = rpc_of(sel[ti]),
							      .f = &results[ti][f[k]]};
		spec[k] = (struct fig_spec){.kind = kind_of(f[k]), .size = figs[f[k]].size,
					    .np = figs[f[k]].np, .nc = figs[f[k]].nc};
		measured[f[k]] = 1;
	}
	g_pin = figs[fi].pin != PIN_NONE ? figs[fi].pin : pin_all ? PIN_SPREAD : PIN_NONE;
	g_load = figs[fi].load;
	fig_run(spec, n, e, nsel);
	g_load = LOAD_NONE;
}

/* Figure fi's section of the table, measured now unless it was measured
 * together with an earlier one.  The number of transports that failed. */
static int run_figure(int fi)
{
	int failed = 0;

	print_section_head(fi);
	if (!measured[fi])
		measure_figure(fi);
	for (int ti = 0; ti < nsel; ti++) {
		failed += results[ti][fi].status == FIG_FAIL;
		print_row(fi, sel[ti], &results[ti][fi]);
	}
	return failed;
}

/* ---- CSV ---- */

enum {
	C_KIND, C_NAME, C_TRANSPORT, C_BYTES, C_SENDERS, C_RECEIVERS, C_REPS, C_OPS_REP, C_RATE,
	C_RATE_MIN, C_RATE_MAX, C_MBPS, C_P50, C_P99, C_CPU, C_VALUE, C_UNIT, C_STATUS, C_NOTE,
	C_CONFIG, NCOL
};
static const char *const csv_head[NCOL] = {
	"kind",	     "name",	      "transport",     "msg_bytes", "senders", "receivers",
	"reps",	     "ops_per_rep",   "ops_per_s",     "ops_per_s_min", "ops_per_s_max",
	"MB_per_s",  "p50_us",	      "p99_us",	       "cpu_us_per_op", "value", "unit",
	"status",    "note",	      "config",
};

/* One row; cells may be NULL (empty).  Every cell is quoted if it needs it. */
static void csv_row(FILE *f, char *cell[NCOL])
{
	for (int i = 0; i < NCOL; i++) {
		const char *s = cell[i] ? cell[i] : "";

		if (i > 0)
			fputc(',', f);
		if (strpbrk(s, ",\"\n") == NULL) {
			fputs(s, f);
			continue;
		}
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	}
	fputc('\n', f);
}

static char cellbuf[NCOL][64];

static char *num(int col, const char *fmt, double v)
{
	snprintf(cellbuf[col], sizeof(cellbuf[col]), fmt, v);
	return cellbuf[col];
}

static void csv_info(FILE *f, const char *kind, const char *name, const char *text)
{
	char *cell[NCOL] = {0};

	cell[C_KIND] = (char *)kind;
	cell[C_NAME] = (char *)name;
	cell[C_STATUS] = "ok";
	cell[C_NOTE] = (char *)text;
	csv_row(f, cell);
}

static void csv_ref(FILE *f, const char *name, double v, const char *unit)
{
	char *cell[NCOL] = {0};

	cell[C_KIND] = "reference";
	cell[C_NAME] = (char *)name;
	cell[C_VALUE] = num(C_VALUE, "%.6g", v);
	cell[C_UNIT] = (char *)unit;
	cell[C_STATUS] = "ok";
	csv_row(f, cell);
}

static int write_csv(const char *path, const char *mach, const struct refs *r, int have_refs,
		     const char *started, const char *load0, const char *load1)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "shmbox-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	csv_row(f, (char **)csv_head);
	csv_info(f, "machine", "machine", mach);
	csv_info(f, "machine", "started", started);
	csv_info(f, "machine", "load_before", load0);
	csv_info(f, "machine", "load_after", load1);
	if (have_refs) {
		csv_ref(f, "memcpy_64KiB", r->memcpy_gbps, "GB/s");
		csv_ref(f, "ring_copy_64KiB", r->ring_gbps, "GB/s");
		csv_ref(f, "checksum_64KiB", r->checksum_gbps, "GB/s");
		csv_ref(f, "semop", r->semop_ns, "ns");
		csv_ref(f, "syscall_getppid", r->syscall_ns, "ns");
		csv_ref(f, "clock_gettime", r->clock_ns, "ns");
		if (r->handoff_ns > 0) {
			csv_ref(f, "cacheline_handoff", r->handoff_ns, "ns");
			csv_ref(f, "cacheline_handoff_min", r->handoff_min, "ns");
			csv_ref(f, "cacheline_handoff_max", r->handoff_max, "ns");
		}
		if (r->bare_gbps > 0) {
			csv_ref(f, "bare_ring_2cpu_64KiB", r->bare_gbps, "GB/s");
			csv_ref(f, "bare_ring_2cpu_64KiB_min", r->bare_min, "GB/s");
			csv_ref(f, "bare_ring_2cpu_64KiB_max", r->bare_max, "GB/s");
		}
		csv_ref(f, "reference_passes", r->passes, "passes");
	}
	for (int fi = 0; fi < NF; fi++) {
		if (!fig_on[fi])
			continue;
		for (int ti = 0; ti < nsel; ti++) {
			const struct figure *g = &results[ti][fi];
			char *cell[NCOL] = {0};

			cell[C_KIND] = "figure";
			cell[C_NAME] = (char *)figs[fi].key;
			cell[C_TRANSPORT] = (char *)sel[ti]->name;
			cell[C_BYTES] = num(C_BYTES, "%.0f", (double)figs[fi].size);
			cell[C_SENDERS] = num(C_SENDERS, "%.0f", figs[fi].np);
			cell[C_RECEIVERS] = num(C_RECEIVERS, "%.0f", figs[fi].nc);
			cell[C_UNIT] = (char *)figs[fi].unit;
			cell[C_STATUS] = g->status == FIG_OK   ? "ok"
					 : g->status == FIG_NA ? "n/a"
							       : "failed";
			if (g->status == FIG_OK) {
				cell[C_REPS] = num(C_REPS, "%.0f", g->reps);
				cell[C_OPS_REP] = num(C_OPS_REP, "%.0f", (double)g->n);
				cell[C_RATE] = num(C_RATE, "%.6g", g->rate);
				cell[C_RATE_MIN] = num(C_RATE_MIN, "%.6g", g->rate_min);
				cell[C_RATE_MAX] = num(C_RATE_MAX, "%.6g", g->rate_max);
				if (!is_rtt(fi) && fi != F_RPC)
					cell[C_MBPS] = num(C_MBPS, "%.6g",
							   g->rate * (double)figs[fi].size / 1e6);
				if (is_rtt(fi)) {
					cell[C_P50] = num(C_P50, "%.4g", g->p50_us);
					cell[C_P99] = num(C_P99, "%.4g", g->p99_us);
				}
				cell[C_CPU] = num(C_CPU, "%.4g", g->cpu_us);
			} else {
				cell[C_NOTE] = (char *)g->note;
			}
			cell[C_CONFIG] = (char *)g->config;
			csv_row(f, cell);
		}
	}
	if (fclose(f) == EOF) {
		fprintf(stderr, "shmbox-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- gnuplot ---- */

static int find_in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(out, len, "%.*s/%s", (int)n, path, name);
		if (n > 0 && access(out, X_OK) == 0)
			return 0;
		path += n;
		if (*path == ':')
			path++;
	}
	return -1;
}

static int write_plot(const char *gp, const char *png, const char *mach, const struct refs *r,
		      int have_refs)
{
	FILE *f = fopen(gp, "w");
	static const int sizes[] = {F_1_64, F_1_4K, F_1_64K};
	int nplots = 0;

	if (f == NULL) {
		fprintf(stderr, "shmbox-bench: %s: %s\n", gp, strerror(errno));
		return -1;
	}
	fprintf(f, "# made by shmbox-bench: 1 -> 1 throughput against message size\n");
	fprintf(f, "# run it again with: gnuplot %s\n", gp);
	fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
		   "  set terminal pngcairo size 1000,650 noenhanced font ',10'\n"
		   "} else {\n"
		   "  set terminal png size 1000,650 noenhanced\n"
		   "}\n");
	fprintf(f, "set output '%s'\n", png);
	fprintf(f, "set title \"one-way throughput, 1 -> 1 process, median of %d (%s)\"\n",
		g_reps, mach);
	fprintf(f, "set logscale x 2\nset logscale y 10\n"
		   "set xrange [40:100000]\n"
		   "set xtics ('64 B' 64, '4 KiB' 4096, '64 KiB' 65536)\n"
		   "set xlabel 'message size'\nset ylabel 'messages/s (log scale)'\n"
		   "set format y '%%.0s%%c'\nset grid\nset key bottom left box opaque\n");
	for (int ti = 0; ti < nsel; ti++) {
		fprintf(f, "$t%d << EOD\n", ti);
		for (int k = 0; k < 3; k++) {
			const struct figure *g = &results[ti][sizes[k]];

			if (fig_on[sizes[k]] && g->status == FIG_OK)
				fprintf(f, "%zu %.6g\n", figs[sizes[k]].size, g->rate);
		}
		fprintf(f, "EOD\n");
	}
	if (have_refs && r->ring_gbps > 0)
		fprintf(f, "$target << EOD\n65536 %.6g\nEOD\n", r->ring_gbps * 1e9 / 2 / 65536);
	fprintf(f, "plot ");
	for (int ti = 0; ti < nsel; ti++) {
		int any = 0;

		for (int k = 0; k < 3; k++)
			any |= fig_on[sizes[k]] && results[ti][sizes[k]].status == FIG_OK;
		if (!any)
			continue;
		fprintf(f, "%s$t%d using 1:2 with linespoints lw 2 pt 7 title '%s'",
			nplots++ ? ", \\\n     " : "", ti, sel[ti]->name);
	}
	if (have_refs && r->ring_gbps > 0)
		fprintf(f, "%s$target using 1:2 with points pt 2 ps 2 lc rgb 'black' "
			   "title 'target: half the 64 KiB ring copy'",
			nplots++ ? ", \\\n     " : "");
	if (nplots == 0)
		fprintf(f, "NaN notitle");
	fprintf(f, "\n");
	if (fclose(f) == EOF) {
		fprintf(stderr, "shmbox-bench: %s: %s\n", gp, strerror(errno));
		return -1;
	}
	return 0;
}

static int run_gnuplot(const char *gp, const char *png)
{
	char exe[4096];
	pid_t pid;
	int st;

	if (find_in_path("gnuplot", exe, sizeof(exe)) == -1) {
		printf("plot: gnuplot not found (Debian: apt-get install gnuplot-nox); skipped. "
		       "Script: %s\n",
		       gp);
		return 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execl(exe, "gnuplot", gp, (char *)NULL);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("plot: gnuplot %s failed; no plot\n", gp);
		return -1;
	}
	printf("plot: %s (script %s)\n", png, gp);
	return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmbox-bench [options]\n"
		"  -o, --csv PATH         CSV output (default bench/results.csv, or results.csv\n"
		"                         when there is no bench/ here)\n"
		"  -p, --png PATH         plot (default: the CSV path ending in .png)\n"
		"  -g, --gnuplot PATH     gnuplot script (default: the CSV path ending in .gp)\n"
		"  -r, --reps N           repetitions per figure, median shown (default %d)\n"
		"  -t, --time SECONDS     length of one repetition (default %.2f)\n"
		"  -T, --transports LIST  comma-separated: shmbox,shmbox-zc,pipe,unix-seqpacket,\n"
		"                         unix-stream,posix-mq,sysv-msgq,boost-mq (default\n"
		"                         all; boost-mq only if built with libboost-dev)\n"
		"  -F, --figures LIST     comma-separated: ref,rtt,rttpin,rttload,rtt1cpu,1to1,\n"
		"                         4to4,rpc (default all)\n"
		"      --pin              pin every process to a CPU in every figure (child i on\n"
		"                         the i-th allowed CPU); default: only in the pinned\n"
		"                         round trip (rtt1cpu always puts all on one CPU)\n"
		"      --unix-rpc HOW     poll (a socketpair per client, default) or shared\n"
		"                         (one request socket for all clients)\n"
		"  -h, --help\n"
		"Environment: BENCH_PIPE_SIZE overrides the pipe size (default pipe-max-size);\n"
		"BENCH_SHMBOX_SLOTS the number of shmbox slots (default: pipe-max-size bytes,\n"
		"at least 64); TMPDIR is where the key files go.\n",
		g_reps, g_target_s);
}

static int in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p != NULL && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* path with its ".csv" (if any) replaced by ext, in buf */
static const char *with_ext(char *buf, size_t len, const char *path, const char *ext)
{
	size_t n = strlen(path);

	if (n > 4 && strcmp(path + n - 4, ".csv") == 0)
		n -= 4;
	snprintf(buf, len, "%.*s%s", (int)n, path, ext);
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"csv", required_argument, NULL, 'o'},	  {"png", required_argument, NULL, 'p'},
		{"gnuplot", required_argument, NULL, 'g'}, {"reps", required_argument, NULL, 'r'},
		{"time", required_argument, NULL, 't'},	  {"transports", required_argument, NULL, 'T'},
		{"figures", required_argument, NULL, 'F'}, {"unix-rpc", required_argument, NULL, 'U'},
		{"pin", no_argument, NULL, 'P'},	  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *csv = NULL, *png = NULL, *gp = NULL, *tlist = NULL, *flist = NULL;
	char mach[400], started[64], a[32];
	static struct ref_samples samples;
	struct refs refs = {0};
	int have_refs = 0, ref_failed = 0, failures = 0, c;
	char load0[64], load1[64];
	static char png_buf[4096], gp_buf[4096];
	uint64_t t_begin = now_ns();
	struct stat st;
	time_t now = time(NULL);

	while ((c = getopt_long(argc, argv, "o:p:g:r:t:T:F:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': csv = optarg; break;
		case 'p': png = optarg; break;
		case 'g': gp = optarg; break;
		case 'r': g_reps = atoi(optarg); break;
		case 't': g_target_s = atof(optarg); break;
		case 'T': tlist = optarg; break;
		case 'F': flist = optarg; break;
		case 'U':
			if (strcmp(optarg, "shared") == 0)
				unix_rpc_override = &rpc_unix_shared;
			else if (strcmp(optarg, "poll") != 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'P': pin_all = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || g_reps < 1 || g_reps > 64 || !(g_target_s > 0) || g_target_s > 60) {
		usage(stderr);
		return 2;
	}
	if (csv == NULL)
		csv = stat("bench", &st) == 0 && S_ISDIR(st.st_mode) ? "bench/results.csv"
								     : "results.csv";
	if (png == NULL)
		png = with_ext(png_buf, sizeof(png_buf), csv, ".png");
	if (gp == NULL)
		gp = with_ext(gp_buf, sizeof(gp_buf), csv, ".gp");
	for (int i = 0; i < NT; i++)
		if (tlist == NULL || in_list(tlist, all_transports[i]->name))
			sel[nsel++] = all_transports[i];
	for (int i = 0; i < NF; i++) {
		char key[32];

		snprintf(key, sizeof(key), "%.*s", (int)strcspn(figs[i].key, "-"), figs[i].key);
		fig_on[i] = flist == NULL || in_list(flist, key);
	}
	do_refs = flist == NULL || in_list(flist, "ref");
	if (nsel == 0) {
#ifdef NOT_BUILT_NAME
		if (tlist != NULL && in_list(tlist, NOT_BUILT_NAME))
			fprintf(stderr, "shmbox-bench: %s: %s\n", NOT_BUILT_NAME, NOT_BUILT_WHY);
#endif
		fprintf(stderr, "shmbox-bench: no transport selected\n");
		return 2;
	}

	measure_init();
	machine(mach, sizeof(mach));
	strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S %z", localtime(&now));
	printf("shmbox-bench (libshmbox %s), %s\n", SHMBOX_VERSION_STRING, started);
	loadavg(load0, sizeof(load0));
	printf("machine: %s\n", mach);
	printf("load average before: %s (other work on the machine shows in the figures)\n",
	       load0);
	printf("each figure: the median of %d repetitions of about %.2f s (after a calibration "
	       "run); every message checked (sequence number, sender, length, checksum of the "
	       "whole payload); CPU = user + system time of all the processes (wait4), per "
	       "operation\n",
	       g_reps, g_target_s);
	printf("repetitions interleaved across transports: each figure calibrates every "
	       "transport, then runs round after round of one repetition of each, a different "
	       "transport first in each round, so that slow and fast phases of the machine fall "
	       "on all of them alike%s\n",
	       fig_on[F_1_64] && fig_on[F_MPMC]
		       ? "; 1->1 and 4->4 at 64 B, which a target compares, are measured together, "
			 "each transport's two repetitions one after the other in every round"
		       : "");

	printf("\nconfiguration\n");
	for (int ti = 0; ti < nsel; ti++) {
		const struct transport *t = sel[ti];
		const struct rpc_ops *ro = rpc_of(t);
		char err[300] = "";
		struct chan *ch = t->create(64, err, sizeof(err));

		printf("  %-16s %s\n", t->name, ch ? t->config(ch) : err);
		if (ch)
			t->destroy(ch);
		if (fig_on[F_RPC] && ro != NULL && ro->unavailable == NULL) {
			struct rpc *r = ro->create(ro, NCLIENTS, 64, err, sizeof(err));

			printf("  %-16s request/reply: %s\n", "", r ? ro->config(r) : err);
			if (r)
				ro->destroy(r);
		} else if (fig_on[F_RPC] && ro != NULL) {
			printf("  %-16s request/reply: %s\n", "", ro->unavailable);
		}
	}
#ifdef NOT_BUILT_NAME
	if (tlist == NULL || in_list(tlist, NOT_BUILT_NAME))
		printf("  %-16s %s\n", NOT_BUILT_NAME, NOT_BUILT_WHY);
#endif

	if (do_refs && refs_pass(&samples) == -1)
		ref_failed = 1;

	for (int fi = 0; fi < NF && !g_interrupted; fi++) {
		int printed_only = measured[fi]; /* measured with an earlier figure */

		if (!fig_on[fi])
			continue;
		failures += run_figure(fi);
		if (do_refs && !ref_failed && !printed_only && refs_pass(&samples) == -1)
			ref_failed = 1;
	}
	if (g_interrupted) {
		fprintf(stderr, "shmbox-bench: interrupted; every channel made so far is removed\n");
		return 130;
	}

	if (do_refs) {
		while (!ref_failed && samples.npass < g_reps && !g_interrupted)
			if (refs_pass(&samples) == -1)
				ref_failed = 1;
		printf("\nreferences, this run (median of %d passes spread over the run)\n",
		       samples.npass);
		if (ref_failed || refs_result(&samples, &refs) == -1) {
			printf("  FAILED: %s\n", samples.err);
			failures++;
		} else {
			have_refs = 1;
			printf("  %-46s %8.1f GB/s\n", "memcpy of 64 KiB, hot buffers",
			       refs.memcpy_gbps);
			printf("  %-46s %8.1f GB/s\n", "64 KiB copied into and out of a 64-slot ring",
			       refs.ring_gbps);
			printf("  %-46s %8.1f GB/s\n", "checksum of 64 KiB (the receivers' check)",
			       refs.checksum_gbps);
			printf("  %-46s %8.0f ns\n", "one uncontended semop", refs.semop_ns);
			printf("  %-46s %8.0f ns\n", "an empty system call (getppid)",
			       refs.syscall_ns);
			printf("  %-46s %8.0f ns\n", "clock_gettime(CLOCK_MONOTONIC)", refs.clock_ns);
			if (refs.handoff_ns > 0)
				printf("  %-46s %8.0f ns  (%.0f..%.0f over the run)\n",
				       "a cache line from one CPU to the other",
				       refs.handoff_ns, refs.handoff_min, refs.handoff_max);
			if (refs.bare_gbps > 0) {
				printf("  %-46s %8.1f GB/s  (%.1f..%.1f over the run)\n",
				       "64 KiB through a bare ring, CPU to CPU (*)", refs.bare_gbps,
				       refs.bare_min, refs.bare_max);
				printf("  (*) two pinned processes: the library's copy in, its copy out\n"
				       "      and the receivers' check; two counters, no protocol\n");
			}
		}
	}

	/* summary */
	int any_fig = 0;

	for (int fi = 0; fi < NF; fi++)
		any_fig |= fig_on[fi];
	if (any_fig)
		printf("\nsummary (medians; round trip p50 in us, then messages/s or calls/s)\n");
	if (any_fig)
		printf("  %-16s %9s %9s %10s %10s %10s %10s %10s\n", "transport", "rtt p50",
		       "pinned", "64 B 1->1", "4K 1->1", "64K 1->1", "64 B 4->4", "calls 4->1");
	for (int ti = 0; ti < nsel && any_fig; ti++) {
		static const int cols[] = {F_RTT, F_RTT_PIN, F_1_64, F_1_4K, F_1_64K, F_MPMC, F_RPC};

		printf("  %-16s", sel[ti]->name);
		for (int k = 0; k < 7; k++) {
			const struct figure *g = &results[ti][cols[k]];
			int w = k < 2 ? 9 : 10;

			if (!fig_on[cols[k]])
				printf(" %*s", w, "-");
			else if (g->status == FIG_OK && k < 2)
				printf(" %*s", w, fmt_num(a, sizeof(a), g->p50_us));
			else if (g->status == FIG_OK)
				printf(" %*s", w, fmt_rate(a, sizeof(a), g->rate));
			else if (g->status == FIG_NA)
				printf(" %*s", w,
				       strstr(g->note, "KiB max") ? "n/a(size)"
				       : strncmp(g->note, "not yet", 7) == 0 ? "not yet"
									     : "n/a");
			else
				printf(" %*s", w, "FAILED");
		}
		printf("\n");
	}

	print_targets(lookup, have_refs ? refs.ring_gbps : 0, have_refs ? refs.bare_gbps : 0);

	printf("\n");
	loadavg(load1, sizeof(load1));
	if (write_csv(csv, mach, &refs, have_refs, started, load0, load1) == 0)
		printf("csv: %s\n", csv);
	else
		failures++;
	if (!fig_on[F_1_64] && !fig_on[F_1_4K] && !fig_on[F_1_64K])
		printf("plot: no 1 -> 1 figure measured; no plot\n");
	else if (write_plot(gp, png, mach, &refs, have_refs) == 0)
		run_gnuplot(gp, png);
	printf("load average after: %s\n", load1);
	printf("total time: %.1f s\n", (double)(now_ns() - t_begin) / 1e9);
	return failures ? 1 : 0;
}
