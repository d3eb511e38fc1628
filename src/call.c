/*
 * Request/reply.  A call takes a reply slot, puts its request (naming the
 * slot and the slot's generation) into the request ring, and waits on the
 * slot.  accept takes a request from the ring and marks the reply slot
 * ACCEPTED by itself; reply fills the slot and marks it READY.
 *
 *   FREE(g) -call-> WAITING(g, caller) -accept-> ACCEPTED(g, server)
 *   ACCEPTED(g) -reply-> FILLING(g, server) -> READY(g, caller) -call-> FREE(g+1)
 *
 * The generation makes every call unique: a reply to a caller that gave up
 * finds the slot FREE or in a later generation and fails with ECANCELED, so
 * a late reply is never handed to a later call.  Whoever gives up or
 * finds a holder dead moves the slot to FREE(g+1), with one CAS on the word.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static _Thread_local size_t last_reply_len;

size_t shmbox_last_reply_len(void)
{
	return last_reply_len;
}

static unsigned rstate(uint64_t w)
{
	return shmbox__word_state(w);
}

static bool cas(_Atomic uint64_t *p, uint64_t old, uint64_t new)
{
	return atomic_compare_exchange_strong_explicit(p, &old, new, memory_order_acq_rel,
						       memory_order_acquire);
}

/* Free a reply slot seen as w; false if it changed meanwhile. */
static bool release_reply(struct shmbox *b, struct shmbox__reply *rs, uint64_t w)
{
	if (!cas(&rs->word, w, shmbox__rword(shmbox__rword_gen(w) + 1, 0, SHMBOX__R_FREE)))
		return false;
	atomic_fetch_add_explicit(&b->hdr->replies_freed, 1, memory_order_release);
	shmbox__wake(b, &b->hdr->callers_waiting, SHMBOX__SEM_CALLERS);
	return true;
}

/* Whose death ends the call in a reply slot seen as w: the caller's, or
 * while a server fills the slot only that server's (freeing it under a
 * live server's copy would let the copy land in the next call's reply).
 * WAITING and READY name the caller in the word itself; rs->caller may
 * still be the last call's if the caller died right after its claim. */
static bool reply_holder_dead(struct shmbox *b, struct shmbox__reply *rs, uint64_t w,
			      int owner)
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
 * dead server's accepted call, and a reply a server died writing.
 * owner >= 0: the token we just took, whose last holder is gone;
 * owner < 0: ask the kernel about each holder. */
void shmbox__recover_replies(struct shmbox *b, int owner)
{
	for (size_t i = 0; i < b->nreplies; i++) {
		struct shmbox__reply *rs = shmbox__reply_at(b, i);
		uint64_t w = atomic_load_explicit(&rs->word, memory_order_acquire);

		if (reply_holder_dead(b, rs, w, owner))
			release_reply(b, rs, w);
	}
}

static int claim_reply(struct shmbox *b, struct shmbox__deadline *d, uint32_t *idx,
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
			    !cas(&rs->word, w,
				 shmbox__rword(shmbox__rword_gen(w), b->me, SHMBOX__R_WAITING)))
				continue;
			atomic_store_explicit(&rs->caller, b->me, memory_order_relaxed);
			*idx = (uint32_t)i;
			*gen = shmbox__rword_gen(w);
			return 0;
		}
		shmbox__recover_replies(b, -1);
		if (atomic_load_explicit(&b->hdr->replies_freed, memory_order_acquire) != freed)
			continue;
		if (shmbox__deadline_passed(d)) {
			errno = d->timeout_ms == 0 ? EAGAIN : ETIMEDOUT;
			return -1;
		}
		if (shmbox__sleep(b, &b->hdr->callers_waiting, SHMBOX__SEM_CALLERS,
				  &b->hdr->replies_freed, freed, d) == -1)
			return -1;
	}
}

/* Our request was taken from the ring but nobody accepted it: the server
 * died between the two.  Checked only while we wait, so it may be slow. */
