/*
 * The listening bridge: one loop over its ROUTER socket, the socket's
 * monitor, the signals, the pool's finished calls and, when the mailbox
 * is full, its put descriptor.  Batches are queued per connecting bridge
 * in order, repeats dropped by sequence number; messages are put with
 * timeout 0 and acknowledged once in the mailbox, so a full mailbox holds
 * the acks back, and with them the connecting bridge's window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <zmq.h>

#include "bridge.h"
#include "bridge_calls.h"
#include "bridge_peers.h"

/* Messages of one bridge held here at most, received and not yet put: a
 * connecting bridge's --window can be no larger. */
#define MAX_AHEAD 65536
#define PUT_TURN 64 /* messages of one bridge put before the next one's turn */

/* Connecting bridges a stopping listener says goodbye to (bridge_wire.h, Q). */
#define MAX_LINKS 256

struct link {
	unsigned char rid[PEER_RID_MAX];
	size_t len;
	bool owed; /* Q sent, its echo not yet back */
};

struct listener {
	struct bridge *br;
	void *sock, *mon;
	bool blocked; /* a put found the mailbox full: wait for its descriptor */
	struct link links[MAX_LINKS]; /* routing ids seen, the latest kept */
	size_t nlinks, next_link;
	bool quit_sent;
};

static struct link *find_link(struct listener *l, const void *rid, size_t len)
{
	for (size_t i = 0; i < l->nlinks; i++)
		if (l->links[i].len == len && memcmp(l->links[i].rid, rid, len) == 0)
			return &l->links[i];
	return NULL;
}

static void seen(struct listener *l, zmq_msg_t *rid)
{
	size_t len = zmq_msg_size(rid) < PEER_RID_MAX ? zmq_msg_size(rid) : PEER_RID_MAX;
	struct link *k = find_link(l, zmq_msg_data(rid), len);

	if (k != NULL)
		return;
	k = &l->links[l->nlinks < MAX_LINKS ? l->nlinks++ : l->next_link++ % MAX_LINKS];
	memcpy(k->rid, zmq_msg_data(rid), len);
	k->len = len;
	k->owed = false;
}

/* Connections accepted whose handshake has not ended yet, oldest first.
 * ZeroMQ names the connection (its descriptor) when it accepts and when
 * it closes it, but not when its handshake ends: a handshake's end settles
 * the oldest.  With several at once the one named may be another, but as
 * many are logged as were strangers. */
#define UNSETTLED_MAX 64
static int unsettled[UNSETTLED_MAX];
static size_t nunsettled;

static void settle(int fd, bool any)
{
	for (size_t i = 0; i < nunsettled; i++)
		if (any || unsettled[i] == fd) {
			memmove(&unsettled[i], &unsettled[i + 1],
				(nunsettled - i - 1) * sizeof(unsettled[0]));
			nunsettled--;
			return;
		}
}

static void events(struct listener *l)
{
	char addr[256];
	uint32_t value;
	int e;

	while ((e = bridge_event(l->mon, &value, addr, sizeof(addr))) != 0) {
		size_t before = nunsettled;

		switch (e) {
		case ZMQ_EVENT_ACCEPTED:
			if (nunsettled == UNSETTLED_MAX)
				settle(0, true);
			unsettled[nunsettled++] = (int)value;
			break;
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			settle(0, true);
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
			settle(0, true);
			bridge_malformed(l->br, "a connection that failed its handshake (not a shmbox "
					 "bridge, or one with the wrong key)");
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			settle(0, true); /* the key check logged it */
			break;
		case ZMQ_EVENT_DISCONNECTED:
			settle((int)value, false);
			if (nunsettled < before)
				bridge_malformed(l->br, "a connection that closed before its handshake "
						 "ended (not a shmbox bridge)");
			break;
		default: break;
		}
	}
}

