/*
 * shmbox-bench: messages and their check, forked children started
 * together, their CPU time, the other work of the busy-machine figures,
 * and the interleaved repetitions with their medians.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MSG_MAGIC 0x53424d42u /* "SBMB" */
/* A child still running after this long is stuck: SIGALRM ends it. */
#define CHILD_ALARM_S 30
/* Children must all be ready within this long. */
#define READY_TIMEOUT_MS 20000
#define LOAD_ALARM_S 600 /* a CPU-bound process never outlives a run by much */
#define LOAD_MAX 256
#define QUEUE_MIN_DEPTH 64
#define MAX_GROUPS 16 /* transports in one figure */

volatile sig_atomic_t g_interrupted;
int g_pin, g_load;
int g_reps = 5;
double g_rep_s = 0.25;

static struct child_res *g_res; /* MAP_SHARED: the children write, the parent reads */
static int g_ready_w = -1, g_go_r = -1;

uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

long read_proc_long(const char *path, long fallback)
{
	FILE *f = fopen(path, "r");
	long v;

	if (f == NULL)
		return fallback;
	if (fscanf(f, "%ld", &v) != 1)
		v = fallback;
	fclose(f);
	return v;
}

size_t queue_depth(size_t msg_size)
{
	long bytes = read_proc_long("/proc/sys/fs/pipe-max-size", 1048576);
	size_t n = bytes > 0 ? (size_t)bytes / msg_size : 0;

	return n > QUEUE_MIN_DEPTH ? n : QUEUE_MIN_DEPTH;
}

/* ---- messages ---- */

/* The receivers' checksum of every payload.  It runs once per message in
 * every transport's receiver, so its cost is added to every figure alike;
 * a slow check would hide the differences the bench is there to show.  A
 * Fletcher-style sum over 64-bit words in eight lanes (two 32-byte
 * vectors): it sees every byte and where each word is.  The AVX2 build is
 * chosen at load time where the CPU has it; both compute the same value. */
typedef uint64_t v4u64 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static uint64_t payload_sum(const void *p, size_t n)
{
	const unsigned char *s = p;
	v4u64 a0 = {1, 2, 3, 4}, a1 = {5, 6, 7, 8}, b0 = {0, 0, 0, 0}, b1 = {0, 0, 0, 0};
	uint64_t r;
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		v4u64 w0, w1;

		memcpy(&w0, s + i, 32);
		memcpy(&w1, s + i + 32, 32);
		a0 += w0;
		a1 += w1;
		b0 += a0;
		b1 += a1;
	}
	if (i + 32 <= n) { /* a 64 B message has 32 B of payload: keep it short */
		v4u64 w;

		memcpy(&w, s + i, 32);
		a0 += w;
		b0 += a0;
		i += 32;
	}
	/* Lanes folded with distinct small factors: independent multiplies,
	 * not a chain, so a short message's check stays short. */
	r = a0[0] + 3 * a0[1] + 5 * a0[2] + 7 * a0[3] + 9 * a1[0] + 11 * a1[1] + 13 * a1[2] +
	    15 * a1[3];
	r ^= (b0[0] + 17 * b0[1] + 19 * b0[2] + 23 * b0[3] + 29 * b1[0] + 31 * b1[1] +
	      37 * b1[2] + 41 * b1[3]) *
	     0x9e3779b97f4a7c15ull;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		r = (r ^ w) * 0x100000001b3ull;
	}
	for (; i < n; i++)
		r = (r ^ s[i]) * 0x100000001b3ull;
	return r ^ n;
}

unsigned char *buf_alloc(size_t size)
{
	void *p = NULL;

	/* headroom, then the message on a 64-byte boundary */
	if (posix_memalign(&p, 64, BENCH_HEADROOM + size) != 0)
		return NULL;
	memset(p, 0, BENCH_HEADROOM + size);
	return (unsigned char *)p + BENCH_HEADROOM;
}

void buf_free(unsigned char *p)
{
	if (p != NULL)
		free(p - BENCH_HEADROOM);
}

