/* shmbox_stat: a look at the ring and the proc table.  Not a snapshot:
 * puts and gets go on while it counts, so the counts can be a moment
 * apart, but each slot is counted once, in the state it was seen in. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "internal.h"

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

static size_t count_attached(struct shmbox *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->max_procs; i++)
		if (shmbox__token_alive(b, (unsigned)i) == 1)
			n++;
	return n;
}

int shmbox_stat(shmbox_t *b, struct shmbox_stat *st)
{
	if (b == NULL || st == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->slots = b->ring[SHMBOX__MESSAGES].nslots;
	st->slot_size = b->slot_size;
	st->max_procs = b->max_procs;
	st->creator = b->hdr->creator;
	st->puts = atomic_load_explicit(&b->hdr->ring[SHMBOX__MESSAGES].tail, memory_order_relaxed);
	st->gets = atomic_load_explicit(&b->hdr->ring[SHMBOX__MESSAGES].head, memory_order_relaxed);
	count_calls(b, st);
	count_slots(b, st);
	st->attached = count_attached(b);
	return 0;
}
