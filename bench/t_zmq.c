/*
 * Raw ZeroMQ between two processes over loopback TCP: the baseline of the
 * bridge's rows (issue 17).  PUSH/PULL carries messages, DEALER/ROUTER
 * calls; zmq-curve is the same with CURVE.  The process that receives (or
 * serves) binds tcp://127.0.0.1:* and publishes the port in memory shared
 * with its peers; the one that sends (or calls) connects to it and waits
 * for the handshake before the start, so setting up a connection is never
 * timed.  One zmq_send per message: ZeroMQ's I/O thread batches on the
 * wire by itself.  Each process has one context, made at its first attach
 * and ended after its work, which sends what is still queued.
 */
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <zmq.h>

#include "bench.h"

#define HANDSHAKE_MS 10000 /* a peer that never binds or answers: the child fails */
#define LINGER_MS 10000	   /* what is queued at the end, sent within this */

struct chan {
	_Atomic int *port; /* MAP_SHARED: 0 until the binding process has bound */
	bool curve;
	int hwm;
	/* CURVE: made by the parent, inherited by every child */
	char server_public[41], server_secret[41], client_public[41], client_secret[41];
	/* this process's */
	void *sock;
	zmq_msg_t msg; /* the message peeked at */
};

static void *g_ctx;  /* this process's context */
static int g_socks;  /* its sockets still open */
static unsigned g_mon; /* monitors made: each needs its own inproc name */

/* SNDHWM and RCVHWM: ZeroMQ's default, 1000 messages, or fewer where the
 * pipe's buffer holds fewer (the memory every queue gets here; at least
 * 64): at 64 B the default moved more than 16384, at 4 KiB 256 more than
 * the default.  BENCH_ZMQ_HWM=N overrides it (0: the default), to compare. */
#define ZMQ_DEFAULT_HWM 1000

static int hwm_for(size_t size)
{
	const char *env = getenv("BENCH_ZMQ_HWM");
	size_t depth = queue_depth(size);

	if (env != NULL && *env != '\0')
		return atoi(env) > 0 ? atoi(env) : ZMQ_DEFAULT_HWM;
	return depth < ZMQ_DEFAULT_HWM ? (int)depth : ZMQ_DEFAULT_HWM;
}

static struct chan *chan_make(size_t size, bool curve, char *msg, size_t len)
{
	struct chan *c = calloc(1, sizeof(*c));
	int major, minor, patch;

	if (c == NULL) {
		snprintf(msg, len, "calloc: %s", strerror(errno));
		return NULL;
	}
	c->port = mmap(NULL, sizeof(*c->port), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (c->port == MAP_FAILED) {
		snprintf(msg, len, "mmap: %s", strerror(errno));
		free(c);
		return NULL;
	}
	c->curve = curve;
	c->hwm = hwm_for(size);
	if (curve && (zmq_curve_keypair(c->server_public, c->server_secret) == -1 ||
		      zmq_curve_keypair(c->client_public, c->client_secret) == -1)) {
		snprintf(msg, len, "zmq_curve_keypair: %s", zmq_strerror(errno));
		munmap(c->port, sizeof(*c->port));
		free(c);
		return NULL;
	}
	zmq_version(&major, &minor, &patch);
	snprintf(msg, len,
		 "libzmq %d.%d.%d; PUSH/PULL (calls: DEALER/ROUTER) over tcp://127.0.0.1, the "
		 "receiver (server) binds port *, the sender (client) connects and waits for the "
		 "handshake before the start; SNDHWM = RCVHWM = %d%s; 1 I/O thread; one zmq_send "
		 "per message (ZeroMQ batches on the wire), the receiver zmq_msg_recv()s and checks "
		 "in place; mallopt M_MMAP_THRESHOLD 4 MiB, M_TRIM_THRESHOLD 256 MiB; %s",
		 major, minor, patch, c->hwm,
		 getenv("BENCH_ZMQ_HWM") ? " (BENCH_ZMQ_HWM)"
					 : " (ZeroMQ's default 1000, or pipe-max-size bytes if fewer, at "
					   "least 64)",
		 curve ? "CURVE, no ZAP handler (any client key accepted)" : "no CURVE");
	return c;
}

static struct chan *plain_create(size_t size, char *msg, size_t len)
{
	return chan_make(size, false, msg, len);
}

static struct chan *curve_create(size_t size, char *msg, size_t len)
{
	return chan_make(size, true, msg, len);
}

static void zmq_chan_destroy(struct chan *c)
{
	munmap(c->port, sizeof(*c->port));
	free(c);
}

static int failed(char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s: %s", what, zmq_strerror(errno));
	return -1;
}

static int setopt(void *s, int opt, const void *v, size_t n, char *err, size_t len)
{
	return zmq_setsockopt(s, opt, v, n) == -1 ? failed(err, len, "zmq_setsockopt") : 0;
}

static int setint(void *s, int opt, int v, char *err, size_t len)
{
	return setopt(s, opt, &v, sizeof(v), err, len);
}

/* Wait until a connecting socket's handshake is done (the monitor made
 * before the connect sees every event). */
static int wait_handshake(void *mon, char *err, size_t len)
{
	uint64_t deadline = now_ns() + (uint64_t)HANDSHAKE_MS * 1000000u;

	for (;;) {
		zmq_pollitem_t p = {.socket = mon, .events = ZMQ_POLLIN};
		int64_t left = ((int64_t)deadline - (int64_t)now_ns()) / 1000000;
		zmq_msg_t ev;
		uint16_t event;
		int more;

		if (left <= 0 || zmq_poll(&p, 1, (long)left) == 0) {
			snprintf(err, len, "no ZeroMQ handshake within %d ms", HANDSHAKE_MS);
			return -1;
		}
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, mon, 0) == -1)
			return failed(err, len, "the monitor");
		memcpy(&event, zmq_msg_data(&ev), sizeof(event));
		more = zmq_msg_more(&ev);
		zmq_msg_close(&ev);
		while (more) { /* the endpoint */
			zmq_msg_init(&ev);
			zmq_msg_recv(&ev, mon, 0);
			more = zmq_msg_more(&ev);
			zmq_msg_close(&ev);
		}
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
			return 0;
		if (event != ZMQ_EVENT_CONNECT_DELAYED && event != ZMQ_EVENT_CONNECTED &&
		    event != ZMQ_EVENT_CONNECT_RETRIED) {
			snprintf(err, len, "ZeroMQ handshake failed (monitor event %#x)", event);
			return -1;
		}
	}
}

