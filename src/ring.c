/*
 * put and get: the slot ring.  See layout.h for the slot word and its
 * states.  A put claims the slot at the tail (FREE -> WRITING), copies, and
 * publishes (WRITING -> FULL); a get claims the slot at the head (FULL ->
 * READING), copies, and releases (READING -> FREE of the next lap).  Claims
 * are compare-and-swaps on the slot word, so any number of processes and
 * threads can put and get at once; tail and head only say where to look,
 * and anyone who sees them lag behind a claimed slot moves them on.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

enum { CLAIMED = 0, BLOCKED = 1 };

static bool cas(_Atomic uint64_t *p, uint64_t old, uint64_t new)
{
	return atomic_compare_exchange_strong_explicit(p, &old, new, memory_order_acq_rel,
						       memory_order_acquire);
}

/* Publish and release: sequentially consistent, so the wakes after them
 * need no fence (wait.c, shmbox__wake_after_sc). */
static bool cas_sc(_Atomic uint64_t *p, uint64_t old, uint64_t new)
{
	return atomic_compare_exchange_strong_explicit(p, &old, new, memory_order_seq_cst,
						       memory_order_seq_cst);
}

static int corrupt(void)
{
	errno = EPROTO;
	return -1;
}

#define lap_diff shmbox__lap_diff
#define LAP_SAME 0
#define LAP_NEXT 1
#define LAP_PREV SHMBOX__LAP_MASK

/* A slot laps ahead of where we looked: we were slow, and the position has
 * moved on since we read it (or the segment is corrupt, if it has not). */
static bool moved_on(_Atomic uint64_t *position, uint64_t pos, uint64_t w, uint64_t lap)
{
	return lap_diff(w, lap) < (SHMBOX__LAP_MASK >> 1) &&
	       atomic_load_explicit(position, memory_order_acquire) != pos;
}

/* A claim on the message ring lost to another claimer: see wait.c,
 * shmbox__crowded. */
static void race_lost(struct shmbox *b, const struct shmbox__ring *r)
{
	if (r == &b->ring[SHMBOX__MESSAGES])
		shmbox__count(&b->counters.races_lost);
}

static int put_claim(struct shmbox *b, struct shmbox__ring *r, struct claim *c)
{
	_Atomic uint64_t *tail = &r->h->tail;

	for (;;) {
		uint64_t pos = atomic_load_explicit(tail, memory_order_acquire);
		uint64_t lap = shmbox__pos_lap(r, pos);
		struct shmbox__slot *s = shmbox__slot_at(r, pos);
		uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
		unsigned st = shmbox__word_state(w);
		uint64_t mine = shmbox__word(lap, b->me, SHMBOX__WRITING);

		switch (lap_diff(w, lap)) {
		case LAP_SAME:
			if (st == SHMBOX__FREE) {
				if (!cas(&s->word, w, mine)) {
					race_lost(b, r);
					continue;
				}
				cas(tail, pos, pos + 1);
				*c = (struct claim){.slot = s, .pos = pos, .word = mine};
				return CLAIMED;
			}
			if (st < SHMBOX__WRITING || st > SHMBOX__DEAD)
				return corrupt();
			/* claimed already; the tail lags */
			__attribute__((fallthrough));
		case LAP_NEXT:
			race_lost(b, r);
			cas(tail, pos, pos + 1);
			continue;
		case LAP_PREV:
			if (st == SHMBOX__DEAD) { /* a dead put's slot: skip it for the getters */
				cas(&s->word, w, shmbox__word(lap, 0, SHMBOX__FREE));
				continue;
			}
			if (st < SHMBOX__WRITING || st > SHMBOX__READING)
				return corrupt();
			*c = (struct claim){.slot = s, .pos = pos, .word = w};
			return BLOCKED; /* the ring is full here */
		default:
			if (moved_on(tail, pos, w, lap))
				continue;
			return corrupt();
		}
	}
}

