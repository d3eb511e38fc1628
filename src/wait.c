/*
 * Sleeping and waking.  Puts and gets run in shared memory; the kernel is
 * entered only to sleep when there is nothing to do, and to wake a sleeper.
 *
 * A sleeper announces itself in a counter (getters_waiting or
 * putters_waiting), then looks at its slot once more, then sleeps on the
 * wake semaphore.  A waker changes the slot, then reads the counter.  Both
 * sides use sequentially consistent operations, so either the sleeper sees
 * the change or the waker sees the sleeper: no wakeup is lost (ring.c
 * passes the baton when one change makes two processes' work ready).  The
 * waker takes one sleeper off the counter before it posts; a post that
 * outlives the sleeper it was meant for (one that timed out or looked
 * again meanwhile) only makes a later sleeper look again, which every
 * sleeper does anyway, so the counter may drift above the true number of
 * sleepers and cost a spurious wakeup, never a lost one.
 */
#include <errno.h>
#include <sched.h>
#include <sys/sem.h>

#include "internal.h"

#define NSEC 1000000000L

static struct timespec now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* The clock starts when the call first has to wait, not before: a call
 * that never waits never reads the clock. */
static void deadline_start(struct shmbox__deadline *d)
{
	if (d->started || d->timeout_ms < 0)
		return;
	d->at = now();
	d->at.tv_sec += d->timeout_ms / 1000;
	d->at.tv_nsec += (long)(d->timeout_ms % 1000) * 1000000L;
	if (d->at.tv_nsec >= NSEC) {
		d->at.tv_sec++;
		d->at.tv_nsec -= NSEC;
	}
	d->started = true;
}

bool shmbox__deadline_passed(struct shmbox__deadline *d)
{
	struct timespec t;

	if (d->timeout_ms < 0)
		return false;
	if (d->timeout_ms == 0)
		return true;
	deadline_start(d);
	t = now();
	return t.tv_sec > d->at.tv_sec || (t.tv_sec == d->at.tv_sec && t.tv_nsec >= d->at.tv_nsec);
}

/* How long the next sleep may last: the time left, cut short so that a
 * peer that died without waking us is noticed.  Behind a claim in flight
 * (its holder may die mid-copy) we look again every recovery period;
 * otherwise only a peer killed between publishing and waking could leave
 * us asleep, and we look again every second. */
static struct timespec sleep_span(struct shmbox__deadline *d, bool in_flight)
{
	long cap_ns = in_flight ? SHMBOX__RECOVERY_MS * 1000000L : NSEC - 1, left_ns;
	struct timespec t;

	if (d->timeout_ms >= 0) {
		deadline_start(d);
		t = now();
		if (d->at.tv_sec - t.tv_sec <= 1) {
			left_ns = (d->at.tv_sec - t.tv_sec) * NSEC + (d->at.tv_nsec - t.tv_nsec);
			if (left_ns < cap_ns)
				cap_ns = left_ns < 0 ? 0 : left_ns;
		}
	}
	return (struct timespec){0, cap_ns};
}

/* Take ourselves off the sleeper count.  If a waker already did, its post
 * is ours: take it back if it has arrived, so posts do not pile up (one
 * still in flight is left for a later sleeper, who then looks once more). */
static void unannounce(struct shmbox *b, _Atomic uint32_t *waiting, int sem)
{
	struct sembuf op = {.sem_num = (unsigned short)sem, .sem_op = -1, .sem_flg = IPC_NOWAIT};
	uint32_t n = atomic_load_explicit(waiting, memory_order_relaxed);

	while (n > 0)
		if (atomic_compare_exchange_weak_explicit(waiting, &n, n - 1, memory_order_seq_cst,
							  memory_order_relaxed))
			return;
	(void)semop(b->semid, &op, 1);
}

/* Sleep until woken, until *word is no longer w, or for one
 * recovery period at most.  0: look again; -1: errno (EINTR, EIDRM). */
int shmbox__sleep(struct shmbox *b, _Atomic uint32_t *waiting, int sem,
		  _Atomic uint64_t *word, uint64_t w, struct shmbox__deadline *d)
{
	struct sembuf op = {.sem_num = (unsigned short)sem, .sem_op = -1, .sem_flg = 0};
	unsigned st = shmbox__word_state(w);
	/* Ring slots and reply slots alike: states 2-4 have a holder who may die. */
	struct timespec span = sleep_span(d, st >= SHMBOX__WRITING && st <= SHMBOX__READING);
	int e;

	if (shmbox__destroyed(b)) {
		/* "look again" would only bring us back here: a busy loop until
		 * the deadline, in shmbox_destroy's window or when the flag was
		 * written by someone else */
		errno = EIDRM;
		return -1;
	}
	atomic_fetch_add_explicit(waiting, 1, memory_order_seq_cst);
	if (atomic_load_explicit(word, memory_order_seq_cst) != w || shmbox__destroyed(b)) {
		unannounce(b, waiting, sem);
		return 0;
	}
	if (semtimedop(b->semid, &op, 1, &span) == 0)
		return 0;
	e = errno;
	unannounce(b, waiting, sem);
	if (e == EAGAIN)
		return 0;
	errno = (e == EINVAL || e == EIDRM) ? EIDRM : e;
	return -1;
}

void shmbox__wake(struct shmbox *b, _Atomic uint32_t *waiting, int sem)
{
	atomic_thread_fence(memory_order_seq_cst);
	shmbox__wake_one(b, waiting, sem, atomic_load_explicit(waiting, memory_order_relaxed));
}

/* There are sleepers (n of them, as last read): take one off the count and
 * post its semaphore. */
