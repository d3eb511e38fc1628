/*
 * The listener's connecting bridges, by the id each picks when it starts
 * (its ZeroMQ routing id changes with every reconnect).  For each: up to
 * which sequence number its messages are in the mailbox (put) and here
 * (received), and the batches received but not yet put, in order.
 */
#ifndef SHMBOX_BRIDGE_PEERS_H
#define SHMBOX_BRIDGE_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#include "bridge_wire.h"

#define PEER_RID_MAX 256

struct pending {
	struct pending *next;
	zmq_msg_t frame;   /* the batch, as it came */
	struct wire_msgs m; /* points into frame */
	size_t off;	   /* the next message in m */
	uint32_t left;	   /* messages still to put */
};

struct peer {
	unsigned char id[WIRE_ID_LEN];
	unsigned char rid[PEER_RID_MAX]; /* where acks go: its latest routing id */
	size_t rid_len;
	uint64_t put, received;
	struct pending *head, *tail;
	bool ack_due;
	int64_t seen_ns;
};

/* The peer with this id, or a new one that starts at acked (all up to it
 * was put, by this listener or one before it); NULL if out of memory. */
struct peer *peers_find(const unsigned char *id, uint64_t acked, int64_t now);
/* Each peer in turn; NULL after the last.  *i starts at 0. */
struct peer *peers_next(size_t *i);
/* Queue a checked batch (moved from frame) after skipping its first skip messages. */
bool peers_queue(struct peer *p, zmq_msg_t *frame, const struct wire_msgs *m, uint32_t skip);
/* The pending batch's next message, or false if the peer has none. */
bool peers_head(struct peer *p, const unsigned char **msg, uint32_t *len);
/* That message is done with (put or refused). */
void peers_pop(struct peer *p);
void peers_free(void);

#endif /* SHMBOX_BRIDGE_PEERS_H */