static int get_claim(struct shmbox *b, struct shmbox__ring *r, struct claim *c, size_t size)
{
	_Atomic uint64_t *head = &r->h->head;

	for (;;) {
		uint64_t pos = atomic_load_explicit(head, memory_order_acquire);
		uint64_t lap = shmbox__pos_lap(r, pos);
		struct shmbox__slot *s = shmbox__slot_at(r, pos);
		uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
		unsigned st = shmbox__word_state(w);
		uint64_t mine = shmbox__word(lap, b->me, SHMBOX__READING);
		uint32_t len;

		switch (lap_diff(w, lap)) {
		case LAP_SAME:
			switch (st) {
			case SHMBOX__FULL:
				/* Read the length once, check it, and use only this copy. */
				len = atomic_load_explicit(&s->len, memory_order_relaxed);
				if (len > b->slot_size)
					return corrupt();
				if (len > size) {
					errno = EMSGSIZE; /* it stays queued */
					return -1;
				}
				if (!cas(&s->word, w, mine)) {
					race_lost(b, r);
					continue;
				}
				cas(head, pos, pos + 1);
				*c = (struct claim){.slot = s, .pos = pos, .word = mine, .len = len};
				return CLAIMED;
			case SHMBOX__DEAD: /* a put died here: nothing to read */
				if (cas(&s->word, w, shmbox__word(lap + 1, 0, SHMBOX__FREE)))
					shmbox__wake(b, &r->h->putters_waiting, r->sem_put);
				continue;
			case SHMBOX__READING: /* taken; the head lags */
				race_lost(b, r);
				cas(head, pos, pos + 1);
				continue;
			case SHMBOX__FREE:
			case SHMBOX__WRITING:
				*c = (struct claim){.slot = s, .pos = pos, .word = w};
				return BLOCKED; /* empty, or the next message is still being written */
			default:
				return corrupt();
			}
		case LAP_NEXT: /* this position is done with; the head lags */
			race_lost(b, r);
			cas(head, pos, pos + 1);
			continue;
		case LAP_PREV:
			if (st != SHMBOX__READING)
				return corrupt();
			*c = (struct claim){.slot = s, .pos = pos, .word = w};
			return BLOCKED; /* the last lap's reader is still copying */
		default:
			if (moved_on(head, pos, w, lap))
				continue;
			return corrupt();
		}
	}
}

/* Wait until the slot that blocked us changes: spin a little, free it if
 * its holder died, then sleep.  0: try again; -1: errno. */
static int wait_turn(struct shmbox *b, struct claim *c, struct shmbox__spinner *sp,
		     struct shmbox__deadline *d, _Atomic uint32_t *waiting, int sem)
{
	int r;

	if (d->timeout_ms != 0 && sp->spins < sp->budget) {
		if (++sp->spins % 16 == 0 && shmbox__destroyed(b)) {
			errno = EIDRM;
			return -1;
		}
		if (shmbox__spin(b, sp, d))
			return 0;
	}
	sp->slept = true;
	r = shmbox__recover(b, c->slot, c->word);
	if (r != 0)
		return r > 0 ? 0 : -1;
	if (shmbox__deadline_passed(d)) {
		errno = d->timeout_ms == 0 ? EAGAIN : ETIMEDOUT;
		return -1;
	}
	return shmbox__sleep(b, waiting, sem, &c->slot->word, c->word, d);
}

int shmbox__check_handle(struct shmbox *b, int timeout_ms)
{
	if (b == NULL || timeout_ms < -1) {
		errno = EINVAL;
		return -1;
	}
	if (b->rdonly || shmbox__inherited(b)) { /* an observer, or its parent's handle */
		errno = EBADF;
		return -1;
	}
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return -1;
	}
	return 0;
}

int shmbox__put_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		    struct claim *c)
{
	struct shmbox__spinner sp;
	int rc;

	shmbox__op_start(b, r, d);
	shmbox__spinner_start(&sp, b);
	while ((rc = put_claim(b, r, c)) == BLOCKED)
		if (wait_turn(b, c, &sp, d, &r->h->putters_waiting, r->sem_put) == -1)
			return -1;
	shmbox__spinner_learn(b, &sp);
	return rc;
}

/* WRITING -> FULL.  A CAS, not a store: if our claim was taken from us
 * (our token read as dead), the slot is no longer ours to publish. */
bool shmbox__publish(struct shmbox *b, struct shmbox__ring *r, const struct claim *c,
		    size_t len, uint32_t reply, uint32_t gen)
{
	struct shmbox__slot *s = c->slot;

	/* A stale claim (committed already, or taken from us) must not touch
	 * the slot's header: it may hold someone else's message by now. */
	if (atomic_load_explicit(&s->word, memory_order_acquire) != c->word)
		return false;
	atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
	atomic_store_explicit(&s->pid, b->pid, memory_order_relaxed);
	atomic_store_explicit(&s->seq, c->pos, memory_order_relaxed);
	atomic_store_explicit(&s->reply, reply, memory_order_relaxed);
	atomic_store_explicit(&s->gen, gen, memory_order_relaxed);
	if (!cas_sc(&s->word, c->word, shmbox__word(shmbox__word_lap(c->word), 0, SHMBOX__FULL)))
		return false;
	shmbox__touch(b, &r->h->last_put);
	shmbox__wake_after_sc(b, &r->h->getters_waiting, r->sem_get);
	shmbox__wake_after_sc(b, &r->h->putters_waiting, r->sem_put); /* the baton: see below */
	return true;
}

