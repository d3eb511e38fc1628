/* The listener's table of connecting bridges (bridge_peers.h). */
#include <stdlib.h>
#include <string.h>

#include "bridge_peers.h"

/* Bridges remembered at once; past this, the one idle longest with
 * nothing pending is forgotten (if it comes back with messages it sent
 * before, those may be put twice, as after a listener's restart). */
#define MAX_PEERS 4096

static struct peer **table;
static size_t npeers;

static void drop(struct peer *p)
{
	while (p->head != NULL)
		peers_pop(p);
	free(p);
}

static struct peer *evictable(void)
{
	struct peer *old = NULL;
	size_t at = 0;

	for (size_t i = 0; i < npeers; i++)
		if (table[i]->head == NULL && (old == NULL || table[i]->seen_ns < old->seen_ns)) {
			old = table[i];
			at = i;
		}
	if (old != NULL)
		table[at] = table[--npeers];
	return old;
}

struct peer *peers_find(const unsigned char *id, uint64_t acked, int64_t now)
{
	struct peer *p;

	for (size_t i = 0; i < npeers; i++)
		if (memcmp(table[i]->id, id, WIRE_ID_LEN) == 0) {
			table[i]->seen_ns = now;
			return table[i];
		}
	if (table == NULL && (table = calloc(MAX_PEERS, sizeof(*table))) == NULL)
		return NULL;
	if (npeers == MAX_PEERS) {
		if ((p = evictable()) == NULL)
			return NULL;
		drop(p);
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	memcpy(p->id, id, WIRE_ID_LEN);
	p->put = p->received = acked;
	p->seen_ns = now;
	table[npeers++] = p;
	return p;
}

struct peer *peers_next(size_t *i)
{
	return *i < npeers ? table[(*i)++] : NULL;
}

bool peers_queue(struct peer *p, zmq_msg_t *frame, const struct wire_msgs *m, uint32_t skip)
{
	struct pending *q = malloc(sizeof(*q));
	const unsigned char *msg;
	uint32_t len;

	if (q == NULL)
		return false;
	zmq_msg_init(&q->frame);
	zmq_msg_move(&q->frame, frame);
	q->m = *m;
	/* a small message's bytes live in zmq_msg_t itself: find them again */
	q->m.body = (const unsigned char *)zmq_msg_data(&q->frame) + WIRE_MSGS_HEAD;
	q->off = 0;
	q->left = m->count;
	q->next = NULL;
	for (; skip > 0; skip--, q->left--)
		wire_next_msg(&q->m, &q->off, &msg, &len);
	if (p->tail != NULL)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
	return true;
}

bool peers_head(struct peer *p, const unsigned char **msg, uint32_t *len)
{
	size_t off;

	if (p->head == NULL)
		return false;
	off = p->head->off;
	wire_next_msg(&p->head->m, &off, msg, len);
	return true;
}

void peers_pop(struct peer *p)
{
	struct pending *q = p->head;
	const unsigned char *msg;
	uint32_t len;

	wire_next_msg(&q->m, &q->off, &msg, &len);
	if (--q->left > 0)
		return;
	p->head = q->next;
	if (p->head == NULL)
		p->tail = NULL;
	zmq_msg_close(&q->frame);
	free(q);
}

void peers_free(void)
{
	for (size_t i = 0; i < npeers; i++)
		drop(table[i]);
	free(table);
	table = NULL;
	npeers = 0;
}