static void batch(struct listener *l, zmq_msg_t *rid, zmq_msg_t *frame,
		  const struct wire_msgs *m)
{
	struct bridge *br = l->br;
	struct peer *p = peers_find(m->id, m->acked, bridge_now_ns());
	uint64_t last = m->first + m->count - 1;

	if (p == NULL) {
		bridge_log(LOG_WARNING, "too many connecting bridges, or out of memory: a batch "
					"is dropped (it will be sent again)");
		return;
	}
	p->rid_len = zmq_msg_size(rid) < PEER_RID_MAX ? zmq_msg_size(rid) : PEER_RID_MAX;
	memcpy(p->rid, zmq_msg_data(rid), p->rid_len);
	p->ack_due = true; /* also for repeats and gaps: it learns where we are */
	if (last <= p->received) {
		br->st.repeats += m->count;
		return;
	}
	if (m->first > p->received + 1 || last - p->put > MAX_AHEAD)
		return; /* after a lost batch, or too far ahead: comes again */
	br->st.repeats += p->received + 1 - m->first;
	if (!peers_queue(p, frame, m, (uint32_t)(p->received + 1 - m->first)))
		return;
	p->received = last;
}

static void call(struct listener *l, zmq_msg_t *rid, const struct wire_call *c)
{
	struct call_job *j;

	if (c->value < -1) {
		bridge_malformed(l->br, "a call with a negative timeout");
		return;
	}
	if ((j = malloc(sizeof(*j) + c->len)) == NULL) {
		bridge_log(LOG_WARNING, "out of memory: a call is dropped (its caller times out)");
		return;
	}
	j->rid_len = zmq_msg_size(rid) < PEER_RID_MAX ? zmq_msg_size(rid) : PEER_RID_MAX;
	memcpy(j->rid, zmq_msg_data(rid), j->rid_len);
	j->id = c->id;
	j->timeout_ms = c->value;
	j->came_ns = bridge_now_ns();
	j->len = c->len;
	memcpy(j->req, c->data, c->len);
	calls_submit(j);
}

static bool send_to(struct listener *l, const unsigned char *rid, size_t rid_len,
		    const unsigned char *frame, size_t len);

/* A call that comes while stopping is not made: ECONNRESET, as for a link
 * that breaks. */
static void refuse_call(struct listener *l, zmq_msg_t *rid, const struct wire_call *c)
{
	unsigned char r[WIRE_REPLY_HEAD];

	wire_write_call_head(r, WIRE_REPLY, c->id, ECONNRESET);
	send_to(l, zmq_msg_data(rid), zmq_msg_size(rid), r, sizeof(r));
	l->br->st.failed++;
}

static void dispatch(struct listener *l, zmq_msg_t *rid, zmq_msg_t *frame)
{
	const unsigned char *p = zmq_msg_data(frame);
	size_t n = zmq_msg_size(frame);
	struct wire_msgs m;
	struct wire_call c;

	seen(l, rid);
	if (wire_type(p, n) == WIRE_QUIT) {
		struct link *k = find_link(l, zmq_msg_data(rid), zmq_msg_size(rid));

		if (k != NULL)
			k->owed = false;
	} else if (wire_read_msgs(p, n, &m)) {
		if (!l->br->stopping) /* else not acknowledged: it comes again */
			batch(l, rid, frame, &m);
	} else if (wire_type(p, n) == WIRE_CALL && wire_read_call(p, n, &c)) {
		if (!l->br->stopping)
			call(l, rid, &c);
		else
			refuse_call(l, rid, &c);
	} else {
		bridge_malformed(l->br, "a frame that is not a batch or a call");
	}
}

static void receive(struct listener *l)
{
	zmq_msg_t rid, frame;

	zmq_msg_init(&rid);
	zmq_msg_init(&frame);
	while (zmq_msg_recv(&rid, l->sock, ZMQ_DONTWAIT) != -1) {
		bool whole = zmq_msg_more(&rid) && zmq_msg_recv(&frame, l->sock, 0) != -1 &&
			     !zmq_msg_more(&frame);

		if (whole)
			dispatch(l, &rid, &frame);
		else
			bridge_malformed(l->br, "a message that is not one frame");
		while (zmq_msg_more(&frame) && zmq_msg_recv(&frame, l->sock, 0) != -1)
			;
	}
	zmq_msg_close(&rid);
	zmq_msg_close(&frame);
}