int msgset_init(struct msgset *m, size_t size)
{
	memset(m, 0, sizeof(*m));
	m->size = size;
	if (size < sizeof(struct msg_hdr))
		return -1;
	for (int v = 0; v < NVAR; v++) {
		uint64_t x = 0x2545f4914f6cdd1dull ^ (size * 0x9e3779b97f4a7c15ull) ^ (uint64_t)v;

		m->var[v] = buf_alloc(size);
		if (m->var[v] == NULL) {
			msgset_free(m);
			return -1;
		}
		for (size_t i = sizeof(struct msg_hdr); i < size; i++) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			m->var[v][i] = (unsigned char)((x * 0x2545f4914f6cdd1dull) >> 56);
		}
		m->sum[v] = payload_sum(m->var[v] + sizeof(struct msg_hdr),
					size - sizeof(struct msg_hdr));
	}
	return 0;
}

void msgset_free(struct msgset *m)
{
	for (int v = 0; v < NVAR; v++) {
		buf_free(m->var[v]);
		m->var[v] = NULL;
	}
}

static unsigned variant_of(unsigned kind, uint64_t seq)
{
	return (unsigned)((seq + (kind == K_REP)) % NVAR); /* a reply never equals its request */
}

unsigned char *msg_make(struct msgset *m, unsigned kind, unsigned producer, uint64_t seq)
{
	unsigned v = variant_of(kind, seq);
	struct msg_hdr h = {
		.magic = MSG_MAGIC,
		.kind = (uint16_t)kind,
		.producer = (uint16_t)producer,
		.len = (uint32_t)m->size,
		.variant = v,
		.seq = seq,
		.check = m->sum[v],
	};

	memcpy(m->var[v], &h, sizeof(h));
	return m->var[v];
}

int msg_check(const struct msgset *m, const void *buf, ssize_t len, unsigned kinds,
	      struct msg_hdr *h, char *err, size_t errlen)
{
	if (len != (ssize_t)m->size) {
		snprintf(err, errlen, "received %zd bytes, expected %zu", len, m->size);
		return -1;
	}
	memcpy(h, buf, sizeof(*h));
	if (h->magic != MSG_MAGIC || h->len != m->size || h->kind >= 32 ||
	    !(kinds & (1u << h->kind))) {
		snprintf(err, errlen, "bad header (magic %#x kind %u len %u)", h->magic, h->kind,
			 h->len);
		return -1;
	}
	if (h->variant != variant_of(h->kind, h->seq) || h->check != m->sum[h->variant]) {
		snprintf(err, errlen, "seq %llu: wrong payload variant or checksum in header",
			 (unsigned long long)h->seq);
		return -1;
	}
	if (payload_sum((const unsigned char *)buf + sizeof(*h), m->size - sizeof(*h)) !=
	    h->check) {
		snprintf(err, errlen, "seq %llu from %u: payload checksum mismatch",
			 (unsigned long long)h->seq, h->producer);
		return -1;
	}
	return 0;
}

/* ---- children ---- */

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

void measure_init(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: wait4, poll see EINTR */

	g_res = mmap(NULL, sizeof(struct child_res) * MAX_CHILDREN, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_res == MAP_FAILED) {
		perror("shmbox-bench: mmap");
		exit(1);
	}
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);
}

/* In a child: Ctrl-C and the like end it (the parent's handlers only set
 * a flag), and a stuck one ends after `alarm_s`. */
static void child_signals(unsigned alarm_s)
{
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		signal(stop_signals[i], SIG_DFL);
	alarm(alarm_s);
}

int child_fail(struct child_res *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
	return -1;
}

void child_go(struct child_res *res)
{
	char c = 'R';

	while (write(g_ready_w, &c, 1) == -1 && errno == EINTR)
		;
	/* EOF when the parent closes the pipe: everyone is ready */
	while (read(g_go_r, &c, 1) == -1 && errno == EINTR)
		;
	res->started = 1;
	res->t_start = now_ns();
}

