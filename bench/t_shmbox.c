/*
 * shmbox: a mailbox with slots of the message size.  The parent creates it;
 * every child opens its own handle (handles do not cross fork).  shmbox-zc
 * is the same mailbox through the zero-copy calls: the sender reserves a
 * slot, writes the message into it and commits it; the receiver peeks,
 * checks the message in place and releases it.  shmbox-poll waits only in
 * poll(), on the handle's descriptors (shmbox_fd); shmbox-poll1 is its
 * round trip against a peer in the plain blocking calls.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmbox.h>

#include "bench.h"

#define BOX_PROJ 'B'

struct chan {
	shmbox_t *parent; /* the creator's handle: used only by the parent */
	shmbox_t *mine;	  /* a child's own handle */
	shmbox_zc_t zc;	  /* the message peeked at, in this process */
	int fd_get, fd_put, fd_accept; /* shmbox-poll: the descriptors of mine */
	char path[PATH_MAX];
};

static void box_destroy(struct chan *c)
{
	if (c->parent != NULL && shmbox_destroy(c->parent) == -1)
		fprintf(stderr, "shmbox-bench: shmbox_destroy: %s\n", shmbox_strerror(errno));
	if (c->path[0] != '\0')
		unlink(c->path);
	free(c);
}

/* The key file is our own (mkstemp); EEXIST or ESTALE means that its key
 * collides with another file's, so take another. */
struct shmbox *bench_box_create(size_t slots, size_t size, int proj, char *path, char *msg,
				size_t len)
{
	const char *tmp = getenv("TMPDIR");
	shmbox_attr_t attr = {.slots = slots, .slot_size = size};
	shmbox_t *box = NULL;
	int fd, e = EEXIST;

	for (int i = 0; box == NULL && (e == EEXIST || e == ESTALE) && i < 5; i++) {
		snprintf(path, PATH_MAX, "%s/shmbox-bench.XXXXXX",
			 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
		if ((fd = mkstemp(path)) == -1) {
			snprintf(msg, len, "mkstemp %s: %s", path, strerror(errno));
			break;
		}
		close(fd);
		if (shmbox_create(path, proj, &attr, &box) == -1) {
			e = errno;
			snprintf(msg, len, "shmbox_create(slots %zu, slot_size %zu): %s", slots, size,
				 shmbox_strerror(e));
			unlink(path);
		}
	}
	if (box == NULL)
		path[0] = '\0';
	return box;
}

/* The ring holds as many bytes as the pipe's buffer (what the pipe gets),
 * and at least 64 messages: 64 slots of 64 B or 4 KiB measured slower.
 * `waits` ends the description in msg: how the calls wait. */
static struct chan *box_make(size_t size, char *msg, size_t len, const char *waits)
{
	struct chan *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(msg, len, "calloc: %s", strerror(errno));
		return NULL;
	}
	c->parent = bench_box_create(queue_depth(size), size, BOX_PROJ, c->path, msg, len);
	if (c->parent == NULL) {
		box_destroy(c);
		return NULL;
	}
	snprintf(msg, len,
		 "shmbox_create() on a mkstemp key file: slots %zu (pipe-max-size bytes, at least "
		 "64), slot_size = message size; each child shmbox_open()s its own handle; %s",
		 queue_depth(size), waits);
	return c;
}

static struct chan *box_create(size_t size, char *msg, size_t len)
{
	return box_make(size, msg, len, "timeouts -1");
}

static int box_open(struct chan *c, unsigned role, char *err, size_t len)
{
	(void)role;
	if (shmbox_open(c->path, BOX_PROJ, &c->mine) == -1) {
		snprintf(err, len, "shmbox_open: %s", shmbox_strerror(errno));
		return -1;
	}
	return 0;
}

static int box_send(struct chan *c, void *msg, size_t len)
{
	return shmbox_put(c->mine, msg, len, -1);
}

static ssize_t box_recv(struct chan *c, void *buf, size_t size)
{
	return shmbox_get(c->mine, buf, size, -1);
}

/* ---- request/reply: every client and the server on one mailbox ---- */

static ssize_t box_call(struct chan *c, void *req, size_t len, void *rep, size_t size)
{
	return shmbox_call(c->mine, req, len, rep, size, -1);
}

static ssize_t box_accept(struct chan *const *c, int n, void *buf, size_t size, uint64_t *from)
{
	shmbox_ticket_t t;
	ssize_t len = shmbox_accept(c[0]->mine, buf, size, &t, -1);

	(void)n;
	*from = (uint64_t)t.slot << 32 | t.gen;
	return len;
}

static int box_reply(struct chan *const *c, uint64_t from, void *rep, size_t len)
{
	shmbox_ticket_t t = {.slot = (uint32_t)(from >> 32), .gen = (uint32_t)from};

	return shmbox_reply(c[0]->mine, &t, rep, len);
}

