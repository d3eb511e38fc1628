/*
 * Freeing what a dead process held.  A claim (WRITING or READING) names its
 * holder's token; once the token reads 0 the holder is gone and the claim
 * can be moved on with one compare-and-swap:
 *   WRITING(L) -> DEAD(L): the put never returned, so nothing committed is
 *                          lost; getters skip the slot.
 *   READING(L) -> FREE(L+1): the get had claimed the message; it dies with
 *                          its reader, as it would a moment after returning.
 * The CAS is on the exact word seen, so a slot that moved on meanwhile, or
 * was claimed again in a later lap, is never touched.
 */
#include "internal.h"

static bool in_flight(uint64_t w)
{
	unsigned st = shmbox__word_state(w);

	return st == SHMBOX__WRITING || st == SHMBOX__READING;
}

static void revoke(struct shmbox *b, struct shmbox__slot *s, uint64_t w)
{
	uint64_t lap = shmbox__word_lap(w);
	bool writer = shmbox__word_state(w) == SHMBOX__WRITING;
	uint64_t next = writer ? shmbox__word(lap, 0, SHMBOX__DEAD)
			       : shmbox__word(lap + 1, 0, SHMBOX__FREE);

	if (!atomic_compare_exchange_strong_explicit(&s->word, &w, next, memory_order_acq_rel,
						     memory_order_relaxed))
		return;
	/* Wake whoever sleeps on this slot, in whichever ring it is. */
	for (int k = 0; k < 2; k++) {
		struct shmbox__ring *r = &b->ring[k];

		if ((unsigned char *)s < r->slots || (unsigned char *)s >= r->slots + r->nslots * r->stride)
			continue;
		if (writer)
			shmbox__wake(b, &r->h->getters_waiting, r->sem_get);
		else
			shmbox__wake(b, &r->h->putters_waiting, r->sem_put);
	}
}

/* 1: the claim's holder is gone and the slot was moved on; 0: nothing to
 * do (no claim, or its holder lives); -1: errno set. */
int shmbox__recover(struct shmbox *b, struct shmbox__slot *s, uint64_t w)
{
	int alive;

	if (!in_flight(w))
		return 0;
	alive = shmbox__token_alive(b, shmbox__word_owner(w));
	if (alive < 0)
		return -1;
	if (alive)
		return 0;
	revoke(b, s, w);
	return 1;
}

/* We just took token `owner`: whoever held it before is gone, and so are
 * any claims it left behind. */
void shmbox__recover_owner(struct shmbox *b, unsigned owner)
{
	size_t i;
	int k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < b->ring[k].nslots; i++) {
			struct shmbox__slot *s = shmbox__slot_at(&b->ring[k], i);
			uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);

			if (in_flight(w) && shmbox__word_owner(w) == owner)
				revoke(b, s, w);
		}
	}
	shmbox__recover_replies(b, (int)owner);
}