/* This process on the i-th allowed CPU (round robin). */
static void pin_to(int i)
{
	cpu_set_t all, one;
	int n, k = 0;

	if (sched_getaffinity(0, sizeof(all), &all) == -1 || (n = CPU_COUNT(&all)) == 0)
		return;
	i %= n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &all) && k++ == i) {
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

static void kill_all(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
}

/* The other work on a busy machine, g_load's kind: one CPU-bound process
 * per CPU we may use, unpinned, as a busy host's compilers or batch jobs
 * would be (a process that gives its CPU away may wait a whole time slice
 * to get it back); or one pinned where PIN_ONE puts the children, the worst
 * case for a spinning waiter, whose peer can run only when it stops.  How
 * many started, or -1 if fork failed. */
static int load_start(pid_t *pids)
{
	cpu_set_t allowed;
	pid_t parent = getpid();
	int n = 1;

	if (g_load == LOAD_PER_CPU && sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
		n = CPU_COUNT(&allowed) < LOAD_MAX ? CPU_COUNT(&allowed) : LOAD_MAX;
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			volatile unsigned long spin = 0;

			if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
				_exit(1);
			child_signals(LOAD_ALARM_S);
			if (g_load == LOAD_ONE_CPU)
				pin_to(0);
			for (;;)
				spin++;
		}
		if (pids[i] == -1) {
			kill_all(pids, i);
			while (i-- > 0)
				waitpid(pids[i], NULL, 0);
			return -1;
		}
	}
	return n;
}

static void load_stop(const pid_t *pids, int n)
{
	kill_all(pids, n);
	for (int i = 0; i < n; i++)
		while (pids[i] > 0 && waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
}

static void describe_status(char *buf, size_t len, int idx, int st)
{
	if (WIFEXITED(st) && g_res[idx].err[0] != '\0')
		snprintf(buf, len, "child %d: %s", idx, g_res[idx].err);
	else if (WIFEXITED(st))
		snprintf(buf, len, "child %d exited with status %d", idx, WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		snprintf(buf, len, "child %d stuck: killed after %d s", idx, CHILD_ALARM_S);
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "child %d killed by signal %d (%s)", idx, WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "child %d: status %#x", idx, st);
}

/* Fork the children; each tells `ready` when it has attached, and starts
 * when `go` closes.  How many were forked. */
static int fork_children(int n, child_fn fn, void *arg, pid_t *pids, int ready[2], int go[2],
			 struct run_result *rr)
{
	fflush(NULL);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			int rc;
			char c = 'E';

			child_signals(CHILD_ALARM_S);
			signal(SIGPIPE, SIG_IGN);
			close(ready[0]);
			close(go[1]);
			g_ready_w = ready[1];
			g_go_r = go[0];
			if (g_pin != PIN_NONE)
				pin_to(g_pin == PIN_ONE ? 0 : i);
			rc = fn(i, arg, &g_res[i]);
			if (rc != 0 && !g_res[i].started && write(g_ready_w, &c, 1) == -1)
				_exit(2);
			_exit(rc == 0 ? 0 : 1);
		}
		if (pid == -1) {
			snprintf(rr->err, sizeof(rr->err), "fork: %s", strerror(errno));
			return i;
		}
		pids[i] = pid;
	}
	return n;
}

/* Wait until all n children are ready: 0, or -1 with rr->err. */
static int await_ready(int fd, int n, struct run_result *rr)
{
	for (int got = 0; got < n;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char c[MAX_CHILDREN];
		int r = poll(&p, 1, READY_TIMEOUT_MS);
		ssize_t k;

		if (g_interrupted) {
			snprintf(rr->err, sizeof(rr->err), "interrupted");
			return -1;
		}
		if (r == 0) {
			snprintf(rr->err, sizeof(rr->err), "children not ready after %d s",
				 READY_TIMEOUT_MS / 1000);
			return -1;
		}
		if (r < 0)
			continue;
		k = read(fd, c, sizeof(c));
		if (k <= 0 || memchr(c, 'E', (size_t)k) != NULL)
			return -1; /* a child failed: its reason comes with its exit */
		got += (int)k;
	}
	return 0;
}

/* Reap the children, adding up their CPU time; on the first that failed,
 * kill the others.  0, or -1 with rr->err (if not already set). */
static int reap(pid_t *pids, int n, int alive, bool failed, pid_t *load, int nload,
		struct run_result *rr)
{
	int cause_rank = 0;
	char cause[400] = "";

