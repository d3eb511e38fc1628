/*
 * The connecting bridge: one loop over the link (a DEALER socket), its
 * monitor, the signals and the mailbox's get and accept descriptors.
 * Messages are taken while the window has room and sent in batches; calls
 * are taken only while the link is up (else their callers time out where
 * they are), and fail with ECONNRESET if the link goes down under them:
 * a call is never sent twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <zmq.h>

#include "bridge.h"
#include "bridge_window.h"

#define AUTH_RETRY_MS 5000 /* a refused key: try again with a new socket this late */

struct call {
	uint64_t id; /* 0: a free entry */
	shmbox_ticket_t ticket;
};

struct connector {
	struct bridge *br;
	void *sock, *mon;
	bool up, refused;
	unsigned long failed_handshakes; /* since the last link came up */
	int64_t retry_ns; /* refused: when to try again */
	struct window w;
	struct call *calls;
	size_t ncalls, maxcalls;
	uint64_t next_call;
	unsigned char *frame; /* a call's frame: head and request */
};

static void open_link(struct connector *c)
{
	c->sock = bridge_socket(c->br, ZMQ_DEALER);
	c->mon = bridge_monitor(c->br, c->sock);
	if (zmq_connect(c->sock, c->br->o.endpoint) == -1) {
		bridge_log(LOG_ERR, "cannot connect to %s: %s", c->br->o.endpoint,
			   zmq_strerror(zmq_errno()));
		exit(EX_USAGE);
	}
}

static void close_link(struct connector *c)
{
	zmq_close(c->mon);
	zmq_close(c->sock);
}

/* Every call in flight fails: its request may or may not have arrived. */
static void fail_calls(struct connector *c, int err)
{
	for (size_t i = 0; i < c->maxcalls; i++) {
		if (c->calls[i].id == 0)
			continue;
		shmbox_reply_error(c->br->box, &c->calls[i].ticket, err);
		c->calls[i].id = 0;
		c->br->st.failed++;
	}
	c->ncalls = 0;
}

static void link_down(struct connector *c)
{
	if (c->up)
		bridge_log(LOG_WARNING, "link to %s lost%s", c->br->o.endpoint,
			   c->ncalls > 0 ? ": its calls in flight fail (ECONNRESET)" : "");
	c->up = false;
	fail_calls(c, ECONNRESET);
}

static void events(struct connector *c)
{
	char addr[256];
	uint32_t value;
	int e;

	while ((e = bridge_event(c->mon, &value, addr, sizeof(addr))) != 0) {
		switch (e) {
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			bridge_log(LOG_INFO, "connected to %s", c->br->o.endpoint);
			c->up = true;
			c->failed_handshakes = 0;
			window_unsend(&c->w);
			break;
		case ZMQ_EVENT_DISCONNECTED:
			link_down(c);
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			bridge_log(LOG_ERR, "%s refused this bridge's key (%s/key.pub is not in "
					    "its peers/); trying again in %d s",
				   c->br->o.endpoint, c->br->o.keys ? c->br->o.keys : "?",
				   AUTH_RETRY_MS / 1000);
			link_down(c);
			c->refused = true; /* ZeroMQ never retries a refused key itself */
			c->retry_ns = bridge_now_ns() + (int64_t)AUTH_RETRY_MS * 1000000;
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
			/* ZeroMQ tries again every few tenths of a second */
			if (bridge_log_due(++c->failed_handshakes))
				bridge_log(LOG_WARNING, "handshake with %s failed (%lu so far): %s",
					   c->br->o.endpoint, c->failed_handshakes,
					   c->br->secure ? "not a shmbox bridge, or not the key in peers/"
							 : "not a shmbox bridge, or one with --keys");
			break;
		default: break;
		}
	}
}

static struct call *find_call(struct connector *c, uint64_t id)
{
	for (size_t i = 0; i < c->maxcalls; i++)
		if (c->calls[i].id == id)
			return &c->calls[i];
	return NULL;
}

