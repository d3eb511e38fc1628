/*
 * Descriptors to poll (fd.c; the design is doc/descriptor.md).  A
 * listener arms its bit in a ring side's mask before it looks at the ring
 * once more; whoever changes that side looks at the mask after its change
 * and rings every armed listener.  This header is what the ring's state
 * machine and the segment's life need of it.
 */
#ifndef SHMBOX_FD_H
#define SHMBOX_FD_H

#include "handle.h"

/* Ring every listener armed in *armed.  Out of line: it runs only when
 * someone listens. */
void shmbox__fd_ring(struct shmbox *b, _Atomic uint64_t *armed);

/* After a sequentially consistent change (publish, release): the load is
 * in the single total order with the listener's arm and look, as for
 * shmbox__wake_after_sc.  With no listener, one load of a line that the
 * sleeper counters share. */
static inline void shmbox__fd_ring_after_sc(struct shmbox *b, _Atomic uint64_t *armed)
{
	if (atomic_load_explicit(armed, memory_order_seq_cst) != 0)
		shmbox__fd_ring(b, armed);
}
/* After any other change (recovery): the fence makes it one. */
static inline void shmbox__fd_ring_after(struct shmbox *b, _Atomic uint64_t *armed)
{
	atomic_thread_fence(memory_order_seq_cst);
	shmbox__fd_ring_after_sc(b, armed);
}

/* A wait on ring side (get: true for the getters' side) with timeout 0
 * found nothing (errno EAGAIN); blocker is the slot word in the way.
 * *step counts the calls, from 0.  The first, if the handle has a
 * descriptor for that side, drains it and arms it, and returns true: look
 * once more.  The second watches the holder of the claim in the way, if
 * there is one, and returns false.  False leaves errno set (EAGAIN, or
 * EIDRM if the mailbox was destroyed meanwhile). */
bool shmbox__fd_look_again(struct shmbox *b, const struct shmbox__ring *r, bool get,
			   uint64_t blocker, int *step);
/* The look after arming found work: the drain may have taken the ring of
 * a change that is still there, so ring ourselves. */
void shmbox__fd_keep_ready(struct shmbox *b, const struct shmbox__ring *r, bool get);

/* The mailbox is being destroyed (destroyed is set): ring every listener,
 * armed or not.  sock: a socket to send from, or -1 to make one. */
void shmbox__fd_ring_all(const struct shmbox__header *h, int sock);
/* Token owner's last holder is gone: free the entries it left. */
void shmbox__fd_revoke_owner(struct shmbox *b, unsigned owner);
/* Close the handle's descriptors; owner: also free their entries (false in
 * a child of fork(), whose copy holds nothing). */
void shmbox__fd_close(struct shmbox *b, bool owner);

#endif /* SHMBOX_FD_H */
