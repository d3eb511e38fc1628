/*
 * The bridge's ZeroMQ sockets, set up alike on both sides: heartbeats so a
 * dead link is noticed within seconds even when nothing is sent, CURVE when
 * there are keys, and limits on what a stranger can make us hold.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <zmq.h>

#include "bridge.h"

#define HEARTBEAT_MS 1000
#define HEARTBEAT_TIMEOUT_MS 3000
#define HANDSHAKE_MS 5000 /* a connection that says nothing is dropped */
#define LINGER_MS 1000	  /* on close, pending frames get this long to leave */
#define MAX_FRAME (64L << 20) /* a frame larger than any mailbox's slots */

static void set_int(void *s, int opt, int v)
{
	if (zmq_setsockopt(s, opt, &v, sizeof(v)) == -1)
		errx(EX_SOFTWARE, "bridge: zmq_setsockopt(%d): %s", opt, zmq_strerror(zmq_errno()));
}

static void set_str(void *s, int opt, const char *v)
{
	if (zmq_setsockopt(s, opt, v, strlen(v)) == -1)
		errx(EX_SOFTWARE, "bridge: zmq_setsockopt(%d): %s", opt, zmq_strerror(zmq_errno()));
}

void *bridge_socket(struct bridge *br, int type)
{
	void *s = zmq_socket(br->ctx, type);
	int64_t max = MAX_FRAME;

	if (s == NULL)
		errx(EX_OSERR, "bridge: zmq_socket: %s", zmq_strerror(zmq_errno()));
	set_int(s, ZMQ_LINGER, LINGER_MS);
	set_int(s, ZMQ_HEARTBEAT_IVL, HEARTBEAT_MS);
	set_int(s, ZMQ_HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS);
	set_int(s, ZMQ_HEARTBEAT_TTL, HEARTBEAT_TIMEOUT_MS);
	set_int(s, ZMQ_HANDSHAKE_IVL, HANDSHAKE_MS);
	if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof(max)) == -1)
		errx(EX_SOFTWARE, "bridge: ZMQ_MAXMSGSIZE: %s", zmq_strerror(zmq_errno()));
	if (type == ZMQ_DEALER) {
		set_int(s, ZMQ_IMMEDIATE, 1); /* no queueing into a link not yet up */
		set_int(s, ZMQ_RECONNECT_IVL, 100);
		set_int(s, ZMQ_RECONNECT_IVL_MAX, 1000);
	} else {
		set_int(s, ZMQ_ROUTER_MANDATORY, 1); /* a reply to a gone peer fails */
	}
	if (!br->secure)
		return s;
	if (type == ZMQ_ROUTER) {
		set_int(s, ZMQ_CURVE_SERVER, 1);
		set_str(s, ZMQ_ZAP_DOMAIN, "shmbox");
	} else {
		set_str(s, ZMQ_CURVE_SERVERKEY, br->keys.server);
		set_str(s, ZMQ_CURVE_PUBLICKEY, br->keys.pub);
	}
	set_str(s, ZMQ_CURVE_SECRETKEY, br->keys.secret);
	return s;
}

void *bridge_monitor(struct bridge *br, void *sock)
{
	static unsigned n;
	char name[64];
	void *mon;

	snprintf(name, sizeof(name), "inproc://shmbox-bridge-monitor-%u", n++);
	if (zmq_socket_monitor(sock, name, ZMQ_EVENT_ALL) == -1 ||
	    (mon = zmq_socket(br->ctx, ZMQ_PAIR)) == NULL || zmq_connect(mon, name) == -1)
		errx(EX_SOFTWARE, "bridge: zmq_socket_monitor: %s", zmq_strerror(zmq_errno()));
	return mon;
}

int bridge_event(void *mon, uint32_t *value, char *addr, size_t n)
{
	unsigned char head[6];
	uint16_t event;
	int len;

	if (zmq_recv(mon, head, sizeof(head), ZMQ_DONTWAIT) != (int)sizeof(head))
		return 0;
	memcpy(&event, head, sizeof(event));
	memcpy(value, head + 2, sizeof(*value));
	len = zmq_recv(mon, addr, n - 1, 0);
	addr[len < 0 ? 0 : (size_t)len < n - 1 ? (size_t)len : n - 1] = '\0';
	return event;
}

bool bridge_is_local(const char *ep)
{
	static const char *const local[] = {"ipc://", "inproc://", "tcp://127.", "tcp://localhost:",
					    "tcp://[::1]:", "tcp://lo:"};

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strncmp(ep, local[i], strlen(local[i])) == 0)
			return true;
	return false;
}