static bool request_lost(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, uint64_t pos)
{
	struct shmbox__ring *r = &b->ring[SHMBOX__REQUESTS];
	struct shmbox__slot *s = shmbox__slot_at(r, pos);
	uint64_t sw = atomic_load_explicit(&s->word, memory_order_acquire);
	uint64_t diff = shmbox__lap_diff(sw, shmbox__pos_lap(r, pos));

	if (diff == 0 && shmbox__word_state(sw) == SHMBOX__READING &&
	    shmbox__recover(b, s, sw) == 1)
		diff = 1; /* its reader died holding it */
	if (diff == 0 || diff >= (SHMBOX__LAP_MASK >> 1))
		return false; /* still queued, or being read */
	/* A server marks ACCEPTED before it lets go of the request slot. */
	return atomic_load_explicit(&rs->word, memory_order_acquire) == w;
}

static int holder_dead(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, uint64_t pos)
{
	int alive;

	if (rstate(w) == SHMBOX__R_WAITING)
		return request_lost(b, rs, w, pos);
	alive = shmbox__token_alive(b, shmbox__word_owner(w));
	return alive < 0 ? -1 : !alive;
}

static ssize_t take_reply(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, void *rep,
			  size_t rep_size)
{
	uint32_t len = atomic_load_explicit(&rs->len, memory_order_relaxed);

	if (len > b->slot_size) {
		release_reply(b, rs, w);
		errno = EPROTO;
		return -1;
	}
	last_reply_len = len;
	if (len > rep_size) {
		release_reply(b, rs, w);
		errno = EMSGSIZE;
		return -1;
	}
	if (len > 0)
		shmbox__copy(rep, shmbox__reply_payload(rs), len);
	release_reply(b, rs, w);
	return (ssize_t)len;
}

/* Give up on a call: only while no server has started its reply. */
static int give_up(struct shmbox *b, struct shmbox__reply *rs, uint64_t w, int err)
{
	unsigned st = rstate(w);

	if ((st == SHMBOX__R_WAITING || st == SHMBOX__R_ACCEPTED) && release_reply(b, rs, w)) {
		errno = err;
		return -1;
	}
	return 0; /* it moved on: look again */
}

static ssize_t await_reply(struct shmbox *b, uint32_t idx, uint32_t gen, uint64_t pos,
			   void *rep, size_t rep_size, struct shmbox__deadline *d)
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
			n = take_reply(b, rs, w, rep, rep_size);
			shmbox__spinner_learn(b, &sp);
			return n;
		}
		if (st < SHMBOX__R_WAITING || st > SHMBOX__R_FILLING) {
			errno = EPROTO;
			return -1;
		}
		if (sp.spins < sp.budget && d->timeout_ms != 0) {
			sp.spins++;
			if (shmbox__spin(b, &sp, d))
				continue;
		}
		dead = holder_dead(b, rs, w, pos);
		if (dead < 0)
			return -1;
		if (dead) { /* the server died: the call fails, even mid-reply */
			if (release_reply(b, rs, w)) {
				errno = ECONNRESET;
				return -1;
			}
			continue;
		}
		if (shmbox__deadline_passed(d)) {
			if (give_up(b, rs, w, d->timeout_ms == 0 ? EAGAIN : ETIMEDOUT) == -1)
				return -1;
			if (st == SHMBOX__R_FILLING) /* a reply is being written: take it */
				shmbox__cpu_relax();
			continue;
		}
		sp.slept = true;
		if (shmbox__sleep(b, &rs->waiting, (int)shmbox__reply_sem(b, idx), &rs->word, w, d) ==
		    -1) {
			if (errno != EINTR || give_up(b, rs, w, EINTR) == -1)
				return -1;
		}
	}
}

