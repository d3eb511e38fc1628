/*
 * The spin policy (spin.h).  A waiter spins for a while, since a peer
 * that is mid-copy usually finishes sooner than a sleep and a wakeup would
 * take; it yields now and then in case the peer it waits for is queued
 * behind it on its own CPU; and it stops spinning where that cannot help.
 */
#include <sched.h>

#include "spin.h"

#define SPIN_MIN 32
#define SPIN_LIMIT 1024 /* steps (pauses, or yields) */
#define YIELD_EVERY 128

void shmbox__spin_init(struct shmbox *b)
{
	atomic_init(&b->spin.budget, SPIN_LIMIT);
	atomic_init(&b->spin.yield_again_ns, 0);
	atomic_init(&b->spin.cpu_noted_at, 0);
	atomic_init(&b->spin.counters.ops, 0);
	atomic_init(&b->spin.counters.races_lost, 0);
}

/* Write down the CPU we run on, in our proc-table entry (only when it
 * changed, so the line stays clean).  Returns 1 + the CPU, or 0 if the
 * system cannot tell.  Called when a process attaches, when a wait looks
 * where its peers are, and once a second from puts and gets. */
uint32_t shmbox__note_cpu(struct shmbox *b)
{
	_Atomic uint32_t *mine;
	int cpu;
	uint32_t v;

	if (b->rdonly)
		return 0; /* an observer holds no entry, and its mapping is read-only */
	mine = &b->procs[b->me].cpu;
	cpu = sched_getcpu(); /* glibc 2.35 on: read from the rseq area, no system call */
	v = cpu < 0 ? 0 : (uint32_t)cpu + 1;
	if (atomic_load_explicit(mine, memory_order_relaxed) != v)
		atomic_store_explicit(mine, v, memory_order_relaxed);
	return v;
}

/* Where our peers are: the other attached processes, by the CPU each last
 * noted.  A peer on another CPU is either running, and then spinning on
 * may end our wait, or queued there, and then our yield cannot reach it:
 * it would only hand our CPU to whatever else is runnable here (on a busy
 * machine, a CPU-bound stranger, for a whole time slice).  A peer on our
 * CPU, or one whose CPU is not known, may be queued behind us: spinning
 * only keeps it waiting.  Taken for a peer here: any peer when we cannot
 * tell our own CPU, and another handle of our own process.  Not seen at
 * all: threads sharing our handle; with no other process attached we know
 * nothing, and say SOME_HERE, yielding now and then as for any mix.  The
 * scan stops once the answer is SOME_HERE, and reads at most LOOK_PROCS
 * entries (max_procs may be 65535: a megabyte at every look).  Tokens are
 * taken lowest first, so with up to LOOK_PROCS processes attached they are
 * nearly always all seen; with more, some share every CPU anyway. */
enum peers { NOT_LOOKED, ALL_ELSEWHERE, SOME_HERE, NONE_ELSEWHERE };
#define LOOK_PROCS 256u

static enum peers where_peers_are(struct shmbox *b)
{
	uint32_t here = shmbox__note_cpu(b), cpu;
	bool some_here = false, some_elsewhere = false;
	unsigned i, n = b->max_procs < LOOK_PROCS ? b->max_procs : LOOK_PROCS;

	for (i = 0; i < n && !(some_here && some_elsewhere); i++) {
		if (i == b->me || atomic_load_explicit(&b->procs[i].pid, memory_order_relaxed) == 0)
			continue;
		cpu = atomic_load_explicit(&b->procs[i].cpu, memory_order_relaxed);
		if (here == 0 || cpu == 0 || cpu == here)
			some_here = true;
		else
			some_elsewhere = true;
	}
	if (some_here == some_elsewhere) /* both, or no peer seen */
		return SOME_HERE;
	return some_here ? NONE_ELSEWHERE : ALL_ELSEWHERE;
}

/* Positions moved so far in both rings: how much work our peers did. */
static uint64_t progress(const struct shmbox *b)
{
	uint64_t n = 0;
	unsigned k;

	for (k = 0; k < SHMBOX__NRINGS; k++)
		n += atomic_load_explicit(&b->ring[k].h->tail, memory_order_relaxed) +
		     atomic_load_explicit(&b->ring[k].h->head, memory_order_relaxed);
	return n;
}

