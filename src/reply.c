/*
 * The reply slots' state machine.  A call takes a reply slot, puts its
 * request (naming the slot and the slot's generation) into the request
 * ring, and waits on the slot.  A server's accept takes the request from
 * the ring and marks the reply slot ACCEPTED by itself; its reply fills
 * the slot and marks it READY.
 *
 *   FREE(g) -call-> WAITING(g, caller) -accept-> ACCEPTED(g, server)
 *   ACCEPTED(g) -reply-> FILLING(g, server) -> READY(g, caller) -call-> FREE(g+1)
 *
 * The generation makes every call unique: a reply to a caller that gave up
 * finds the slot FREE or in a later generation and fails with ECANCELED, so
 * a late reply is never handed to a later call.  Whoever gives up or
 * finds a holder dead moves the slot to FREE(g+1), with one CAS on the word.
 *
 * A server may answer with an errno instead of a reply (a stand-in for a
 * server elsewhere: shmbox_reply_error); it travels the same way, in the
 * slot's result instead of a length.  And while it holds the ticket, it
 * may read when the caller gives up: the caller writes that into the slot
 * when it claims it, before its request is queued.
 */
#include <errno.h>
#include <string.h>

#include "copy.h"
#include "reply.h"
#include "ring.h"
#include "sem.h"
#include "spin.h"

static unsigned rstate(uint64_t w)
{
	return shmbox__word_state(w);
}

void shmbox__reply_init(struct shmbox *b)
{
	for (size_t i = 0; i < b->nreplies; i++)
		atomic_store_explicit(&shmbox__reply_at(b, i)->word,
				      shmbox__rword(0, 0, SHMBOX__R_FREE), memory_order_relaxed);
}

/* Free a reply slot seen as w; false if it changed meanwhile. */
static bool release(struct shmbox *b, struct shmbox__reply *rs, uint64_t w)
{
	if (!shmbox__cas(&rs->word, w, shmbox__rword(shmbox__rword_gen(w) + 1, 0, SHMBOX__R_FREE)))
		return false;
	atomic_fetch_add_explicit(&b->hdr->replies_freed, 1, memory_order_release);
	shmbox__wake(b, &b->hdr->callers_waiting, SHMBOX__SEM_CALLERS);
	return true;
}

void shmbox__reply_abandon(struct shmbox *b, uint32_t idx)
{
	struct shmbox__reply *rs = shmbox__reply_at(b, idx);

	release(b, rs, atomic_load_explicit(&rs->word, memory_order_acquire));
}

/* Whose death ends the call in a reply slot seen as w: the caller's, or
 * while a server fills the slot only that server's (freeing it under a
 * live server's copy would let the copy land in the next call's reply).
 * WAITING and READY name the caller in the word itself; rs->caller may
 * still be the last call's if the caller died right after its claim.
 * owner >= 0: the token whose last holder is gone; owner < 0: ask the
 * kernel about each holder. */
static bool holder_dead(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, int owner)
{
	unsigned st = rstate(w), word_owner = shmbox__word_owner(w), caller;

	if (st == SHMBOX__R_ACCEPTED) {
		caller = atomic_load_explicit(&rs->caller, memory_order_relaxed);
		if (owner >= 0)
			return caller == (unsigned)owner || word_owner == (unsigned)owner;
		return shmbox__token_alive(b, caller) == 0;
	}
	if (st < SHMBOX__R_WAITING || st > SHMBOX__R_READY)
		return false; /* FREE, or not a state: not ours to change */
	if (owner >= 0)
		return word_owner == (unsigned)owner;
	return shmbox__token_alive(b, word_owner) == 0;
}

/* Free the reply slots whose calls died with a process: dead callers', a
 * dead server's accepted call, and a reply a server died writing. */
static void recover(struct shmbox *b, int owner)
{
	for (size_t i = 0; i < b->nreplies; i++) {
		struct shmbox__reply *rs = shmbox__reply_at(b, i);
		uint64_t w = atomic_load_explicit(&rs->word, memory_order_acquire);

		if (holder_dead(b, rs, w, owner))
			release(b, rs, w);
	}
}

void shmbox__reply_revoke_owner(struct shmbox *b, unsigned owner)
{
	recover(b, (int)owner);
}

/* When a call with deadline d gives up, in CLOCK_MONOTONIC ns: 0 never, 1
 * (long past) for a call that does not wait.  A call's clock starts when it
 * first waits; if it has not yet, it starts a moment after this reading,
 * so a server is told no more time than the caller has. */
