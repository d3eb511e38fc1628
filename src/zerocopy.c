/*
 * Zero copy: reserve/commit and peek/release are put and get cut in two,
 * so that a large message is written or read in its slot; cancel gives a
 * reservation back unpublished.
 */
#include <errno.h>

#include "ring.h"

/* Zero copy.  The claim travels in the caller's shmbox_zc_t: the ring
 * position and the slot word we set.  Both are checked by the CAS that
 * ends the claim, so a forged or stale one changes nothing. */
static void zc_fill(shmbox_zc_t *zc, const struct shmbox__claim *c, size_t len)
{
	zc->data = shmbox__payload(c->slot);
	zc->len = len;
	zc->priv[0] = c->pos;
	zc->priv[1] = c->word;
}

static int zc_claim(shmbox_t *b, shmbox_zc_t *zc, struct shmbox__claim *c)
{
	if (shmbox__check_handle(b, 0) == -1)
		return -1;
	if (zc == NULL) {
		errno = EINVAL;
		return -1;
	}
	c->ring = &b->ring[SHMBOX__MESSAGES];
	c->slot = shmbox__slot_at(c->ring, zc->priv[0]);
	c->pos = zc->priv[0];
	c->word = zc->priv[1];
	return 0;
}

/* The checks reserve and peek begin with. */
static int zc_start(shmbox_t *b, shmbox_zc_t *zc, int timeout_ms, struct shmbox__deadline *d)
{
	if (shmbox__check_handle(b, timeout_ms) == -1)
		return -1;
	if (zc == NULL) {
		errno = EINVAL;
		return -1;
	}
	shmbox__deadline_init(d, timeout_ms);
	return 0;
}

int shmbox_reserve(shmbox_t *b, shmbox_zc_t *zc, int timeout_ms)
{
	struct shmbox__deadline d;
	struct shmbox__claim c;

	if (zc_start(b, zc, timeout_ms, &d) == -1)
		return -1;
	if (shmbox__put_wait(b, &b->ring[SHMBOX__MESSAGES], &d, &c) == -1)
		return -1;
	zc_fill(zc, &c, b->slot_size);
	return 0;
}

int shmbox_commit(shmbox_t *b, shmbox_zc_t *zc, size_t len)
{
	struct shmbox__claim c;

	if (zc_claim(b, zc, &c) == -1)
		return -1;
	if (len > b->slot_size) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!shmbox__publish(b, &c, len, 0, 0)) {
		errno = ECANCELED; /* not our claim (any more) */
		return -1;
	}
	zc->data = NULL;
	return 0;
}

/* Nothing is published: the slot ends as a put killed mid-copy leaves it
 * (ring.c), and the getters behind it are woken to skip it. */
int shmbox_cancel(shmbox_t *b, shmbox_zc_t *zc)
{
	struct shmbox__claim c;

	if (zc_claim(b, zc, &c) == -1)
		return -1;
	if (!shmbox__cancel(b, &c)) {
		errno = ECANCELED; /* not our reservation (any more) */
		return -1;
	}
	zc->data = NULL;
	return 0;
}

ssize_t shmbox_peek(shmbox_t *b, shmbox_zc_t *zc, int timeout_ms)
{
	struct shmbox__deadline d;
	struct shmbox__claim c;

	if (zc_start(b, zc, timeout_ms, &d) == -1)
		return -1;
	if (shmbox__get_wait(b, &b->ring[SHMBOX__MESSAGES], &d, b->slot_size, &c) == -1)
		return -1;
	zc_fill(zc, &c, c.len);
	return (ssize_t)c.len;
}

int shmbox_release(shmbox_t *b, shmbox_zc_t *zc)
{
	struct shmbox__claim c;

	if (zc_claim(b, zc, &c) == -1)
		return -1;
	if (!shmbox__release(b, &c)) {
		errno = ECANCELED; /* the claim was taken from us: what was read may be torn */
		return -1;
	}
	zc->data = NULL;
	return 0;
}
