/*
 * The segment's layout and the slot protocol's encoding.  Private: nothing
 * here is part of the public API, and every value read from the segment is
 * untrusted (another process can write anything into it).
 *
 * Segment:  [ header | proc table | message ring | request ring | reply slots ]
 * A ring:   N slots; a slot is [ slot header | payload, slot_size bytes ]
 * Plain messages travel in the message ring, calls in the request ring, and
 * answers in reply slots (see call.c), so get never sees a request.
 *
 * Each slot's state is one 64-bit word, changed only by compare-and-swap:
 *   bits 63..24  lap    which pass of the ring the state belongs to
 *   bits 23..8   owner  process-table index of the put or get holding it
 *   bits  7..0   state  FREE, WRITING, FULL, READING or DEAD
 * Position p of the ring is slot p % N in lap p / N.  The life of a slot:
 *   FREE(L) -put claims-> WRITING(L,o) -put publishes-> FULL(L)
 *   FULL(L) -get claims-> READING(L,o) -get releases-> FREE(L+1)
 *   WRITING(L,o), o dead -> DEAD(L) -> FREE(L+1)   (the put never returned)
 *   READING(L,o), o dead -> FREE(L+1)              (the get had claimed it)
 * A reader copies only from a slot it moved FULL -> READING, and a slot
 * becomes FULL only after its payload is written: no torn reads.
 */
#ifndef SHMBOX_LAYOUT_H
#define SHMBOX_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmbox.h"

#define SHMBOX__MAGIC UINT64_C(0x31584f42424d4853) /* "SHMBBOX1" */
#define SHMBOX__LAYOUT 4u
#define SHMBOX__CACHELINE 64

/* Semaphores of the set: wake semaphores, one token per process, then one
 * wake semaphore per reply slot. */
enum {
	SHMBOX__SEM_GETTERS = 0,     /* getters sleep here; a put wakes one */
	SHMBOX__SEM_PUTTERS = 1,     /* putters sleep here; a get wakes one */
	SHMBOX__SEM_SERVERS = 2,     /* accept sleeps here; a call's request wakes one */
	SHMBOX__SEM_REQ_PUTTERS = 3, /* a call waiting for room in the request ring */
	SHMBOX__SEM_CALLERS = 4,     /* a call waiting for a free reply slot */
	SHMBOX__SEM_TOKENS = 5,	     /* token i is 1 while process i is attached */
};
#define SHMBOX__MAX_REPLIES 1024u

/* Reply slot states; the word is gen (32 bits) | owner (16) | state (8). */
enum shmbox__reply_state {
	SHMBOX__R_FREE = 1,	/* owner: none */
	SHMBOX__R_WAITING = 2,	/* owner: the caller; its request is queued */
	SHMBOX__R_ACCEPTED = 3, /* owner: the server that took the request */
	SHMBOX__R_FILLING = 4,	/* owner: the server writing the reply */
	SHMBOX__R_READY = 5,	/* owner: the caller, who copies it out */
};

/* The public SHMBOX_SLOT_* values are these, so observers see them as is. */
enum shmbox__state {
	SHMBOX__FREE = SHMBOX_SLOT_FREE,
	SHMBOX__WRITING = SHMBOX_SLOT_WRITING,
	SHMBOX__FULL = SHMBOX_SLOT_FULL,
	SHMBOX__READING = SHMBOX_SLOT_READING,
	SHMBOX__DEAD = SHMBOX_SLOT_DEAD,
};

#define SHMBOX__LAP_SHIFT 24
#define SHMBOX__LAP_MASK ((UINT64_C(1) << 40) - 1)
#define SHMBOX__OWNER_MAX 0xffffu

