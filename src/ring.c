/*
 * The slot ring's state machine.  See layout.h for the slot word.  A put
 * claims the slot at the tail (FREE -> WRITING), copies, and publishes
 * (WRITING -> FULL); a get claims the slot at the head (FULL -> READING),
 * copies, and releases (READING -> FREE of the next lap).  Claims are
 * compare-and-swaps on the slot word, so any number of processes and
 * threads can put and get at once; tail and head only say where to look,
 * and anyone who sees them lag behind a claimed slot moves them on.
 *
 * Position p of the ring is slot p % N in lap p / N.  The life of a slot:
 *   FREE(L) -put claims-> WRITING(L,o) -put publishes-> FULL(L)
 *   FULL(L) -get claims-> READING(L,o) -get releases-> FREE(L+1)
 * and when the holder o of a claim is dead (its token reads 0):
 *   WRITING(L,o) -> DEAD(L) -> FREE(L+1)   the put never returned, so
 *                                          nothing committed is lost;
 *                                          getters skip the slot
 *   READING(L,o) -> FREE(L+1)              the get had claimed the message;
 *                                          it dies with its reader, as it
 *                                          would a moment after returning
 * A put that gives its claim back (shmbox_cancel) takes the first of these
 * steps itself, with the same wakes: its slot is a dead put's from then on.
 * A reader copies only from a slot it moved FULL -> READING, and a slot
 * becomes FULL only after its payload is written: no torn reads.  Every
 * CAS is on the exact word seen, so a slot that moved on meanwhile, or was
 * claimed again in a later lap, is never touched.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "copy.h"
#include "fd.h"
#include "ring.h"
#include "sem.h"
#include "spin.h"

enum { CLAIMED = 0, BLOCKED = 1 };

/* Publish and release: sequentially consistent, so the wakes and rings
 * after them need no fence (sem.h, shmbox__wake_after_sc; fd.h). */
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

void shmbox__ring_init(struct shmbox__ring *r)
{
	for (size_t i = 0; i < r->nslots; i++)
		atomic_store_explicit(&shmbox__slot_at(r, i)->word, shmbox__word(0, 0, SHMBOX__FREE),
				      memory_order_relaxed);
}

/* A slot laps ahead of where we looked: we were slow, and the position has
 * moved on since we read it (or the segment is corrupt, if it has not). */
static bool moved_on(_Atomic uint64_t *position, uint64_t pos, uint64_t w, uint64_t lap)
{
	return lap_diff(w, lap) < (SHMBOX__LAP_MASK >> 1) &&
	       atomic_load_explicit(position, memory_order_acquire) != pos;
}

/* put_claim and get_claim are inlined where they are used, also in
 * listening(): a call out of put or get costs a noticeable part of it. */
#define CLAIM static inline __attribute__((always_inline)) int

CLAIM put_claim(struct shmbox *b, struct shmbox__ring *r, struct shmbox__claim *c)
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
				if (!shmbox__cas(&s->word, w, mine)) {
					shmbox__spin_lost(b, r);
					continue;
				}
				shmbox__cas(tail, pos, pos + 1);
				*c = (struct shmbox__claim){.ring = r, .slot = s, .pos = pos, .word = mine};
				return CLAIMED;
			}
			if (st < SHMBOX__WRITING || st > SHMBOX__DEAD)
				return corrupt();
			/* claimed already; the tail lags */
			__attribute__((fallthrough));
		case LAP_NEXT:
			shmbox__spin_lost(b, r);
			shmbox__cas(tail, pos, pos + 1);
			continue;
		case LAP_PREV:
			if (st == SHMBOX__DEAD) { /* a dead put's slot: skip it for the getters */
				shmbox__cas(&s->word, w, shmbox__word(lap, 0, SHMBOX__FREE));
				continue;
			}
			if (st < SHMBOX__WRITING || st > SHMBOX__READING)
				return corrupt();
			*c = (struct shmbox__claim){.ring = r, .slot = s, .pos = pos, .word = w};
			return BLOCKED; /* the ring is full here */
		default:
			if (moved_on(tail, pos, w, lap))
				continue;
			return corrupt();
		}
	}
}

