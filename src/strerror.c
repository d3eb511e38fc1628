/* Error messages worded for mailboxes: one table, for every code the
 * library documents. */
#include <errno.h>
#include <string.h>

#include "shmbox.h"

#define SHMBOX_ERRORS(X)                                                                   \
	X(EPROTO, "Not a shmbox mailbox, or one of an incompatible layout")                \
	X(ESTALE, "Mailbox belongs to another key file (the file was re-created, or ftok collided)") \
	X(EIDRM, "Mailbox was removed")                                                    \
	X(ECONNRESET, "The server died before replying to the call")                       \
	X(ECANCELED, "Too late: the caller gave up on this call, or the claim was already " \
		     "committed, cancelled, released or taken back")                       \
	X(ENOENT, "No such mailbox (or no such key file)")                                 \
	X(EEXIST, "Mailbox already exists")                                                \
	X(EBUSY, "Mailbox is still being set up by its creator")                           \
	X(EMSGSIZE, "Message does not fit (slot size, or the caller's buffer)")            \
	X(EAGAIN, "Mailbox is full or empty, and the call was not to wait")                \
	X(ETIMEDOUT, "Timed out waiting for the mailbox")                                  \
	X(EUSERS, "Too many processes have the mailbox open (max_procs)")                  \
	X(ENOSPC, "Host out of shared-memory or semaphore ids or memory: raise "             \
		  "/proc/sys/kernel/shmmni or shmall, or SEMMNI/SEMMNS in /proc/sys/kernel/sem") \
	X(EFBIG, "Mailbox larger than the kernel allows in one segment: raise "            \
		 "/proc/sys/kernel/shmmax, or use fewer or smaller slots")                 \
	X(ERANGE, "Mailbox needs more semaphores than one set may have: raise SEMMSL, "    \
		  "the first number in /proc/sys/kernel/sem, or use fewer slots or max_procs") \
	X(EBADF, "Handle is read-only (an observer), or its parent's from before fork(): "  \
		 "open one of your own")                                                   \
	X(EMFILE, "Too many descriptors: 32 of one kind on one mailbox (shmbox_fd), or this "   \
	  "process's limit")                                                               \
	X(EINVAL, "Invalid argument")

const char *shmbox_strerror(int err)
{
	switch (err) {
#define SHMBOX_ERROR_CASE(code, text) case code: return text;
		SHMBOX_ERRORS(SHMBOX_ERROR_CASE)
#undef SHMBOX_ERROR_CASE
	default:
		return strerror(err);
	}
}
