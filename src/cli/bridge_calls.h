/*
 * The listener's calls: shmbox_call blocks until its reply, so calls are
 * made by a pool of threads sharing the listener's handle, many at once.
 * The main thread alone touches the ZeroMQ socket: a finished call goes
 * back to it through a list and an eventfd that its loop polls.
 */
#ifndef SHMBOX_BRIDGE_CALLS_H
#define SHMBOX_BRIDGE_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "bridge.h"
#include "bridge_peers.h"

struct call_job {
	struct call_job *next;
	unsigned char rid[PEER_RID_MAX]; /* whom the reply goes to */
	size_t rid_len;
	uint64_t id;
	int32_t timeout_ms; /* the caller's, when it came */
	int64_t came_ns;
	size_t len;
	unsigned char *frame; /* done: the R frame to send; NULL: out of memory */
	size_t frame_len;
	unsigned char req[]; /* the request, len bytes */
};

/* Start n threads; returns the eventfd that turns readable when calls are done. */
int calls_start(struct bridge *br, int n);
void calls_submit(struct call_job *job);
/* The calls done since the last time, oldest first. */
struct call_job *calls_done(void);
/* Calls submitted and not yet taken back with calls_done. */
size_t calls_busy(void);

#endif /* SHMBOX_BRIDGE_CALLS_H */
