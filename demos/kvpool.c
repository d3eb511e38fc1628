/*
 * kvd's worker pool: the daemon forks the workers, then waits for signals
 * with sigwaitinfo (they are blocked, so none is lost between two looks).
 * A worker that dies (killed, or stopped by someone else's SIGTERM) is
 * replaced; one that exits with an error stops the daemon, since its
 * replacement would fail the same way.  SIGTERM, SIGINT or SIGHUP stops
 * the workers: each finishes the call it is answering and exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvd.h"

/* How long stopping workers get before they are killed. */
#define STOP_WAIT_S 5

struct pool {
	struct kvd *d;
	pid_t *pids; /* 0: none running */
	unsigned live;
};

static int spawn(struct pool *p, unsigned id)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(kvd_worker(p->d, id, parent));
	if (pid == -1) {
		kvd_log(LOG_ERR, "fork: %s", strerror(errno));
		return -1;
	}
	p->pids[id] = pid;
	p->live++;
	kvd_log(LOG_INFO, "worker %u started (pid %d)", id, (int)pid);
	return 0;
}

static int worker_id(const struct pool *p, pid_t pid)
{
	unsigned i;

	for (i = 0; i < p->d->workers; i++)
		if (p->pids[i] == pid)
			return (int)i;
	return -1;
}

/* Worker id (pid) ended with wait status ws: start another, unless it
 * failed on its own.  -1: the daemon must stop. */
static int replace(struct pool *p, int id, pid_t pid, int ws)
{
	if (WIFEXITED(ws) && WEXITSTATUS(ws) != 0) {
		kvd_log(LOG_ERR, "worker %d (pid %d) failed (exit status %d); stopping", id,
			(int)pid, WEXITSTATUS(ws));
		return -1;
	}
	if (WIFSIGNALED(ws))
		kvd_log(LOG_WARNING, "worker %d (pid %d) killed by signal %d; restarting", id,
			(int)pid, WTERMSIG(ws));
	else
		kvd_log(LOG_WARNING, "worker %d (pid %d) exited; restarting", id, (int)pid);
	return spawn(p, (unsigned)id);
}

/* Reap every worker that ended, and replace it if asked to.  0, or -1 if
 * the daemon must stop. */
static int reap(struct pool *p, bool restart)
{
	pid_t pid;
	int ws, id, status = 0;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		if ((id = worker_id(p, pid)) < 0)
			continue;
		p->pids[id] = 0;
		p->live--;
		if (restart && status == 0)
			status = replace(p, id, pid, ws);
	}
	return status;
}

static struct timespec left_until(const struct timespec *end)
{
	struct timespec now, left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left.tv_sec = end->tv_sec - now.tv_sec;
	left.tv_nsec = end->tv_nsec - now.tv_nsec;
	if (left.tv_nsec < 0) {
		left.tv_sec--;
		left.tv_nsec += 1000000000L;
	}
	if (left.tv_sec < 0)
		left = (struct timespec){0, 0};
	return left;
}

static void signal_all(struct pool *p, int sig)
{
	unsigned i;

	for (i = 0; i < p->d->workers; i++)
		if (p->pids[i] != 0)
			kill(p->pids[i], sig);
}

/* SIGTERM to every worker, and wait for them; kill those that linger. */
static void stop_all(struct pool *p)
{
	struct timespec end, left;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += STOP_WAIT_S;
	signal_all(p, SIGTERM);
	for (reap(p, false); p->live > 0; reap(p, false)) {
		left = left_until(&end);
		if (left.tv_sec == 0 && left.tv_nsec == 0) {
			kvd_log(LOG_WARNING, "%u workers did not stop in %d s; killing them",
				p->live, STOP_WAIT_S);
			signal_all(p, SIGKILL);
			while (p->live > 0 && wait(NULL) > 0)
				p->live--;
			break;
		}
		sigtimedwait(&chld, NULL, &left);
	}
}

/* Wait for a signal; restart workers until one asks us to stop. */
static int supervise(struct pool *p)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGCHLD) {
			if (reap(p, true) == -1)
				return 1;
		} else if (sig != -1) {
			kvd_log(LOG_INFO, "SIG%s: stopping", sigabbrev_np(sig));
			return 0;
		}
	}
}

int kvd_pool_run(struct kvd *d)
{
	struct pool p = {.d = d, .live = 0};
	unsigned i;
	int status = 1;

	p.pids = calloc(d->workers, sizeof(*p.pids));
	if (p.pids == NULL) {
		kvd_log(LOG_ERR, "%s", strerror(errno));
		return 1;
	}
	for (i = 0; i < d->workers; i++)
		if (spawn(&p, i) == -1)
			break;
	if (i == d->workers)
		status = supervise(&p);
	stop_all(&p);
	free(p.pids);
	return status;
}
