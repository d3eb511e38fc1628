/*
 * Request/reply: shmbox_call, shmbox_accept and shmbox_reply.  Requests
 * travel in the request ring (ring.c), answers in reply slots (reply.c).
 */
#include <errno.h>

#include "reply.h"
#include "ring.h"

static _Thread_local size_t last_reply_len;

size_t shmbox_last_reply_len(void)
{
	return last_reply_len;
}

ssize_t shmbox_call(shmbox_t *b, const void *req, size_t req_len, void *rep, size_t rep_size,
		    int timeout_ms)
{
	struct shmbox__deadline d;
	uint32_t idx, gen;
	uint64_t pos;
	int e;

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
	if (shmbox__reply_claim(b, &d, &idx, &gen) == -1)
		return -1;
	if (shmbox__ring_put(b, &b->ring[SHMBOX__REQUESTS], req, req_len, &d, idx, gen, &pos) ==
	    -1) {
		e = errno;
		shmbox__reply_abandon(b, idx);
		errno = e;
		return -1;
	}
	/* The reply's length is kept also when it did not fit (EMSGSIZE). */
	return shmbox__reply_await(b, idx, gen, pos, rep, rep_size, &last_reply_len, &d);
}

/* Runs with the request slot claimed: mark the reply slot ACCEPTED by us,
 * or skip a request whose caller has already given up. */
static int on_request(struct shmbox *b, struct shmbox__slot *s, void *ctx)
{
	shmbox_ticket_t *t = ctx;
	uint32_t idx = atomic_load_explicit(&s->reply, memory_order_relaxed);
	uint32_t gen = atomic_load_explicit(&s->gen, memory_order_relaxed);

	if (idx >= b->nreplies) {
		errno = EPROTO;
		return -1;
	}
	if (!shmbox__reply_accept(b, idx, gen))
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
	return shmbox__reply_fill(b, t->slot, t->gen, rep, len);
}
