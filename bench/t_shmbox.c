/*
 * shmbox: a mailbox with slots of the message size, on a key file made
 * with mkstemp.  The parent creates it; every child opens its own handle
 * (handles do not cross fork) and never touches the parent's; the parent
 * destroys it, removes anything left at the key, and deletes the key file.
 *
 * Request/reply uses shmbox_call / shmbox_accept / shmbox_reply on one
 * mailbox, when the library has them (SHMBOX_HAS_CALL).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmbox.h>

#include "transports.h"

#define BOX_MIN_SLOTS 64
#define BOX_PROJ 'B'

struct box {
	shmbox_t *parent; /* the creator's handle: used only by the parent */
	shmbox_t *mine;	  /* a child's own handle */
	size_t slots;
	char path[PATH_MAX];
	char config[320];
};

/* The ring holds as many bytes as the pipe's buffer (pipe-max-size, what
 * the pipe gets), and at least 64 messages: the same memory to queue into
 * as the pipe.  64 slots of 64 B or 4 KiB measured slower (README,
 * Performance). */
static long slots_asked(void) /* $BENCH_SHMBOX_SLOTS, to compare; 0 if unset */
{
	const char *env = getenv("BENCH_SHMBOX_SLOTS");

	return env != NULL && atol(env) > 0 ? atol(env) : 0;
}

static size_t box_slots(size_t msg_size)
{
	long bytes = read_proc_long("/proc/sys/fs/pipe-max-size", 1048576);
	size_t n = bytes > 0 ? (size_t)bytes / msg_size : 0;

	if (slots_asked() > 0)
		return (size_t)slots_asked();
	return n > BOX_MIN_SLOTS ? n : BOX_MIN_SLOTS;
}

static int box_create(struct box *b, size_t msg_size, char *err, size_t errlen)
{
	shmbox_attr_t attr = {.slots = box_slots(msg_size), .slot_size = msg_size};

	for (int tries = 0;; tries++) {
		if (make_key_file(b->path, sizeof(b->path), err, errlen) == -1)
			return -1;
		if (shmbox_create(b->path, BOX_PROJ, &attr, &b->parent) == 0)
			break;
		int e = errno;

		unlink(b->path);
		/* EEXIST / ESTALE: another file's key collides; take another file */
		if ((e != EEXIST && e != ESTALE) || tries == 4) {
			snprintf(err, errlen, "shmbox_create(slots %zu, slot_size %zu): %s",
				 attr.slots, msg_size, shmbox_strerror(e));
			b->path[0] = '\0';
			return -1;
		}
	}
	b->slots = attr.slots;
	snprintf(b->config, sizeof(b->config),
		 "shmbox_create() on a mkstemp key file: slots %zu (%s), slot_size = message "
		 "size; each child shmbox_open()s its own handle; timeouts -1",
		 b->slots,
		 slots_asked() > 0 ? "BENCH_SHMBOX_SLOTS" : "pipe-max-size bytes, at least 64");
	return 0;
}

static int box_open(struct box *b, char *err, size_t errlen)
{
	if (b->mine != NULL)
		return 0;
	if (shmbox_open(b->path, BOX_PROJ, &b->mine) == -1) {
		snprintf(err, errlen, "shmbox_open: %s", shmbox_strerror(errno));
		return -1;
	}
	return 0;
}

static void box_destroy(struct box *b)
{
	if (b->parent != NULL && shmbox_destroy(b->parent) == -1)
		fprintf(stderr, "shmbox-bench: shmbox_destroy: %s\n", shmbox_strerror(errno));
	b->parent = NULL;
	if (b->path[0] != '\0') {
		sweep_key(b->path, BOX_PROJ); /* should find nothing */
		unlink(b->path);
	}
}

/* ---- messages ---- */

struct chan {
	struct box box;
	shmbox_zc_t zc; /* the message peeked at, in this process */
};

static struct chan *shmbox_chan_create(size_t msg_size, char *err, size_t errlen)
{
	struct chan *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	if (box_create(&c->box, msg_size, err, errlen) == -1) {
		free(c);
		return NULL;
	}
	return c;
}

static int shmbox_attach(struct chan *c, int ends, char *err, size_t errlen)
{
	(void)ends;
	return box_open(&c->box, err, errlen);
}

