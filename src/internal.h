/* Functions shared between the library's files; none is exported. */
#ifndef SHMBOX_INTERNAL_H
#define SHMBOX_INTERNAL_H

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "layout.h"

/* How long a sleeper waits before it looks again for a peer that died
 * without waking it (killed between publishing and posting, or while
 * holding the slot it waits behind). */
#define SHMBOX__RECOVERY_MS 50

/* token.c: each attached process holds one token semaphore (+1, SEM_UNDO),
 * good only in that process: shmbox__forks counts the forks since. */
extern _Atomic unsigned shmbox__forks __attribute__((visibility("hidden")));
int shmbox__fork_count(unsigned *count); /* 0, or -1 with errno */
static inline bool shmbox__inherited(const struct shmbox *b)
{
	return b->forks != atomic_load_explicit(&shmbox__forks, memory_order_relaxed);
}
int shmbox__token_take(struct shmbox *b);
void shmbox__token_drop(struct shmbox *b);
int shmbox__token_alive(const struct shmbox *b, unsigned owner);

/* recover.c: free what a dead process held */
int shmbox__recover(struct shmbox *b, struct shmbox__slot *s, uint64_t w);
void shmbox__recover_owner(struct shmbox *b, unsigned owner);

/* copy.c: payloads into and out of slots, without glibc's `rep movsb` */
#define SHMBOX__COPY_LOOP_MIN 256 /* at least 128: copy.c's last block */
void shmbox__copy_large(void *restrict dst, const void *restrict src, size_t n);
static inline void shmbox__copy(void *restrict dst, const void *restrict src, size_t n)
{
	if (n >= SHMBOX__COPY_LOOP_MIN)
		shmbox__copy_large(dst, src, n);
	else
		memcpy(dst, src, n);
}

/* wait.c: deadlines, sleeping on a wake semaphore, waking one sleeper */
struct shmbox__deadline {
	int timeout_ms;
	bool started;
	struct timespec at;
};
static inline void shmbox__deadline_init(struct shmbox__deadline *d, int timeout_ms)
{
	d->timeout_ms = timeout_ms;
	d->started = false;
}
bool shmbox__deadline_passed(struct shmbox__deadline *d);
int shmbox__sleep(struct shmbox *b, _Atomic uint32_t *waiting, int sem,
		  _Atomic uint64_t *word, uint64_t w, struct shmbox__deadline *d);
void shmbox__wake(struct shmbox *b, _Atomic uint32_t *waiting, int sem);
void shmbox__wake_one(struct shmbox *b, _Atomic uint32_t *waiting, int sem, uint32_t n);
/* For a waker whose change was a sequentially consistent read-modify-write
 * (publish, release): it and this seq_cst load are in the single total
 * order with the sleeper's announce and look, which is all the argument in
 * wait.c needs, so no fence (on x86 the CAS is the fence).  Inline, as are
 * the two below: they run on every put and get. */
static inline void shmbox__wake_after_sc(struct shmbox *b, _Atomic uint32_t *waiting, int sem)
{
	uint32_t n = atomic_load_explicit(waiting, memory_order_seq_cst);

	if (n > 0)
		shmbox__wake_one(b, waiting, sem, n);
}
static inline bool shmbox__destroyed(const struct shmbox *b)
{
	return atomic_load_explicit(&b->hdr->destroyed, memory_order_relaxed) != 0;
}
/* Adaptive spinning: each handle keeps a budget of spins.  A wait that
 * ended while spinning raises it, one that had to sleep halves it, so a
 * process whose peers are not running (fewer cores than busy processes)
 * soon stops burning its time slice before it sleeps. */
struct shmbox__spinner {
	unsigned spins, budget;
	bool slept;
	unsigned char peers; /* where the peers were, when last looked (wait.c) */
};
/* Inline, field by field: returning the struct by value made every put and
 * get reload it whole from two narrower stores, a store-forwarding stall
 * that waited for the payload stores before it (a quarter of a put+get). */
static inline void shmbox__spinner_start(struct shmbox__spinner *sp, struct shmbox *b)
{
	sp->spins = 0;
	sp->budget = atomic_load_explicit(&b->spin_budget, memory_order_relaxed);
	sp->slept = false;
	sp->peers = 0;
}
void shmbox__spinner_learn(struct shmbox *b, const struct shmbox__spinner *sp);
#define SHMBOX__SPIN_MIN 32
#define SHMBOX__SPIN_LIMIT 1024 /* steps (pauses, or yields): see README, performance */
void shmbox__cpu_relax(void);
#define SHMBOX__YIELD_EVERY 128
bool shmbox__spin(struct shmbox *b, struct shmbox__spinner *sp, struct shmbox__deadline *d);
uint32_t shmbox__note_cpu(struct shmbox *b);
/* Counting for shmbox__crowded (wait.c).  Exactness does not matter, so a
 * load and a store, not a locked read-modify-write: with threads sharing a
 * handle a count may be lost now and then.  Returns the count. */
