/* Freeing what a dead process held (recover.c). */
#ifndef SHMBOX_RECOVER_H
#define SHMBOX_RECOVER_H

#include "handle.h"

/* We just took token owner: its last holder is gone, and so is every
 * claim it left behind. */
void shmbox__recover_owner(struct shmbox *b, unsigned owner);

#endif /* SHMBOX_RECOVER_H */