int shmbox__get_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		    size_t size, struct claim *c)
{
	struct shmbox__spinner sp;
	int rc;

	shmbox__op_start(b, r, d);
	shmbox__spinner_start(&sp, b);
	while ((rc = get_claim(b, r, c, size)) == BLOCKED)
		if (wait_turn(b, c, &sp, d, &r->h->getters_waiting, r->sem_get) == -1)
			return -1;
	shmbox__spinner_learn(b, &sp);
	return rc;
}

/* READING -> FREE of the next lap; false if the claim was taken from us,
 * and then what we read may be torn. */
bool shmbox__release(struct shmbox *b, struct shmbox__ring *r, const struct claim *c)
{
	if (!cas_sc(&c->slot->word, c->word,
		    shmbox__word(shmbox__word_lap(c->word) + 1, 0, SHMBOX__FREE)))
		return false;
	shmbox__touch(b, &r->h->last_get);
	shmbox__wake_after_sc(b, &r->h->putters_waiting, r->sem_put);
	/* Pass the baton: one publish wakes one getter, but it can make two
	 * messages takeable (its own, and a later one published while it was
	 * still being written; found by the model checker, test/model).  So a
	 * completed get also wakes one more sleeping getter, and a completed
	 * put one more putter; one that finds nothing sleeps again without
	 * passing it on.  When nobody sleeps it is one load of a line only
	 * sleepers write. */
	shmbox__wake_after_sc(b, &r->h->getters_waiting, r->sem_get);
	return true;
}

int shmbox__ring_put(struct shmbox *b, struct shmbox__ring *r, const void *msg, size_t len,
		     struct shmbox__deadline *d, uint32_t reply, uint32_t gen, uint64_t *posp)
{
	struct claim c;

	do {
		if (shmbox__put_wait(b, r, d, &c) == -1)
			return -1;
		if (len > 0)
			shmbox__copy(shmbox__payload(c.slot), msg, len);
	} while (!shmbox__publish(b, r, &c, len, reply, gen));
	if (posp != NULL)
		*posp = c.pos;
	return 0;
}

ssize_t shmbox__ring_get(struct shmbox *b, struct shmbox__ring *r, void *buf, size_t size,
			 struct shmbox__deadline *d, shmbox__on_claim on_claim, void *ctx)
{
	struct claim c;
	int verdict;

	for (;;) {
		if (shmbox__get_wait(b, r, d, size, &c) == -1)
			return -1;
		verdict = on_claim != NULL ? on_claim(b, c.slot, ctx) : 0;
		if (verdict == 0 && c.len > 0)
			shmbox__copy(buf, shmbox__payload(c.slot), c.len);
		if (shmbox__release(b, r, &c) && verdict != 1)
			break;
	}
	return verdict == -1 ? -1 : (ssize_t)c.len;
}

int shmbox_put(shmbox_t *b, const void *msg, size_t len, int timeout_ms)
{
	struct shmbox__deadline d;

	if (shmbox__check_handle(b, timeout_ms) == -1)
		return -1;
	if (msg == NULL && len > 0) {
		errno = EINVAL;
		return -1;
	}
	if (len > b->slot_size) {
		errno = EMSGSIZE;
		return -1;
	}
	shmbox__deadline_init(&d, timeout_ms);
	return shmbox__ring_put(b, &b->ring[SHMBOX__MESSAGES], msg, len, &d, 0, 0, NULL);
}

ssize_t shmbox_get(shmbox_t *b, void *buf, size_t size, int timeout_ms)
{
	struct shmbox__deadline d;

	if (shmbox__check_handle(b, timeout_ms) == -1)
		return -1;
	if (buf == NULL && size > 0) {
		errno = EINVAL;
		return -1;
	}
	shmbox__deadline_init(&d, timeout_ms);
	return shmbox__ring_get(b, &b->ring[SHMBOX__MESSAGES], buf, size, &d, NULL, NULL);
}