static inline uint64_t shmbox__word(uint64_t lap, unsigned owner, unsigned state)
{
	return ((lap & SHMBOX__LAP_MASK) << SHMBOX__LAP_SHIFT) |
	       ((uint64_t)(owner & 0xffffu) << 8) | (state & 0xffu);
}
static inline uint64_t shmbox__word_lap(uint64_t w) { return w >> SHMBOX__LAP_SHIFT; }
static inline unsigned shmbox__word_owner(uint64_t w) { return (unsigned)(w >> 8) & 0xffffu; }
static inline unsigned shmbox__word_state(uint64_t w) { return (unsigned)w & 0xffu; }
/* Laps are kept modulo 2^40; compare them that way. */
static inline uint64_t shmbox__lap(uint64_t lap) { return lap & SHMBOX__LAP_MASK; }
/* How many laps a slot word is ahead of `lap` (modulo: LAP_MASK is -1). */
static inline uint64_t shmbox__lap_diff(uint64_t w, uint64_t lap)
{
	return shmbox__lap(shmbox__word_lap(w) - lap);
}

/* A slot's header has a cache line to itself, and its payload starts on
 * the next: a process spinning on the word does not take the line the
 * writer is copying into, and copies run on aligned lines. */
struct shmbox__slot {
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t word;
	_Atomic uint32_t len;	/* payload length, written before FULL */
	_Atomic int32_t pid;	/* sender */
	_Atomic uint64_t seq;	/* ring position of the message */
	_Atomic uint32_t reply; /* request ring: the caller's reply slot */
	_Atomic uint32_t gen;	/* and its generation */
	/* payload follows, slot_size bytes, then padding to the stride */
};

struct shmbox__reply { /* laid out like a slot, for the same reason */
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t word;
	_Atomic uint32_t len;	  /* reply length, written before READY */
	_Atomic uint32_t waiting; /* the caller sleeps on its semaphore */
	_Atomic uint32_t caller;  /* token of the caller, for all states but FREE */
	_Atomic uint32_t pad;
	/* payload follows */
};

static inline uint64_t shmbox__rword(uint32_t gen, unsigned owner, unsigned state)
{
	return ((uint64_t)gen << 32) | ((uint64_t)(owner & 0xffffu) << 8) | (state & 0xffu);
}
static inline uint32_t shmbox__rword_gen(uint64_t w) { return (uint32_t)(w >> 32); }

/* Where a ring's producers and consumers meet.  Three cache lines: one
 * written by producers, one by consumers, and one that every put and get
 * reads but that is written only by a sleeper, or once a second: the
 * sleeper counters and the times of the last put and get.  (Keeping the
 * counters off the other two lines saves a cache-line transfer per
 * message; the times were on them, and with producers on both CPUs the
 * check of last_put after the copy found the tail line gone.) */
struct shmbox__ring_hdr {
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t tail;
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t head;
	_Alignas(SHMBOX__CACHELINE) _Atomic uint32_t putters_waiting;
	_Atomic uint32_t getters_waiting;
	_Atomic int64_t last_put; /* seconds since the epoch */
	_Atomic int64_t last_get;
};

/* One entry per token: who holds it, for shmbox_stat and `shmbox info`,
 * and the CPU it last ran on, so that a waiter yields only to a peer that
 * may be queued behind it (wait.c). */
struct shmbox__proc {
	_Atomic int32_t pid;
	_Atomic uint32_t cpu; /* 1 + the CPU it was on when it last looked; 0: not known */
	_Atomic int64_t since;
};

struct shmbox__header {
	/* Written once by the creator; magic last, with release ordering. */
	_Atomic uint64_t magic;
	uint32_t layout;
	uint32_t header_size;
	uint64_t seg_size;
	uint64_t slots;
	uint64_t slot_size;
	uint64_t stride;
	uint64_t procs_offset;
	uint64_t slots_offset;
	uint32_t max_procs;
	uint32_t nsems;
	int32_t semid;
	int32_t creator;
	uint64_t key_dev;
	uint64_t key_ino;
	int64_t key_born; /* key file's birth time in ns, 0 if unknown: a file
			     deleted and re-created often gets the same inode */
	int64_t created;
	uint64_t requests_offset;
	uint64_t replies_offset;
	uint64_t reply_stride;
	uint32_t nreplies;
	_Atomic uint32_t destroyed; /* set by shmbox_destroy before removal */