CLAIM get_claim(struct shmbox *b, struct shmbox__ring *r, struct shmbox__claim *c, size_t size)
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
				if (!shmbox__cas(&s->word, w, mine)) {
					shmbox__spin_lost(b, r);
					continue;
				}
				shmbox__cas(head, pos, pos + 1);
				*c = (struct shmbox__claim){
					.ring = r, .slot = s, .pos = pos, .word = mine, .len = len};
				return CLAIMED;
			case SHMBOX__DEAD: /* a put died here: nothing to read */
				if (shmbox__cas(&s->word, w, shmbox__word(lap + 1, 0, SHMBOX__FREE))) {
					shmbox__wake(b, &r->h->putters_waiting, r->sem_put);
					shmbox__fd_ring_after(b, r, false);
				}
				continue;
			case SHMBOX__READING: /* taken; the head lags */
				shmbox__spin_lost(b, r);
				shmbox__cas(head, pos, pos + 1);
				continue;
			case SHMBOX__FREE:
			case SHMBOX__WRITING:
				*c = (struct shmbox__claim){.ring = r, .slot = s, .pos = pos, .word = w};
				return BLOCKED; /* empty, or the next message is still being written */
			default:
				return corrupt();
			}
		case LAP_NEXT: /* this position is done with; the head lags */
			shmbox__spin_lost(b, r);
			shmbox__cas(head, pos, pos + 1);
			continue;
		case LAP_PREV:
			if (st != SHMBOX__READING)
				return corrupt();
			*c = (struct shmbox__claim){.ring = r, .slot = s, .pos = pos, .word = w};
			return BLOCKED; /* the last lap's reader is still copying */
		default:
			if (moved_on(head, pos, w, lap))
				continue;
			return corrupt();
		}
	}
}

static bool in_flight(uint64_t w)
{
	unsigned st = shmbox__word_state(w);

	return st == SHMBOX__WRITING || st == SHMBOX__READING;
}

/* Move on a claim whose holder died, and wake whoever sleeps behind it;
 * false if the word was no longer w.  shmbox__cancel ends a live put's
 * claim through here too, so that it ends exactly as a dead one's. */
static bool revoke(struct shmbox *b, struct shmbox__ring *r, struct shmbox__slot *s, uint64_t w)
{
	uint64_t lap = shmbox__word_lap(w);
	bool writer = shmbox__word_state(w) == SHMBOX__WRITING;
	uint64_t next = writer ? shmbox__word(lap, 0, SHMBOX__DEAD)
			       : shmbox__word(lap + 1, 0, SHMBOX__FREE);

	if (!atomic_compare_exchange_strong_explicit(&s->word, &w, next, memory_order_acq_rel,
						     memory_order_relaxed))
		return false;
	if (writer) {
		shmbox__wake(b, &r->h->getters_waiting, r->sem_get);
		shmbox__fd_ring_after(b, r, true);
	} else {
		shmbox__wake(b, &r->h->putters_waiting, r->sem_put);
		shmbox__fd_ring_after(b, r, false);
	}
	return true;
}

/* 1: the claim's holder is gone and the slot was moved on; 0: nothing to
 * do (no claim, or its holder lives); -1: errno set. */
static int revoke_if_dead(struct shmbox *b, struct shmbox__ring *r, struct shmbox__slot *s,
			  uint64_t w)
{
	int alive;

	if (!in_flight(w))
		return 0;
	alive = shmbox__token_alive(b, shmbox__word_owner(w));
	if (alive < 0)
		return -1;
	if (alive)
		return 0;
	revoke(b, r, s, w);
	return 1;
}

void shmbox__ring_revoke_owner(struct shmbox *b, struct shmbox__ring *r, unsigned owner)
{
	for (size_t i = 0; i < r->nslots; i++) {
		struct shmbox__slot *s = shmbox__slot_at(r, i);
		uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);

		if (in_flight(w) && shmbox__word_owner(w) == owner)
			revoke(b, r, s, w);
	}
}

/* c is a put's claim of ours: zerocopy.c's zc_claim checked it. */
bool shmbox__cancel(struct shmbox *b, const struct shmbox__claim *c)
{
	return revoke(b, c->ring, c->slot, c->word);
}

bool shmbox__ring_taken(struct shmbox *b, struct shmbox__ring *r, uint64_t pos)
{
	struct shmbox__slot *s = shmbox__slot_at(r, pos);
	uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
	uint64_t diff = shmbox__lap_diff(w, shmbox__pos_lap(r, pos));

	if (diff == 0 && shmbox__word_state(w) == SHMBOX__READING &&
	    revoke_if_dead(b, r, s, w) == 1)
		return true; /* its reader died holding it */
	return diff != 0 && diff < (SHMBOX__LAP_MASK >> 1); /* else still queued, or being read */
}

/* Wait until the slot that blocked us changes: spin a little, free it if
 * its holder died, then sleep.  0: try again; -1: errno. */
static int wait_turn(struct shmbox *b, struct shmbox__claim *c, struct shmbox__spinner *sp,
		     struct shmbox__deadline *d, _Atomic uint32_t *waiting, int sem)
{
	unsigned st = shmbox__word_state(c->word);
	int r;

	if (shmbox__spin_again(b, sp, d)) {
		if (sp->spins % 16 == 0 && shmbox__destroyed(b)) {
			errno = EIDRM;
			return -1;
		}
		return 0;
	}
	sp->slept = true;
	r = revoke_if_dead(b, c->ring, c->slot, c->word);
	if (r != 0)
		return r > 0 ? 0 : -1;
	if (shmbox__deadline_passed(d)) {
		errno = shmbox__deadline_errno(d);
		return -1;
	}
	/* WRITING and READING have a holder who may die: look again soon.
	 * FULL, between them, is treated alike (a put on a full ring). */
	return shmbox__sleep(b, waiting, sem, &c->slot->word, c->word,
			     st >= SHMBOX__WRITING && st <= SHMBOX__READING, d);
}

