/*
 * The semaphore set: its size, what each semaphore is for, the process
 * tokens, and sleeping and waking.  Puts and gets run in shared memory;
 * the kernel is entered only to sleep when there is nothing to do, to wake
 * a sleeper, and to ask whether a token's holder is still alive.
 */
#ifndef SHMBOX_SEM_H
#define SHMBOX_SEM_H

#include <sys/ipc.h>

#include "deadline.h"
#include "handle.h"

/* The set: five wake semaphores, one token per process, then one wake
 * semaphore per reply slot. */
enum {
	SHMBOX__SEM_GETTERS = 0,     /* getters sleep here; a put wakes one */
	SHMBOX__SEM_PUTTERS = 1,     /* putters sleep here; a get wakes one */
	SHMBOX__SEM_SERVERS = 2,     /* accept sleeps here; a call's request wakes one */
	SHMBOX__SEM_REQ_PUTTERS = 3, /* a call waiting for room in the request ring */
	SHMBOX__SEM_CALLERS = 4,     /* a call waiting for a free reply slot */
	SHMBOX__SEM_TOKENS = 5,	     /* token i is 1 while process i is attached */
};
static inline unsigned shmbox__sem_count(unsigned max_procs, unsigned nreplies)
{
	return SHMBOX__SEM_TOKENS + max_procs + nreplies;
}
static inline unsigned shmbox__sem_token(unsigned i)
{
	return SHMBOX__SEM_TOKENS + i;
}
/* The caller of reply slot i sleeps here. */
static inline int shmbox__sem_reply(const struct shmbox *b, size_t i)
{
	return (int)(SHMBOX__SEM_TOKENS + b->max_procs + i);
}

/* POSIX leaves union semun to the application. */
union shmbox__semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

/* Making, finding and removing the set (segment.c). */
int shmbox__sem_create(key_t key, unsigned nsems, int mode); /* semid, or -1 */
/* The set at key, checked against what header h names and against nsems,
 * the checked count: semid, or -1. */
int shmbox__sem_open(key_t key, const struct shmbox__header *h, unsigned nsems);
int shmbox__sem_remove(int semid); /* 0 also if it was gone already */

/* Tokens: each attached process holds one (+1, SEM_UNDO), so the kernel
 * frees it when the process dies, however it dies. */
int shmbox__token_take(struct shmbox *b); /* sets b->me */
void shmbox__token_drop(struct shmbox *b);
/* 1: the token's holder is attached; 0: nobody holds it; -1: errno. */
int shmbox__token_alive(const struct shmbox *b, unsigned owner);
/* Every semaphore's value in one system call (token i is held while
 * values[shmbox__sem_token(i)] != 0): a malloc'ed array, or NULL. */
unsigned short *shmbox__sem_values(const struct shmbox *b);

/* How long a sleeper behind a claim waits before it looks again for a
 * holder that died without waking it (killed mid-copy). */
#define SHMBOX__RECOVERY_MS 50

/* Sleep on semaphore sem until woken, until *word is no longer w, or for
 * a while at most: SHMBOX__RECOVERY_MS when the slot has a holder who may
 * die (holder), else a second.  0: look again; -1: errno (EINTR, EIDRM). */
int shmbox__sleep(struct shmbox *b, _Atomic uint32_t *waiting, int sem, _Atomic uint64_t *word,
		  uint64_t w, bool holder, struct shmbox__deadline *d);
/* Wake one sleeper counted in *waiting, if there is one. */
void shmbox__wake(struct shmbox *b, _Atomic uint32_t *waiting, int sem);
void shmbox__wake_one(struct shmbox *b, _Atomic uint32_t *waiting, int sem, uint32_t n);
/* For a waker whose change was a sequentially consistent read-modify-write
 * (publish, release): it and this seq_cst load are in the single total
 * order with the sleeper's announce and look, which is all the argument in
 * sem.c needs, so no fence (on x86 the CAS is the fence).  Inline: it runs
 * on every put and get. */
static inline void shmbox__wake_after_sc(struct shmbox *b, _Atomic uint32_t *waiting, int sem)
{
	uint32_t n = atomic_load_explicit(waiting, memory_order_seq_cst);

	if (n > 0)
		shmbox__wake_one(b, waiting, sem, n);
}
/* How many processes the kernel has asleep on semaphore sem. */
size_t shmbox__sleepers(const struct shmbox *b, int sem);

#endif /* SHMBOX_SEM_H */
