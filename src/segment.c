/*
 * Creating, opening, closing and destroying a mailbox.
 *
 * The creation race (semget, then initialise: an opener that comes in
 * between sees a set nobody has set up) is closed by order: the creator
 * makes the segment with IPC_EXCL, then the semaphore set, initialises
 * both, and stores the header's magic number last, with release ordering.
 * An opener uses nothing until it has seen that magic number.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "fd.h"
#include "geometry.h"
#include "recover.h"
#include "reply.h"
#include "ring.h"
#include "sem.h"
#include "spin.h"

/* How long an opener waits for a creator that is still initialising. */
#define READY_WAIT_MS 2000

static struct shmbox *handle_new(void *addr, int shmid, int semid,
				 const struct shmbox__geometry *g)
{
	struct shmbox *b = calloc(1, sizeof(*b));
	unsigned char *base = addr;
	int k;

	if (b == NULL)
		return NULL;
	if (shmbox__fork_count(&b->forks) == -1) {
		free(b);
		return NULL;
	}
	b->hdr = addr;
	b->procs = (struct shmbox__proc *)(base + g->procs_offset);
	for (k = 0; k < SHMBOX__NRINGS; k++) {
		bool messages = k == SHMBOX__MESSAGES;

		b->ring[k] = (struct shmbox__ring){
			.h = &b->hdr->ring[k],
			.slots = base + (messages ? g->slots_offset : g->requests_offset),
			.nslots = g->slots,
			.stride = g->stride,
			.sem_get = messages ? SHMBOX__SEM_GETTERS : SHMBOX__SEM_SERVERS,
			.sem_put = messages ? SHMBOX__SEM_PUTTERS : SHMBOX__SEM_REQ_PUTTERS,
			.messages = messages,
		};
		if (g->slots > 1 && (g->slots & (g->slots - 1)) == 0) /* a power of two */
			b->ring[k].shift = (unsigned)__builtin_ctzll(g->slots);
	}
	b->replies = base + g->replies_offset;
	b->nreplies = g->nreplies;
	b->reply_stride = g->reply_stride;
	b->slot_size = g->slot_size;
	b->max_procs = g->max_procs;
	b->shmid = shmid;
	b->semid = semid;
	b->pid = getpid();
	shmbox__spin_init(b);
	return b;
}

/* Take a token, clear up after its last holder, and sign the proc table. */
static int attach_token(struct shmbox *b)
{
	struct shmbox__proc *p;

	if (shmbox__token_take(b) == -1)
		return -1;
	shmbox__recover_owner(b, b->me);
	p = &b->procs[b->me];
	atomic_store_explicit(&p->since, (int64_t)time(NULL), memory_order_relaxed);
	shmbox__note_cpu(b);
	atomic_store_explicit(&p->pid, b->pid, memory_order_release);
	/* Descriptors watch every attached process (fdwatch.c): count
	 * ourselves in, and ring the armed ones to look at us. */
	atomic_fetch_add_explicit(&b->hdr->joins, 1, memory_order_seq_cst);
	for (int k = 0; k < SHMBOX__NRINGS; k++) {
		shmbox__fd_ring_if_armed(b, &b->ring[k], true);
		shmbox__fd_ring_if_armed(b, &b->ring[k], false);
	}
	return 0;
}

static void init_header(struct shmbox__header *h, const struct shmbox__geometry *g,
			int semid, const struct shmbox__keyfile *k)
{
	h->layout = SHMBOX__LAYOUT;
	h->header_size = sizeof(*h);
	h->seg_size = g->seg_size;
	h->slots = g->slots;
	h->slot_size = g->slot_size;
	h->stride = g->stride;
	h->procs_offset = g->procs_offset;
	h->slots_offset = g->slots_offset;
	h->requests_offset = g->requests_offset;
	h->replies_offset = g->replies_offset;
	h->reply_stride = g->reply_stride;
	h->nreplies = g->nreplies;
	h->max_procs = g->max_procs;
	h->nsems = g->nsems;
	h->semid = semid;
	h->creator = getpid();
	h->key_dev = (uint64_t)k->dev;
	h->key_ino = (uint64_t)k->ino;
	h->key_born = k->born;
	h->created = (int64_t)time(NULL);
}