static void reply(struct connector *c, const struct wire_call *r)
{
	struct call *call = find_call(c, r->id);
	shmbox_t *box = c->br->box;
	int rc;

	if (r->id == 0 || call == NULL)
		return; /* failed already, when the link went down */
	if (r->value == 0) {
		rc = shmbox_reply(box, &call->ticket, r->data, r->len);
		if (rc == -1 && errno == EMSGSIZE) {
			bridge_log(LOG_WARNING, "a reply of %zu bytes is too large for %s "
					    "(slot size %zu): the call fails (EMSGSIZE)",
				   r->len, c->br->o.path, c->br->slot_size);
			shmbox_reply_error(box, &call->ticket, EMSGSIZE);
		}
		c->br->st.calls++;
	} else {
		shmbox_reply_error(box, &call->ticket,
				   r->value > 0 && r->value < 4096 ? r->value : EPROTO);
		c->br->st.failed++;
	}
	call->id = 0;
	c->ncalls--;
}

static void receive(struct connector *c)
{
	zmq_msg_t m;

	zmq_msg_init(&m);
	while (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) != -1) {
		const unsigned char *p = zmq_msg_data(&m);
		size_t n = zmq_msg_size(&m);
		struct wire_ack a;
		struct wire_call r;

		if (zmq_msg_more(&m)) {
			bridge_malformed(c->br, "a multipart message");
		} else if (wire_read_ack(p, n, &a) && memcmp(a.id, c->w.id, WIRE_ID_LEN) == 0) {
			c->br->st.messages += window_ack(&c->w, a.put, a.received);
		} else if (wire_type(p, n) == WIRE_REPLY && wire_read_call(p, n, &r)) {
			reply(c, &r);
		} else if (wire_type(p, n) == WIRE_QUIT) {
			zmq_send(c->sock, p, n, ZMQ_DONTWAIT); /* all before it is read */
		} else {
			bridge_malformed(c->br, "a frame that is not an ack or a reply");
		}
		/* the rest of a multipart message: dropped with it */
		while (zmq_msg_more(&m) && zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) != -1)
			;
	}
	zmq_msg_close(&m);
}

/* Take messages while there is room, into the open batch. */
static void take_messages(struct connector *c)
{
	while (window_room(&c->w) > 0) {
		unsigned char *slot = window_slot(&c->w);
		ssize_t n = shmbox_get(c->br->box, slot, c->br->slot_size, 0);

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				bridge_log(LOG_ERR, "get from %s: %s", c->br->o.path,
					   shmbox_strerror(errno));
				exit(cli_exit_code(errno));
			}
			break;
		}
		window_add(&c->w, (size_t)n);
	}
	window_close(&c->w);
}

static void send_batches(struct connector *c)
{
	int64_t now = bridge_now_ns();
	struct batch *b = NULL;

	if (!c->up)
		return;
	while ((b = window_due(&c->w, b, now, (int64_t)BRIDGE_RTO_MS * 1000000)) != NULL) {
		window_stamp(&c->w, b);
		if (zmq_send(c->sock, b->buf, b->len, ZMQ_DONTWAIT) == -1)
			return; /* the link is full or gone: due again later */
		if (b->sent_before)
			c->br->st.resent += b->count;
		b->sent_before = true;
		b->sent_ns = now;
	}
}

static void take_calls(struct connector *c)
{
	shmbox_t *box = c->br->box;

	while (c->up && c->ncalls < c->maxcalls) {
		shmbox_ticket_t t;
		int ms;
		ssize_t n = shmbox_accept(box, c->frame + WIRE_CALL_HEAD, c->br->slot_size, &t, 0);
		struct call *slot;

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				bridge_log(LOG_ERR, "accept from %s: %s", c->br->o.path,
					   shmbox_strerror(errno));
				exit(cli_exit_code(errno));
			}
			return;
		}
		if (shmbox_ticket_timeout(box, &t, &ms) == -1)
			continue; /* its caller gave up already */
		if (ms == 0) {
			shmbox_reply_error(box, &t, ETIMEDOUT);
			continue;
		}
		wire_write_call_head(c->frame, WIRE_CALL, ++c->next_call, ms);
		if (zmq_send(c->sock, c->frame, WIRE_CALL_HEAD + (size_t)n, ZMQ_DONTWAIT) == -1) {
			shmbox_reply_error(box, &t, ECONNRESET);
			c->br->st.failed++;
			continue;
		}
		slot = find_call(c, 0);
		slot->id = c->next_call;
		slot->ticket = t;
		c->ncalls++;
	}
}