static int64_t caller_deadline(const struct shmbox__deadline *d)
{
	if (d->timeout_ms < 0)
		return 0;
	if (d->timeout_ms == 0)
		return 1;
	if (d->started)
		return (int64_t)d->at.tv_sec * 1000000000 + d->at.tv_nsec;
	return shmbox__now_ns() + (int64_t)d->timeout_ms * 1000000;
}

int shmbox__reply_claim(struct shmbox *b, struct shmbox__deadline *d, uint32_t *idx,
			uint32_t *gen)
{
	for (;;) {
		uint64_t freed = atomic_load_explicit(&b->hdr->replies_freed, memory_order_acquire);
		size_t k;

		for (k = 0; k < b->nreplies; k++) {
			size_t i = (b->me + k) % b->nreplies; /* start apart from the others */
			struct shmbox__reply *rs = shmbox__reply_at(b, i);
			uint64_t w = atomic_load_explicit(&rs->word, memory_order_acquire);

			if (rstate(w) != SHMBOX__R_FREE ||
			    !shmbox__cas(&rs->word, w,
				 shmbox__rword(shmbox__rword_gen(w), b->me, SHMBOX__R_WAITING)))
				continue;
			atomic_store_explicit(&rs->caller, b->me, memory_order_relaxed);
			/* Release: whoever reads this deadline then sees our
			 * claim in the word (shmbox__reply_deadline). */
			atomic_store_explicit(&rs->deadline, caller_deadline(d),
					      memory_order_release);
			*idx = (uint32_t)i;
			*gen = shmbox__rword_gen(w);
			return 0;
		}
		recover(b, -1);
		if (atomic_load_explicit(&b->hdr->replies_freed, memory_order_acquire) != freed)
			continue;
		if (shmbox__deadline_passed(d)) {
			errno = shmbox__deadline_errno(d);
			return -1;
		}
		/* Every slot is held.  A freed one wakes us; its holders were
		 * just looked at, and are looked at again once a second. */
		if (shmbox__sleep(b, &b->hdr->callers_waiting, SHMBOX__SEM_CALLERS,
				  &b->hdr->replies_freed, freed, false, d) == -1)
			return -1;
	}
}

/* Our request was taken from the ring but nobody accepted it: the server
 * died between the two.  Checked only while we wait, so it may be slow. */
static bool request_lost(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, uint64_t pos)
{
	if (!shmbox__ring_taken(b, &b->ring[SHMBOX__REQUESTS], pos))
		return false;
	/* A server marks ACCEPTED before it lets go of the request slot. */
	return atomic_load_explicit(&rs->word, memory_order_acquire) == w;
}

static int server_dead(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, uint64_t pos)
{
	int alive;

	if (rstate(w) == SHMBOX__R_WAITING)
		return request_lost(b, rs, w, pos);
	alive = shmbox__token_alive(b, shmbox__word_owner(w));
	return alive < 0 ? -1 : !alive;
}

/* A result that is no length: an errno a server answered with, or garbage. */
static ssize_t take_error(struct shmbox *b, struct shmbox__reply *rs, uint64_t w,
			  uint64_t result, size_t *lenp)
{
	uint64_t err = result >> SHMBOX__RESULT_ERR_SHIFT;

	release(b, rs, w);
	if (err < 1 || err > SHMBOX__ERRNO_MAX || (uint32_t)result != 0) {
		errno = EPROTO;
		return -1;
	}
	*lenp = 0;
	errno = (int)err;
	return -1;
}

static ssize_t take(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, void *rep,
		    size_t rep_size, size_t *lenp)
{
	uint64_t result = atomic_load_explicit(&rs->result, memory_order_relaxed);
	size_t len;

	if (result > b->slot_size)
		return take_error(b, rs, w, result, lenp);
	len = (size_t)result;
	*lenp = len;
	if (len > rep_size) {
		release(b, rs, w);
		errno = EMSGSIZE;
		return -1;
	}
	if (len > 0)
		shmbox__copy(rep, shmbox__reply_payload(rs), len);
	release(b, rs, w);
	return (ssize_t)len;
}

/* Give up on a call: only while no server has started its reply. */
static int give_up(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, int err)
{
	unsigned st = rstate(w);

	if ((st == SHMBOX__R_WAITING || st == SHMBOX__R_ACCEPTED) && release(b, rs, w)) {
		errno = err;
		return -1;
	}
	return 0; /* it moved on: look again */
}