int shmbox_create(const char *path, int proj_id, const shmbox_attr_t *attr, shmbox_t **boxp)
{
	struct shmbox__geometry g;
	struct shmbox__keyfile k;
	struct shmbox *b = NULL;
	mode_t mode;
	void *addr = (void *)-1;
	int shmid, semid = -1, e;
	unsigned r;

	if (attr == NULL || boxp == NULL) {
		errno = EINVAL;
		return -1;
	}
	mode = attr->mode == 0 ? 0600 : (attr->mode & 0777);
	if (shmbox__geometry(&g, attr->slots, attr->slot_size,
			     attr->max_procs ? attr->max_procs : SHMBOX_DEFAULT_MAX_PROCS) == -1 ||
	    shmbox__keyfile(path, proj_id, &k) == -1)
		return -1;
	shmid = shmget(k.key, (size_t)g.seg_size, IPC_CREAT | IPC_EXCL | (int)mode);
	if (shmid == -1) {
		/* The arguments were checked: EINVAL here is the size (SHMMAX). */
		if (errno == EINVAL)
			errno = EFBIG;
		return -1;
	}
	addr = shmat(shmid, NULL, 0);
	if (addr == (void *)-1)
		goto fail;
	semid = shmbox__sem_create(k.key, g.nsems, (int)mode);
	if (semid == -1)
		goto fail;
	init_header(addr, &g, semid, &k);
	b = handle_new(addr, shmid, semid, &g);
	if (b == NULL)
		goto fail;
	b->mode = mode;
	for (r = 0; r < SHMBOX__NRINGS; r++)
		shmbox__ring_init(&b->ring[r]);
	shmbox__reply_init(b);
	if (attach_token(b) == -1)
		goto fail;
	atomic_store_explicit(&b->hdr->magic, SHMBOX__MAGIC, memory_order_release);
	*boxp = b;
	return 0;
fail:
	e = errno;
	free(b);
	if (semid != -1)
		shmbox__sem_remove(semid);
	if (addr != (void *)-1)
		shmdt(addr);
	shmctl(shmid, IPC_RMID, NULL);
	errno = e;
	return -1;
}

/* Wait, bounded, for the creator to publish the header.  A creator that
 * died half-way leaves a segment that never becomes ready. */
static int wait_ready(const struct shmbox__header *h, pid_t creator, int wait_ms)
{
	struct timespec ms = {0, 1000000L};
	int waited;

	for (waited = 0; waited <= wait_ms; waited++) {
		uint64_t magic = atomic_load_explicit(&h->magic, memory_order_acquire);

		if (magic == SHMBOX__MAGIC)
			return 0;
		if (magic != 0 || waited == wait_ms || (kill(creator, 0) == -1 && errno == ESRCH))
			break;
		nanosleep(&ms, NULL);
	}
	errno = EPROTO;
	return -1;
}

/* Check the header against the segment's real size and recompute its
 * geometry: the handle keeps only what passed. */
static int check_header(const struct shmbox__header *h, size_t seg_size,
			const struct shmbox__keyfile *k, struct shmbox__geometry *g)
{
	if (h->layout != SHMBOX__LAYOUT || h->header_size != sizeof(*h) ||
	    shmbox__geometry(g, h->slots, h->slot_size, h->max_procs) == -1 ||
	    g->stride != h->stride || g->procs_offset != h->procs_offset ||
	    g->slots_offset != h->slots_offset || g->seg_size != h->seg_size ||
	    g->requests_offset != h->requests_offset || g->replies_offset != h->replies_offset ||
	    g->reply_stride != h->reply_stride || g->nreplies != h->nreplies ||
	    g->nsems != h->nsems || g->seg_size > seg_size) {
		errno = EPROTO;
		return -1;
	}
	if (k != NULL && !shmbox__same_keyfile(h, k))
		return -1;
	return 0;
}

/* Attach to segment shmid and check it is a ready, intact mailbox; k, when
 * given, is the key file it must belong to. */
