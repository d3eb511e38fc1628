/*
 * The spin policy: how long a waiter spins before it sleeps, and when it
 * hands its CPU to a peer instead.  A tuning, not part of the protocol:
 * any policy here is correct, since a waiter that stops spinning sleeps
 * and is woken (sem.c); only the speed depends on it.
 */
#ifndef SHMBOX_SPIN_H
#define SHMBOX_SPIN_H

#include "deadline.h"
#include "handle.h"

/* One wait's spinning.  Each handle keeps a budget of spins: a wait that
 * ended while spinning raises it, one that had to sleep halves it, so a
 * process whose peers are not running (fewer cores than busy processes)
 * soon stops burning its time slice before it sleeps. */
struct shmbox__spinner {
	unsigned spins, budget;
	bool slept;
	unsigned char peers; /* where the peers were, when last looked (spin.c) */
};

/* Set a new handle's policy state. */
void shmbox__spin_init(struct shmbox *b);

/* Inline, field by field: returning the struct by value made every put and
 * get reload it whole from two narrower stores, a store-forwarding stall
 * behind the payload stores before it. */
static inline void shmbox__spinner_start(struct shmbox__spinner *sp, struct shmbox *b)
{
	sp->spins = 0;
	sp->budget = atomic_load_explicit(&b->spin.budget, memory_order_relaxed);
	sp->slept = false;
	sp->peers = 0;
}

/* One more step of a bounded busy-wait, if the budget and the deadline
 * allow it: true, look again; false, stop spinning and sleep. */
bool shmbox__spin(struct shmbox *b, struct shmbox__spinner *sp, struct shmbox__deadline *d);
static inline bool shmbox__spin_again(struct shmbox *b, struct shmbox__spinner *sp,
				      struct shmbox__deadline *d)
{
	if (d->timeout_ms == 0 || sp->spins >= sp->budget)
		return false;
	sp->spins++;
	return shmbox__spin(b, sp, d);
}
/* A wait has ended: adjust the handle's budget. */
void shmbox__spinner_learn(struct shmbox *b, const struct shmbox__spinner *sp);
void shmbox__cpu_relax(void);

/* Counting for the crowded check.  Exactness does not matter, so a load
 * and a store, not a locked read-modify-write: with threads sharing a
 * handle a count may be lost now and then.  Returns the count. */
static inline uint32_t shmbox__spin_count(_Atomic uint32_t *n)
{
	uint32_t v = atomic_load_explicit(n, memory_order_relaxed) + 1;

	atomic_store_explicit(n, v, memory_order_relaxed);
	return v;
}
#define SHMBOX__CROWDED_EVERY 256 /* puts and gets between two looks */
void shmbox__crowded(struct shmbox *b);
/* At the start of a put or get, before it claims anything: the crowded
 * check's yield then holds no slot, and is skipped for a call that must
 * not wait (timeout 0).  Calls (the request ring) are left out: there the
 * server is the one to keep running. */
static inline void shmbox__spin_op_start(struct shmbox *b, const struct shmbox__ring *r,
					 const struct shmbox__deadline *d)
{
	if (r->messages &&
	    shmbox__spin_count(&b->spin.counters.ops) % SHMBOX__CROWDED_EVERY == 0 &&
	    d->timeout_ms != 0)
		shmbox__crowded(b);
}
/* A claim lost to another claimer (a lost CAS, or a lagging tail or head). */
static inline void shmbox__spin_lost(struct shmbox *b, const struct shmbox__ring *r)
{
	if (r->messages)
		shmbox__spin_count(&b->spin.counters.races_lost);
}
/* Once a second, from puts and gets (now: time(NULL)): note our CPU, or a
 * process that never waits would keep the one it attached on. */
uint32_t shmbox__note_cpu(struct shmbox *b);
static inline void shmbox__spin_tick(struct shmbox *b, int64_t now)
{
	if (atomic_load_explicit(&b->spin.cpu_noted_at, memory_order_relaxed) != now) {
		atomic_store_explicit(&b->spin.cpu_noted_at, now, memory_order_relaxed);
		shmbox__note_cpu(b);
	}
}

#endif /* SHMBOX_SPIN_H */
