/* shmbox_listeners: who holds a descriptor (fd.c) for what, and whether it
 * waits to be rung.  A look like shmbox_procs (stat.c): the table is what
 * processes wrote, checked entry by entry; the tokens are the truth about
 * who is alive, read all at once. */
#include <errno.h>
#include <stdlib.h>

#include "sem.h"

static _Atomic uint64_t *mask_for(struct shmbox__header *h, unsigned what)
{
	if (what == SHMBOX_FD_GET)
		return &h->ring[SHMBOX__MESSAGES].armed_get;
	if (what == SHMBOX_FD_PUT)
		return &h->ring[SHMBOX__MESSAGES].armed_put;
	return &h->ring[SHMBOX__REQUESTS].armed_get;
}

ssize_t shmbox_listeners(shmbox_t *b, struct shmbox_listener *out, size_t n)
{
	unsigned short *tokens;
	size_t k = 0;

	if (b == NULL || (out == NULL && n > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return -1;
	}
	if (n == 0)
		return 0;
	tokens = shmbox__sem_values(b);
	if (tokens == NULL)
		return -1;
	for (unsigned i = 0; i < SHMBOX__MAX_LISTENERS && k < n; i++) {
		uint64_t w = atomic_load_explicit(&b->hdr->listeners[i].word, memory_order_acquire);
		unsigned owner = (unsigned)(w >> 8) & 0xffffu, what = (unsigned)w & 0xffu;
		pid_t pid;

		if (!(w & SHMBOX__L_USED) || owner >= b->max_procs ||
		    tokens[shmbox__sem_token(owner)] == 0 ||
		    (what != SHMBOX_FD_GET && what != SHMBOX_FD_PUT && what != SHMBOX_FD_ACCEPT))
			continue;
		pid = atomic_load_explicit(&b->procs[owner].pid, memory_order_acquire);
		if (pid <= 0)
			continue;
		out[k].pid = pid;
		out[k].what = (int)what;
		out[k].armed = (atomic_load_explicit(mask_for(b->hdr, what), memory_order_relaxed) >>
				i) & 1;
		k++;
	}
	free(tokens);
	return (ssize_t)k;
}
