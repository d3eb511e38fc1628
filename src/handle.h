/*
 * The handle: what one process knows of a mailbox it attached.  Geometry
 * is copied from the header once and checked (segment.c), so the hot path
 * never trusts the segment's idea of its own size.
 */
#ifndef SHMBOX_HANDLE_H
#define SHMBOX_HANDLE_H

#include <errno.h>

#include "layout.h"

/* A ring as the handle sees it: checked geometry and its semaphores. */
struct shmbox__ring {
	struct shmbox__ring_hdr *h;
	unsigned char *slots;
	size_t nslots;
	size_t stride;
	int sem_get, sem_put; /* getters and putters sleep here (sem.h) */
	unsigned shift;	      /* nslots is 1 << shift, or 0: not a power of two */
	bool messages;	      /* the message ring, where the spin policy counts */
};

struct shmbox__listener;

/* The spin policy's per-handle state (spin.c). */
struct shmbox__spin_state {
	_Atomic unsigned budget;       /* spins a wait may make before it sleeps */
	_Atomic int64_t yield_again_ns; /* no yields before this (CLOCK_MONOTONIC ns) */
	_Atomic int64_t cpu_noted_at;  /* second of the last note of our CPU */
	/* Written on every put and get: a line of their own, so that threads
	 * sharing the handle do not take the line the fields above are read
	 * from (the handle comes from malloc, hence padding, not alignment). */
	struct {
		char before[SHMBOX__CACHELINE];
		_Atomic uint32_t ops;	     /* puts and gets on the message ring */
		_Atomic uint32_t races_lost; /* claims lost to others */
		char after[SHMBOX__CACHELINE - 2 * sizeof(uint32_t)];
	} counters;
};

struct shmbox {
	struct shmbox__header *hdr;
	struct shmbox__ring ring[SHMBOX__NRINGS];
	struct shmbox__proc *procs;
	unsigned char *replies;
	size_t nreplies;
	size_t reply_stride;
	size_t slot_size;
	unsigned max_procs;
	mode_t mode;	 /* permission bits when attached: shmbox_getattr */
	unsigned me;	 /* our token index */
	bool rdonly;	 /* an observer: attached SHM_RDONLY, holds no token */
	unsigned forks;	 /* shmbox__forks when made: another value, a child's copy */
	struct shmbox__spin_state spin;
	/* Descriptors (fd.c), by SHMBOX__FD_GET/PUT/ACCEPT; made on demand. */
	_Atomic(struct shmbox__listener *) fds[SHMBOX__FD_KINDS];
	_Atomic int sender; /* 1 + a socket to ring listeners from; 0: none yet */
	int shmid;
	int semid;
	pid_t pid;
};

/* Position pos is slot pos % nslots in lap pos / nslots.  With a power of
 * two the division is a mask: a 64-bit division is a noticeable part of a
 * put. */
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
static inline unsigned char *shmbox__payload(struct shmbox__slot *s)
{
	return (unsigned char *)(s + 1);
}
static inline struct shmbox__reply *shmbox__reply_at(const struct shmbox *b, size_t i)
{
	return (struct shmbox__reply *)(b->replies + i * b->reply_stride);
}
static inline unsigned char *shmbox__reply_payload(struct shmbox__reply *r)
{
	return (unsigned char *)(r + 1);
}

static inline bool shmbox__destroyed(const struct shmbox *b)
{
	return atomic_load_explicit(&b->hdr->destroyed, memory_order_relaxed) != 0;
}

/* A token is its process's: the kernel undoes it when that process exits,
 * not when a child of fork() that inherited the handle does.  fork.c
 * counts forks; a handle made before one refuses to claim anything in the
 * child. */
extern _Atomic unsigned shmbox__forks __attribute__((visibility("hidden")));
int shmbox__fork_count(unsigned *count); /* 0, or -1 with errno */
static inline bool shmbox__inherited(const struct shmbox *b)
{
	return b->forks != atomic_load_explicit(&shmbox__forks, memory_order_relaxed);
}

/* The checks shmbox_procs and shmbox_listeners begin with, which fill up
 * to n entries of out: -1 (errno), 0 (nothing to do), 1 (go on). */
static inline int shmbox__look_begins(const struct shmbox *b, const void *out, size_t n)
{
	if (b == NULL || (out == NULL && n > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return -1;
	}
	return n > 0;
}

/* The checks every call that claims something begins with. */
static inline int shmbox__check_handle(const struct shmbox *b, int timeout_ms)
{
	if (b == NULL || timeout_ms < -1) {
		errno = EINVAL;
		return -1;
	}
	if (b->rdonly || shmbox__inherited(b)) { /* an observer, or its parent's handle */
		errno = EBADF;
		return -1;
	}
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return -1;
	}
	return 0;
}

#endif /* SHMBOX_HANDLE_H */
