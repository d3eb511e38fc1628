/*
 * shmbox_unlink: remove the mailbox at a key file's key, as mq_unlink
 * removes a queue by name, also when it is broken and cannot be opened: a
 * segment whose semaphore set was removed (ipcrm -s) or whose destroyed
 * word is set, one whose creator died before it was ready, or a
 * semaphore set left alone at the key after its segment went.
 */
#include <errno.h>
#include <signal.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "fd.h"
#include "geometry.h"
#include "sem.h"

/* The creator of a segment that is not ready yet may still be making it.
 * (A creator in another pid namespace reads as 0: we cannot ask.) */
static bool creator_gone(pid_t cpid)
{
	return cpid <= 0 || (kill(cpid, 0) == -1 && errno == ESRCH);
}

/* Nothing written: a creator that died before it wrote the header. */
static bool blank(const struct shmbox__header *h)
{
	const unsigned char *p = (const unsigned char *)h;

	for (size_t i = 0; i < sizeof(*h); i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* May the segment at h (ds: what the kernel says of it) be removed for
 * this key file?  0, or -1 with errno.  *ours: it has this library's
 * header, so the set it names and its destroyed word can be trusted as
 * far as anything in it can. */
static int removable(const struct shmbox__header *h, const struct shmid_ds *ds,
		     const struct shmbox__keyfile *k, int flags, bool *ours)
{
	uint64_t magic;

	*ours = false;
	if (ds->shm_segsz < sizeof(*h)) {
		errno = EPROTO;
		return -1;
	}
	magic = atomic_load_explicit(&h->magic, memory_order_acquire);
	if (magic != 0 && magic != SHMBOX__MAGIC) {
		errno = EPROTO; /* somebody else's segment: leave it */
		return -1;
	}
	/* Layout and key file are written before the magic: a creator that
	 * died half-way has left them, unless it died before even that. */
	*ours = h->layout == SHMBOX__LAYOUT && h->header_size == sizeof(*h);
	if (magic == 0 && !creator_gone(ds->shm_cpid)) {
		errno = EBUSY;
		return -1;
	}
	if (magic == 0 && !*ours && !((flags & SHMBOX_ANY_FILE) && blank(h) && ds->shm_nattch <= 1)) {
		/* nothing says it is a mailbox; a blank one, attached by no one
		 * but us, is taken for one only when the caller says so */
		errno = EPROTO;
		return -1;
	}
	if (flags & SHMBOX_ANY_FILE)
		return 0;
	if (!*ours) {
		errno = EPROTO; /* another layout: its key file cannot be checked */
		return -1;
	}
	return shmbox__same_keyfile(h, k) ? 0 : -1;
}

/* Check the segment, then remove it and say so in it, for peers that
 * spin without entering the kernel.  With no write permission the flag
 * is not set, and IPC_RMID then says whether we may remove it at all.
 * *semid: the set the segment names, or -1. */
static int remove_segment(int shmid, const struct shmbox__keyfile *k, int flags, int *semid)
{
	struct shmid_ds ds;
	struct shmbox__header *h;
	bool writable = true, ours;
	int e;

	*semid = -1;
	h = shmat(shmid, NULL, 0);
	if (h == (void *)-1 && errno == EACCES) {
		writable = false;
		h = shmat(shmid, NULL, SHM_RDONLY);
	}
	if (h == (void *)-1)
		return -1;
	/* After attaching, so that the count of attaches includes ours. */
	if (shmctl(shmid, IPC_STAT, &ds) == -1 || removable(h, &ds, k, flags, &ours) == -1 ||
	    (shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EINVAL && errno != EIDRM)) {
		e = errno;
		shmdt(h);
		errno = e;
		return -1;
	}
	if (ours) {
		*semid = h->semid;
		if (writable) {
			atomic_store_explicit(&h->destroyed, 1, memory_order_seq_cst);
			shmbox__fd_ring_all(h, -1);
		}
	}
	shmdt(h);
	return 0;
}

int shmbox_unlink(const char *path, int proj_id, int flags)
{
	struct shmbox__keyfile k;
	int saved = errno, shmid, semid, named;

	if ((flags & ~SHMBOX_ANY_FILE) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__keyfile(path, proj_id, &k) == -1)
		return -1;
	/* The set first: a create makes the segment before the set, so a
	 * create that comes in between is seen here as a segment, and its
	 * set is not taken for a leftover. */
	semid = semget(k.key, 0, 0);
	if (semid == -1 && errno != ENOENT)
		return -1;
	shmid = shmget(k.key, 0, 0);
	if (shmid == -1 && errno != ENOENT)
		return -1;
	if (shmid == -1 && semid == -1) {
		errno = ENOENT;
		return -1;
	}
	if (shmid != -1) {
		if (remove_segment(shmid, &k, flags, &named) == -1)
			return -1;
		if (named != -1 && named != semid)
			semid = -1; /* not the set the mailbox was made with */
	}
	/* Removing the set wakes its sleepers with EIDRM.  A set alone at the
	 * key cannot be told from another program's: the key file says it is
	 * ours.  If it may not be removed (EPERM), the segment is gone already. */
	if (semid != -1 && shmbox__sem_remove(semid) == -1)
		return -1;
	errno = saved;
	return 0;
}
