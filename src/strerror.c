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
	X(ECANCELED, "The caller gave up on this call (timed out, interrupted or died)")   \
	X(ENOENT, "No such mailbox (or no such key file)")                                 \
	X(EEXIST, "Mailbox already exists")                                                \
	X(EMSGSIZE, "Message does not fit (slot size, or the caller's buffer)")            \
	X(EAGAIN, "Mailbox is full or empty, and the call was not to wait")                \
	X(ETIMEDOUT, "Timed out waiting for the mailbox")                                  \
	X(EUSERS, "Too many processes have the mailbox open (max_procs)")                  \
	X(ENOSPC, "System limit on shared-memory segments or semaphores reached "          \
		  "(/proc/sys/kernel/shmmni, /proc/sys/kernel/sem)")                       \
	X(EINVAL, "Invalid argument (or a size beyond /proc/sys/kernel/shmmax)")

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
