/*
 * The segment's layout: the structures every attached process shares, and
 * the encoding of their state words.  Nothing process-local is here (that
 * is handle.h), and every value read from the segment is untrusted: any
 * process with write access can write anything into it.
 *
 * Segment:  [ header (+ listener table) | proc table | message ring | request ring |
 *            reply slots ]
 * A ring:   N slots; a slot is [ slot header | payload, slot_size bytes ]
 * Plain messages travel in the message ring, calls in the request ring, and
 * answers in reply slots, so get never sees a request.
 *
 * A ring slot's state is one 64-bit word, changed only by compare-and-swap:
 *   bits 63..24  lap    which pass of the ring the state belongs to
 *   bits 23..8   owner  token of the put or get holding it
 *   bits  7..0   state  FREE, WRITING, FULL, READING or DEAD
 * ring.c has the state machine; reply.c that of the reply slots, whose
 * word is generation (32 bits) | owner (16) | state (8).
 */
#ifndef SHMBOX_LAYOUT_H
#define SHMBOX_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmbox.h"

#define SHMBOX__MAGIC UINT64_C(0x31584f42424d4853) /* "SHMBBOX1" */
#define SHMBOX__LAYOUT 5u
#define SHMBOX__CACHELINE 64
#define SHMBOX__MAX_REPLIES 1024u

/* The two rings, in the header's ring[] and the handle's. */
enum { SHMBOX__MESSAGES = 0, SHMBOX__REQUESTS = 1, SHMBOX__NRINGS = 2 };

/* Ring slot states.  The public SHMBOX_SLOT_* values are these, so
 * observers see them as they are. */
enum shmbox__state {
	SHMBOX__FREE = SHMBOX_SLOT_FREE,
	SHMBOX__WRITING = SHMBOX_SLOT_WRITING,
	SHMBOX__FULL = SHMBOX_SLOT_FULL,
	SHMBOX__READING = SHMBOX_SLOT_READING,
	SHMBOX__DEAD = SHMBOX_SLOT_DEAD,
};

/* Reply slot states. */
enum shmbox__reply_state {
	SHMBOX__R_FREE = 1,	/* owner: none */
	SHMBOX__R_WAITING = 2,	/* owner: the caller; its request is queued */
	SHMBOX__R_ACCEPTED = 3, /* owner: the server that took the request */
	SHMBOX__R_FILLING = 4,	/* owner: the server writing the reply */
	SHMBOX__R_READY = 5,	/* owner: the caller, who copies it out */
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

static inline uint64_t shmbox__rword(uint32_t gen, unsigned owner, unsigned state)
{
	return ((uint64_t)gen << 32) | ((uint64_t)(owner & 0xffffu) << 8) | (state & 0xffu);
}
static inline uint32_t shmbox__rword_gen(uint64_t w) { return (uint32_t)(w >> 32); }

/* A state word changes only by a compare-and-swap on the exact word seen,
 * so a word that moved on meanwhile is never touched; this is the one for
 * claims (publish and release use a sequentially consistent one: ring.c). */
static inline bool shmbox__cas(_Atomic uint64_t *p, uint64_t old, uint64_t new)
{
	return atomic_compare_exchange_strong_explicit(p, &old, new, memory_order_acq_rel,
						       memory_order_acquire);
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
	/* The call's outcome, written before READY: the reply's length (below
	 * 2^32), or an errno << 32 (shmbox_reply_error).  One word, so that a
	 * reply costs one store and its caller one load and one comparison
	 * with the slot size, as when it held only the length. */
	_Atomic uint64_t result;
	_Atomic uint32_t waiting; /* the caller sleeps on its semaphore */
	_Atomic uint32_t caller;  /* token of the caller, for all states but FREE */
	/* When the caller gives up: CLOCK_MONOTONIC ns, 0 never; written when
	 * it claims the slot, for shmbox_ticket_timeout. */
	_Atomic int64_t deadline;
	/* payload follows */
};
#define SHMBOX__RESULT_ERR_SHIFT 32
#define SHMBOX__ERRNO_MAX 4095 /* the largest errno a reply may carry (Linux's MAX_ERRNO) */

/* Where a ring's producers and consumers meet.  Three cache lines: one
 * written by producers, one by consumers, and one that every put and get
 * reads but that only a sleeper writes, or a put or get once a second:
 * the sleeper counters and the times of the last put and get.  Counters
 * on the tail's or head's line would move that line between CPUs on
 * every message. */
struct shmbox__ring_hdr {
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t tail;
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t head;
	_Alignas(SHMBOX__CACHELINE) _Atomic uint32_t putters_waiting;
	_Atomic uint32_t getters_waiting;
	_Atomic int64_t last_put; /* seconds since the epoch */
	_Atomic int64_t last_get;
	/* Listeners (fd.c) waiting for a change on either side: bit i of the
	 * low half is the side's listener entry i, armed; the high half counts
	 * arms, so that a ringer clears only the bits it rang (a CAS on the
	 * word it read). */
	_Atomic uint64_t armed_get, armed_put;
};
#define SHMBOX__ARMED_BITS(w) ((uint32_t)(w))
#define SHMBOX__ARMS(w) ((w) >> 32)

/* A descriptor's entry (fd.c): who listens, and the name of its socket;
 * one table for each kind (SHMBOX_FD_GET, _PUT, _ACCEPT), one bit of the
 * side's armed word for each entry.  word: 0 free, else SHMBOX__L_USED |
 * owner token << 8 | what. */
#define SHMBOX__FD_KINDS 3
#define SHMBOX__KIND_LISTENERS SHMBOX_FD_MAX
#define SHMBOX__L_USED (UINT64_C(1) << 32)
struct shmbox__listen_entry {
	_Atomic uint64_t word;
	_Atomic uint64_t nonce; /* 0 until the socket is bound */
};
/* Kind k (0, 1, 2) is SHMBOX_FD_GET, _PUT, _ACCEPT: 1 << k. */
static inline int shmbox__fd_what(int k)
{
	return 1 << k;
}

/* One entry per token: who holds it, for shmbox_procs and `shmbox info`
 * (the token itself, in the semaphore set, is the truth).  cpu is a hint
 * for the spin policy (spin.c): where the holder last ran.  It is in the
 * segment because a waiter must know where its peers run; on a busy
 * machine that decides between spinning and yielding (bench/README.md,
 * "What each step gave", has it measured off). */
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

	struct shmbox__ring_hdr ring[SHMBOX__NRINGS]; /* messages, requests */
	_Alignas(SHMBOX__CACHELINE) _Atomic uint64_t replies_freed;
	_Atomic uint32_t callers_waiting;
	_Atomic uint32_t joins; /* attaches so far: descriptors watch them all (fdwatch.c) */
	_Alignas(SHMBOX__CACHELINE) struct shmbox__listen_entry
		listeners[SHMBOX__FD_KINDS][SHMBOX__KIND_LISTENERS];
	_Alignas(SHMBOX__CACHELINE) char end[];
};

#endif /* SHMBOX_LAYOUT_H */
