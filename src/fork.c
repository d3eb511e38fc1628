/*
 * A handle is its process's.  Its token (sem.c) is undone by the kernel
 * when the process that took it exits, not when a child of fork() that
 * inherited the handle does: a child that claimed a slot through its
 * parent's handle and was killed would hold the slot for as long as the
 * parent lives.  So every child of fork() bumps a count (pthread_atfork,
 * set up at the first attach), and a handle made before the fork refuses
 * to claim anything there (EBADF: shmbox__check_handle); closed there, it
 * is only unmapped.
 */
#include <pthread.h>

#include "handle.h"

_Atomic unsigned shmbox__forks;
static _Atomic bool watching;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;

static void forked(void)
{
	atomic_fetch_add_explicit(&shmbox__forks, 1, memory_order_relaxed);
}

/* Not pthread_once: a failed registration (ENOMEM) is tried again. */
int shmbox__fork_count(unsigned *count)
{
	int e = 0;

	if (!atomic_load_explicit(&watching, memory_order_acquire)) {
		pthread_mutex_lock(&watch_lock);
		if (!atomic_load_explicit(&watching, memory_order_relaxed)) {
			e = pthread_atfork(NULL, NULL, forked);
			if (e == 0)
				atomic_store_explicit(&watching, true, memory_order_release);
		}
		pthread_mutex_unlock(&watch_lock);
	}
	if (e != 0) {
		errno = e;
		return -1;
	}
	*count = atomic_load_explicit(&shmbox__forks, memory_order_relaxed);
	return 0;
}
