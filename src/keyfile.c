/* The key file: its ftok key, and who it is (device, inode, birth time),
 * so that a mailbox can tell the file it was made for from a later one. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "geometry.h"

int shmbox__keyfile(const char *path, int proj_id, struct shmbox__keyfile *k)
{
	struct statx stx;

	if (path == NULL || (proj_id & 0xff) == 0) {
		errno = EINVAL;
		return -1;
	}
	if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &stx) == -1)
		return -1;
	k->key = ftok(path, proj_id);
	if (k->key == -1)
		return -1;
	k->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	k->ino = (ino_t)stx.stx_ino;
	k->born = (stx.stx_mask & STATX_BTIME)
			  ? (int64_t)stx.stx_btime.tv_sec * 1000000000 + stx.stx_btime.tv_nsec
			  : 0;
	return 0;
}

/* Was the mailbox with header h made for this key file?  false: ESTALE,
 * a mailbox of another file with the same key (deleted and re-created,
 * or an ftok collision). */
bool shmbox__same_keyfile(const struct shmbox__header *h, const struct shmbox__keyfile *k)
{
	if (h->key_dev == (uint64_t)k->dev && h->key_ino == (uint64_t)k->ino &&
	    (h->key_born == 0 || k->born == 0 || h->key_born == k->born))
		return true;
	errno = ESTALE;
	return false;
}
