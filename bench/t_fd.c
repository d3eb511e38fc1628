/*
 * The kernel's carriers that are file descriptors: pipe(2), made as large
 * as fs.pipe-max-size allows, and AF_UNIX socketpair(2), SOCK_SEQPACKET
 * (message boundaries kept) and SOCK_STREAM (often better for big
 * messages), with SO_SNDBUF and SO_RCVBUF raised to net.core.wmem_max /
 * rmem_max.  The buffer sizes are a socketpair's only limit:
 * net.unix.max_dgram_qlen applies only to a receiver whose peer is another
 * socket.
 *
 * Messages have a fixed size, so every receiver reads until it has one
 * whole (a SOCK_SEQPACKET read returns a whole message at once).  Writes
 * of at most PIPE_BUF bytes to a pipe are atomic, so several senders and
 * receivers can share one pipe at 64 B; a stream socket shared by several
 * readers has no such promise.
 *
 * Request/reply over the sockets: one socketpair per client; the server
 * poll()s them all.  The pipe's is the generic one (work.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

struct chan {
	int fd[2]; /* fd[0] receives, fd[1] sends, as pipe(2) has them */
	bool sock; /* send(2) and recv(2), not write(2) and read(2) */
};

static struct chan *chan_new(bool sock, char *msg, size_t len)
{
	struct chan *c = calloc(1, sizeof(*c));

	if (c == NULL)
		snprintf(msg, len, "calloc: %s", strerror(errno));
	else
		*c = (struct chan){.fd = {-1, -1}, .sock = sock};
	return c;
}

static void fd_destroy(struct chan *c)
{
	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c);
}

