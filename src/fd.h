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

/* The armed word of listener kind k (layout.h). */
static inline _Atomic uint64_t *shmbox__fd_armed(struct shmbox__header *h, int k)
{
	struct shmbox__ring_hdr *r = &h->ring[k == 2 ? SHMBOX__REQUESTS : SHMBOX__MESSAGES];

	return k == 1 ? &r->armed_put : &r->armed_get;
}

/* Ring every listener armed on ring side get (true: the getters' side)
 * of r.  Out of line: it runs only when someone listens. */
void shmbox__fd_ring(struct shmbox *b, const struct shmbox__ring *r, bool get);

/* After each change that can make a call on that side succeed (publish,
 * release), made by a sequentially consistent CAS: this load is in the
 * single total order with the listener's arm and look, as for
 * shmbox__wake_after_sc.  With no listener: one load of a line that the
 * sleeper counters share, and a branch.  A process killed between its
 * change and this ring is heard of by the listener's watch (fdwatch.c). */
static inline void shmbox__fd_ring_if_armed(struct shmbox *b, const struct shmbox__ring *r,
					    bool get)
{
	_Atomic uint64_t *armed = get ? &r->h->armed_get : &r->h->armed_put;

	if (SHMBOX__ARMED_BITS(atomic_load_explicit(armed, memory_order_seq_cst)) != 0)
		shmbox__fd_ring(b, r, get);
}
/* After a change made by a plain CAS (recovery): the fence makes it one. */
static inline void shmbox__fd_ring_after(struct shmbox *b, const struct shmbox__ring *r,
					 bool get)
{
	atomic_thread_fence(memory_order_seq_cst);
	shmbox__fd_ring_if_armed(b, r, get);
}

/* A call with timeout 0 on ring side (get: true for the getters' side)
 * found nothing (errno EAGAIN).  If the handle has a descriptor for that
 * side, drain it, arm it and bring its watches up to date: true, look once
 * more.  False, with errno unchanged, or EIDRM if the mailbox was
 * destroyed meanwhile. */
bool shmbox__fd_arm(struct shmbox *b, const struct shmbox__ring *r, bool get);
/* That look found nothing either, because of slot word blocker: if its
 * holder is dead already, ring ourselves. */
void shmbox__fd_watch(struct shmbox *b, const struct shmbox__ring *r, bool get, uint64_t blocker);
/* That look found work: ring ourselves, since the drain may have taken
 * the ring of more. */
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