/* Forget calls whose callers gave up: their replies would go nowhere. */
static void prune_calls(struct connector *c)
{
	for (size_t i = 0; i < c->maxcalls; i++) {
		int ms;

		if (c->calls[i].id != 0 &&
		    shmbox_ticket_timeout(c->br->box, &c->calls[i].ticket, &ms) == -1) {
			c->calls[i].id = 0;
			c->ncalls--;
		}
	}
}

static void tick(struct connector *c)
{
	prune_calls(c);
	if (c->refused && bridge_now_ns() >= c->retry_ns) {
		c->refused = false;
		close_link(c);
		open_link(c);
	}
}

static bool finished(struct connector *c)
{
	struct bridge *br = c->br;

	if (!br->stopping)
		return false;
	if (window_unacked(&c->w) == 0 && c->ncalls == 0)
		return true;
	if (bridge_now_ns() < br->stop_by_ns)
		return false;
	bridge_log(LOG_WARNING, "stopped with %zu messages not acknowledged (they may be lost) "
				"and %zu calls in flight (they fail)",
		   window_unacked(&c->w), c->ncalls);
	fail_calls(c, ECONNRESET);
	return true;
}

int bridge_connect(struct bridge *br)
{
	struct connector c = {.br = br};
	struct shmbox_stat st;
	int getfd = shmbox_fd(br->box, SHMBOX_FD_GET), acceptfd = shmbox_fd(br->box, SHMBOX_FD_ACCEPT);
	int64_t next_tick = 0;

	if (getfd == -1 || acceptfd == -1 || shmbox_stat(br->box, &st) == -1) {
		bridge_log(LOG_ERR, "%s: %s", br->o.path, shmbox_strerror(errno));
		return cli_exit_code(errno);
	}
	window_init(&c.w, (size_t)br->o.window, br->slot_size);
	c.maxcalls = st.reply_slots;
	c.calls = calloc(c.maxcalls, sizeof(*c.calls));
	c.frame = malloc(WIRE_CALL_HEAD + br->slot_size);
	if (c.calls == NULL || c.frame == NULL) {
		bridge_log(LOG_ERR, "out of memory");
		return EX_OSERR;
	}
	open_link(&c);
	bridge_log(LOG_INFO, "carrying %s to %s%s", br->o.path, br->o.endpoint,
		   br->secure ? " (CURVE)" : "");
	while (!finished(&c)) {
		zmq_pollitem_t items[5] = {
			{c.sock, 0, ZMQ_POLLIN, 0}, {c.mon, 0, ZMQ_POLLIN, 0},
			{NULL, br->sigfd, ZMQ_POLLIN, 0},
		};
		int n = 3;
		int64_t now = bridge_now_ns();
		long wait;

		if (!br->stopping && window_room(&c.w) > 0)
			items[n++] = (zmq_pollitem_t){NULL, getfd, ZMQ_POLLIN, 0};
		if (!br->stopping && c.up && c.ncalls < c.maxcalls)
			items[n++] = (zmq_pollitem_t){NULL, acceptfd, ZMQ_POLLIN, 0};
		wait = now >= next_tick ? 0 : (long)((next_tick - now) / 1000000) + 1;
		if (zmq_poll(items, n, wait) == -1 && zmq_errno() != EINTR) {
			bridge_log(LOG_ERR, "zmq_poll: %s", zmq_strerror(zmq_errno()));
			return EX_OSERR;
		}
		if ((items[2].revents & ZMQ_POLLIN) && bridge_signals(br))
			break;
		if (items[0].revents & ZMQ_POLLIN) /* before a link's loss is heard of */
			receive(&c);
		if (items[1].revents & ZMQ_POLLIN)
			events(&c);
		for (int i = 3; i < n; i++) {
			if (!(items[i].revents & ZMQ_POLLIN))
				continue;
			if (items[i].fd == getfd)
				take_messages(&c);
			else
				take_calls(&c);
		}
		send_batches(&c);
		if ((now = bridge_now_ns()) >= next_tick) {
			tick(&c);
			next_tick = now + (int64_t)BRIDGE_TICK_MS * 1000000;
		}
	}
	fail_calls(&c, ECONNRESET);
	close_link(&c);
	window_free(&c.w);
	free(c.calls);
	free(c.frame);
	return EX_OK;
}
