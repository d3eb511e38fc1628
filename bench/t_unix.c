/*
 * AF_UNIX socketpair(2), SOCK_SEQPACKET (message boundaries kept) and
 * SOCK_STREAM (often better for big messages), with SO_SNDBUF and
 * SO_RCVBUF raised to net.core.wmem_max / rmem_max.  The buffer sizes are
 * the only limit: net.unix.max_dgram_qlen does not apply between the two
 * ends of a socketpair (the kernel checks it only for a receiver whose peer
 * is another socket; 10923 messages of 64 B were seen queued).
 *
 * Request/reply: one socketpair per client; the server poll()s them all and
 * answers every ready one before polling again.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transports.h"

struct chan {
	int fd[2]; /* fd[0] sends, fd[1] receives */
	int type;
	size_t msg_size;
	char config[320];
};

/* Raise both buffers of a socket as far as the sysctls allow. */
static void size_buffers(int fd, int *snd, int *rcv)
{
	int s = (int)read_proc_long("/proc/sys/net/core/wmem_max", 212992);
	int r = (int)read_proc_long("/proc/sys/net/core/rmem_max", 212992);
	socklen_t l = sizeof(int);

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s, sizeof(s));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &r, sizeof(r));
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, snd, &l);
	l = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcv, &l);
}

static int make_pair(int type, int fd[2], char *desc, size_t desclen, char *err, size_t errlen)
{
	int snd = 0, rcv = 0;

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fd) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	size_buffers(fd[0], &snd, &rcv);
	size_buffers(fd[1], &snd, &rcv);
	if (desc != NULL) {
		snprintf(desc, desclen,
			 "socketpair(AF_UNIX, %s); SO_SNDBUF %ld / SO_RCVBUF %ld requested "
			 "(wmem_max / rmem_max), kernel reports %d / %d; blocking",
			 type == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : "SOCK_STREAM",
			 read_proc_long("/proc/sys/net/core/wmem_max", -1),
			 read_proc_long("/proc/sys/net/core/rmem_max", -1), snd, rcv);
	}
	return 0;
}

static int send_all(int fd, const void *msg, size_t len, int type)
{
	const char *p = msg;

	do {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (type == SOCK_SEQPACKET) /* all or nothing */
			return (size_t)n == len ? 0 : (errno = EMSGSIZE, -1);
		p += n;
		len -= (size_t)n;
	} while (len > 0);
	return 0;
}

