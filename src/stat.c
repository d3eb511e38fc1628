/* shmbox_stat, shmbox_slot_states, shmbox_procs: a look at the rings and
 * the proc table.  Not a snapshot: puts and gets go on while it counts, so
 * the counts can be a moment apart, but each slot is counted once, in the
 * state it was seen in.  The system calls are a fixed few, however large
 * max_procs is: the tokens are read all at once (GETALL). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

#include "sem.h"

static void count_slots(struct shmbox *b, struct shmbox_stat *st)
{
	size_t i;

	for (i = 0; i < b->ring[SHMBOX__MESSAGES].nslots; i++) {
		struct shmbox__slot *s = shmbox__slot_at(&b->ring[SHMBOX__MESSAGES], i);
		uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);

		switch (shmbox__word_state(w)) {
		case SHMBOX__FREE: st->free++; break;
		case SHMBOX__FULL: st->queued++; break;
		case SHMBOX__WRITING: st->writing++; break;
		case SHMBOX__READING: st->reading++; break;
		default: break; /* DEAD: on its way back to FREE */
		}
	}
}

static void count_calls(struct shmbox *b, struct shmbox_stat *st)
{
	struct shmbox__ring *r = &b->ring[SHMBOX__REQUESTS];
	size_t i;

	st->reply_slots = b->nreplies;
	for (i = 0; i < r->nslots; i++)
		if (shmbox__word_state(atomic_load_explicit(&shmbox__slot_at(r, i)->word,
							    memory_order_acquire)) == SHMBOX__FULL)
			st->requests++;
	for (i = 0; i < b->nreplies; i++)
		if (shmbox__word_state(atomic_load_explicit(&shmbox__reply_at(b, i)->word,
							    memory_order_acquire)) != SHMBOX__R_FREE)
			st->calls++;
}

static int count_attached(struct shmbox *b, struct shmbox_stat *st)
{
	unsigned short *vals = shmbox__sem_values(b);
	unsigned i;

	if (vals == NULL)
		return -1;
	for (i = 0; i < b->max_procs; i++)
		if (vals[shmbox__sem_token(i)] != 0)
			st->attached++;
	free(vals);
	return 0;
}

static int kernel_view(struct shmbox *b, struct shmbox_stat *st)
{
	struct shmid_ds ds;

	if (shmctl(b->shmid, IPC_STAT, &ds) == -1) {
		if (errno == EINVAL || errno == EIDRM)
			errno = EIDRM;
		return -1;
	}
	st->mode = ds.shm_perm.mode & 0777;
	st->uid = ds.shm_perm.uid;
	st->key = ds.shm_perm.__key;
	st->shmid = b->shmid;
	st->semid = b->semid;
	st->getters_waiting = shmbox__sleepers(b, SHMBOX__SEM_GETTERS);
	st->putters_waiting = shmbox__sleepers(b, SHMBOX__SEM_PUTTERS);
	st->servers_waiting = shmbox__sleepers(b, SHMBOX__SEM_SERVERS);
	return 0;
}

int shmbox_stat(shmbox_t *b, struct shmbox_stat *st)
{
	struct shmbox__ring_hdr *m;

	if (b == NULL || st == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	if (kernel_view(b, st) == -1)
		return -1;
	m = &b->hdr->ring[SHMBOX__MESSAGES];
	st->last_put = (time_t)atomic_load_explicit(&m->last_put, memory_order_relaxed);
	st->last_get = (time_t)atomic_load_explicit(&m->last_get, memory_order_relaxed);
	st->slots = b->ring[SHMBOX__MESSAGES].nslots;
	st->slot_size = b->slot_size;
	st->max_procs = b->max_procs;
	st->creator = b->hdr->creator;
	st->puts = atomic_load_explicit(&b->hdr->ring[SHMBOX__MESSAGES].tail, memory_order_relaxed);
	st->gets = atomic_load_explicit(&b->hdr->ring[SHMBOX__MESSAGES].head, memory_order_relaxed);
	count_calls(b, st);
	count_slots(b, st);
	return count_attached(b, st);
}

ssize_t shmbox_slot_states(shmbox_t *b, unsigned char *states, size_t n, uint64_t *head,
			   uint64_t *tail)
{
	struct shmbox__ring *r;
	size_t i;

	if (b == NULL || states == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return -1;
	}
	r = &b->ring[SHMBOX__MESSAGES];
	if (n < r->nslots) {
		errno = EINVAL;
		return -1;
	}
	if (head != NULL)
		*head = atomic_load_explicit(&r->h->head, memory_order_relaxed);
	if (tail != NULL)
		*tail = atomic_load_explicit(&r->h->tail, memory_order_relaxed);
	for (i = 0; i < r->nslots; i++) {
		unsigned st = shmbox__word_state(
			atomic_load_explicit(&shmbox__slot_at(r, i)->word, memory_order_acquire));

		states[i] = (unsigned char)(st >= SHMBOX__FREE && st <= SHMBOX__DEAD ? st : 0);
	}
	return (ssize_t)r->nslots;
}

ssize_t shmbox_procs(shmbox_t *b, struct shmbox_proc *procs, size_t n)
{
	unsigned short *tokens;
	size_t i, k = 0;

	int go = shmbox__look_begins(b, procs, n);

	if (go <= 0)
		return go;
	tokens = shmbox__sem_values(b);
	if (tokens == NULL)
		return -1;
	for (i = 0; i < b->max_procs && k < n; i++) {
		struct shmbox__proc *p = &b->procs[i];
		pid_t pid = atomic_load_explicit(&p->pid, memory_order_acquire);

		/* The table is what processes wrote; the token is the truth. */
		if (pid <= 0 || tokens[shmbox__sem_token((unsigned)i)] == 0)
			continue;
		procs[k].pid = pid;
		procs[k].since = (time_t)atomic_load_explicit(&p->since, memory_order_relaxed);
		k++;
	}
	free(tokens);
	return (ssize_t)k;
}

