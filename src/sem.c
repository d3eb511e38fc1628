/*
 * The semaphore set (sem.h).
 *
 * Tokens.  Every put and get claims its slot in shared memory, with no
 * system call.  The claim names the claimer's token, a semaphore the
 * claimer raised to 1 with SEM_UNDO when it attached.  If the claimer
 * dies, the kernel undoes that +1, the token reads 0, and whoever waits
 * behind the claim may free it.  The adjustment is +1 for the whole attach
 * and is undone by close: puts and gets add nothing to it, so it never
 * grows toward SEMVMX.
 *
 * Sleeping and waking.  A sleeper announces itself in a counter (a ring's
 * getters_waiting or putters_waiting, a reply slot's waiting, the
 * header's callers_waiting), looks at
 * its slot once more, then sleeps on the wake semaphore.  A waker changes
 * the slot, then reads the counter.  Both sides use sequentially
 * consistent operations, so either the sleeper sees the change or the
 * waker sees the sleeper: no wakeup is lost (ring.c passes the baton when
 * one change makes two processes' work ready).  The waker takes one
 * sleeper off the counter before it posts; a post that outlives the
 * sleeper it was meant for (one that timed out or looked again meanwhile)
 * only makes a later sleeper look again, which every sleeper does anyway,
 * so the counter may drift above the true number of sleepers and cost a
 * spurious wakeup, never a lost one.
 */
#include <stdlib.h>
#include <sys/sem.h>

#include "sem.h"

/* The set is gone: EINVAL from a later call, EIDRM from a sleeper's. */
static int removed(int e)
{
	return e == EINVAL || e == EIDRM;
}

/* The number of semaphores in set semid, or -1 with errno. */
static long set_size(int semid)
{
	struct semid_ds ds;
	union shmbox__semun arg = {.buf = &ds};

	if (semctl(semid, 0, IPC_STAT, arg) == -1)
		return -1;
	return (long)ds.sem_nsems;
}

int shmbox__sem_create(key_t key, unsigned nsems, int mode)
{
	union shmbox__semun arg;
	unsigned short *zeros;
	int semid = semget(key, (int)nsems, IPC_CREAT | IPC_EXCL | mode), e;

	if (semid == -1) {
		if (errno == EINVAL)
			errno = ERANGE; /* more semaphores than SEMMSL allows in one set */
		return -1;
	}
	zeros = calloc(nsems, sizeof(*zeros));
	arg.array = zeros;
	if (zeros == NULL || semctl(semid, 0, SETALL, arg) == -1) {
		e = errno;
		free(zeros);
		semctl(semid, 0, IPC_RMID);
		errno = e;
		return -1;
	}
	free(zeros);
	return semid;
}

int shmbox__sem_open(key_t key, const struct shmbox__header *h, unsigned nsems)
{
	int32_t named = h->semid; /* read once: the segment is untrusted */
	long have;
	int semid;

	if (atomic_load_explicit(&h->destroyed, memory_order_acquire)) {
		errno = EIDRM;
		return -1;
	}
	semid = semget(key, 0, 0);
	if (semid == -1) {
		if (errno == ENOENT)
			errno = EIDRM; /* a segment without its set: being removed */
		return -1;
	}
	if (semid != named) {
		errno = EPROTO; /* not the set this mailbox was made with */
		return -1;
	}
	have = set_size(semid);
	if (have != (long)nsems) {
		if (have >= 0 || errno != EACCES)
			errno = EPROTO;
		return -1;
	}
	return semid;
}

int shmbox__sem_remove(int semid)
{
	if (semctl(semid, 0, IPC_RMID) == -1 && !removed(errno))
		return -1;
	return 0;
}

/* GETALL writes as many values as the set has, whatever the buffer: the
 * size comes from the kernel, and must be the one the handle expects (a
 * set removed and its id used again could be larger). */
unsigned short *shmbox__sem_values(const struct shmbox *b)
{
	unsigned nsems = shmbox__sem_count(b->max_procs, (unsigned)b->nreplies);
	union shmbox__semun arg;
	unsigned short *vals;
	long have = set_size(b->semid);

	if (have != (long)nsems) {
		if (have >= 0 || removed(errno))
			errno = EIDRM;
		return NULL;
	}
	vals = calloc(nsems, sizeof(*vals));
	if (vals == NULL)
		return NULL;
	arg.array = vals;
	if (semctl(b->semid, 0, GETALL, arg) == -1) {
		if (removed(errno))
			errno = EIDRM;
		free(vals);
		return NULL;
	}
	return vals;
}