static ssize_t recv_msg(int fd, void *buf, size_t size, size_t msg_size, int type)
{
	char *p = buf;
	size_t want = msg_size < size ? msg_size : size, got = 0;

	if (type == SOCK_SEQPACKET) {
		for (;;) {
			ssize_t n = recv(fd, buf, size, 0);

			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0) {
				errno = EPIPE;
				return -1;
			}
			return n;
		}
	}
	while (got < want) {
		ssize_t n = recv(fd, p + got, want - got, 0);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static struct chan *unix_create(int type, size_t msg_size, char *err, size_t errlen)
{
	struct chan *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	c->type = type;
	c->msg_size = msg_size;
	if (make_pair(type, c->fd, c->config, sizeof(c->config), err, errlen) == -1) {
		free(c);
		return NULL;
	}
	return c;
}

static struct chan *seqpacket_create(size_t msg_size, char *err, size_t errlen)
{
	return unix_create(SOCK_SEQPACKET, msg_size, err, errlen);
}

static struct chan *stream_create(size_t msg_size, char *err, size_t errlen)
{
	return unix_create(SOCK_STREAM, msg_size, err, errlen);
}

static int unix_attach(struct chan *c, int ends, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (!(ends & END_SEND) && c->fd[0] >= 0) {
		close(c->fd[0]);
		c->fd[0] = -1;
	}
	if (!(ends & END_RECV) && c->fd[1] >= 0) {
		close(c->fd[1]);
		c->fd[1] = -1;
	}
	return 0;
}

static int unix_send(struct chan *c, void *msg, size_t len)
{
	return send_all(c->fd[0], msg, len, c->type);
}

static ssize_t unix_recv(struct chan *c, void *buf, size_t size)
{
	return recv_msg(c->fd[1], buf, size, c->msg_size, c->type);
}

static void unix_destroy(struct chan *c)
{
	if (c == NULL)
		return;
	if (c->fd[0] >= 0)
		close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
	free(c);
}

static const char *unix_config(struct chan *c)
{
	return c->config;
}

/* ---- request/reply: a socketpair per client, the server polls ---- */

#define RPC_MAX_CLIENTS 16

struct rpc {
	const struct rpc_ops *ops;
	int type, n, me; /* me: client number, or -1 for the server */
	size_t msg_size;
	int sp[RPC_MAX_CLIENTS][2]; /* [0] the client's end, [1] the server's */
	struct pollfd pfd[RPC_MAX_CLIENTS];
	int ready[RPC_MAX_CLIENTS], nready, next;
	char config[400];
};

static struct rpc *poll_create(const struct rpc_ops *ops, int nclients, size_t msg_size,
			       char *err, size_t errlen)
{
	int type = ops->base == &t_unix_stream ? SOCK_STREAM : SOCK_SEQPACKET;
	struct rpc *r = calloc(1, sizeof(*r));
	char desc[320];

	if (r == NULL || nclients > RPC_MAX_CLIENTS) {
		snprintf(err, errlen, "too many clients or out of memory");
		free(r);
		return NULL;
	}
	r->ops = ops;
	r->type = type;
	r->msg_size = msg_size;
	for (int i = 0; i < nclients; i++) {
		if (make_pair(type, r->sp[i], desc, sizeof(desc), err, errlen) == -1) {
			r->n = i;
			ops->destroy(r);
			return NULL;
		}
		r->n = i + 1;
	}
	snprintf(r->config, sizeof(r->config),
		 "one socketpair per client, the server poll()s all and answers each ready one; %s",
		 desc);
	return r;
}

static int poll_attach(struct rpc *r, int client, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	r->me = client;
	for (int i = 0; i < r->n; i++) {
		if (client >= 0) { /* a client keeps only its own end */
			close(r->sp[i][1]);
			r->sp[i][1] = -1;
			if (i != client) {
				close(r->sp[i][0]);
				r->sp[i][0] = -1;
			}
		} else { /* the server keeps every server end */
			close(r->sp[i][0]);
			r->sp[i][0] = -1;
			r->pfd[i] = (struct pollfd){.fd = r->sp[i][1], .events = POLLIN};
		}
	}
	r->nready = r->next = 0;
	return 0;
}

static ssize_t poll_call(struct rpc *r, void *req, size_t len, void *rep, size_t size)
{
	int fd = r->sp[r->me][0];

	if (send_all(fd, req, len, r->type) == -1)
		return -1;
	return recv_msg(fd, rep, size, r->msg_size, r->type);
}

static ssize_t poll_accept(struct rpc *r, void *buf, size_t size, uint64_t *from)
{
	while (r->next == r->nready) {
		int n = poll(r->pfd, (nfds_t)r->n, -1);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		r->nready = r->next = 0;
		for (int i = 0; i < r->n; i++) {
			if (r->pfd[i].revents & POLLIN)
				r->ready[r->nready++] = i;
			else if (r->pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				errno = EPIPE; /* a client went away early */
				return -1;
			}
		}
	}
	*from = (uint64_t)r->ready[r->next++];
	return recv_msg(r->sp[*from][1], buf, size, r->msg_size, r->type);
}

static int poll_reply(struct rpc *r, uint64_t from, void *rep, size_t len)
{
	return send_all(r->sp[from][1], rep, len, r->type);
}

static void poll_destroy(struct rpc *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->n; i++)
		for (int j = 0; j < 2; j++)
			if (r->sp[i][j] >= 0)
				close(r->sp[i][j]);
	free(r);
}

static const char *poll_config(struct rpc *r)
{
	return r->config;
}

#define POLL_RPC_OPS(t)                                                                       \
	{                                                                                     \
		.create = poll_create, .attach = poll_attach, .call = poll_call,             \
		.accept = poll_accept, .reply = poll_reply, .destroy = poll_destroy,         \
		.config = poll_config, .base = (t)                                           \
	}

static const struct rpc_ops seqpacket_rpc = POLL_RPC_OPS(&t_unix_seqpacket);
static const struct rpc_ops stream_rpc = POLL_RPC_OPS(&t_unix_stream);
/* For comparison (--unix-rpc=shared): one request socket for all clients. */
const struct rpc_ops rpc_unix_shared = RPC_GENERIC_OPS(&t_unix_seqpacket);

const struct transport t_unix_seqpacket = {
	.name = "unix-seqpacket",
	.create = seqpacket_create,
	.attach = unix_attach,
	.send = unix_send,
	.recv = unix_recv,
	.destroy = unix_destroy,
	.config = unix_config,
	.rpc = &seqpacket_rpc,
};

const struct transport t_unix_stream = {
	.name = "unix-stream",
	.no_multi = "byte stream",
	.create = stream_create,
	.attach = unix_attach,
	.send = unix_send,
	.recv = unix_recv,
	.destroy = unix_destroy,
	.config = unix_config,
	.rpc = &stream_rpc,
};
