/*
 * shmbox - a message mailbox in one System V shared-memory segment.
 *
 * A ring of fixed-size slots lives in a segment; a System V semaphore set
 * puts processes to sleep and wakes them, and holds each attached process's
 * token so that the kernel releases whatever a killed process held.  Both
 * are found from ftok(path, proj_id).
 *
 * A call that fails returns -1 and sets errno, like the system calls it
 * wraps; shmbox_strerror() explains the library's own codes.
 */
#ifndef SHMBOX_H
#define SHMBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ipc.h> /* key_t, which <sys/types.h> has only with XSI or _DEFAULT_SOURCE */
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHMBOX_VERSION_MAJOR 0
#define SHMBOX_VERSION_MINOR 3
#define SHMBOX_VERSION_PATCH 0
#define SHMBOX_VERSION_STRING "0.3.0"

/* Default number of processes that may have the mailbox open at once. */
#define SHMBOX_DEFAULT_MAX_PROCS 64

typedef struct shmbox shmbox_t; /* opaque handle, one per attach */

typedef struct shmbox_attr {
	size_t slots;	  /* number of message slots, >= 1 */
	size_t slot_size; /* largest payload in bytes, >= 1 */
	mode_t mode;	  /* permission bits of segment and semaphores; 0: 0600 */
	size_t max_procs; /* processes attached at once; 0: SHMBOX_DEFAULT_MAX_PROCS */
} shmbox_attr_t;

struct shmbox_stat {
	size_t slots, slot_size;
	size_t queued;	 /* messages waiting to be read */
	size_t free;	 /* slots a put could take now */
	size_t writing;	 /* slots a put is filling right now */
	size_t reading;	 /* slots a get is copying out right now */
	size_t max_procs;
	size_t attached; /* processes holding the mailbox open */
	uint64_t puts;	 /* messages ever put (slots claimed by put) */
	uint64_t gets;	 /* messages ever taken */
	pid_t creator;	 /* process that created the mailbox */
	size_t requests;    /* calls waiting for a server to accept them */
	size_t calls;	    /* calls in progress (reply slots in use) */
	size_t reply_slots; /* calls that can be in progress at once */
	time_t last_put, last_get; /* 0: never */
	size_t getters_waiting;	   /* processes asleep in get */
	size_t putters_waiting;	   /* ... in put, on a full mailbox */
	size_t servers_waiting;	   /* ... in accept */
	mode_t mode;		   /* permission bits */
	uid_t uid;		   /* owner */
	key_t key;
	int shmid, semid;
};

/* Flags for shmbox_open_flags and shmbox_attach_id. */
#define SHMBOX_RDONLY 0x1 /* an observer: attach read-only, hold no token;
			     put, get, call, accept, reply fail with EBADF */
#define SHMBOX_ANY_FILE 0x2 /* open the mailbox at the key even if it was made
			       for another key file (to remove a stale one) */

/* Slot states, as shmbox_slot_states reports them. */
enum {
	SHMBOX_SLOT_FREE = 1,	 /* a put may take it */
	SHMBOX_SLOT_WRITING = 2, /* a put is copying a message in */
	SHMBOX_SLOT_FULL = 3,	 /* a message waits in it */
	SHMBOX_SLOT_READING = 4, /* a get is copying the message out */
	SHMBOX_SLOT_DEAD = 5,	 /* its put died; getters skip it */
};

struct shmbox_proc {
	pid_t pid;
	time_t since;
};

/* Where a reply goes: a value the server may keep, copy, and answer later. */
typedef struct shmbox_ticket {
	uint32_t slot;
	uint32_t gen;
} shmbox_ticket_t;

/* Defined when this header has the request/reply calls (shmbox_call(3)). */
#define SHMBOX_HAS_CALL 1
/* Defined when this header has shmbox_getattr and shmbox_unlink. */
#define SHMBOX_HAS_UNLINK 1

int shmbox_create(const char *path, int proj_id, const shmbox_attr_t *attr,
		  shmbox_t **boxp);
int shmbox_open(const char *path, int proj_id, shmbox_t **boxp);
int shmbox_open_flags(const char *path, int proj_id, int flags, shmbox_t **boxp);
/* By segment id, as listed in /proc/sysvipc/shm; EPROTO if not a mailbox. */
int shmbox_attach_id(int shmid, int flags, shmbox_t **boxp);
/* The mailbox's shape, from the handle: no system call.  mode is the
 * permission bits as they were when the handle was made. */
int shmbox_getattr(const shmbox_t *box, shmbox_attr_t *attr);
/* Remove the mailbox at the key, as mq_unlink does by name, also one that
 * cannot be opened any more (its semaphore set or segment gone, marked
 * destroyed, or never made ready).  flags: 0 or SHMBOX_ANY_FILE. */
int shmbox_unlink(const char *path, int proj_id, int flags);
int shmbox_close(shmbox_t *box);   /* detach, free the handle; the mailbox stays */
int shmbox_destroy(shmbox_t *box); /* remove segment and semaphores, free handle */

/* timeout_ms: -1 waits for ever, 0 never waits, > 0 waits at most that long. */
int shmbox_put(shmbox_t *box, const void *msg, size_t len, int timeout_ms);
ssize_t shmbox_get(shmbox_t *box, void *buf, size_t size, int timeout_ms);