	while (alive > 0) {
		struct rusage ru;
		int st, idx = -1, rank;
		pid_t pid = wait4(-1, &st, 0, &ru);

		if (pid == -1 && errno == EINTR) {
			if (g_interrupted && !failed) {
				snprintf(rr->err, sizeof(rr->err), "interrupted");
				failed = true;
				kill_all(pids, n);
			}
			continue;
		}
		if (pid == -1)
			break;
		for (int i = 0; i < n; i++)
			if (pids[i] == pid)
				idx = i;
		for (int i = 0; idx < 0 && i < nload; i++)
			if (load[i] == pid)
				load[i] = 0; /* it died early: never kill its pid */
		if (idx < 0)
			continue;
		pids[idx] = 0;
		alive--;
		rr->cpu_s += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			continue;
		/* The cause: a child that said why, else one that died on its own;
		 * not the ones killed because of it. */
		rank = WIFEXITED(st) && g_res[idx].err[0] != '\0'	? 3
		       : WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 1
								    : 2;
		if (rank > cause_rank) {
			describe_status(cause, sizeof(cause), idx, st);
			cause_rank = rank;
		}
		if (!failed)
			kill_all(pids, n);
		failed = true;
	}
	if (cause_rank >= 2 || (cause_rank == 1 && rr->err[0] == '\0'))
		snprintf(rr->err, sizeof(rr->err), "%s", cause);
	return failed ? -1 : 0;
}

/* The CPU-bound processes of g_load are fresh for every repetition: ones
 * that lived through the last transport's repetition carry the scheduler's
 * memory of it (how much CPU they were denied) into the next one's.  They
 * are not counted in the CPU time. */
int run_children(int n, child_fn fn, void *arg, struct run_result *rr)
{
	pid_t pids[MAX_CHILDREN] = {0}, load[LOAD_MAX];
	int ready[2] = {-1, -1}, go[2], alive, nload = 0, rc;
	uint64_t t0 = UINT64_MAX, t1 = 0;

	memset(rr, 0, sizeof(*rr));
	memset(g_res, 0, sizeof(struct child_res) * MAX_CHILDREN);
	rr->res = g_res;
	if (n > MAX_CHILDREN)
		return snprintf(rr->err, sizeof(rr->err), "too many children"), -1;
	/* the load first: it must not hold the pipes' ends open */
	if (g_load != LOAD_NONE && (nload = load_start(load)) == -1)
		return snprintf(rr->err, sizeof(rr->err), "fork (the load): %s", strerror(errno)), -1;
	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1) {
		snprintf(rr->err, sizeof(rr->err), "pipe: %s", strerror(errno));
		for (int i = 0; i < 2; i++)
			if (ready[i] >= 0) /* pipe2 left it -1 if it failed */
				close(ready[i]);
		load_stop(load, nload);
		return -1;
	}
	alive = fork_children(n, fn, arg, pids, ready, go, rr);
	close(ready[1]);
	close(go[0]);
	rc = alive < n || await_ready(ready[0], n, rr) == -1 ? -1 : 0;
	if (rc == -1)
		kill_all(pids, alive);
	close(go[1]); /* every child sees EOF at once */
	close(ready[0]);
	rc = reap(pids, n, alive, rc == -1, load, nload, rr);
	load_stop(load, nload);
	if (rc == -1)
		return -1;
	for (int i = 0; i < n; i++) {
		if (g_res[i].t_start != 0 && g_res[i].t_start < t0)
			t0 = g_res[i].t_start;
		if (g_res[i].t_end > t1)
			t1 = g_res[i].t_end;
	}
	if (t1 <= t0)
		return snprintf(rr->err, sizeof(rr->err), "no timing from the children"), -1;
	rr->wall_s = (double)(t1 - t0) / 1e9;
	return 0;
}