ssize_t shmbox_call(shmbox_t *b, const void *req, size_t req_len, void *rep, size_t rep_size,
		    int timeout_ms)
{
	struct shmbox__deadline d;
	uint32_t idx, gen;
	uint64_t pos;

	if (shmbox__check_handle(b, timeout_ms) == -1)
		return -1;
	if ((req == NULL && req_len > 0) || (rep == NULL && rep_size > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (req_len > b->slot_size) {
		errno = EMSGSIZE;
		return -1;
	}
	shmbox__deadline_init(&d, timeout_ms);
	if (claim_reply(b, &d, &idx, &gen) == -1)
		return -1;
	if (shmbox__ring_put(b, &b->ring[SHMBOX__REQUESTS], req, req_len, &d, idx, gen, &pos) ==
	    -1) {
		int e = errno;
		struct shmbox__reply *rs = shmbox__reply_at(b, idx);

		release_reply(b, rs, atomic_load_explicit(&rs->word, memory_order_acquire));
		errno = e;
		return -1;
	}
	return await_reply(b, idx, gen, pos, rep, rep_size, &d);
}

/* Runs with the request slot claimed: mark the reply slot ACCEPTED by us,
 * or skip a request whose caller has already given up. */
static int on_request(struct shmbox *b, struct shmbox__slot *s, void *ctx)
{
	shmbox_ticket_t *t = ctx;
	uint32_t idx = atomic_load_explicit(&s->reply, memory_order_relaxed);
	uint32_t gen = atomic_load_explicit(&s->gen, memory_order_relaxed);
	struct shmbox__reply *rs;
	uint64_t w;

	if (idx >= b->nreplies) {
		errno = EPROTO;
		return -1;
	}
	rs = shmbox__reply_at(b, idx);
	w = atomic_load_explicit(&rs->word, memory_order_acquire);
	if (rstate(w) != SHMBOX__R_WAITING || shmbox__rword_gen(w) != gen ||
	    !cas(&rs->word, w, shmbox__rword(gen, b->me, SHMBOX__R_ACCEPTED)))
		return 1;
	t->slot = idx;
	t->gen = gen;
	return 0;
}

ssize_t shmbox_accept(shmbox_t *b, void *buf, size_t size, shmbox_ticket_t *ticket,
		      int timeout_ms)
{
	struct shmbox__deadline d;

	if (shmbox__check_handle(b, timeout_ms) == -1)
		return -1;
	if (ticket == NULL || (buf == NULL && size > 0)) {
		errno = EINVAL;
		return -1;
	}
	shmbox__deadline_init(&d, timeout_ms);
	return shmbox__ring_get(b, &b->ring[SHMBOX__REQUESTS], buf, size, &d, on_request, ticket);
}

int shmbox_reply(shmbox_t *b, const shmbox_ticket_t *t, const void *rep, size_t len)
{
	struct shmbox__reply *rs;
	uint64_t w, filling;
	unsigned caller;

	if (shmbox__check_handle(b, 0) == -1)
		return -1;
	if (t == NULL || t->slot >= b->nreplies || (rep == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (len > b->slot_size) {
		errno = EMSGSIZE; /* nothing sent: the caller still waits */
		return -1;
	}
	rs = shmbox__reply_at(b, t->slot);
	w = atomic_load_explicit(&rs->word, memory_order_acquire);
	filling = shmbox__rword(t->gen, b->me, SHMBOX__R_FILLING);
	if (rstate(w) != SHMBOX__R_ACCEPTED || shmbox__rword_gen(w) != t->gen ||
	    !cas(&rs->word, w, filling)) {
		errno = ECANCELED;
		return -1;
	}
	if (len > 0)
		shmbox__copy(shmbox__reply_payload(rs), rep, len);
	atomic_store_explicit(&rs->len, (uint32_t)len, memory_order_relaxed);
	caller = atomic_load_explicit(&rs->caller, memory_order_relaxed);
	if (!cas(&rs->word, filling, shmbox__rword(t->gen, caller, SHMBOX__R_READY))) {
		errno = ECANCELED;
		return -1;
	}
	shmbox__wake(b, &rs->waiting, (int)shmbox__reply_sem(b, t->slot));
	return 0;
}
