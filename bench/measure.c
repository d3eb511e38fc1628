/*
 * shmbox-bench: forked children started together, their CPU time, and the
 * other work of the busy-machine figures.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
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

#define MAX_CHILDREN (2 * MAX_PRODUCERS)
#define CHILD_ALARM_S 30 /* a child running this long is stuck: SIGALRM ends it */
#define LOAD_ALARM_S 600 /* a CPU-bound process never outlives a run by much */
#define LOAD_MAX 256

volatile sig_atomic_t g_interrupted;
int g_pin, g_load;

static struct child_res *g_res; /* MAP_SHARED: the children write, the parent reads */
static int g_ready_w = -1, g_go_r = -1;

uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
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

	return n > 64 ? n : 64;
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
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: wait4, read see EINTR */

	g_res = mmap(NULL, sizeof(struct child_res) * MAX_CHILDREN, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_res == MAP_FAILED)
		err(1, "mmap");
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

/* The parent sees EOF on `ready` once every child has closed it (or
 * died), and then closes `go`: EOF here. */
void child_go(struct child_res *res)
{
	char c;

	close(g_ready_w);
	while (read(g_go_r, &c, 1) == -1 && errno == EINTR)
		;
	res->t_start = now_ns();
}

/* This process on the i-th allowed CPU (round robin). */
static void pin_to(int i)
{
	cpu_set_t all, one;

	if (sched_getaffinity(0, sizeof(all), &all) == -1)
		return;
	i %= CPU_COUNT(&all);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &all) && i-- == 0) {
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

static void load_stop(const pid_t *pids, int n)
{
	kill_all(pids, n);
	for (int i = 0; i < n; i++)
		while (pids[i] > 0 && waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
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
			load_stop(pids, i);
			return -1;
		}
	}
	return n;
}

static void describe_status(char *buf, size_t len, int idx, int st)
{
	if (WIFEXITED(st) && g_res[idx].err[0] != '\0')
		snprintf(buf, len, "child %d: %s", idx, g_res[idx].err);
	else if (WIFEXITED(st))
		snprintf(buf, len, "child %d exited with status %d", idx, WEXITSTATUS(st));
	else if (WTERMSIG(st) == SIGALRM) /* signalled: wait4 reports no stops */
		snprintf(buf, len, "child %d stuck: killed after %d s", idx, CHILD_ALARM_S);
	else
		snprintf(buf, len, "child %d killed by signal %d (%s)", idx, WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
}

/* Reap the n children, adding up their CPU time; on the first that
 * failed, kill the others.  The cause in rr->err: a child that said why,
 * else one that died on its own, else (if nothing is said yet) one that we
 * killed.  After them in pids, the nload CPU-bound processes.  0, or -1. */
static int reap(pid_t *pids, int n, int nload, int alive, bool failed, struct run_result *rr)
{
	int cause = 0; /* 3, 2, 1 as above */

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
		for (int i = 0; i < n + nload; i++)
			if (pids[i] == pid)
				idx = i;
		if (idx >= 0)
			pids[idx] = 0; /* never to be killed: the pid may be reused */
		if (idx < 0 || idx >= n)
			continue;
		alive--;
		rr->cpu_s += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			continue;
		rank = WIFEXITED(st) && g_res[idx].err[0] != '\0'	? 3
		       : WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 1
								    : 2;
		if (rank > cause && (rank > 1 || rr->err[0] == '\0')) {
			describe_status(rr->err, sizeof(rr->err), idx, st);
			cause = rank;
		}
		if (!failed)
			kill_all(pids, n);
		failed = true;
	}
	return failed ? -1 : 0;
}

/* The CPU-bound processes of g_load are fresh for every repetition: ones
 * that lived through the last transport's repetition carry the scheduler's
 * memory of it (how much CPU they were denied) into the next one's.  They
 * are not counted in the CPU time.  Each child closes `ready` when it has
 * attached, and starts when `go` closes. */
int run_children(int n, child_fn fn, void *arg, struct run_result *rr)
{
	pid_t pids[MAX_CHILDREN + LOAD_MAX] = {0}, *load = pids + n;
	int ready[2] = {-1, -1}, go[2], alive, nload = 0, rc;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	char c;

	memset(rr, 0, sizeof(*rr));
	memset(g_res, 0, sizeof(struct child_res) * MAX_CHILDREN);
	rr->res = g_res;
	/* the load first: it must not hold the pipes' ends open */
	if (g_load != LOAD_NONE && (nload = load_start(load)) == -1)
		return snprintf(rr->err, sizeof(rr->err), "fork (the load): %s", strerror(errno)), -1;
	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1) {
		snprintf(rr->err, sizeof(rr->err), "pipe: %s", strerror(errno));
		close(ready[0]); /* -1 (EBADF) if the first pipe2 failed */
		close(ready[1]);
		load_stop(load, nload);
		return -1;
	}
	fflush(NULL);
	for (alive = 0; alive < n; alive++) {
		if ((pids[alive] = fork()) == -1) {
			snprintf(rr->err, sizeof(rr->err), "fork: %s", strerror(errno));
			pids[alive] = 0;
			break;
		}
		if (pids[alive] == 0) {
			child_signals(CHILD_ALARM_S);
			signal(SIGPIPE, SIG_IGN);
			close(ready[0]);
			close(go[1]);
			g_ready_w = ready[1];
			g_go_r = go[0];
			if (g_pin != PIN_NONE)
				pin_to(g_pin == PIN_ONE ? 0 : alive);
			_exit(fn(alive, arg, &g_res[alive]) == 0 ? 0 : 1);
		}
	}
	close(ready[1]);
	close(go[0]);
	/* EOF once every child has attached or died (a stuck one by its alarm) */
	while (alive == n && read(ready[0], &c, 1) == -1 && errno == EINTR && !g_interrupted)
		;
	rc = alive < n || g_interrupted ? -1 : 0;
	if (rc == -1)
		kill_all(pids, alive);
	close(go[1]); /* every child sees EOF at once */
	close(ready[0]);
	rc = reap(pids, n, nload, alive, rc == -1, rr);
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
