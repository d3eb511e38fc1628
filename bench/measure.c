/*
 * shmbox-bench: timing, children, CPU time, medians, message checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"
#include "transports.h"

/* A child still running after this long is stuck: SIGALRM ends it. */
#define CHILD_ALARM_S 30
/* Children must all be ready within this long. */
#define READY_TIMEOUT_MS 20000

volatile sig_atomic_t g_interrupted;
int g_pin;
int g_load;
int g_reps = 5;
double g_target_s = 0.25;

static struct child_res *g_res; /* MAP_SHARED: the children write, the parent reads */
static int g_ready_w = -1, g_go_r = -1;

uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- small helpers for the transports ---- */

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

int make_key_file(char *buf, size_t len, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(buf, len, "%s/shmbox-bench.XXXXXX", tmp) >= len) {
		snprintf(err, errlen, "TMPDIR too long");
		return -1;
	}
	fd = mkstemp(buf);
	if (fd == -1) {
		snprintf(err, errlen, "mkstemp %s: %s", buf, strerror(errno));
		buf[0] = '\0';
		return -1;
	}
	close(fd);
	return 0;
}

void sweep_key(const char *path, int proj)
{
	key_t key = ftok(path, proj);
	int id;

	if (key == -1)
		return;
	if ((id = shmget(key, 0, 0)) != -1 && shmctl(id, IPC_RMID, NULL) == 0)
		fprintf(stderr, "shmbox-bench: removed a segment left at %s\n", path);
	if ((id = semget(key, 0, 0)) != -1 && semctl(id, 0, IPC_RMID) == 0)
		fprintf(stderr, "shmbox-bench: removed a semaphore set left at %s\n", path);
}

/* ---- messages ---- */

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
	unsigned char *b = m->var[v];
	struct msg_hdr h = {
		.magic = MSG_MAGIC,
		.kind = (uint16_t)kind,
		.producer = (uint16_t)producer,
		.len = (uint32_t)m->size,
		.variant = v,
		.seq = seq,
		.check = m->sum[v],
	};

	memcpy(b, &h, sizeof(h));
	return b;
}