/* A yield that lasts long while the mailbox hardly moves handed our CPU to
 * a process that is not one of our peers and does not wait: on a busy
 * machine, a CPU-bound stranger that keeps it for a whole time slice.
 * Then, for a while, a waiter whose peer may be queued behind it sleeps
 * on its semaphore instead: the peer's post wakes it, and the scheduler
 * favours a woken sleeper over the stranger.  (A long yield to a busy peer
 * is fine: a server with a queue of requests does not wait either, and
 * moves the mailbox all the while.) */
#define SLOW_YIELD_NS 200000	    /* a yield is slow after 200 us ... */
#define SLOW_YIELD_NS_PER_MOVE 20000 /* ... and unproductive below 1 move per 20 us */
#define NO_YIELD_NS 100000000	    /* then no yields for 100 ms */

/* Yield, unless that looks useless; false: sleep instead. */
static bool yield(struct shmbox *b)
{
	int64_t t0 = shmbox__now_ns(), took;
	uint64_t moved;

	if (t0 < atomic_load_explicit(&b->spin.yield_again_ns, memory_order_relaxed))
		return false;
	moved = progress(b);
	sched_yield();
	took = shmbox__now_ns() - t0;
	moved = progress(b) - moved;
	if (took > SLOW_YIELD_NS && moved < (uint64_t)(took / SLOW_YIELD_NS_PER_MOVE))
		atomic_store_explicit(&b->spin.yield_again_ns, t0 + took + NO_YIELD_NS,
				      memory_order_relaxed);
	return true;
}

/* Every CROWDED_EVERY puts and gets on the message ring (counted per
 * handle, at their start): if more than CROWDED_EVERY / CROWDED_LOST claims
 * were lost meanwhile to another claimer, hand our CPU to a peer that may
 * be queued behind us.  Two processes of the same side (two producers, or
 * two consumers) running at once on two CPUs take turns at the tail's or
 * the head's line on every message; a producer and a consumer running
 * together never share those lines.  With more processes than CPUs the
 * scheduler pairs them by chance; the yield ends a same-side pairing that
 * it has let last. */
#define CROWDED_LOST 8
void shmbox__crowded(struct shmbox *b)
{
	uint32_t lost = atomic_load_explicit(&b->spin.counters.races_lost, memory_order_relaxed);

	atomic_store_explicit(&b->spin.counters.races_lost, 0, memory_order_relaxed);
	if (lost > SHMBOX__CROWDED_EVERY / CROWDED_LOST && where_peers_are(b) != ALL_ELSEWHERE)
		(void)yield(b);
}

/* One step of the busy-wait.  After LOOK_AFTER steps we look where our
 * peers are, and again every YIELD_EVERY steps:
 * - all on other CPUs: we only spin;
 * - some here (or we cannot tell): we yield every YIELD_EVERY steps, in
 *   case the one we wait for is queued behind us (more processes than
 *   cores);
 * - none elsewhere: spinning cannot end the wait, and we yield every
 *   LOOK_AFTER steps.
 * Never past the deadline: a yield may last a time slice. */
#define LOOK_AFTER 16 /* steps: most waits between running peers end sooner */
bool shmbox__spin(struct shmbox *b, struct shmbox__spinner *sp, struct shmbox__deadline *d)
{
	unsigned i = sp->spins;

	if (i == LOOK_AFTER || i % YIELD_EVERY == 0)
		sp->peers = (unsigned char)where_peers_are(b);
	if (i >= LOOK_AFTER && ((sp->peers == NONE_ELSEWHERE && i % LOOK_AFTER == 0) ||
				(sp->peers == SOME_HERE && i % YIELD_EVERY == 0))) {
		if ((d->timeout_ms > 0 && shmbox__deadline_passed(d)) || !yield(b)) {
			sp->spins = sp->budget;
			return false;
		}
		return true;
	}
	shmbox__cpu_relax();
	return true;
}

void shmbox__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void shmbox__spinner_learn(struct shmbox *b, const struct shmbox__spinner *sp)
{
	unsigned budget = sp->budget;

	if (sp->spins == 0)
		return; /* it never waited: nothing learnt */
	if (sp->slept)
		budget = budget / 2 > SPIN_MIN ? budget / 2 : SPIN_MIN;
	else
		budget = budget + budget / 4 < SPIN_LIMIT ? budget + budget / 4 : SPIN_LIMIT;
	atomic_store_explicit(&b->spin.budget, budget, memory_order_relaxed);
}
