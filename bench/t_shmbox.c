/*
 * shmbox: a mailbox with slots of the message size, on a key file made
 * with mkstemp.  The parent creates it; every child opens its own handle
 * (handles do not cross fork) and never touches the parent's; the parent
 * destroys it, removes anything left at the key, and deletes the key file.
 *
 * shmbox-zc is the same mailbox through the zero-copy calls: the sender
 * reserves a slot, writes the message into it and commits it; the receiver
 * peeks, checks the message in place and releases it.  Request/reply uses
 * shmbox_call / shmbox_accept / shmbox_reply on one mailbox.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <shmbox.h>

#include "bench.h"

#define BOX_PROJ 'B'

struct chan {
	shmbox_t *parent; /* the creator's handle: used only by the parent */
	shmbox_t *mine;	  /* a child's own handle */
	shmbox_zc_t zc;	  /* the message peeked at, in this process */
	size_t slots;
	char path[PATH_MAX];
};

/* A new empty key file for ftok (mkstemp under $TMPDIR or /tmp). */
static int make_key_file(char *buf, size_t len, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(buf, len, "%s/shmbox-bench.XXXXXX", tmp) >= len) {
		snprintf(err, errlen, "TMPDIR too long");
		return -1;
	}
	if ((fd = mkstemp(buf)) == -1) {
		snprintf(err, errlen, "mkstemp %s: %s", buf, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Whatever System V objects are left at the key, which should be none. */
static void sweep_key(const char *path)
{
	key_t key = ftok(path, BOX_PROJ);
	int id;

	if (key == -1)
		return;
	if ((id = shmget(key, 0, 0)) != -1 && shmctl(id, IPC_RMID, NULL) == 0)
		fprintf(stderr, "shmbox-bench: removed a segment left at %s\n", path);
	if ((id = semget(key, 0, 0)) != -1 && semctl(id, 0, IPC_RMID) == 0)
		fprintf(stderr, "shmbox-bench: removed a semaphore set left at %s\n", path);
}

static void box_destroy(struct chan *c)
{
	if (c == NULL)
		return;
	if (c->parent != NULL && shmbox_destroy(c->parent) == -1)
		fprintf(stderr, "shmbox-bench: shmbox_destroy: %s\n", shmbox_strerror(errno));
	if (c->path[0] != '\0') {
		sweep_key(c->path);
		unlink(c->path);
	}
	free(c);
}

/* The ring holds as many bytes as the pipe's buffer (what the pipe gets),
 * and at least 64 messages: 64 slots of 64 B or 4 KiB measured slower. */
static struct chan *box_create(size_t size, char *msg, size_t len)
{
	struct chan *c = calloc(1, sizeof(*c));
	shmbox_attr_t attr = {.slots = queue_depth(size), .slot_size = size};

	if (c == NULL) {
		snprintf(msg, len, "calloc: %s", strerror(errno));
		return NULL;
	}
	for (int tries = 0;; tries++) {
		int e;

		if (make_key_file(c->path, sizeof(c->path), msg, len) == -1) {
			c->path[0] = '\0';
			box_destroy(c);
			return NULL;
		}
		if (shmbox_create(c->path, BOX_PROJ, &attr, &c->parent) == 0)
			break;
		e = errno;
		unlink(c->path);
		c->path[0] = '\0';
		/* EEXIST / ESTALE: another file's key collides; take another file */
		if ((e != EEXIST && e != ESTALE) || tries == 4) {
			snprintf(msg, len, "shmbox_create(slots %zu, slot_size %zu): %s", attr.slots,
				 size, shmbox_strerror(e));
			box_destroy(c);
			return NULL;
		}
	}
	c->slots = attr.slots;
	snprintf(msg, len,
		 "shmbox_create() on a mkstemp key file: slots %zu (pipe-max-size bytes, at least "
		 "64), slot_size = message size; each child shmbox_open()s its own handle; "
		 "timeouts -1",
		 c->slots);
	return c;
}

static int box_open(struct chan *c, char *err, size_t len)
{
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

/* ---- request/reply ---- */

struct rpc {
	struct chan c;
};

static struct rpc *call_create(const struct transport *t, int nclients, size_t size, char *msg,
			       size_t len)
{
	struct chan *c = box_create(size, msg, len);

	(void)t;
	(void)nclients;
	if (c != NULL)
		snprintf(msg, len,
			 "one mailbox, slots %zu, slot_size = message size; clients shmbox_call(), "
			 "the server shmbox_accept() + shmbox_reply(); each opens its own handle",
			 c->slots);
	return (struct rpc *)c;
}

static int call_attach(struct rpc *r, int client, char *err, size_t len)
{
	(void)client;
	return box_open(&r->c, err, len);
}

static ssize_t call_call(struct rpc *r, void *req, size_t len, void *rep, size_t size)
{
	return shmbox_call(r->c.mine, req, len, rep, size, -1);
}

static ssize_t call_accept(struct rpc *r, void *buf, size_t size, uint64_t *from)
{
	shmbox_ticket_t t;
	ssize_t n = shmbox_accept(r->c.mine, buf, size, &t, -1);

	*from = (uint64_t)t.slot << 32 | t.gen;
	return n;
}

static int call_reply(struct rpc *r, uint64_t from, void *rep, size_t len)
{
	shmbox_ticket_t t = {.slot = (uint32_t)(from >> 32), .gen = (uint32_t)from};

	return shmbox_reply(r->c.mine, &t, rep, len);
}

static void call_destroy(struct rpc *r)
{
	box_destroy(&r->c);
}

static const struct rpc_ops shmbox_rpc = {
	.create = call_create,
	.attach = call_attach,
	.call = call_call,
	.accept = call_accept,
	.reply = call_reply,
	.destroy = call_destroy,
};

const struct transport t_shmbox = {
	.name = "shmbox",
	.create = box_create,
	.attach = box_open,
	.send = box_send,
	.recv = box_recv,
	.destroy = box_destroy,
	.rpc = &shmbox_rpc,
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

/* Its round trips send this way and receive with plain get (they echo the
 * message they got); its calls are shmbox's. */
const struct transport t_shmbox_zc = {
	.name = "shmbox-zc",
	.create = box_create,
	.attach = box_open,
	.send = zc_send,
	.recv = box_recv,
	.peek = zc_peek,
	.release = zc_release,
	.destroy = box_destroy,
	.rpc = &shmbox_rpc,
};
