/* The segment's geometry, and the key file it was made for: computed the
 * same way by creator and opener (geometry.c, keyfile.c). */
#ifndef SHMBOX_GEOMETRY_H
#define SHMBOX_GEOMETRY_H

#include <sys/ipc.h>

#include "layout.h"

struct shmbox__geometry {
	uint64_t slots, slot_size, stride, procs_offset, slots_offset, requests_offset;
	uint64_t replies_offset, reply_stride, seg_size;
	uint32_t max_procs, nreplies, nsems;
};
/* 0, or -1 with EINVAL: a geometry that does not fit in a segment. */
int shmbox__geometry(struct shmbox__geometry *g, uint64_t slots, uint64_t slot_size,
		     uint64_t max_procs);

struct shmbox__keyfile {
	key_t key;
	dev_t dev;
	ino_t ino;
	int64_t born; /* birth time in ns, 0 if unknown */
};
int shmbox__keyfile(const char *path, int proj_id, struct shmbox__keyfile *k);
/* Was the mailbox with header h made for this key file?  false: ESTALE. */
bool shmbox__same_keyfile(const struct shmbox__header *h, const struct shmbox__keyfile *k);

#endif /* SHMBOX_GEOMETRY_H */