/* Zero copy, for large messages: write or read a message in its slot.
 * shmbox_reserve claims a free slot (data: slot_size bytes to fill);
 * shmbox_commit publishes len bytes of it.  shmbox_peek claims the next
 * message (data, len: it, in place); shmbox_release frees the slot.  Keep
 * claims short: a reserved slot holds up the readers behind it, a peeked one
 * the writers.  If the process dies while holding one, the slot is freed
 * as for a put or get killed mid-copy. */
typedef struct shmbox_zc {
	void *data;
	size_t len;
	uint64_t priv[2]; /* the claim; leave as is */
} shmbox_zc_t;
int shmbox_reserve(shmbox_t *box, shmbox_zc_t *zc, int timeout_ms);
int shmbox_commit(shmbox_t *box, shmbox_zc_t *zc, size_t len);
ssize_t shmbox_peek(shmbox_t *box, shmbox_zc_t *zc, int timeout_ms);
int shmbox_release(shmbox_t *box, shmbox_zc_t *zc);

int shmbox_stat(shmbox_t *box, struct shmbox_stat *st);
/* The state of each slot of the message ring, slot 0 first; n >= slots.
 * Returns the number of slots.  *head and *tail (may be NULL) get the ring
 * positions: the next get reads slot head % slots, the next put tail % slots. */
ssize_t shmbox_slot_states(shmbox_t *box, unsigned char *states, size_t n, uint64_t *head,
			   uint64_t *tail);
/* The processes that have the mailbox open; returns how many (up to n). */
ssize_t shmbox_procs(shmbox_t *box, struct shmbox_proc *procs, size_t n);

/* Request/reply.  Calls travel apart from plain messages: get never returns
 * a request, accept never returns a plain message.  timeout_ms covers the
 * whole call.  A call whose server dies fails with ECONNRESET; a reply to a
 * caller that gave up (timed out, interrupted, died) fails with ECANCELED. */
ssize_t shmbox_call(shmbox_t *box, const void *req, size_t req_len, void *rep,
		    size_t rep_size, int timeout_ms);
ssize_t shmbox_accept(shmbox_t *box, void *buf, size_t size, shmbox_ticket_t *ticket,
		      int timeout_ms);
int shmbox_reply(shmbox_t *box, const shmbox_ticket_t *ticket, const void *rep, size_t len);
/* Length of the reply to this thread's last shmbox_call, also when it did
 * not fit (EMSGSIZE: the reply is dropped; retry with a larger buffer). */
size_t shmbox_last_reply_len(void);

/* Defined when this header has shmbox_reply_error and shmbox_ticket_timeout. */
#define SHMBOX_HAS_REPLY_ERROR 1
/* For a server that stands in for one elsewhere (a bridge).  Answer the
 * ticket's call with a failure instead of a reply: its shmbox_call returns
 * -1 with errno err (1..4095).  Fails as shmbox_reply does. */
int shmbox_reply_error(shmbox_t *box, const shmbox_ticket_t *ticket, int err);
/* The time the ticket's caller has left, as a timeout_ms takes it: -1 it
 * waits for ever, 0 its time is up, > 0 ms left (rounded up).  ECANCELED
 * once the call is no longer waiting for an answer. */
int shmbox_ticket_timeout(shmbox_t *box, const shmbox_ticket_t *ticket, int *timeout_ms);

/* A descriptor to wait on in poll, epoll or select, for one of: */
#define SHMBOX_FD_GET 1	   /* readable while shmbox_get(box, ..., 0) may succeed */
#define SHMBOX_FD_PUT 2	   /* readable while shmbox_put(box, ..., 0) may succeed */
#define SHMBOX_FD_ACCEPT 4 /* readable while shmbox_accept(box, ..., 0) may succeed */
/* Defined when this header has shmbox_fd. */
#define SHMBOX_HAS_FD 1
/* Descriptors of each kind one mailbox can have at once (EMFILE beyond). */
#define SHMBOX_FD_MAX 32
/* The handle's descriptor for `what` (one of the three): the same one on
 * every call, close-on-exec, closed by shmbox_close and shmbox_destroy.
 * Poll it for reading only; never read, write or close it.  Level-
 * triggered: after the matching call with timeout 0 fails with EAGAIN, it
 * turns readable no later than that call could succeed (shmbox_fd(3)). */
int shmbox_fd(shmbox_t *box, int what);
/* Who holds a descriptor of the mailbox, for what: a process waiting in
 * poll() is armed; one that was rung and has not called since is not. */
struct shmbox_listener {
	pid_t pid;
	int what;  /* SHMBOX_FD_GET, SHMBOX_FD_PUT or SHMBOX_FD_ACCEPT */
	int armed; /* 1: found nothing and waits to be rung */
};
/* Returns how many it stored (up to n; at most SHMBOX_FD_MAX of each kind). */
ssize_t shmbox_listeners(shmbox_t *box, struct shmbox_listener *listeners, size_t n);

/* A message for errno values, worded for mailboxes; never NULL. */
const char *shmbox_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SHMBOX_H */
