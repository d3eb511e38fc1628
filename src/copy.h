/* Payloads into and out of slots (copy.c). */
#ifndef SHMBOX_COPY_H
#define SHMBOX_COPY_H

#include <string.h>

#define SHMBOX__COPY_LOOP_MIN 256 /* at least 128: copy.c's last block */
void shmbox__copy_large(void *restrict dst, const void *restrict src, size_t n);
static inline void shmbox__copy(void *restrict dst, const void *restrict src, size_t n)
{
	if (n >= SHMBOX__COPY_LOOP_MIN)
		shmbox__copy_large(dst, src, n);
	else
		memcpy(dst, src, n);
}

#endif /* SHMBOX_COPY_H */