/* Put one bridge's messages, up to a turn's worth; false if the mailbox is full. */
static bool put_turn(struct listener *l, struct peer *p)
{
	struct bridge *br = l->br;
	const unsigned char *msg;
	uint32_t len;

	for (int i = 0; i < PUT_TURN && peers_head(p, &msg, &len); i++) {
		if (len > br->slot_size) {
			if (bridge_log_due(++br->st.refused))
				bridge_log(LOG_WARNING,
					   "refused a message of %u bytes: larger than %s's slot "
					   "size, %zu (%llu refused so far)",
					   len, br->o.path, br->slot_size,
					   (unsigned long long)br->st.refused);
		} else if (shmbox_put(br->box, msg, len, 0) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			bridge_log(LOG_ERR, "put into %s: %s", br->o.path, shmbox_strerror(errno));
			exit(cli_exit_code(errno));
		} else {
			br->st.messages++;
		}
		peers_pop(p);
		p->put++;
		p->ack_due = true;
	}
	return true;
}

static void put_all(struct listener *l)
{
	bool more = true;

	l->blocked = false;
	while (more) {
		struct peer *p;
		size_t i = 0;

		more = false;
		while ((p = peers_next(&i)) != NULL) {
			if (p->head == NULL)
				continue;
			if (!put_turn(l, p)) {
				l->blocked = true;
				return;
			}
			more |= p->head != NULL;
		}
	}
}

