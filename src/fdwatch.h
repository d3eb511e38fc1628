/*
 * What a descriptor (fd.c) watches besides its socket: the processes whose
 * death would let its call succeed without anyone ringing it.  A change
 * rings the descriptor; a death changes nothing in the segment, so the
 * kernel must tell: a pidfd turns readable when its process exits.
 */
#ifndef SHMBOX_FDWATCH_H
#define SHMBOX_FDWATCH_H

#include <pthread.h>

#include "handle.h"

struct shmbox__watch {
	int ep;		/* the descriptor's epoll instance, which holds ours */
	pthread_mutex_t lock; /* threads sharing a handle share its watches */
	/* The holder of the claim in the way: a pidfd, or a timer where it
	 * cannot be watched (another PID namespace, no pidfd_open). */
	int one;
	bool one_timer; /* once rung a timer stays readable: renewed each time */
	unsigned one_owner;
	pid_t one_pid;
	/* Every attached process, for a put waiting for room (fdwatch.c says
	 * why): an epoll instance of pidfds, by token. */
	int all;
	int *fds;
	pid_t *pids;
	unsigned n;	/* max_procs */
	uint32_t joins; /* the header's count of attaches when it was made */
	int later;	/* a timer, while some could not be watched; or -1 */
};

void shmbox__watch_init(struct shmbox__watch *w, int ep);
/* We found nothing because of the claim in slot word blocker: watch its
 * holder.  1: look again now (it is gone already, or cannot be watched). */
int shmbox__watch_holder(struct shmbox *b, struct shmbox__watch *w, uint64_t blocker);
/* Watch every attached process but us.  1: look again now. */
int shmbox__watch_all(struct shmbox *b, struct shmbox__watch *w);
/* owner false: in a child of fork(), whose epoll instance is its parent's
 * too; only close our copies. */
void shmbox__watch_close(struct shmbox__watch *w, bool owner);

#endif /* SHMBOX_FDWATCH_H */