static int await_port(const struct chan *c, char *err, size_t len)
{
	uint64_t deadline = now_ns() + (uint64_t)HANDSHAKE_MS * 1000000u;
	int port;

	while ((port = atomic_load_explicit(c->port, memory_order_acquire)) == 0) {
		struct timespec ts = {0, 200000};

		if (now_ns() > deadline) {
			snprintf(err, len, "the receiving process never bound its port");
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return port;
}

static int bind_here(struct chan *c, char *err, size_t len)
{
	char ep[256];
	size_t n = sizeof(ep);
	const char *colon;

	if (c->curve && (setint(c->sock, ZMQ_CURVE_SERVER, 1, err, len) == -1 ||
			 setopt(c->sock, ZMQ_CURVE_SECRETKEY, c->server_secret, 40, err, len) == -1))
		return -1;
	if (zmq_bind(c->sock, "tcp://127.0.0.1:*") == -1)
		return failed(err, len, "zmq_bind tcp://127.0.0.1:*");
	if (zmq_getsockopt(c->sock, ZMQ_LAST_ENDPOINT, ep, &n) == -1)
		return failed(err, len, "ZMQ_LAST_ENDPOINT");
	if ((colon = strrchr(ep, ':')) == NULL || atoi(colon + 1) <= 0) {
		snprintf(err, len, "bound to %s: no port", ep);
		return -1;
	}
	atomic_store_explicit(c->port, atoi(colon + 1), memory_order_release);
	return 0;
}

static int connect_there(struct chan *c, char *err, size_t len)
{
	char ep[64], mep[64];
	void *mon;
	int port = await_port(c, err, len), rc;

	if (port == -1)
		return -1;
	if (c->curve && (setopt(c->sock, ZMQ_CURVE_SERVERKEY, c->server_public, 40, err, len) == -1 ||
			 setopt(c->sock, ZMQ_CURVE_PUBLICKEY, c->client_public, 40, err, len) == -1 ||
			 setopt(c->sock, ZMQ_CURVE_SECRETKEY, c->client_secret, 40, err, len) == -1))
		return -1;
	snprintf(mep, sizeof(mep), "inproc://bench-monitor-%u", g_mon++);
	if (zmq_socket_monitor(c->sock, mep, ZMQ_EVENT_ALL) == -1)
		return failed(err, len, "zmq_socket_monitor");
	if ((mon = zmq_socket(g_ctx, ZMQ_PAIR)) == NULL)
		return failed(err, len, "zmq_socket");
	setint(mon, ZMQ_LINGER, 0, err, len);
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", port);
	if (zmq_connect(mon, mep) == -1)
		rc = failed(err, len, "zmq_connect (monitor)");
	else if (zmq_connect(c->sock, ep) == -1)
		rc = failed(err, len, "zmq_connect");
	else
		rc = wait_handshake(mon, err, len);
	zmq_socket_monitor(c->sock, NULL, 0);
	zmq_close(mon);
	return rc;
}

static const int sock_type[] = {
	[ROLE_SEND] = ZMQ_PUSH, [ROLE_RECV] = ZMQ_PULL, [ROLE_CALL] = ZMQ_DEALER,
	[ROLE_SERVE] = ZMQ_ROUTER,
};

/* ZeroMQ allocates every message above 33 bytes (and a buffer for each
 * one it receives): glibc's defaults give freed memory back to the kernel
 * at once and map large blocks afresh, so 4 and 64 KiB messages cost page
 * faults; kept, they moved about twice as many. */
static void keep_freed_memory(void)
{
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

static int zmq_attach(struct chan *c, unsigned role, char *err, size_t len)
{
	if (role == 0)
		return 0; /* a channel this process does not use */
	if (g_ctx == NULL)
		keep_freed_memory();
	if (g_ctx == NULL && (g_ctx = zmq_ctx_new()) == NULL)
		return failed(err, len, "zmq_ctx_new");
	if ((c->sock = zmq_socket(g_ctx, sock_type[role])) == NULL)
		return failed(err, len, "zmq_socket");
	g_socks++;
	if (setint(c->sock, ZMQ_LINGER, LINGER_MS, err, len) == -1 ||
	    setint(c->sock, ZMQ_SNDHWM, c->hwm, err, len) == -1 ||
	    setint(c->sock, ZMQ_RCVHWM, c->hwm, err, len) == -1)
		return -1;
	if (role == ROLE_SERVE && setint(c->sock, ZMQ_ROUTER_MANDATORY, 1, err, len) == -1)
		return -1; /* a reply to a peer that is gone fails instead of vanishing */
	return role == ROLE_RECV || role == ROLE_SERVE ? bind_here(c, err, len)
						       : connect_there(c, err, len);
}

static void zmq_detach(struct chan *c)
{
	if (c->sock == NULL)
		return;
	zmq_close(c->sock);
	c->sock = NULL;
	if (--g_socks == 0) {
		zmq_ctx_term(g_ctx); /* sends what is queued, within LINGER_MS */
		g_ctx = NULL;
	}
}

static int zsend(struct chan *c, void *msg, size_t len)
{
	return zmq_send(c->sock, msg, len, 0) == -1 ? -1 : 0;
}

static ssize_t zrecv(struct chan *c, void *buf, size_t size)
{
	return zmq_recv(c->sock, buf, size, 0); /* the whole length, if it was cut */
}

static ssize_t zpeek(struct chan *c, const void **msg)
{
	int n;

	zmq_msg_init(&c->msg);
	if ((n = zmq_msg_recv(&c->msg, c->sock, 0)) == -1)
		return -1;
	*msg = zmq_msg_data(&c->msg);
	return n;
}

static int zrelease(struct chan *c)
{
	return zmq_msg_close(&c->msg);
}

/* ---- calls: DEALER -> ROUTER; the server's `from` is the caller's
 * routing id (ZeroMQ makes it 5 bytes), its length in the low byte ---- */

static ssize_t zcall(struct chan *c, void *req, size_t len, void *rep, size_t size)
{
	if (zmq_send(c->sock, req, len, 0) == -1)
		return -1;
	return zmq_recv(c->sock, rep, size, 0);
}

static ssize_t zaccept(struct chan *const *c, int n, void *buf, size_t size, uint64_t *from)
{
	unsigned char id[256];
	int idlen = zmq_recv(c[0]->sock, id, sizeof(id), 0);

	(void)n;
	if (idlen == -1)
		return -1;
	if (idlen > 7)
		return errno = EPROTO, -1;
	*from = (uint64_t)idlen;
	for (int i = 0; i < idlen; i++)
		*from |= (uint64_t)id[i] << (8 * (i + 1));
	return zmq_recv(c[0]->sock, buf, size, 0);
}

static int zreply(struct chan *const *c, uint64_t from, void *rep, size_t len)
{
	unsigned char id[7];
	int idlen = (int)(from & 0xff);

	for (int i = 0; i < idlen; i++)
		id[i] = (unsigned char)(from >> (8 * (i + 1)));
	if (zmq_send(c[0]->sock, id, (size_t)idlen, ZMQ_SNDMORE) == -1)
		return -1;
	return zmq_send(c[0]->sock, rep, len, 0) == -1 ? -1 : 0;
}

#define ZMQ_TRANSPORT(tname, make)                                                            \
	{                                                                                     \
		.name = tname, .no_multi = "a PUSH socket deals its messages out among the "  \
					   "receivers it is connected to",                    \
		.create = make, .attach = zmq_attach, .send = zsend, .recv = zrecv,            \
		.peek = zpeek, .release = zrelease, .destroy = zmq_chan_destroy,              \
		.rpc_how = "one ROUTER bound by the server, a DEALER per client; the server "  \
			   "answers [routing id][reply]",                                      \
		.call = zcall, .accept = zaccept, .reply = zreply, .detach = zmq_detach,        \
	}

const struct transport t_zmq = ZMQ_TRANSPORT("zmq", plain_create);
const struct transport t_zmq_curve = ZMQ_TRANSPORT("zmq-curve", curve_create);