#define RPC_HOW "one mailbox: clients shmbox_call(), the server shmbox_accept() + shmbox_reply()"

const struct transport t_shmbox = {
	.name = "shmbox",
	.create = box_create,
	.attach = box_open,
	.send = box_send,
	.recv = box_recv,
	.destroy = box_destroy,
	.rpc_how = RPC_HOW,
	.call = box_call,
	.accept = box_accept,
	.reply = box_reply,
};

/* ---- zero copy ---- */

static int zc_send(struct chan *c, void *msg, size_t len)
{
	shmbox_zc_t zc;

	if (shmbox_reserve(c->mine, &zc, -1) == -1)
		return -1;
	memcpy(zc.data, msg, len); /* the sender's message, written in its slot */
	return shmbox_commit(c->mine, &zc, len);
}

static ssize_t zc_peek(struct chan *c, const void **msg)
{
	ssize_t len = shmbox_peek(c->mine, &c->zc, -1);

	*msg = c->zc.data;
	return len;
}

static int zc_release(struct chan *c)
{
	return shmbox_release(c->mine, &c->zc);
}

/* Its round trips receive with plain get (they echo the message they
 * got); its calls are shmbox's. */
const struct transport t_shmbox_zc = {
	.name = "shmbox-zc",
	.create = box_create,
	.attach = box_open,
	.send = zc_send,
	.recv = box_recv,
	.peek = zc_peek,
	.release = zc_release,
	.destroy = box_destroy,
	.rpc_how = RPC_HOW,
	.call = box_call,
	.accept = box_accept,
	.reply = box_reply,
};

/* ---- waiting in poll() ----
 * Every call with timeout 0; on EAGAIN, poll() on the handle's descriptor
 * for that side, then the call again.  Replies have no descriptor: calls
 * block in shmbox_call. */

static struct chan *poll_create(size_t size, char *msg, size_t len)
{
	return box_make(size, msg, len,
			"calls with timeout 0, on EAGAIN poll() on the handle's shmbox_fd() for "
			"that side (get, put, accept; made when the child opens its handle), and "
			"again; shmbox_call with timeout -1");
}

static int poll_open(struct chan *c, unsigned role, char *err, size_t len)
{
	if (box_open(c, role, err, len) == -1)
		return -1;
	if ((c->fd_get = shmbox_fd(c->mine, SHMBOX_FD_GET)) == -1 ||
	    (c->fd_put = shmbox_fd(c->mine, SHMBOX_FD_PUT)) == -1 ||
	    (c->fd_accept = shmbox_fd(c->mine, SHMBOX_FD_ACCEPT)) == -1) {
		snprintf(err, len, "shmbox_fd: %s", shmbox_strerror(errno));
		return -1;
	}
	return 0;
}

/* After a call failed with errno: 0 once fd is readable if that was
 * EAGAIN, else -1 with errno as the call left it.  Children have no
 * signal handlers: no EINTR. */
static int poll_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return errno == EAGAIN && poll(&p, 1, -1) == 1 ? 0 : -1;
}

static int poll_send(struct chan *c, void *msg, size_t len)
{
	int rc;

	while ((rc = shmbox_put(c->mine, msg, len, 0)) == -1 && poll_wait(c->fd_put) == 0)
		;
	return rc;
}

static ssize_t poll_recv(struct chan *c, void *buf, size_t size)
{
	ssize_t len;

	while ((len = shmbox_get(c->mine, buf, size, 0)) == -1 && poll_wait(c->fd_get) == 0)
		;
	return len;
}

static ssize_t poll_accept(struct chan *const *c, int n, void *buf, size_t size, uint64_t *from)
{
	shmbox_ticket_t t;
	ssize_t len;

	(void)n;
	while ((len = shmbox_accept(c[0]->mine, buf, size, &t, 0)) == -1 &&
	       poll_wait(c[0]->fd_accept) == 0)
		;
	*from = (uint64_t)t.slot << 32 | t.gen;
	return len;
}

const struct transport t_shmbox_poll = {
	.name = "shmbox-poll",
	.create = poll_create,
	.attach = poll_open,
	.send = poll_send,
	.recv = poll_recv,
	.destroy = box_destroy,
	.rpc_how = RPC_HOW,
	.call = box_call,
	.accept = poll_accept,
	.reply = box_reply,
};

/* Its round trips only: the pinging process waits in poll(), the echoing
 * one is plain shmbox's (it spins before it sleeps). */
static struct chan *poll1_create(size_t size, char *msg, size_t len)
{
	return box_make(size, msg, len,
			"the pinging process as shmbox-poll's, the echoing one as shmbox's "
			"(timeouts -1)");
}

const struct transport t_shmbox_poll1 = {
	.name = "shmbox-poll1",
	.create = poll1_create,
	.attach = poll_open,
	.send = poll_send,
	.recv = poll_recv,
	.destroy = box_destroy,
	.echo = &t_shmbox,
};