/* To a connecting bridge by its routing id; false if it is gone. */
static bool send_to(struct listener *l, const unsigned char *rid, size_t rid_len,
		    const unsigned char *frame, size_t len)
{
	return zmq_send(l->sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1 &&
	       zmq_send(l->sock, frame, len, ZMQ_DONTWAIT) != -1;
}

static void send_acks(struct listener *l)
{
	unsigned char frame[WIRE_ACK_LEN];
	struct peer *p;
	size_t i = 0;

	while ((p = peers_next(&i)) != NULL) {
		struct wire_ack a = {.put = p->put, .received = p->received};

		if (!p->ack_due)
			continue;
		memcpy(a.id, p->id, WIRE_ID_LEN);
		wire_write_ack(frame, &a);
		send_to(l, p->rid, p->rid_len, frame, sizeof(frame)); /* gone: it resends */
		p->ack_due = false;
	}
}

static void send_replies(struct listener *l)
{
	struct call_job *j = calls_done();

	while (j != NULL) {
		struct call_job *next = j->next;
		unsigned char oom[WIRE_REPLY_HEAD];
		int32_t status;

		if (j->frame == NULL) {
			wire_write_call_head(oom, WIRE_REPLY, j->id, ENOMEM);
			j->frame = oom;
			j->frame_len = sizeof(oom);
		}
		memcpy(&status, j->frame + 10, sizeof(status));
		if (status == 0)
			l->br->st.calls++;
		else
			l->br->st.failed++;
		if (!send_to(l, j->rid, j->rid_len, j->frame, j->frame_len))
			bridge_log(LOG_WARNING, "a reply went nowhere: its bridge is gone (its "
						"caller was told ECONNRESET)");
		if (j->frame != oom)
			free(j->frame);
		free(j);
		j = next;
	}
}

static bool pending(void)
{
	struct peer *p;
	size_t i = 0;

	while ((p = peers_next(&i)) != NULL)
		if (p->head != NULL)
			return true;
	return false;
}

/* Once everything is answered: a Q to every connecting bridge, and true
 * when each has echoed it, so the last acks and replies were read.  The Q
 * goes again at each turn to those that owe an echo: to one that is gone
 * it cannot be sent (ZMQ_ROUTER_MANDATORY), and it owes nothing. */
static bool goodbye(struct listener *l)
{
	unsigned char q[WIRE_QUIT_LEN];
	bool owed = false;

	wire_write_quit(q);
	if (!l->quit_sent) {
		send_acks(l);
		send_replies(l);
		for (size_t i = 0; i < l->nlinks; i++)
			l->links[i].owed = true;
		l->quit_sent = true;
	}
	for (size_t i = 0; i < l->nlinks; i++) {
		struct link *k = &l->links[i];

		if (k->owed && !send_to(l, k->rid, k->len, q, sizeof(q)))
			k->owed = false;
		owed |= k->owed;
	}
	return !owed;
}

static bool finished(struct listener *l)
{
	struct bridge *br = l->br;
	bool waiting = pending();
	size_t busy;

	if (!br->stopping)
		return false;
	busy = calls_busy();
	if (!waiting && busy == 0 && goodbye(l))
		return true;
	if (bridge_now_ns() < br->stop_by_ns)
		return false;
	if (waiting)
		bridge_log(LOG_WARNING, "stopped with messages not yet put (%s is full): their "
					"bridges send them again", br->o.path);
	if (busy > 0)
		bridge_log(LOG_WARNING, "stopped with %zu calls running: they fail (ECONNRESET)",
			   busy);
	if (!waiting && busy == 0)
		bridge_log(LOG_WARNING, "stopped before every connecting bridge said it had the "
					"last acks and replies");
	return true;
}

static int bind_socket(struct listener *l)
{
	struct bridge *br = l->br;
	char ep[512];
	size_t n = sizeof(ep);

	if (br->secure && bridge_zap_start(br) == -1)
		return EX_CONFIG;
	l->sock = bridge_socket(br, ZMQ_ROUTER);
	l->mon = bridge_monitor(br, l->sock);
	if (zmq_bind(l->sock, br->o.endpoint) == -1) {
		bridge_log(LOG_ERR, "cannot listen on %s: %s", br->o.endpoint,
			   zmq_strerror(zmq_errno()));
		return EX_UNAVAILABLE;
	}
	if (zmq_getsockopt(l->sock, ZMQ_LAST_ENDPOINT, ep, &n) == -1)
		snprintf(ep, sizeof(ep), "%s", br->o.endpoint);
	bridge_log(LOG_INFO, "listening on %s", ep);
	bridge_log(LOG_INFO, "putting into %s%s", br->o.path,
		   br->secure ? " (CURVE: only keys in peers/)" : "");
	return EX_OK;
}

int bridge_listen(struct bridge *br)
{
	struct listener l = {.br = br};
	int putfd = shmbox_fd(br->box, SHMBOX_FD_PUT);
	int callfd = calls_start(br, br->o.calls);
	int64_t next_tick = 0;
	int rc;

	if (putfd == -1 || callfd == -1) {
		bridge_log(LOG_ERR, "%s: %s", br->o.path, shmbox_strerror(errno));
		return cli_exit_code(errno);
	}
	if ((rc = bind_socket(&l)) != EX_OK)
		return rc;
	while (!finished(&l)) {
		zmq_pollitem_t items[5] = {
			{l.mon, 0, ZMQ_POLLIN, 0},
			{NULL, br->sigfd, ZMQ_POLLIN, 0},
			{NULL, callfd, ZMQ_POLLIN, 0},
		};
		int n = 3;
		int64_t now = bridge_now_ns();

		items[n++] = (zmq_pollitem_t){l.sock, 0, ZMQ_POLLIN, 0};
		if (l.blocked)
			items[n++] = (zmq_pollitem_t){NULL, putfd, ZMQ_POLLIN, 0};
		if (zmq_poll(items, n, now >= next_tick ? 0 : (long)((next_tick - now) / 1000000) + 1) ==
			    -1 &&
		    zmq_errno() != EINTR) {
			bridge_log(LOG_ERR, "zmq_poll: %s", zmq_strerror(zmq_errno()));
			return EX_OSERR;
		}
		/* each only when ready: a system call costs here what a message does */
		if ((items[1].revents & ZMQ_POLLIN) && bridge_signals(br))
			break;
		if (items[0].revents & ZMQ_POLLIN)
			events(&l);
		if (items[3].revents & ZMQ_POLLIN)
			receive(&l);
		put_all(&l);
		send_acks(&l);
		if (items[2].revents & ZMQ_POLLIN)
			send_replies(&l);
		if ((now = bridge_now_ns()) >= next_tick)
			next_tick = now + (int64_t)BRIDGE_TICK_MS * 1000000;
	}
	send_acks(&l);
	send_replies(&l);
	zmq_close(l.mon);
	zmq_close(l.sock);
	peers_free();
	if (calls_busy() > 0) { /* their threads still use the handle: leave it to exit */
		if (br->o.stats)
			bridge_stats_print(br);
		fflush(NULL);
		_exit(EX_OK);
	}
	return EX_OK;
}
