/* The connecting bridge's window of unacknowledged messages (bridge_window.h). */
#include <err.h>
#include <stdlib.h>
#include <sysexits.h>

#include "bridge_window.h"

/* A batch closes once it holds this much: big enough that ZeroMQ's cost
 * per frame disappears, small enough to leave the sender soon. */
#define BATCH_BYTES 65536

static void *alloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		err(EX_OSERR, "bridge: window");
	return p;
}

void window_init(struct window *w, size_t limit, size_t slot_size)
{
	*w = (struct window){.next_seq = 1, .limit = limit, .slot_size = slot_size};
	arc4random_buf(w->id, sizeof(w->id));
}

void window_free(struct window *w)
{
	while (w->head != NULL) {
		struct batch *b = w->head;

		w->head = b->next;
		free(b->buf);
		free(b);
	}
	w->tail = NULL;
}

size_t window_unacked(const struct window *w)
{
	return (size_t)(w->next_seq - 1 - w->acked);
}

size_t window_room(const struct window *w)
{
	size_t n = window_unacked(w);

	return n < w->limit ? w->limit - n : 0;
}

unsigned char *window_slot(struct window *w)
{
	struct batch *b;

	if (!w->tail_open) {
		b = alloc(sizeof(*b));
		*b = (struct batch){.first = w->next_seq, .len = WIRE_MSGS_HEAD};
		/* room for one more whole slot whenever it is below BATCH_BYTES */
		b->buf = alloc(WIRE_MSGS_HEAD + BATCH_BYTES + WIRE_LEN_PREFIX + w->slot_size);
		if (w->tail != NULL)
			w->tail->next = b;
		else
			w->head = b;
		w->tail = b;
		w->tail_open = true;
	}
	return w->tail->buf + w->tail->len + WIRE_LEN_PREFIX;
}

void window_add(struct window *w, size_t len)
{
	struct batch *b = w->tail;

	wire_write_len(b->buf + b->len, (uint32_t)len);
	b->len += WIRE_LEN_PREFIX + len;
	b->count++;
	w->next_seq++;
	if (b->len >= WIRE_MSGS_HEAD + BATCH_BYTES)
		window_close(w);
}

void window_close(struct window *w)
{
	struct batch *b = w->tail;
	unsigned char *small;

	if (!w->tail_open)
		return;
	w->tail_open = false;
	if (b->count == 0) { /* opened, nothing taken: drop it */
		struct batch **p = &w->head;

		while (*p != b)
			p = &(*p)->next;
		*p = NULL;
		w->tail = NULL;
		for (struct batch *q = w->head; q != NULL; q = q->next)
			w->tail = q;
		free(b->buf);
		free(b);
		return;
	}
	/* held until acknowledged: keep only what it uses */
	if ((small = realloc(b->buf, b->len)) != NULL)
		b->buf = small;
}

uint64_t window_ack(struct window *w, uint64_t put, uint64_t received)
{
	uint64_t before = w->acked, last = w->next_seq - 1;

	if (put > last || received > last) /* not ours to acknowledge */
		return 0;
	if (received > w->received)
		w->received = received;
	if (put <= w->acked)
		return 0;
	w->acked = put;
	while (w->head != NULL && (w->head != w->tail || !w->tail_open) &&
	       w->head->first + w->head->count - 1 <= w->acked) {
		struct batch *b = w->head;

		w->head = b->next;
		if (w->tail == b)
			w->tail = NULL;
		free(b->buf);
		free(b);
	}
	return w->acked - before;
}

void window_unsend(struct window *w)
{
	w->received = w->acked; /* a new listener knows only what we tell it */
	for (struct batch *b = w->head; b != NULL; b = b->next)
		b->sent_ns = 0;
}

struct batch *window_due(struct window *w, struct batch *prev, int64_t now, int64_t rto_ns)
{
	struct batch *b = prev != NULL ? prev->next : w->head;

	for (; b != NULL; b = b->next) {
		if (b == w->tail && w->tail_open)
			return NULL;
		if (b->sent_ns == 0)
			return b;
		if (now - b->sent_ns > rto_ns && b->first + b->count - 1 > w->received)
			return b;
	}
	return NULL;
}

void window_stamp(struct window *w, struct batch *b)
{
	wire_write_msgs_head(b->buf, w->id, w->acked, b->first, b->count);
}
