/*
 * Process tokens: the kernel's record of who is attached.
 *
 * Every put and get claims its slot in shared memory, with no system call.
 * The claim names the claimer's token, a semaphore the claimer raised to 1
 * with SEM_UNDO when it attached.  If the claimer dies, the kernel undoes
 * that +1, the token reads 0, and whoever waits behind the claim may free
 * it.  The adjustment is +1 for the whole attach and is undone by close:
 * puts and gets add nothing to it, so it never grows toward SEMVMX.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/sem.h>

#include "internal.h"

/* A token is its process's: the kernel undoes the +1 when that process
 * exits, not when a child of fork() that inherited the handle does.  A
 * child that claimed a slot through its parent's handle and was killed
 * would hold the slot for as long as the parent lives.  So every child of
 * fork() bumps a count (pthread_atfork, set up at the first attach), and
 * a handle made before the fork refuses to claim anything there (EBADF:
 * ring.c, shmbox__check_handle); closed there, it is only unmapped. */
_Atomic unsigned shmbox__forks;
static _Atomic bool watching;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;

static void forked(void)
{
	atomic_fetch_add_explicit(&shmbox__forks, 1, memory_order_relaxed);
}

/* Not pthread_once: a failed registration (ENOMEM) is tried again. */
int shmbox__fork_count(unsigned *count)
{
	int e = 0;

	if (!atomic_load_explicit(&watching, memory_order_acquire)) {
		pthread_mutex_lock(&watch_lock);
		if (!atomic_load_explicit(&watching, memory_order_relaxed)) {
			e = pthread_atfork(NULL, NULL, forked);
			if (e == 0)
				atomic_store_explicit(&watching, true, memory_order_release);
		}
		pthread_mutex_unlock(&watch_lock);
	}
	if (e != 0) {
		errno = e;
		return -1;
	}
	*count = atomic_load_explicit(&shmbox__forks, memory_order_relaxed);
	return 0;
}

int shmbox__token_take(struct shmbox *b)
{
	union shmbox__semun arg;
	unsigned short *vals;
	/* GETALL fills the whole set: tokens and the reply semaphores after them */
	unsigned i, nsems = (unsigned)(SHMBOX__SEM_TOKENS + b->max_procs + b->nreplies);

	vals = calloc(nsems, sizeof(*vals));
	if (vals == NULL)
		return -1;
	arg.array = vals;
	if (semctl(b->semid, 0, GETALL, arg) == -1)
		goto fail;
	for (i = 0; i < b->max_procs; i++) {
		unsigned short sem = (unsigned short)(SHMBOX__SEM_TOKENS + i);
		/* "is zero, then +1" in one semop: two openers cannot both win */
		struct sembuf ops[2] = {
			{.sem_num = sem, .sem_op = 0, .sem_flg = IPC_NOWAIT},
			{.sem_num = sem, .sem_op = 1, .sem_flg = SEM_UNDO | IPC_NOWAIT},
		};
		if (vals[SHMBOX__SEM_TOKENS + i] != 0)
			continue;
		if (semop(b->semid, ops, 2) == 0) {
			free(vals);
			b->me = i;
			return 0;
		}
		if (errno != EAGAIN)
			goto fail;
	}
	errno = EUSERS;
fail:
	if (errno == EINVAL || errno == EIDRM)
		errno = EIDRM;
	free(vals);
	return -1;
}

void shmbox__token_drop(struct shmbox *b)
{
	struct sembuf op = {
		.sem_num = (unsigned short)(SHMBOX__SEM_TOKENS + b->me),
		.sem_op = -1,
		.sem_flg = SEM_UNDO | IPC_NOWAIT,
	};
	/* Fails only when the set is gone, and then there is nothing to drop. */
	(void)semop(b->semid, &op, 1);
}

/* 1: the token's holder is attached; 0: nobody holds it; -1: errno set. */
int shmbox__token_alive(const struct shmbox *b, unsigned owner)
{
	int v;

	if (owner >= b->max_procs)
		return 0; /* a corrupt owner holds nothing */
	v = semctl(b->semid, (int)(SHMBOX__SEM_TOKENS + owner), GETVAL);
	if (v == -1) {
		if (errno == EINVAL || errno == EIDRM)
			errno = EIDRM;
		return -1;
	}
	return v > 0;
}
