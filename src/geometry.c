/* The segment's geometry: one function, used by create to lay the segment
 * out and by open to check that a header describes exactly this layout. */
#include <errno.h>

#include "geometry.h"
#include "sem.h"

static int add_overflows(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}

static int round_up(uint64_t v, uint64_t to, uint64_t *r)
{
	if (add_overflows(v, to - 1, r))
		return 1;
	*r -= *r % to;
	return 0;
}

int shmbox__geometry(struct shmbox__geometry *g, uint64_t slots, uint64_t slot_size,
		     uint64_t max_procs)
{
	uint64_t v, procs_bytes, ring_bytes, reply_bytes;

	if (slots < 1 || slot_size < 1 || max_procs < 1 || max_procs > SHMBOX__OWNER_MAX ||
	    slot_size > UINT32_MAX)
		goto inval;
	g->slots = slots;
	g->slot_size = slot_size;
	g->max_procs = (uint32_t)max_procs;
	g->nreplies = (uint32_t)(slots < SHMBOX__MAX_REPLIES ? slots : SHMBOX__MAX_REPLIES);
	g->nsems = shmbox__sem_count(g->max_procs, g->nreplies);
	if (add_overflows(sizeof(struct shmbox__slot), slot_size, &v) ||
	    round_up(v, SHMBOX__CACHELINE, &g->stride) ||
	    add_overflows(sizeof(struct shmbox__reply), slot_size, &v) ||
	    round_up(v, SHMBOX__CACHELINE, &g->reply_stride))
		goto inval;
	g->procs_offset = sizeof(struct shmbox__header);
	procs_bytes = max_procs * sizeof(struct shmbox__proc);
	if (round_up(g->procs_offset + procs_bytes, SHMBOX__CACHELINE, &g->slots_offset))
		goto inval;
	reply_bytes = g->nreplies * g->reply_stride; /* no overflow: both < 2^32 */
	if (__builtin_mul_overflow(slots, g->stride, &ring_bytes) ||
	    add_overflows(g->slots_offset, ring_bytes, &g->requests_offset) ||
	    add_overflows(g->requests_offset, ring_bytes, &g->replies_offset) ||
	    add_overflows(g->replies_offset, reply_bytes, &g->seg_size) ||
	    g->seg_size > (uint64_t)SIZE_MAX / 2)
		goto inval;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}
