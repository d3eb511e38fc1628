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

#include "geometry.h"
#include "sem.h"

/* Is the segment at addr (of segsz bytes, made by cpid) a mailbox that
 * may be removed for this key file?  0, or -1 with errno. */
static int removable(const struct shmbox__header *h, size_t segsz, pid_t cpid,
		     const struct shmbox__keyfile *k, int flags)
{
	uint64_t magic;

	if (segsz < sizeof(*h)) {
		errno = EPROTO;
		return -1;
	}
	magic = atomic_load_explicit(&h->magic, memory_order_acquire);
	if (magic == 0) { /* not ready: a leftover only if its creator is gone */
		if (kill(cpid, 0) == -1 && errno == ESRCH)
			return 0;
		errno = EBUSY;
		return -1;
	}
	if (magic != SHMBOX__MAGIC) {
		errno = EPROTO; /* somebody else's segment: leave it */
		return -1;
	}
	if (flags & SHMBOX_ANY_FILE)
		return 0;
	if (h->layout != SHMBOX__LAYOUT) {
		errno = EPROTO; /* its key file cannot be checked */
		return -1;
	}
	return shmbox__same_keyfile(h, k) ? 0 : -1;
}

/* Check the segment, then remove it and say so in it, for peers that
 * spin without entering the kernel.  With no write permission the flag
 * is not set, and IPC_RMID then says whether we may remove it at all. */
static int remove_segment(int shmid, const struct shmbox__keyfile *k, int flags)
{
	struct shmid_ds ds;
	struct shmbox__header *h;
	bool writable = true;
	int e;

	if (shmctl(shmid, IPC_STAT, &ds) == -1)
		return -1;
	h = shmat(shmid, NULL, 0);
	if (h == (void *)-1 && errno == EACCES) {
		writable = false;
		h = shmat(shmid, NULL, SHM_RDONLY);
	}
	if (h == (void *)-1)
		return -1;
	if (removable(h, ds.shm_segsz, ds.shm_cpid, k, flags) == -1 ||
	    (shmctl(shmid, IPC_RMID, NULL) == -1 && errno != EINVAL && errno != EIDRM)) {
		e = errno;
		shmdt(h);
		errno = e;
		return -1;
	}
	if (writable && ds.shm_segsz >= sizeof(*h))
		atomic_store_explicit(&h->destroyed, 1, memory_order_release);
	shmdt(h);
	return 0;
}

int shmbox_unlink(const char *path, int proj_id, int flags)
{
	struct shmbox__keyfile k;
	int saved = errno, shmid, semid;

	if ((flags & ~SHMBOX_ANY_FILE) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__keyfile(path, proj_id, &k) == -1)
		return -1;
	shmid = shmget(k.key, 0, 0);
	if (shmid == -1 && errno != ENOENT)
		return -1;
	semid = semget(k.key, 0, 0);
	if (semid == -1 && errno != ENOENT)
		return -1;
	if (shmid == -1 && semid == -1) {
		errno = ENOENT;
		return -1;
	}
	if (shmid != -1 && remove_segment(shmid, &k, flags) == -1)
		return -1;
	/* Removing the set wakes its sleepers with EIDRM.  A set alone at the
	 * key cannot be told from another program's: the key file says it is
	 * ours. */
	if (semid != -1 && semctl(semid, 0, IPC_RMID) == -1 && errno != EINVAL && errno != EIDRM)
		return -1;
	errno = saved;
	return 0;
}