static int write_msg(const struct chan *c, int fd, const void *msg, size_t len)
{
	const char *p = msg;

	while (len > 0) {
		ssize_t n = c->sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* size: one message's */
static ssize_t read_msg(const struct chan *c, int fd, void *buf, size_t size)
{
	char *p = buf;
	size_t got = 0;

	while (got < size) {
		ssize_t n = c->sock ? recv(fd, p + got, size - got, 0) : read(fd, p + got, size - got);

		if (n == -1)
			return -1;
		if (n == 0)
			return errno = EPIPE, -1; /* every writer closed */
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int fd_send(struct chan *c, void *msg, size_t len)
{
	return write_msg(c, c->fd[1], msg, len);
}

static ssize_t fd_recv(struct chan *c, void *buf, size_t size)
{
	return read_msg(c, c->fd[0], buf, size);
}

/* ---- pipe ---- */

static struct chan *pipe_create(size_t size, char *msg, size_t len)
{
	struct chan *c = chan_new(false, msg, len);
	long max = read_proc_long("/proc/sys/fs/pipe-max-size", 1048576), got;

	(void)size;
	if (c == NULL)
		return NULL;
	if (pipe2(c->fd, O_CLOEXEC) == -1) {
		snprintf(msg, len, "pipe2: %s", strerror(errno));
		fd_destroy(c);
		return NULL;
	}
	if ((got = fcntl(c->fd[1], F_SETPIPE_SZ, (int)max)) == -1)
		got = fcntl(c->fd[1], F_GETPIPE_SZ);
	snprintf(msg, len,
		 "pipe2(); F_SETPIPE_SZ %ld -> %ld bytes (pipe-max-size); blocking; fixed-size "
		 "messages, read until whole",
		 max, got);
	return c;
}

const struct transport t_pipe = {
	.name = "pipe",
	.create = pipe_create,
	.send = fd_send,
	.recv = fd_recv,
	.destroy = fd_destroy,
};

/* ---- AF_UNIX socketpairs ---- */

static struct chan *sock_create(bool packets, char *msg, size_t len)
{
	struct chan *c = chan_new(true, msg, len);
	int want[2] = {(int)read_proc_long("/proc/sys/net/core/wmem_max", 212992),
		       (int)read_proc_long("/proc/sys/net/core/rmem_max", 212992)};
	int got[2] = {0, 0};

	if (c == NULL)
		return NULL;
	if (socketpair(AF_UNIX, (packets ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0,
		       c->fd) == -1) {
		snprintf(msg, len, "socketpair: %s", strerror(errno));
		fd_destroy(c); /* socketpair and pipe2 leave fd as it was (-1) on failure */
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		socklen_t l = sizeof(int);

		setsockopt(c->fd[i], SOL_SOCKET, SO_SNDBUF, &want[0], sizeof(int));
		setsockopt(c->fd[i], SOL_SOCKET, SO_RCVBUF, &want[1], sizeof(int));
		getsockopt(c->fd[i], SOL_SOCKET, i == 0 ? SO_SNDBUF : SO_RCVBUF, &got[i], &l);
	}
	snprintf(msg, len,
		 "socketpair(AF_UNIX, %s); SO_SNDBUF %d / SO_RCVBUF %d requested (wmem_max / "
		 "rmem_max), kernel reports %d / %d; blocking",
		 packets ? "SOCK_SEQPACKET" : "SOCK_STREAM", want[0], want[1], got[0], got[1]);
	return c;
}

static struct chan *seqpacket_create(size_t size, char *msg, size_t len)
{
	(void)size;
	return sock_create(true, msg, len);
}

static struct chan *stream_create(size_t size, char *msg, size_t len)
{
	(void)size;
	return sock_create(false, msg, len);
}

/* ---- request/reply: a socketpair per client, the server polls ---- */

/* The client's end is fd[1], the server's fd[0]. */
static ssize_t sock_call(struct chan *c, void *req, size_t len, void *rep, size_t size)
{
	if (write_msg(c, c->fd[1], req, len) == -1)
		return -1;
	return read_msg(c, c->fd[1], rep, size);
}

/* Every client found ready by one poll is answered before the next poll.
 * The server is a process of its own, forked for one repetition: this is
 * its state. */
static struct {
	struct pollfd pfd[MAX_PRODUCERS];
	int ready[MAX_PRODUCERS], n, next;
} polled;

static ssize_t sock_accept(struct chan *const *c, int n, void *buf, size_t size, uint64_t *from)
{
	if (polled.pfd[0].events == 0) /* the first call */
		for (int i = 0; i < n; i++)
			polled.pfd[i] = (struct pollfd){.fd = c[i]->fd[0], .events = POLLIN};
	while (polled.next == polled.n) {
		if (poll(polled.pfd, (nfds_t)n, -1) == -1)
			return -1;
		polled.n = polled.next = 0;
		for (int i = 0; i < n; i++) {
			if (polled.pfd[i].revents & (POLLERR | POLLNVAL))
				return errno = EPIPE, -1;
			if (polled.pfd[i].revents & POLLIN)
				polled.ready[polled.n++] = i;
		}
	}
	*from = (uint64_t)polled.ready[polled.next++];
	return fd_recv(c[*from], buf, size);
}

static int sock_reply(struct chan *const *c, uint64_t from, void *rep, size_t len)
{
	return write_msg(c[from], c[from]->fd[0], rep, len);
}

/* What the two sockets share: everything but the socket type. */
#define SOCKET_TRANSPORT(tname, make, multi)                                                   \
	{                                                                                      \
		.name = tname, .no_multi = multi, .create = make, .send = fd_send,            \
		.recv = fd_recv, .destroy = fd_destroy,                                        \
		.rpc_how = "one socketpair per client, the server poll()s all and answers "   \
			   "each ready one",                                                   \
		.rpc_per_client = true, .call = sock_call, .accept = sock_accept,              \
		.reply = sock_reply,                                                           \
	}

const struct transport t_unix_seqpacket =
	SOCKET_TRANSPORT("unix-seqpacket", seqpacket_create, NULL);
const struct transport t_unix_stream = SOCKET_TRANSPORT("unix-stream", stream_create, "byte stream");
