/* shmbox_put and shmbox_get: a whole message into or out of the message
 * ring (ring.c). */
#include <errno.h>

#include "ring.h"

int shmbox_put(shmbox_t *b, const void *msg, size_t len, int timeout_ms)
{
	struct shmbox__deadline d;

	if (shmbox__check_handle(b, timeout_ms) == -1)
		return -1;
	if (msg == NULL && len > 0) {
		errno = EINVAL;
		return -1;
	}
	if (len > b->slot_size) {
		errno = EMSGSIZE;
		return -1;
	}
	shmbox__deadline_init(&d, timeout_ms);
	return shmbox__ring_put(b, &b->ring[SHMBOX__MESSAGES], msg, len, &d, 0, 0, NULL);
}

ssize_t shmbox_get(shmbox_t *b, void *buf, size_t size, int timeout_ms)
{
	struct shmbox__deadline d;

	if (shmbox__check_handle(b, timeout_ms) == -1)
		return -1;
	if (buf == NULL && size > 0) {
		errno = EINVAL;
		return -1;
	}
	shmbox__deadline_init(&d, timeout_ms);
	return shmbox__ring_get(b, &b->ring[SHMBOX__MESSAGES], buf, size, &d, NULL, NULL);
}
