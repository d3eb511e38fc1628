/*
 * Request/reply: shmbox_call, shmbox_accept and shmbox_reply, and for a
 * server that stands in for one elsewhere, shmbox_reply_error and
 * shmbox_ticket_timeout.  Requests travel in the request ring (ring.c),
 * answers in reply slots (reply.c).
 */
#include <errno.h>
#include <limits.h>

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

/* The checks shmbox_reply, shmbox_reply_error and shmbox_ticket_timeout
 * begin with. */
static int check_ticket(const struct shmbox *b, const shmbox_ticket_t *t)
{
	if (shmbox__check_handle(b, 0) == -1)
		return -1;
	if (t == NULL || t->slot >= b->nreplies) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int shmbox_reply(shmbox_t *b, const shmbox_ticket_t *t, const void *rep, size_t len)
{
	if (check_ticket(b, t) == -1)
		return -1;
	if (rep == NULL && len > 0) {
		errno = EINVAL;
		return -1;
	}
	if (len > b->slot_size) {
		errno = EMSGSIZE; /* nothing sent: the caller still waits */
		return -1;
	}
	return shmbox__reply_fill(b, t->slot, t->gen, rep, len, 0);
}

int shmbox_reply_error(shmbox_t *b, const shmbox_ticket_t *t, int err)
{
	if (check_ticket(b, t) == -1)
		return -1;
	if (err < 1 || err > SHMBOX__ERRNO_MAX) {
		errno = EINVAL;
		return -1;
	}
	return shmbox__reply_fill(b, t->slot, t->gen, NULL, 0, err);
}

/* Milliseconds from now to deadline, rounded up, as a timeout_ms takes
 * them.  The deadline comes from the segment: any value is clamped. */
static int ms_until(int64_t deadline)
{
	int64_t now, left, ms;

	if (deadline == 0)
		return -1;
	now = shmbox__now_ns();
	if (deadline <= now)
		return 0;
	left = deadline - now; /* no overflow: now >= 0 */
	ms = left / 1000000 + (left % 1000000 != 0);
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int shmbox_ticket_timeout(shmbox_t *b, const shmbox_ticket_t *t, int *timeout_ms)
{
	int64_t deadline;

	if (check_ticket(b, t) == -1)
		return -1;
	if (timeout_ms == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__reply_deadline(b, t->slot, t->gen, &deadline) == -1)
		return -1;
	*timeout_ms = ms_until(deadline);
	return 0;
}