void shmbox__wake_one(struct shmbox *b, _Atomic uint32_t *waiting, int sem, uint32_t n)
{
	struct sembuf op = {.sem_num = (unsigned short)sem, .sem_op = 1, .sem_flg = 0};

	while (n > 0) {
		if (atomic_compare_exchange_weak_explicit(waiting, &n, n - 1, memory_order_seq_cst,
							  memory_order_relaxed)) {
			/* The message is already committed: a failed post (set
			 * removed) changes nothing for this caller. */
			(void)semop(b->semid, &op, 1);
			return;
		}
	}
}

/* Write down the CPU we run on, in our proc-table entry (only when it
 * changed, so the line stays clean).  Returns 1 + the CPU, or 0 if the
 * system cannot tell.  Called when a process attaches, when a wait looks
 * where its peers are, and once a second from puts and gets (touch). */
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
 * machine, a CPU-bound stranger, for a whole time slice: a 1.4 ms stall
 * where the wait was a microsecond).  A peer on our CPU, or one whose CPU
 * is not known, may be queued behind us: spinning only keeps it waiting.
 * Taken for a peer here: any peer when we cannot tell our own CPU, and
 * another handle of our own process.  Not seen at all: threads sharing our
 * handle; with no other process attached we know nothing, and say
 * SOME_HERE, yielding now and then as for any mix.  The scan stops once
 * the answer is SOME_HERE, and reads at most LOOK_PROCS entries (max_procs
 * is 64 by default, and may be 65535: a megabyte at every look).  Tokens
 * are taken lowest first, so with up to LOOK_PROCS processes attached they
 * are nearly always all seen; with more, some share every CPU anyway. */
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
	unsigned i;

	for (i = 0; i < 2; i++)
		n += atomic_load_explicit(&b->ring[i].h->tail, memory_order_relaxed) +
		     atomic_load_explicit(&b->ring[i].h->head, memory_order_relaxed);
	return n;
}

static int64_t now_ns(void)
{
	struct timespec t = now();

	return (int64_t)t.tv_sec * NSEC + t.tv_nsec;
}

/* A yield that lasts long while the mailbox hardly moves handed our CPU to
 * a process that is not one of our peers and does not wait: on a busy
 * machine, a CPU-bound stranger that keeps it for a whole time slice (ms).
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
	int64_t t0 = now_ns(), took;
	uint64_t moved;

	if (t0 < atomic_load_explicit(&b->yield_again_ns, memory_order_relaxed))
		return false;
	moved = progress(b);
	sched_yield();
	took = now_ns() - t0;
	moved = progress(b) - moved;
	if (took > SLOW_YIELD_NS && moved < (uint64_t)(took / SLOW_YIELD_NS_PER_MOVE))
		atomic_store_explicit(&b->yield_again_ns, t0 + took + NO_YIELD_NS,
				      memory_order_relaxed);
	return true;
}

/* Every CROWDED_EVERY puts and gets on the message ring (counted per
 * handle, at their start): if more than CROWDED_EVERY / CROWDED_LOST claims
 * were lost meanwhile to another claimer (a lost compare-and-swap, or a
 * tail or head found lagging: about one put or get in 8 to 16), hand our
 * CPU to a peer that may be queued behind us.  Two processes of the same side (two
 * producers, or two consumers) running at once on two CPUs take turns at
 * the tail's or the head's line on every message; a producer and a
 * consumer running together never share those lines.  With more processes
 * than CPUs the scheduler pairs them by chance; the yield ends a same-side
 * pairing that it has let last.  (A test program with 4 producers and 4
 * consumers on 2 CPUs: 14-15 M messages/s, and 22-33 M with the producers
 * pinned to one CPU and the consumers to the other.) */
#define CROWDED_LOST 8
void shmbox__crowded(struct shmbox *b)
{
	uint32_t lost = atomic_load_explicit(&b->counters.races_lost, memory_order_relaxed);

	atomic_store_explicit(&b->counters.races_lost, 0, memory_order_relaxed);
	if (lost > SHMBOX__CROWDED_EVERY / CROWDED_LOST && where_peers_are(b) != ALL_ELSEWHERE)
		(void)yield(b);
}

/* One step of a bounded busy-wait: a peer that is mid-copy usually
 * finishes sooner than a sleep and a wakeup would take.  After LOOK_AFTER
 * steps we look where our peers are, and again every YIELD_EVERY steps:
 * - all on other CPUs: we only spin;
 * - some here (or we cannot tell): we yield every YIELD_EVERY steps, in
 *   case the one we wait for is queued behind us (more processes than
 *   cores);
 * - none elsewhere: spinning cannot end the wait, and we yield every
 *   LOOK_AFTER steps.
 * Never past the deadline: a yield may last a time slice.  False: stop
 * spinning, and sleep for the rest of this wait. */
#define LOOK_AFTER 16 /* steps: most waits between running peers end sooner */
bool shmbox__spin(struct shmbox *b, struct shmbox__spinner *sp, struct shmbox__deadline *d)
{
	unsigned i = sp->spins;

	if (i == LOOK_AFTER || i % SHMBOX__YIELD_EVERY == 0)
		sp->peers = (unsigned char)where_peers_are(b);
	if (i >= LOOK_AFTER && ((sp->peers == NONE_ELSEWHERE && i % LOOK_AFTER == 0) ||
				(sp->peers == SOME_HERE && i % SHMBOX__YIELD_EVERY == 0))) {
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
		budget = budget / 2 > SHMBOX__SPIN_MIN ? budget / 2 : SHMBOX__SPIN_MIN;
	else
		budget = budget + budget / 4 < SHMBOX__SPIN_LIMIT ? budget + budget / 4
								   : SHMBOX__SPIN_LIMIT;
	atomic_store_explicit(&b->spin_budget, budget, memory_order_relaxed);
}