static int shmbox_send(struct chan *c, void *msg, size_t len)
{
	return shmbox_put(c->box.mine, msg, len, -1);
}

static ssize_t shmbox_recv(struct chan *c, void *buf, size_t size)
{
	return shmbox_get(c->box.mine, buf, size, -1);
}

static void shmbox_chan_destroy(struct chan *c)
{
	if (c == NULL)
		return;
	box_destroy(&c->box);
	free(c);
}

static const char *shmbox_config(struct chan *c)
{
	return c->box.config;
}

/* ---- request/reply ---- */

struct rpc {
	struct box box;
};

#ifdef SHMBOX_HAS_CALL
static struct rpc *call_create(const struct rpc_ops *ops, int nclients, size_t msg_size,
			       char *err, size_t errlen)
{
	struct rpc *r = calloc(1, sizeof(*r));

	(void)ops;
	(void)nclients;
	if (r == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	if (box_create(&r->box, msg_size, err, errlen) == -1) {
		free(r);
		return NULL;
	}
	snprintf(r->box.config, sizeof(r->box.config),
		 "one mailbox, slots %zu, slot_size = message size; clients shmbox_call(), "
		 "the server shmbox_accept() + shmbox_reply(); each opens its own handle",
		 r->box.slots);
	return r;
}

static int call_attach(struct rpc *r, int client, char *err, size_t errlen)
{
	(void)client;
	return box_open(&r->box, err, errlen);
}

static ssize_t call_call(struct rpc *r, void *req, size_t len, void *rep, size_t size)
{
	return shmbox_call(r->box.mine, req, len, rep, size, -1);
}

static ssize_t call_accept(struct rpc *r, void *buf, size_t size, uint64_t *from)
{
	shmbox_ticket_t t;
	ssize_t n = shmbox_accept(r->box.mine, buf, size, &t, -1);

	*from = (uint64_t)t.slot << 32 | t.gen;
	return n;
}

static int call_reply(struct rpc *r, uint64_t from, void *rep, size_t len)
{
	shmbox_ticket_t t = {.slot = (uint32_t)(from >> 32), .gen = (uint32_t)from};

	return shmbox_reply(r->box.mine, &t, rep, len);
}

static void call_destroy(struct rpc *r)
{
	if (r == NULL)
		return;
	box_destroy(&r->box);
	free(r);
}

static const char *call_config(struct rpc *r)
{
	return r->box.config;
}

static const struct rpc_ops shmbox_rpc = {
	.create = call_create,
	.attach = call_attach,
	.call = call_call,
	.accept = call_accept,
	.reply = call_reply,
	.destroy = call_destroy,
	.config = call_config,
};
#else
static const struct rpc_ops shmbox_rpc = {
	.unavailable = "not yet (this libshmbox has no shmbox_call)",
};
#endif

const struct transport t_shmbox = {
	.name = "shmbox",
	.create = shmbox_chan_create,
	.attach = shmbox_attach,
	.send = shmbox_send,
	.recv = shmbox_recv,
	.destroy = shmbox_chan_destroy,
	.config = shmbox_config,
	.rpc = &shmbox_rpc,
};

/* ---- zero copy: reserve/commit to send, peek/release to receive ---- */

static int zc_send(struct chan *c, void *msg, size_t len)
{
	shmbox_zc_t zc;

	if (shmbox_reserve(c->box.mine, &zc, -1) == -1)
		return -1;
	memcpy(zc.data, msg, len); /* the sender's message, written in its slot */
	return shmbox_commit(c->box.mine, &zc, len);
}

static ssize_t zc_peek(struct chan *c, const void **msg)
{
	ssize_t len = shmbox_peek(c->box.mine, &c->zc, -1);

	*msg = c->zc.data;
	return len;
}

static int zc_release(struct chan *c)
{
	return shmbox_release(c->box.mine, &c->zc);
}

const struct transport t_shmbox_zc = {
	.name = "shmbox-zc",
	.create = shmbox_chan_create,
	.attach = shmbox_attach,
	.send = zc_send,
	.recv = shmbox_recv,
	.peek = zc_peek,
	.release = zc_release,
	.destroy = shmbox_chan_destroy,
	.config = shmbox_config,
	.rpc = &shmbox_rpc,
};
