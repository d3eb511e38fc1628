/*
 * Recovery: "this token died".  A process that takes a token whose last
 * holder is gone (the kernel undid it) asks each state machine to revoke
 * whatever that holder left behind: its claims in both rings (ring.c), the
 * calls it was part of (reply.c) and its descriptors' entries (fd.c).
 * Waiters behind a dead holder's claim do the same for that one claim as
 * they find it (ring.c, reply.c).
 */
#include "fd.h"
#include "recover.h"
#include "reply.h"
#include "ring.h"

void shmbox__recover_owner(struct shmbox *b, unsigned owner)
{
	for (unsigned k = 0; k < SHMBOX__NRINGS; k++)
		shmbox__ring_revoke_owner(b, &b->ring[k], owner);
	shmbox__reply_revoke_owner(b, owner);
	shmbox__fd_revoke_owner(b, owner);
}