static inline uint32_t shmbox__count(_Atomic uint32_t *n)
{
	uint32_t v = atomic_load_explicit(n, memory_order_relaxed) + 1;

	atomic_store_explicit(n, v, memory_order_relaxed);
	return v;
}
#define SHMBOX__CROWDED_EVERY 256 /* puts and gets between two looks */
void shmbox__crowded(struct shmbox *b);
/* At the start of a put or get on the message ring, before it claims
 * anything: the crowded check's yield then holds no slot, and is skipped
 * for a call that must not wait (timeout 0).  Calls (the request ring)
 * are left out: there the server is the one to keep running. */
static inline void shmbox__op_start(struct shmbox *b, const struct shmbox__ring *r,
				    const struct shmbox__deadline *d)
{
	if (r == &b->ring[SHMBOX__MESSAGES] &&
	    shmbox__count(&b->counters.ops) % SHMBOX__CROWDED_EVERY == 0 && d->timeout_ms != 0)
		shmbox__crowded(b);
}
/* Record the time of a put or get, to the second, for `shmbox info`.
 * time() is the vDSO's cheapest read (one load, no clock dispatch and no
 * retry loop), and the store is made only when the second changes, so the
 * line is not dirtied on every message.  Once a second, also note our CPU:
 * a process that never waits would otherwise keep the one it attached on. */
static inline void shmbox__touch(struct shmbox *b, _Atomic int64_t *when)
{
	int64_t now = (int64_t)time(NULL);

	if (atomic_load_explicit(when, memory_order_relaxed) != now)
		atomic_store_explicit(when, now, memory_order_relaxed);
	if (atomic_load_explicit(&b->cpu_noted_at, memory_order_relaxed) != now) {
		atomic_store_explicit(&b->cpu_noted_at, now, memory_order_relaxed);
		shmbox__note_cpu(b);
	}
}

/* ring.c: a claim on a slot, as put and get take it. */
struct claim {
	struct shmbox__slot *slot;
	uint64_t pos;
	uint64_t word; /* what we set (claimed) or what stopped us (blocked) */
	uint32_t len;
};

int shmbox__put_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		     struct claim *c);
bool shmbox__publish(struct shmbox *b, struct shmbox__ring *r, const struct claim *c,
		     size_t len, uint32_t reply, uint32_t gen);
int shmbox__get_wait(struct shmbox *b, struct shmbox__ring *r, struct shmbox__deadline *d,
		     size_t size, struct claim *c);
bool shmbox__release(struct shmbox *b, struct shmbox__ring *r, const struct claim *c);

/* ring.c: put and get on either ring.  on_claim runs after a get claims
 * a slot and before it copies: 0 take it, 1 skip it, -1 fail (errno). */
typedef int (*shmbox__on_claim)(struct shmbox *b, struct shmbox__slot *s, void *ctx);
int shmbox__check_handle(struct shmbox *b, int timeout_ms);
int shmbox__ring_put(struct shmbox *b, struct shmbox__ring *r, const void *msg, size_t len,
		     struct shmbox__deadline *d, uint32_t reply, uint32_t gen, uint64_t *posp);
ssize_t shmbox__ring_get(struct shmbox *b, struct shmbox__ring *r, void *buf, size_t size,
			 struct shmbox__deadline *d, shmbox__on_claim on_claim, void *ctx);

/* call.c: reply slots of callers that died */
void shmbox__recover_replies(struct shmbox *b, int only_owner);

/* keyfile.c: the key file's key, and who it is */
struct shmbox__keyfile {
	key_t key;
	dev_t dev;
	ino_t ino;
	int64_t born; /* birth time in ns, 0 if unknown */
};
int shmbox__keyfile(const char *path, int proj_id, struct shmbox__keyfile *k);
bool shmbox__same_keyfile(const struct shmbox__header *h, const struct shmbox__keyfile *k);

/* geometry.c: sizes and offsets, computed the same way by creator and opener */
struct shmbox__geometry {
	uint64_t slots, slot_size, stride, procs_offset, slots_offset, requests_offset;
	uint64_t replies_offset, reply_stride, seg_size;
	uint32_t max_procs, nreplies, nsems;
};
int shmbox__geometry(struct shmbox__geometry *g, uint64_t slots, uint64_t slot_size,
		     uint64_t max_procs);

#endif /* SHMBOX_INTERNAL_H */
