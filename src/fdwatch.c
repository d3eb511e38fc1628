/*
 * A descriptor's watches (fdwatch.h): every attached process, by pidfd.
 *
 * Which deaths matter.  A process killed between its change and its ring
 * (a put between publishing and ringing; a get between claiming a slot and
 * releasing it, which frees the slot for a put by recovery) rings no one,
 * and may have begun after the listener last looked, so the listener
 * cannot know it.  Nor a writer that holds the head slot and dies with
 * messages behind it.  So a listener hears of every death: those attached
 * when it looked are watched by pidfd, and those that attach later count
 * themselves in the header's joins and ring the armed listeners
 * (segment.c), which then look again and watch them too.
 *
 * The order that makes this complete.  The listener arms, brings its
 * watches up to date (reads joins, then every token), and only then looks
 * at the ring once more: a process alive at that reading is watched
 * before the look, so its death after the look rings the pidfd, and a
 * claim it made before dying is seen by the look (its holder dead: look
 * again at once).  An attacher takes its token, counts itself in joins,
 * then loads the armed bits, all sequentially consistent: either the
 * listener's read of joins sees the count, and then the token, taken
 * before it, or the attacher's load sees the arm and rings.  (Watching
 * after the look left a window: a get that claimed after the look and
 * died before the watch was heard by no one; found by test/model.)
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "fdwatch.h"
#include "sem.h"

void shmbox__watch_init(struct shmbox__watch *w, int ep)
{
	*w = (struct shmbox__watch){.ep = ep, .all = -1, .later = -1};
	pthread_mutex_init(&w->lock, NULL);
}

static int pidfd(pid_t pid)
{
	return pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

static int add(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* A look again after a recovery period, as a sleeper's. */
static int timer(void)
{
	struct itimerspec later = {.it_value = {0, SHMBOX__RECOVERY_MS * 1000000L}};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd != -1 && timerfd_settime(fd, 0, &later, NULL) == -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* Make the table of pidfds, empty. */
static int all_make(struct shmbox *b, struct shmbox__watch *w)
{
	w->n = b->max_procs;
	w->fds = malloc(b->max_procs * sizeof(*w->fds));
	w->pids = calloc(b->max_procs, sizeof(*w->pids));
	w->all = epoll_create1(EPOLL_CLOEXEC);
	if (w->fds == NULL || w->pids == NULL || w->all == -1 || add(w->ep, w->all) == -1)
		return -1;
	for (unsigned i = 0; i < b->max_procs; i++)
		w->fds[i] = -1;
	return 0;
}

static void all_drop(struct shmbox__watch *w)
{
	for (unsigned i = 0; w->fds != NULL && i < w->n; i++)
		if (w->fds[i] != -1)
			close(w->fds[i]);
	if (w->all != -1)
		close(w->all); /* and out of ep with it: the last reference */
	free(w->fds);
	free(w->pids);
	w->fds = NULL;
	w->pids = NULL;
	w->all = -1;
}

/* Is token i's process (pid, if it holds it) watched?  Then nothing to
 * do; else watch it, or drop a watch on whoever held it before.  1: it
 * could not be watched (gone already, or in another PID namespace). */
static int watch_token(struct shmbox__watch *w, unsigned i, pid_t pid)
{
	if (w->fds[i] != -1 && w->pids[i] == pid)
		return 0;
	if (w->fds[i] != -1)
		close(w->fds[i]);
	w->fds[i] = -1;
	w->pids[i] = pid;
	if (pid <= 0)
		return 0;
	w->fds[i] = pidfd(pid);
	if (w->fds[i] != -1 && add(w->all, w->fds[i]) == -1) {
		close(w->fds[i]);
		w->fds[i] = -1;
	}
	return w->fds[i] == -1;
}

static bool in_flight(uint64_t w)
{
	unsigned st = shmbox__word_state(w);

	return st == SHMBOX__WRITING || st == SHMBOX__READING;
}

/* The claim in the way belongs to a process that died before we watched:
 * a call now would free it. */
bool shmbox__watch_holder_dead(struct shmbox *b, uint64_t blocker)
{
	return in_flight(blocker) && shmbox__token_alive(b, shmbox__word_owner(blocker)) == 0;
}

static void drop_later(struct shmbox__watch *w)
{
	if (w->later == -1)
		return;
	(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, w->later, NULL);
	close(w->later);
	w->later = -1;
}

int shmbox__watch_refresh(struct shmbox *b, struct shmbox__watch *w)
{
	uint32_t joins = atomic_load_explicit(&b->hdr->joins, memory_order_seq_cst);
	unsigned short *tokens;
	int again = 0, unwatched = 0;

	pthread_mutex_lock(&w->lock);
	/* Nobody came, nobody watched died (its pidfd would be readable, and
	 * keep us readable: the descriptor must go quiet), and no look after a
	 * while is due. */
	if (w->all != -1 && joins == w->joins && w->later == -1 && !readable(w->all))
		goto out;
	if (w->all == -1 && all_make(b, w) == -1) {
		all_drop(w);
		again = 1;
		goto out;
	}
	tokens = shmbox__sem_values(b);
	if (tokens == NULL) {
		again = 1; /* removed, most likely: the next call says so */
		goto out;
	}
	for (unsigned i = 0; i < b->max_procs; i++) {
		pid_t pid = tokens[shmbox__sem_token(i)] == 0
				    ? 0
				    : atomic_load_explicit(&b->procs[i].pid, memory_order_acquire);

		unwatched += watch_token(w, i, pid == b->pid ? 0 : pid);
	}
	free(tokens);
	w->joins = joins;
	/* Some could not be watched: gone since (the next look frees what
	 * they held) or out of sight; look again after a while, as a sleeper
	 * would. */
	drop_later(w);
	if (unwatched > 0 && ((w->later = timer()) == -1 || add(w->ep, w->later) == -1))
		again = 1;
out:
	pthread_mutex_unlock(&w->lock);
	return again;
}

void shmbox__watch_close(struct shmbox__watch *w, bool owner)
{
	/* In a child of fork(), epoll_ctl would change the parent's instance:
	 * closing our copies is all there is to do. */
	if (owner)
		drop_later(w);
	else if (w->later != -1)
		close(w->later);
	all_drop(w);
	pthread_mutex_destroy(&w->lock);
}
