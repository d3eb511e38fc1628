/* shmbox_listeners: who holds a descriptor (fd.c) for what, and whether it
 * waits to be rung.  A look like shmbox_procs (stat.c): the table is what
 * processes wrote, checked entry by entry; the tokens are the truth about
 * who is alive, read all at once. */
#include <errno.h>
#include <stdlib.h>

#include "fd.h"
#include "sem.h"

ssize_t shmbox_listeners(shmbox_t *b, struct shmbox_listener *out, size_t n)
{
	unsigned short *tokens;
	size_t k = 0;

	int go = shmbox__look_begins(b, out, n);

	if (go <= 0)
		return go;
	tokens = shmbox__sem_values(b);
	if (tokens == NULL)
		return -1;
	for (int t = 0; t < SHMBOX__FD_KINDS; t++) {
		uint32_t armed = SHMBOX__ARMED_BITS(
			atomic_load_explicit(shmbox__fd_armed(b->hdr, t), memory_order_relaxed));

		for (unsigned i = 0; i < SHMBOX__KIND_LISTENERS && k < n; i++) {
			const struct shmbox__listen_entry *e = &b->hdr->listeners[t][i];
			uint64_t w = atomic_load_explicit(&e->word, memory_order_acquire);
			unsigned owner = (unsigned)(w >> 8) & 0xffffu;
			pid_t pid;

			if (!(w & SHMBOX__L_USED) || owner >= b->max_procs ||
			    tokens[shmbox__sem_token(owner)] == 0)
				continue;
			pid = atomic_load_explicit(&b->procs[owner].pid, memory_order_acquire);
			if (pid <= 0)
				continue;
			out[k].pid = pid;
			out[k].what = shmbox__fd_what(t);
			out[k].armed = (armed >> i) & 1;
			k++;
		}
	}
	free(tokens);
	return (ssize_t)k;
}
