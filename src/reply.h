/* The reply slots' state machine and its recovery (reply.c). */
#ifndef SHMBOX_REPLY_H
#define SHMBOX_REPLY_H

#include <sys/types.h>

#include "deadline.h"
#include "handle.h"

/* A new mailbox's reply slots: every one FREE in generation 0. */
void shmbox__reply_init(struct shmbox *b);
/* A caller takes a free slot: FREE(g) -> WAITING(g, me). */
int shmbox__reply_claim(struct shmbox *b, struct shmbox__deadline *d, uint32_t *idx,
			uint32_t *gen);
/* The caller could not queue its request: give the slot back. */
void shmbox__reply_abandon(struct shmbox *b, uint32_t idx);
/* The caller waits for the reply to the request it put at ring position
 * pos, and copies it out.  *len: the reply's length, also when it did not
 * fit (EMSGSIZE). */
ssize_t shmbox__reply_await(struct shmbox *b, uint32_t idx, uint32_t gen, uint64_t pos,
			    void *rep, size_t rep_size, size_t *len, struct shmbox__deadline *d);
/* A server took the request for slot idx, gen: WAITING -> ACCEPTED(me).
 * false: the caller has given up. */
bool shmbox__reply_accept(struct shmbox *b, uint32_t idx, uint32_t gen);
/* The server answers: ACCEPTED -> FILLING -> READY.  err 0: with the
 * reply rep, len; else (1..SHMBOX__ERRNO_MAX) the call fails with errno
 * err.  -1 with ECANCELED if the call is no longer waiting for it. */
int shmbox__reply_fill(struct shmbox *b, uint32_t idx, uint32_t gen, const void *rep,
		       size_t len, int err);
/* When the caller of the accepted call idx, gen gives up (CLOCK_MONOTONIC
 * ns; 0: never; untrusted).  -1 with ECANCELED if that call is no longer
 * accepted and unanswered. */
int shmbox__reply_deadline(struct shmbox *b, uint32_t idx, uint32_t gen, int64_t *deadline);
/* Token owner's last holder is gone: end every call it was part of. */
void shmbox__reply_revoke_owner(struct shmbox *b, unsigned owner);

#endif /* SHMBOX_REPLY_H */