/* ---- repetitions ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n) /* sorts v */
{
	if (n <= 0)
		return NAN;
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define PILOT_MIN_S 0.04
#define MIN_OPS 200

static void fail(struct work *w, const char *why)
{
	w->r->status = FIG_FAIL;
	snprintf(w->r->note, sizeof(w->r->note), "FAILED: %s", g_interrupted ? "interrupted" : why);
}

/* One run of n operations into o: 0, or -1 and w failed. */
static int run(struct work *w, uint64_t n, struct rep_out *o)
{
	memset(o, 0, sizeof(*o));
	if (work_rep(w, n, o) == -1 || g_interrupted) {
		fail(w, o->msg);
		return -1;
	}
	return 0;
}

/* Pilot runs (also warm-ups): grow n until a run lasts PILOT_MIN_S, then
 * scale it so that one repetition takes about g_rep_s. */
static void calibrate(struct work *w)
{
	struct rep_out o;
	uint64_t n = w->n0;

	for (int i = 0;; i++) {
		double k;

		if (run(w, n, &o) == -1)
			return;
		if (o.wall_s >= PILOT_MIN_S || i >= 8)
			break;
		k = 2 * PILOT_MIN_S / (o.wall_s > 1e-5 ? o.wall_s : 1e-5);
		n = (uint64_t)((double)n * (k < 2 ? 2 : k > 50 ? 50 : k));
	}
	n = (uint64_t)((double)n * g_rep_s / o.wall_s);
	w->r->n = n < MIN_OPS ? MIN_OPS : n;
	snprintf(w->r->config, sizeof(w->r->config), "%s", o.msg);
}

/* One repetition of the calibrated size; its results kept.  A repetition
 * that ran over twice its time (a transport whose speed swings, like a
 * spinning one on a busy machine) shortens the later ones back to it:
 * calibrated in a fast phase, they could last 25 times too long. */
static void repeat(struct work *w)
{
	struct rep_out o;
	int r = w->done;

	if (run(w, w->r->n, &o) == -1)
		return;
	if (o.wall_s > 2 * g_rep_s) {
		uint64_t n = (uint64_t)((double)w->r->n * g_rep_s / o.wall_s);

		w->r->n = n < MIN_OPS ? MIN_OPS : n;
	}
	w->rate[r] = (double)o.ops / o.wall_s;
	w->cpu[r] = o.cpu_s / (double)o.ops * 1e6;
	w->p50[r] = o.p50_us;
	w->p99[r] = o.p99_us;
	w->done++;
}

static void finish(struct work *w)
{
	struct result *f = w->r;

	if (g_interrupted || w->done == 0) {
		fail(w, "no repetition ran");
		return;
	}
	f->reps = w->done;
	f->status = FIG_OK;
	f->rate = median(w->rate, w->done);
	f->rate_min = w->rate[0];
	f->rate_max = w->rate[w->done - 1];
	f->cpu_us = median(w->cpu, w->done);
	f->p50_us = median(w->p50, w->done);
	f->p99_us = median(w->p99, w->done);
}

static bool taking_part(const struct work *w)
{
	return w->r->status == FIG_NONE;
}

/* Round r: one repetition of every work still taking part, starting with
 * the (r mod their number)-th group of them, so that none is always first
 * and a group's works always run one after the other.  A virtual machine
 * goes through slow and fast phases lasting seconds: interleaved, each
 * phase falls on every transport alike. */
static void round_of(struct work *w, int nw, int group, int r)
{
	int first[MAX_GROUPS], m = 0;

	for (int i = 0; i < nw && m < MAX_GROUPS; i += group) {
		bool any = false;

		for (int j = i; j < i + group && j < nw; j++)
			any |= taking_part(&w[j]);
		if (any)
			first[m++] = i;
	}
	for (int j = 0; j < nw && m > 0 && !g_interrupted; j++)
		if (taking_part(&w[(first[r % m] + j) % nw]))
			repeat(&w[(first[r % m] + j) % nw]);
}

void measure_interleaved(struct work *w, int nw, int group)
{
	int reps = g_reps < MAX_REPS ? g_reps : MAX_REPS;

	for (int i = 0; i < nw && !g_interrupted; i++)
		if (taking_part(&w[i]))
			calibrate(&w[i]);
	for (int r = 0; r < reps && !g_interrupted; r++)
		round_of(w, nw, group, r);
	for (int i = 0; i < nw; i++) {
		if (taking_part(&w[i]))
			finish(&w[i]);
		msgset_free(&w[i].m);
	}
}
