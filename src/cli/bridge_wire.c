/* The bridge's frames: writing them, and checking them before use. */
#include <endian.h>
#include <string.h>

#include "bridge_wire.h"

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void put32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

int wire_type(const unsigned char *p, size_t n)
{
	if (n < 2 || p[1] != WIRE_VERSION)
		return 0;
	switch (p[0]) {
	case WIRE_MSGS:
	case WIRE_ACK:
	case WIRE_CALL:
	case WIRE_REPLY: return p[0];
	default: return 0;
	}
}

bool wire_read_msgs(const unsigned char *p, size_t n, struct wire_msgs *m)
{
	size_t off = WIRE_MSGS_HEAD;
	uint32_t i;

	if (n < WIRE_MSGS_HEAD || wire_type(p, n) != WIRE_MSGS)
		return false;
	memcpy(m->id, p + 2, WIRE_ID_LEN);
	m->acked = get64(p + 2 + WIRE_ID_LEN);
	m->first = get64(p + 2 + WIRE_ID_LEN + 8);
	m->count = get32(p + 2 + WIRE_ID_LEN + 16);
	if (m->count == 0 || m->first == 0 || m->first - 1 > UINT64_MAX - m->count)
		return false;
	for (i = 0; i < m->count; i++) {
		uint32_t len;

		if (n - off < WIRE_LEN_PREFIX)
			return false;
		len = get32(p + off);
		off += WIRE_LEN_PREFIX;
		if (n - off < len)
			return false;
		off += len;
	}
	if (off != n)
		return false;
	m->body = p + WIRE_MSGS_HEAD;
	m->body_len = n - WIRE_MSGS_HEAD;
	return true;
}

void wire_next_msg(const struct wire_msgs *m, size_t *off, const unsigned char **msg,
		   uint32_t *len)
{
	*len = get32(m->body + *off);
	*msg = m->body + *off + WIRE_LEN_PREFIX;
	*off += WIRE_LEN_PREFIX + *len;
}

bool wire_read_ack(const unsigned char *p, size_t n, struct wire_ack *a)
{
	if (n != WIRE_ACK_LEN || wire_type(p, n) != WIRE_ACK)
		return false;
	memcpy(a->id, p + 2, WIRE_ID_LEN);
	a->put = get64(p + 2 + WIRE_ID_LEN);
	a->received = get64(p + 2 + WIRE_ID_LEN + 8);
	return a->put <= a->received;
}

bool wire_read_call(const unsigned char *p, size_t n, struct wire_call *c)
{
	int t = wire_type(p, n);

	if (n < WIRE_CALL_HEAD || (t != WIRE_CALL && t != WIRE_REPLY))
		return false;
	c->id = get64(p + 2);
	c->value = (int32_t)get32(p + 10);
	c->data = p + WIRE_CALL_HEAD;
	c->len = n - WIRE_CALL_HEAD;
	return true;
}

void wire_write_msgs_head(unsigned char *p, const unsigned char *id, uint64_t acked,
			  uint64_t first, uint32_t count)
{
	p[0] = WIRE_MSGS;
	p[1] = WIRE_VERSION;
	memcpy(p + 2, id, WIRE_ID_LEN);
	put64(p + 2 + WIRE_ID_LEN, acked);
	put64(p + 2 + WIRE_ID_LEN + 8, first);
	put32(p + 2 + WIRE_ID_LEN + 16, count);
}

void wire_write_len(unsigned char *p, uint32_t len)
{
	put32(p, len);
}

void wire_write_ack(unsigned char *p, const struct wire_ack *a)
{
	p[0] = WIRE_ACK;
	p[1] = WIRE_VERSION;
	memcpy(p + 2, a->id, WIRE_ID_LEN);
	put64(p + 2 + WIRE_ID_LEN, a->put);
	put64(p + 2 + WIRE_ID_LEN + 8, a->received);
}

void wire_write_call_head(unsigned char *p, int type, uint64_t id, int32_t value)
{
	p[0] = (unsigned char)type;
	p[1] = WIRE_VERSION;
	put64(p + 2, id);
	put32(p + 10, (uint32_t)value);
}