int msg_check(const struct msgset *m, const void *buf, ssize_t len, unsigned kinds,
	      struct msg_hdr *h, char *err, size_t errlen)
{
	uint64_t sum;

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
	sum = payload_sum((const unsigned char *)buf + sizeof(*h), m->size - sizeof(*h));
	if (sum != h->check) {
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

void measure_init(void)
{
	struct sigaction sa;

	g_res = mmap(NULL, sizeof(struct child_res) * MAX_CHILDREN, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_res == MAP_FAILED) {
		perror("shmbox-bench: mmap");
		exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: wait4 and poll return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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
	ssize_t n;

	while (write(g_ready_w, &c, 1) == -1 && errno == EINTR)
		;
	while ((n = read(g_go_r, &c, 1)) == -1 && errno == EINTR)
		;
	/* n == 0: the parent closed the pipe, everyone is ready */
	res->sync_done = 1;
	res->t_start = now_ns();
}

bool child_exited(pid_t child)
{
	siginfo_t si = {0};

	return waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == child;
}

void pin_to(int i)
{
	cpu_set_t all, one;
	int n, k = 0;

	if (sched_getaffinity(0, sizeof(all), &all) == -1 || (n = CPU_COUNT(&all)) == 0)
		return;
	i %= n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		if (k++ == i) {
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

static void kill_all(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
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

static int run_children_now(int n, child_fn fn, void *arg, struct run_result *rr, pid_t *load,
			    int nload)
{
	pid_t pids[MAX_CHILDREN] = {0};
	int ready[2], go[2], alive = 0, failed = 0, got = 0, cause_rank = 0;
	char cause[400] = "";
	double cpu = 0;
	uint64_t t0 = UINT64_MAX, t1 = 0;

	memset(rr, 0, sizeof(*rr));
	memset(g_res, 0, sizeof(struct child_res) * MAX_CHILDREN);
	rr->res = g_res;
	if (n > MAX_CHILDREN) {
		snprintf(rr->err, sizeof(rr->err), "too many children");
		return -1;
	}
	if (pipe2(ready, O_CLOEXEC) == -1) {
		snprintf(rr->err, sizeof(rr->err), "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(go, O_CLOEXEC) == -1) {
		snprintf(rr->err, sizeof(rr->err), "pipe: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	fflush(NULL);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			int rc;

			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			signal(SIGPIPE, SIG_IGN);
			close(ready[0]);
			close(go[1]);
			g_ready_w = ready[1];
			g_go_r = go[0];
			alarm(CHILD_ALARM_S);
			if (g_pin != PIN_NONE)
				pin_to(g_pin == PIN_ONE ? 0 : i);
			rc = fn(i, arg, &g_res[i]);
			if (rc != 0 && !g_res[i].sync_done) {
				char c = 'E';

				if (write(g_ready_w, &c, 1) == -1)
					_exit(2);
			}
			_exit(rc == 0 ? 0 : 1);
		}
		if (pid == -1) {
			snprintf(rr->err, sizeof(rr->err), "fork: %s", strerror(errno));
			failed = 1;
			break;
		}
		pids[i] = pid;
		alive++;
	}
	close(ready[1]);
	close(go[0]);

	/* Everyone ready?  Then close `go`: every child sees EOF at once. */
	while (!failed && got < n) {
		struct pollfd p = {.fd = ready[0], .events = POLLIN};
		char c[MAX_CHILDREN];
		int r = poll(&p, 1, READY_TIMEOUT_MS);
		ssize_t k;

		if (g_interrupted) {
			snprintf(rr->err, sizeof(rr->err), "interrupted");
			failed = 1;
		} else if (r == 0) {
			snprintf(rr->err, sizeof(rr->err), "children not ready after %d s",
				 READY_TIMEOUT_MS / 1000);
			failed = 1;
		} else if (r > 0) {
			k = read(ready[0], c, sizeof(c));
			for (ssize_t j = 0; j < k; j++)
				if (c[j] == 'E')
					failed = 1; /* its reason comes with its exit */
			if (k == 0)
				failed = 1;
			if (k > 0)
				got += (int)k;
		}
	}
	if (failed)
		kill_all(pids, alive);
	close(go[1]);
	close(ready[0]);

	while (alive > 0) {
		struct rusage ru;
		int st, idx = -1;
		pid_t pid = wait4(-1, &st, 0, &ru);

		if (pid == -1) {
			if (errno == EINTR) {
				if (g_interrupted && !failed) {
					snprintf(rr->err, sizeof(rr->err), "interrupted");
					failed = 1;
					kill_all(pids, n);
				}
				continue;
			}
			break;
		}
		for (int i = 0; i < n; i++)
			if (pids[i] == pid)
				idx = i;
		for (int i = 0; idx < 0 && i < nload; i++)
			if (load[i] == pid)
				load[i] = 0; /* a load process died early: never kill its pid */
		if (idx < 0)
			continue;
		pids[idx] = 0;
		alive--;
		cpu += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			/* The cause: a child that said why, else one that died on
			 * its own; not the ones killed because of it. */
			int rank = WIFEXITED(st) && g_res[idx].err[0] != '\0' ? 3
				   : WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 1
										 : 2;

			if (rank > cause_rank) {
				describe_status(cause, sizeof(cause), idx, st);
				cause_rank = rank;
			}
			if (!failed)
				kill_all(pids, n);
			failed = 1;
		}
	}
	if (cause_rank >= 2 || (cause_rank == 1 && rr->err[0] == '\0'))
		snprintf(rr->err, sizeof(rr->err), "%s", cause);
	if (failed)
		return -1;
	for (int i = 0; i < n; i++) {
		if (g_res[i].t_start != 0 && g_res[i].t_start < t0)
			t0 = g_res[i].t_start;
		if (g_res[i].t_end > t1)
			t1 = g_res[i].t_end;
	}
	if (t1 <= t0) {
		snprintf(rr->err, sizeof(rr->err), "no timing from the children");
		return -1;
	}
	rr->wall_s = (double)(t1 - t0) / 1e9;
	rr->cpu_s = cpu;
	return 0;
}

/* ---- repetitions ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(double *v, int n)
{
	if (n <= 0)
		return NAN;
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define PILOT_MIN_S 0.04

static void series_fail(struct series *s, const char *why)
{
	s->f->status = FIG_FAIL;
	snprintf(s->f->note, sizeof(s->f->note), "FAILED: %s",
		 g_interrupted ? "interrupted" : why);
}

/* One run of n operations into o: 0, or -1 and the series failed. */
static int series_run(struct series *s, uint64_t n, struct rep_out *o)
{
	memset(o, 0, sizeof(*o));
	if (s->fn(s->arg, n, o) == -1 || g_interrupted) {
		series_fail(s, o->err);
		return -1;
	}
	return 0;
}

/* Pilot runs (also warm-ups): grow n until a run lasts PILOT_MIN_S, then
 * scale it so that one repetition takes about g_target_s. */
static void series_calibrate(struct series *s)
{
	struct rep_out o;
	uint64_t n = s->n0 > 0 ? s->n0 : 1;

	for (int i = 0;; i++) {
		if (series_run(s, n, &o) == -1)
			return;
		if (o.wall_s >= PILOT_MIN_S || i >= 8)
			break;
		double k = 2 * PILOT_MIN_S / (o.wall_s > 1e-5 ? o.wall_s : 1e-5);

		n = (uint64_t)((double)n * (k < 2 ? 2 : k > 50 ? 50 : k));
	}
	n = (uint64_t)((double)n * g_target_s / o.wall_s);
	if (n < 200)
		n = 200;
	s->f->n = n;
	snprintf(s->f->config, sizeof(s->f->config), "%s", o.config);
}

/* One repetition of the calibrated size; its results kept.  A repetition
 * that ran over twice its time (a transport whose speed swings, like a
 * spinning one on a busy machine) shortens the later ones back to it:
 * calibrated in a fast phase, they could last 25 times too long. */
static void series_rep(struct series *s)
{
	struct rep_out o;
	int r = s->done;

	if (series_run(s, s->f->n, &o) == -1)
		return;
	if (o.wall_s > 2 * g_target_s) {
		uint64_t n = (uint64_t)((double)s->f->n * g_target_s / o.wall_s);

		s->f->n = n < 200 ? 200 : n;
	}
	s->rate[r] = (double)o.ops / o.wall_s;
	s->cpu[r] = o.cpu_s / (double)o.ops * 1e6;
	s->p50[r] = o.p50_us;
	s->p99[r] = o.p99_us;
	s->done++;
}

/* The medians of the repetitions into the figure. */
static void series_finish(struct series *s)
{
	struct figure *f = s->f;
	int reps = s->done;

	f->reps = reps;
	f->status = FIG_OK;
	f->rate = median(s->rate, reps); /* sorts rate */
	f->rate_min = s->rate[0];
	f->rate_max = s->rate[reps - 1];
	f->cpu_us = median(s->cpu, reps);
	f->p50_us = median(s->p50, reps);
	f->p99_us = median(s->p99, reps);
}

static int taking_part(const struct series *s)
{
	return s->f->status == FIG_NONE;
}

/* Does group g (series g*group .. g*group+group-1) still take part? */
static bool group_taking_part(const struct series *s, int ns, int group, int g)
{
	for (int i = g * group; i < (g + 1) * group && i < ns; i++)
		if (taking_part(&s[i]))
			return true;
	return false;
}

/* Round r: one repetition of every series still taking part, starting with
 * the (r mod their number)-th group of them, so that none is always first
 * and a group's series always run one after the other. */
static void series_round(struct series *s, int ns, int group, int r)
{
	int ngroups = (ns + group - 1) / group, m = 0, first = 0;

	for (int g = 0; g < ngroups; g++)
		m += group_taking_part(s, ns, group, g);
	if (m == 0)
		return;
	for (int g = 0, k = r % m; g < ngroups; g++) {
		if (group_taking_part(s, ns, group, g) && k-- == 0) {
			first = g * group;
			break;
		}
	}
	for (int j = 0; j < ns && !g_interrupted; j++) {
		struct series *x = &s[(first + j) % ns];

		if (taking_part(x))
			series_rep(x);
	}
}

void measure_interleaved(struct series *s, int ns, int group)
{
	int reps = g_reps < MAX_REPS ? g_reps : MAX_REPS;

	for (int i = 0; i < ns; i++)
		s[i].done = 0;
	for (int i = 0; i < ns && !g_interrupted; i++)
		if (taking_part(&s[i]))
			series_calibrate(&s[i]);
	for (int r = 0; r < reps && !g_interrupted; r++)
		series_round(s, ns, group < 1 ? 1 : group, r);
	for (int i = 0; i < ns; i++) {
		if (!taking_part(&s[i]))
			continue; /* n/a, or failed */
		if (g_interrupted || s[i].done == 0)
			series_fail(&s[i], "no repetition ran");
		else
			series_finish(&s[i]);
	}
}

/* The hogs are fresh for every repetition: ones that lived through the
 * last transport's repetition carry the scheduler's memory of it (how much
 * CPU they were denied) into the next one's. */
int run_children(int n, child_fn fn, void *arg, struct run_result *rr)
{
	pid_t load[LOAD_MAX];
	int nload = 0, rc;

	if (g_load != LOAD_NONE && (nload = load_start(load, LOAD_MAX, g_load)) == -1) {
		memset(rr, 0, sizeof(*rr));
		rr->res = g_res;
		snprintf(rr->err, sizeof(rr->err), "fork (the load): %s", strerror(errno));
		return -1;
	}
	rc = run_children_now(n, fn, arg, rr, load, nload);
	load_stop(load, nload);
	return rc;
}