static int attach(int shmid, const struct shmbox__keyfile *k, int flags, shmbox_t **boxp)
{
	struct shmbox__geometry g;
	struct shmid_ds ds;
	struct shmbox *b = NULL;
	void *addr;
	int semid, e;

	if (shmctl(shmid, IPC_STAT, &ds) == -1)
		return -1;
	if (ds.shm_segsz < sizeof(struct shmbox__header)) {
		errno = EPROTO;
		return -1;
	}
	addr = shmat(shmid, NULL, (flags & SHMBOX_RDONLY) ? SHM_RDONLY : 0);
	if (addr == (void *)-1)
		return -1;
	/* By key file, a mailbox may be being created; by id (`shmbox ls`
	 * going through every segment), an empty one is just not a mailbox. */
	if (wait_ready(addr, ds.shm_cpid, k != NULL ? READY_WAIT_MS : 0) == -1 ||
	    check_header(addr, ds.shm_segsz, k, &g) == -1)
		goto fail;
	semid = shmbox__sem_open(ds.shm_perm.__key, addr, g.nsems);
	if (semid == -1)
		goto fail;
	b = handle_new(addr, shmid, semid, &g);
	if (b == NULL)
		goto fail;
	b->rdonly = (flags & SHMBOX_RDONLY) != 0;
	b->mode = ds.shm_perm.mode & 0777;
	if (!b->rdonly && attach_token(b) == -1)
		goto fail;
	*boxp = b;
	return 0;
fail:
	e = errno;
	free(b);
	shmdt(addr);
	errno = e;
	return -1;
}

int shmbox_open_flags(const char *path, int proj_id, int flags, shmbox_t **boxp)
{
	struct shmbox__keyfile k;
	int shmid;

	if (boxp == NULL || (flags & ~(SHMBOX_RDONLY | SHMBOX_ANY_FILE)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__keyfile(path, proj_id, &k) == -1)
		return -1;
	shmid = shmget(k.key, 0, 0);
	if (shmid == -1)
		return -1;
	return attach(shmid, (flags & SHMBOX_ANY_FILE) ? NULL : &k, flags, boxp);
}

int shmbox_open(const char *path, int proj_id, shmbox_t **boxp)
{
	return shmbox_open_flags(path, proj_id, 0, boxp);
}

int shmbox_getattr(const shmbox_t *b, shmbox_attr_t *attr)
{
	if (b == NULL || attr == NULL) {
		errno = EINVAL;
		return -1;
	}
	*attr = (shmbox_attr_t){
		.slots = b->ring[SHMBOX__MESSAGES].nslots,
		.slot_size = b->slot_size,
		.mode = b->mode,
		.max_procs = b->max_procs,
	};
	return 0;
}

int shmbox_attach_id(int shmid, int flags, shmbox_t **boxp)
{
	if (boxp == NULL || shmid < 0 || (flags & ~SHMBOX_RDONLY) != 0) {
		errno = EINVAL;
		return -1;
	}
	return attach(shmid, NULL, flags, boxp);
}

static void detach(struct shmbox *b)
{
	struct shmbox__proc *p = &b->procs[b->me];
	int32_t pid = b->pid;
	/* A child's copy holds nothing.  getpid() too: a child made by a call
	 * that runs no atfork handlers (_Fork, clone) is not counted. */
	const bool owner = !b->rdonly && !shmbox__inherited(b) && b->pid == getpid();

	shmbox__fd_close(b, owner);
	if (owner) {
		atomic_compare_exchange_strong(&p->pid, &pid, 0);
		shmbox__token_drop(b);
	}
	shmdt(b->hdr);
	free(b);
}

int shmbox_close(shmbox_t *b)
{
	if (b == NULL) {
		errno = EINVAL;
		return -1;
	}
	detach(b);
	return 0;
}

/* An observer's mapping is read-only: it attaches once more, writable, to
 * set the flag (removal needs no token, so `shmbox rm` works on a full
 * mailbox). */
static void mark_destroyed(struct shmbox *b)
{
	struct shmbox__header *h = b->hdr;

	if (b->rdonly && (h = shmat(b->shmid, NULL, 0)) == (void *)-1)
		return;
	atomic_store_explicit(&h->destroyed, 1, memory_order_seq_cst);
	/* Every descriptor turns readable, and its next call says EIDRM. */
	shmbox__fd_ring_all(h, -1);
	if (h != b->hdr)
		shmdt(h);
}

int shmbox_destroy(shmbox_t *b)
{
	int saved = errno; /* a success leaves errno as it found it */

	if (b == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* The segment first: if we may not remove it (EPERM), nothing changed. */
	if (shmctl(b->shmid, IPC_RMID, NULL) == -1 && errno != EINVAL && errno != EIDRM)
		return -1;
	/* Then say so in the segment, for handles that never enter the kernel,
	 * and remove the set, which wakes every sleeper with EIDRM. */
	mark_destroyed(b);
	shmbox__sem_remove(b->semid);
	detach(b);
	errno = saved;
	return 0;
}