ssize_t shmbox__reply_await(struct shmbox *b, uint32_t idx, uint32_t gen, uint64_t pos,
			    void *rep, size_t rep_size, size_t *len, struct shmbox__deadline *d)
{
	struct shmbox__reply *rs = shmbox__reply_at(b, idx);
	struct shmbox__spinner sp;
	ssize_t n;
	int dead;

	shmbox__spinner_start(&sp, b);
	for (;;) {
		uint64_t w = atomic_load_explicit(&rs->word, memory_order_acquire);
		unsigned st = rstate(w);

		if (shmbox__rword_gen(w) != gen || st == SHMBOX__R_FREE) {
			errno = ECONNRESET; /* freed under us: its server died */
			return -1;
		}
		if (st == SHMBOX__R_READY) {
			n = take(b, rs, w, rep, rep_size, len);
			shmbox__spinner_learn(b, &sp);
			return n;
		}
		if (st < SHMBOX__R_WAITING || st > SHMBOX__R_FILLING) {
			errno = EPROTO;
			return -1;
		}
		if (shmbox__spin_again(b, &sp, d))
			continue;
		dead = server_dead(b, rs, w, pos);
		if (dead < 0)
			return -1;
		if (dead) { /* the server died: the call fails, even mid-reply */
			if (release(b, rs, w)) {
				errno = ECONNRESET;
				return -1;
			}
			continue;
		}
		if (shmbox__deadline_passed(d)) {
			if (give_up(b, rs, w, shmbox__deadline_errno(d)) == -1)
				return -1;
			if (st == SHMBOX__R_FILLING) /* a reply is being written: take it */
				shmbox__cpu_relax();
			continue;
		}
		sp.slept = true;
		/* WAITING, ACCEPTED, FILLING: each has a holder who may die. */
		if (shmbox__sleep(b, &rs->waiting, shmbox__sem_reply(b, idx), &rs->word, w, true,
				  d) == -1) {
			if (errno != EINTR || give_up(b, rs, w, EINTR) == -1)
				return -1;
		}
	}
}

bool shmbox__reply_accept(struct shmbox *b, uint32_t idx, uint32_t gen)
{
	struct shmbox__reply *rs = shmbox__reply_at(b, idx);
	uint64_t w = atomic_load_explicit(&rs->word, memory_order_acquire);

	return rstate(w) == SHMBOX__R_WAITING && shmbox__rword_gen(w) == gen &&
	       shmbox__cas(&rs->word, w, shmbox__rword(gen, b->me, SHMBOX__R_ACCEPTED));
}

int shmbox__reply_fill(struct shmbox *b, uint32_t idx, uint32_t gen, const void *rep,
		       size_t len, int err)
{
	struct shmbox__reply *rs = shmbox__reply_at(b, idx);
	uint64_t w = atomic_load_explicit(&rs->word, memory_order_acquire);
	uint64_t filling = shmbox__rword(gen, b->me, SHMBOX__R_FILLING);
	unsigned caller;

	if (rstate(w) != SHMBOX__R_ACCEPTED || shmbox__rword_gen(w) != gen ||
	    !shmbox__cas(&rs->word, w, filling)) {
		errno = ECANCELED;
		return -1;
	}
	if (len > 0)
		shmbox__copy(shmbox__reply_payload(rs), rep, len);
	atomic_store_explicit(&rs->result, len | (uint64_t)err << SHMBOX__RESULT_ERR_SHIFT,
			      memory_order_relaxed);
	caller = atomic_load_explicit(&rs->caller, memory_order_relaxed);
	if (!shmbox__cas(&rs->word, filling, shmbox__rword(gen, caller, SHMBOX__R_READY))) {
		errno = ECANCELED;
		return -1;
	}
	shmbox__wake(b, &rs->waiting, shmbox__sem_reply(b, idx));
	return 0;
}

/* Read like a seqlock: the word before and after the deadline.  A claim
 * writes the deadline after its CAS, with release; so if the deadline read
 * is a later call's, the word read after the fence is no longer w. */
int shmbox__reply_deadline(struct shmbox *b, uint32_t idx, uint32_t gen, int64_t *deadline)
{
	struct shmbox__reply *rs = shmbox__reply_at(b, idx);
	uint64_t w = atomic_load_explicit(&rs->word, memory_order_acquire);

	if (rstate(w) == SHMBOX__R_ACCEPTED && shmbox__rword_gen(w) == gen) {
		*deadline = atomic_load_explicit(&rs->deadline, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&rs->word, memory_order_relaxed) == w)
			return 0;
	}
	errno = ECANCELED; /* answered, given up, or another call's */
	return -1;
}
