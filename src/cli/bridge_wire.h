/*
 * The bridge's frames.  Each ZeroMQ message between the two sides is one
 * frame (the ROUTER adds the peer's routing id in front): a type byte, the
 * version, then fixed fields, little-endian, then bytes.
 *
 *   M  bridge id[16] acked(u64) first(u64) count(u32) {len(u32) bytes}*count
 *        plain messages first..first+count-1, in order; acked: everything
 *        up to it was acknowledged to this bridge (a new listener starts there)
 *   A  bridge id[16] put(u64) received(u64)
 *        up to put is in the mailbox; up to received is here, in order
 *   C  call id(u64) timeout_ms(i32) request
 *   R  call id(u64) status(i32: 0 or an errno value) reply
 *
 * The other side may be anyone who reached the port: every frame is
 * checked whole before any of it is used.
 */
#ifndef SHMBOX_BRIDGE_WIRE_H
#define SHMBOX_BRIDGE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION 1
#define WIRE_ID_LEN 16
enum { WIRE_MSGS = 'M', WIRE_ACK = 'A', WIRE_CALL = 'C', WIRE_REPLY = 'R' };
#define WIRE_MSGS_HEAD (2 + WIRE_ID_LEN + 8 + 8 + 4)
#define WIRE_ACK_LEN (2 + WIRE_ID_LEN + 8 + 8)
#define WIRE_CALL_HEAD (2 + 8 + 4)
#define WIRE_REPLY_HEAD (2 + 8 + 4)
#define WIRE_LEN_PREFIX 4

struct wire_msgs {
	unsigned char id[WIRE_ID_LEN];
	uint64_t acked, first;
	uint32_t count;
	const unsigned char *body; /* count x {len, bytes}, checked */
	size_t body_len;
};

struct wire_ack {
	unsigned char id[WIRE_ID_LEN];
	uint64_t put, received;
};

/* A call or its reply: the same shape. */
struct wire_call {
	uint64_t id;
	int32_t value; /* C: timeout_ms; R: status */
	const unsigned char *data;
	size_t len;
};

/* The frame's type, or 0 if it is not one of ours of this version. */
int wire_type(const unsigned char *p, size_t n);
bool wire_read_msgs(const unsigned char *p, size_t n, struct wire_msgs *m);
bool wire_read_ack(const unsigned char *p, size_t n, struct wire_ack *a);
bool wire_read_call(const unsigned char *p, size_t n, struct wire_call *c);
/* The next message of a checked batch: *off starts at 0. */
void wire_next_msg(const struct wire_msgs *m, size_t *off, const unsigned char **msg,
		   uint32_t *len);

void wire_write_msgs_head(unsigned char *p, const unsigned char *id, uint64_t acked,
			  uint64_t first, uint32_t count);
void wire_write_len(unsigned char *p, uint32_t len);
void wire_write_ack(unsigned char *p, const struct wire_ack *a);
/* C or R's head, before the bytes. */
void wire_write_call_head(unsigned char *p, int type, uint64_t id, int32_t value);

#endif /* SHMBOX_BRIDGE_WIRE_H */