/* A wait failed (errno says why).  If it was a call with timeout 0 that
 * found nothing, and this side has a descriptor: arm it, then look once
 * more (fd.h, doc/descriptor.md).  Out of line: the fast path never gets
 * here. */
static __attribute__((noinline)) int listening(struct shmbox *b, struct shmbox__ring *r,
						struct shmbox__claim *c, size_t size, bool get)
{
	int rc;

	if (!shmbox__fd_arm(b, r, get))
		return -1;
	rc = get ? get_claim(b, r, c, size) : put_claim(b, r, c);
	if (rc == BLOCKED) {
		shmbox__fd_watch(b, r, get, c->word);
		errno = EAGAIN;
		return -1;
	}
	/* Armed, then found work: the drain may have taken the ring of more. */
	shmbox__fd_keep_ready(b, r, get);
	return rc;
}

int shmbox__put_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		     struct shmbox__claim *c)
{
	struct shmbox__spinner sp;
	int rc;

	shmbox__spin_op_start(b, r, d);
	shmbox__spinner_start(&sp, b);
	while ((rc = put_claim(b, r, c)) == BLOCKED)
		if (wait_turn(b, c, &sp, d, &r->h->putters_waiting, r->sem_put) == -1)
			return listening(b, r, c, 0, false);
	shmbox__spinner_learn(b, &sp);
	return rc;
}

/* Record the time of a put or get, to the second, for `shmbox info`.
 * time() is the vDSO's cheapest read, and the store is made only when the
 * second changes, so the line is not dirtied on every message. */
static inline void touch(struct shmbox *b, _Atomic int64_t *when)
{
	int64_t now = (int64_t)time(NULL);

	if (atomic_load_explicit(when, memory_order_relaxed) != now)
		atomic_store_explicit(when, now, memory_order_relaxed);
	shmbox__spin_tick(b, now);
}

/* A CAS, not a store: if our claim was taken from us (our token read as
 * dead), the slot is no longer ours to publish. */
bool shmbox__publish(struct shmbox *b, const struct shmbox__claim *c, size_t len,
		     uint32_t reply, uint32_t gen)
{
	struct shmbox__ring *r = c->ring;
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
	touch(b, &r->h->last_put);
	shmbox__wake_after_sc(b, &r->h->getters_waiting, r->sem_get);
	shmbox__wake_after_sc(b, &r->h->putters_waiting, r->sem_put); /* the baton: see below */
	shmbox__fd_ring_if_armed(b, r, true);
	return true;
}

int shmbox__get_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		     size_t size, struct shmbox__claim *c)
{
	struct shmbox__spinner sp;
	int rc;

	shmbox__spin_op_start(b, r, d);
	shmbox__spinner_start(&sp, b);
	while ((rc = get_claim(b, r, c, size)) == BLOCKED)
		if (wait_turn(b, c, &sp, d, &r->h->getters_waiting, r->sem_get) == -1)
			return listening(b, r, c, size, true);
	shmbox__spinner_learn(b, &sp);
	return rc;
}

bool shmbox__release(struct shmbox *b, const struct shmbox__claim *c)
{
	struct shmbox__ring *r = c->ring;

	if (!cas_sc(&c->slot->word, c->word,
		    shmbox__word(shmbox__word_lap(c->word) + 1, 0, SHMBOX__FREE)))
		return false;
	touch(b, &r->h->last_get);
	shmbox__wake_after_sc(b, &r->h->putters_waiting, r->sem_put);
	shmbox__fd_ring_if_armed(b, r, false);
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
	struct shmbox__claim c;

	do {
		if (shmbox__put_wait(b, r, d, &c) == -1)
			return -1;
		if (len > 0)
			shmbox__copy(shmbox__payload(c.slot), msg, len);
	} while (!shmbox__publish(b, &c, len, reply, gen));
	if (posp != NULL)
		*posp = c.pos;
	return 0;
}

ssize_t shmbox__ring_get(struct shmbox *b, struct shmbox__ring *r, void *buf, size_t size,
			 struct shmbox__deadline *d, shmbox__on_claim on_claim, void *ctx)
{
	struct shmbox__claim c;
	int verdict;

	for (;;) {
		if (shmbox__get_wait(b, r, d, size, &c) == -1)
			return -1;
		verdict = on_claim != NULL ? on_claim(b, c.slot, ctx) : 0;
		if (verdict == 0 && c.len > 0)
			shmbox__copy(buf, shmbox__payload(c.slot), c.len);
		if (shmbox__release(b, &c) && verdict != 1)
			break;
	}
	return verdict == -1 ? -1 : (ssize_t)c.len;
}
