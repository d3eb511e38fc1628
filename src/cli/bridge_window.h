/*
 * The connecting bridge's window: the messages it took from its mailbox
 * and that the listener has not yet put into its own, in batches of
 * frames ready to send (bridge_wire.h's M), oldest first.  They are sent
 * again after a link comes back, or when no ack came for a while; the
 * listener drops what it already has.  At most --window messages are
 * held: what a killed connecting bridge can lose.
 */
#ifndef SHMBOX_BRIDGE_WINDOW_H
#define SHMBOX_BRIDGE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge_wire.h"

struct batch {
	struct batch *next;
	uint64_t first;	  /* seq of its first message */
	uint32_t count;
	size_t len;	  /* bytes of the frame so far */
	int64_t sent_ns;  /* when last sent; 0: to be sent */
	bool sent_before; /* sending it again is a resend */
	unsigned char *buf;
};

struct window {
	unsigned char id[WIRE_ID_LEN]; /* this run of the bridge, random */
	struct batch *head, *tail;    /* oldest first */
	bool tail_open;		      /* the tail takes more messages */
	uint64_t next_seq;	      /* the next message's, from 1 */
	uint64_t acked;		      /* up to it: in the remote mailbox */
	uint64_t received;	      /* up to it: at the listener */
	size_t limit, slot_size;
};

void window_init(struct window *w, size_t limit, size_t slot_size);
void window_free(struct window *w);
/* Messages that may still be taken before the window is full. */
size_t window_room(const struct window *w);
size_t window_unacked(const struct window *w);
/* Where the next message goes: slot_size bytes, in the open batch. */
unsigned char *window_slot(struct window *w);
/* The message written at window_slot is len bytes long. */
void window_add(struct window *w, size_t len);
/* No more messages in the open batch: it is ready to send. */
void window_close(struct window *w);
/* The listener has put up to put and holds up to received: returns how
 * many messages that newly acknowledges. */
uint64_t window_ack(struct window *w, uint64_t put, uint64_t received);
/* Send every batch again (a new link). */
void window_unsend(struct window *w);
/* The next batch after prev (NULL: from the oldest) that is due: never sent,
 * or sent more than rto_ns ago and not all received. */
struct batch *window_due(struct window *w, struct batch *prev, int64_t now, int64_t rto_ns);
/* Stamp the batch's frame with the current ack, for sending. */
void window_stamp(struct window *w, struct batch *b);

#endif /* SHMBOX_BRIDGE_WINDOW_H */