	struct shmbox__ring_hdr ring[2]; /* messages, requests */
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t replies_freed;
	_Atomic uint32_t callers_waiting;
	_Alignas(SHMBOX__CACHELINE) char end[];
};

enum { SHMBOX__MESSAGES = 0, SHMBOX__REQUESTS = 1 };

/* A ring as the handle sees it: validated geometry and its semaphores. */
struct shmbox__ring {
	struct shmbox__ring_hdr *h;
	unsigned char *slots;
	size_t nslots;
	size_t stride;
	int sem_get, sem_put;
	unsigned shift; /* nslots is 1 << shift, or 0: not a power of two */
};

/* The handle: geometry copied from the header once and validated, so the
 * hot path never trusts the segment's idea of its own size. */
struct shmbox {
	struct shmbox__header *hdr;
	struct shmbox__ring ring[2];
	struct shmbox__proc *procs;
	unsigned char *replies;
	size_t nreplies;
	size_t reply_stride;
	size_t slot_size;
	unsigned max_procs;
	mode_t mode; /* permission bits when attached: shmbox_getattr */
	unsigned me; /* our token index */
	bool rdonly; /* an observer: attached SHM_RDONLY, holds no token */
	unsigned forks; /* shmbox__forks when made: another value, a child's copy */
	_Atomic unsigned spin_budget; /* see struct shmbox__spinner */
	_Atomic int64_t yield_again_ns; /* no yields before this (CLOCK_MONOTONIC ns): wait.c, yield() */
	_Atomic int64_t cpu_noted_at;	/* second of touch's last shmbox__note_cpu */
	/* Written on every put and get: a line of their own, so that threads
	 * sharing the handle do not take the line the fields above are read
	 * from (the handle comes from malloc, hence padding, not alignment). */
	struct {
		char before[SHMBOX__CACHELINE];
		_Atomic uint32_t ops;	      /* puts and gets on the message ring */
		_Atomic uint32_t races_lost; /* claims lost to others: wait.c, shmbox__crowded */
		char after[SHMBOX__CACHELINE - 2 * sizeof(uint32_t)];
	} counters;
	int shmid;
	int semid;
	pid_t pid;
};

/* Position pos is slot pos % nslots in lap pos / nslots.  A 64-bit
 * division is a tenth of a put here; with a power of two it is a mask. */
static inline size_t shmbox__index(const struct shmbox__ring *r, uint64_t pos)
{
	return r->shift != 0 ? (size_t)(pos & (r->nslots - 1)) : (size_t)(pos % r->nslots);
}
static inline uint64_t shmbox__pos_lap(const struct shmbox__ring *r, uint64_t pos)
{
	return shmbox__lap(r->shift != 0 ? pos >> r->shift : pos / r->nslots);
}
static inline struct shmbox__slot *shmbox__slot_at(const struct shmbox__ring *r, uint64_t pos)
{
	return (struct shmbox__slot *)(r->slots + shmbox__index(r, pos) * r->stride);
}
static inline struct shmbox__reply *shmbox__reply_at(const struct shmbox *b, size_t i)
{
	return (struct shmbox__reply *)(b->replies + i * b->reply_stride);
}
static inline unsigned shmbox__reply_sem(const struct shmbox *b, size_t i)
{
	return (unsigned)(SHMBOX__SEM_TOKENS + b->max_procs + i);
}
static inline unsigned char *shmbox__payload(struct shmbox__slot *s)
{
	return (unsigned char *)(s + 1);
}
static inline unsigned char *shmbox__reply_payload(struct shmbox__reply *r)
{
	return (unsigned char *)(r + 1);
}

/* POSIX leaves union semun to the application. */
union shmbox__semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

#endif /* SHMBOX_LAYOUT_H */
