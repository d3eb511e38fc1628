/* The slot ring's state machine (ring.c): put and get, each cut in two at
 * its claim so that zero copy and calls can work in between. */
#ifndef SHMBOX_RING_H
#define SHMBOX_RING_H

#include <sys/types.h>

#include "deadline.h"
#include "handle.h"

/* A claim on a slot, as put and get take it. */
struct shmbox__claim {
	struct shmbox__ring *ring;
	struct shmbox__slot *slot;
	uint64_t pos;
	uint64_t word; /* what we set (claimed) or what stopped us (blocked) */
	uint32_t len;
};

/* A new mailbox's ring: every slot FREE in lap 0. */
void shmbox__ring_init(struct shmbox__ring *r);

/* Claim the slot at the tail (FREE -> WRITING), waiting as d allows. */
int shmbox__put_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		     struct shmbox__claim *c);
/* WRITING -> FULL with len bytes (reply, gen: a call's reply slot); false
 * if the claim is no longer ours. */
bool shmbox__publish(struct shmbox *b, const struct shmbox__claim *c, size_t len,
		     uint32_t reply, uint32_t gen);
/* Give a put's claim back unpublished: WRITING(L, us) -> DEAD(L), waking
 * and ringing the getters' side as recovery does for a put that died;
 * getters then skip the slot.  c must be a put's claim of ours (the
 * caller checks); false if it is no longer (the slot moved on). */
bool shmbox__cancel(struct shmbox *b, const struct shmbox__claim *c);
/* Claim the message at the head (FULL -> READING), if it fits in size. */
int shmbox__get_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		     size_t size, struct shmbox__claim *c);
/* READING -> FREE of the next lap; false if the claim was taken from us,
 * and then what we read may be torn. */
bool shmbox__release(struct shmbox *b, const struct shmbox__claim *c);

/* A whole put: claim, copy, publish; *posp (may be NULL): its position. */
int shmbox__ring_put(struct shmbox *b, struct shmbox__ring *r, const void *msg, size_t len,
		     struct shmbox__deadline *d, uint32_t reply, uint32_t gen, uint64_t *posp);
/* A whole get.  on_claim runs after it claims a slot and before it copies:
 * 0 take it, 1 skip it, -1 fail (errno). */
typedef int (*shmbox__on_claim)(struct shmbox *b, struct shmbox__slot *s, void *ctx);
ssize_t shmbox__ring_get(struct shmbox *b, struct shmbox__ring *r, void *buf, size_t size,
			 struct shmbox__deadline *d, shmbox__on_claim on_claim, void *ctx);

/* Has the message put at pos left the ring: taken and released, or its
 * reader died holding it?  A dead reader's claim is revoked on the way
 * (and the putters behind it woken), as a waiter behind it would. */
bool shmbox__ring_taken(struct shmbox *b, struct shmbox__ring *r, uint64_t pos);
/* Token owner's last holder is gone: free every claim it left here. */
void shmbox__ring_revoke_owner(struct shmbox *b, struct shmbox__ring *r, unsigned owner);

#endif /* SHMBOX_RING_H */
