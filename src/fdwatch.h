/*
 * What a descriptor (fd.c) watches besides its socket: every attached
 * process but its own, by pidfd.  A change rings the descriptor; a death
 * changes nothing in the segment, so the kernel must tell (fdwatch.c says
 * which deaths matter).
 */
#ifndef SHMBOX_FDWATCH_H
#define SHMBOX_FDWATCH_H

#include <pthread.h>

#include "handle.h"

struct shmbox__watch {
	int ep;		      /* the descriptor's epoll instance, which holds ours */
	pthread_mutex_t lock; /* threads sharing a handle share its watches */
	int all;	      /* an epoll instance of pidfds, one per token; or -1 */
	int *fds;
	pid_t *pids;
	unsigned n;	/* max_procs */
	uint32_t joins; /* the header's count of attaches when last looked at */
	int later;	/* a timer, while some could not be watched; or -1 */
};

void shmbox__watch_init(struct shmbox__watch *w, int ep);
/* After arming and before looking once more: watch whoever attached since
 * the last time, and drop the dead.  1: look again now (some process
 * could not be watched at all). */
int shmbox__watch_refresh(struct shmbox *b, struct shmbox__watch *w);
/* After that look found nothing because of slot word blocker: is the
 * claim in the way a process's that died before we watched it? */
bool shmbox__watch_holder_dead(struct shmbox *b, uint64_t blocker);
/* owner false: in a child of fork(), whose epoll instance is its parent's
 * too; only close our copies. */
void shmbox__watch_close(struct shmbox__watch *w, bool owner);

#endif /* SHMBOX_FDWATCH_H */