int shmbox__token_take(struct shmbox *b)
{
	unsigned short *vals = shmbox__sem_values(b);
	unsigned i;

	if (vals == NULL)
		return -1;
	for (i = 0; i < b->max_procs; i++) {
		unsigned short sem = (unsigned short)shmbox__sem_token(i);
		/* "is zero, then +1" in one semop: two openers cannot both win */
		struct sembuf ops[2] = {
			{.sem_num = sem, .sem_op = 0, .sem_flg = IPC_NOWAIT},
			{.sem_num = sem, .sem_op = 1, .sem_flg = SEM_UNDO | IPC_NOWAIT},
		};
		if (vals[sem] != 0)
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
	if (removed(errno))
		errno = EIDRM;
	free(vals);
	return -1;
}

void shmbox__token_drop(struct shmbox *b)
{
	struct sembuf op = {
		.sem_num = (unsigned short)shmbox__sem_token(b->me),
		.sem_op = -1,
		.sem_flg = SEM_UNDO | IPC_NOWAIT,
	};
	/* Fails only when the set is gone, and then there is nothing to drop. */
	(void)semop(b->semid, &op, 1);
}

int shmbox__token_alive(const struct shmbox *b, unsigned owner)
{
	int v;

	if (owner >= b->max_procs)
		return 0; /* a corrupt owner holds nothing */
	v = semctl(b->semid, (int)shmbox__sem_token(owner), GETVAL);
	if (v == -1) {
		if (removed(errno))
			errno = EIDRM;
		return -1;
	}
	return v > 0;
}

/* Take ourselves off the sleeper count.  If a waker already did, its post
 * is ours: take it back if it has arrived, so posts do not pile up (one
 * still in flight is left for a later sleeper, who then looks once more). */
static void unannounce(struct shmbox *b, _Atomic uint32_t *waiting, int sem)
{
	struct sembuf op = {.sem_num = (unsigned short)sem, .sem_op = -1, .sem_flg = IPC_NOWAIT};
	uint32_t n = atomic_load_explicit(waiting, memory_order_relaxed);

	while (n > 0)
		if (atomic_compare_exchange_weak_explicit(waiting, &n, n - 1, memory_order_seq_cst,
							  memory_order_relaxed))
			return;
	(void)semop(b->semid, &op, 1);
}

/* How long the next sleep may last: the time left, cut short so that a
 * peer that died without waking us is noticed.  Behind a claim in flight
 * (its holder may die mid-copy) we look again every recovery period;
 * otherwise only a peer killed between publishing and waking could leave
 * us asleep, and we look again every second. */
static struct timespec sleep_span(struct shmbox__deadline *d, bool holder)
{
	long cap_ns = holder ? SHMBOX__RECOVERY_MS * 1000000L : 999999999L;

	return (struct timespec){0, shmbox__deadline_cap_ns(d, cap_ns)};
}

int shmbox__sleep(struct shmbox *b, _Atomic uint32_t *waiting, int sem, _Atomic uint64_t *word,
		  uint64_t w, bool holder, struct shmbox__deadline *d)
{
	struct sembuf op = {.sem_num = (unsigned short)sem, .sem_op = -1, .sem_flg = 0};
	struct timespec span = sleep_span(d, holder);
	int e;

	if (shmbox__destroyed(b)) {
		/* "look again" would only bring us back here: a busy loop until
		 * the deadline, in shmbox_destroy's window or when the flag was
		 * written by someone else */
		errno = EIDRM;
		return -1;
	}
	atomic_fetch_add_explicit(waiting, 1, memory_order_seq_cst);
	if (atomic_load_explicit(word, memory_order_seq_cst) != w || shmbox__destroyed(b)) {
		unannounce(b, waiting, sem);
		return 0;
	}
	if (semtimedop(b->semid, &op, 1, &span) == 0)
		return 0;
	e = errno;
	unannounce(b, waiting, sem);
	if (e == EAGAIN)
		return 0;
	errno = removed(e) ? EIDRM : e;
	return -1;
}

void shmbox__wake(struct shmbox *b, _Atomic uint32_t *waiting, int sem)
{
	atomic_thread_fence(memory_order_seq_cst);
	shmbox__wake_one(b, waiting, sem, atomic_load_explicit(waiting, memory_order_relaxed));
}

/* There are sleepers (n of them, as last read): take one off the count and
 * post its semaphore. */
void shmbox__wake_one(struct shmbox *b, _Atomic uint32_t *waiting, int sem, uint32_t n)
{
	struct sembuf op = {.sem_num = (unsigned short)sem, .sem_op = 1, .sem_flg = 0};

	while (n > 0) {
		if (atomic_compare_exchange_weak_explicit(waiting, &n, n - 1, memory_order_seq_cst,
							  memory_order_relaxed)) {
			/* The change is already made: a failed post (set
			 * removed) changes nothing for this caller. */
			(void)semop(b->semid, &op, 1);
			return;
		}
	}
}

size_t shmbox__sleepers(const struct shmbox *b, int sem)
{
	int n = semctl(b->semid, sem, GETNCNT);

	return n > 0 ? (size_t)n : 0;
}
