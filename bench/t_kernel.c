/*
 * The kernel's own carriers, as large as an unprivileged process can make
 * them with the default limits (README.md has each one's configuration).
 * Every receiver reads until it has one whole message (a SOCK_SEQPACKET
 * read returns one).  Writes of at most PIPE_BUF bytes to a pipe are
 * atomic, so several senders and receivers can share one at 64 B; a
 * stream socket shared by several readers has no such promise.
 * Request/reply over the sockets: one socketpair per client, the server
 * poll()s them all.  A System V message's mtype goes in the headroom in
 * front of it, so nothing is copied in user space.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

struct chan {
	int fd[2];     /* pipe, socketpair: fd[0] receives, fd[1] sends */
	bool sock;     /* send(2) and recv(2), not write(2) and read(2) */
	mqd_t q;       /* POSIX */
	char name[64]; /* its name */
	int id;	       /* System V */
};

static struct chan *chan_new(bool sock, char *msg, size_t len)
{
	struct chan *c = calloc(1, sizeof(*c));

	if (c == NULL)
		snprintf(msg, len, "calloc: %s", strerror(errno));
	else
		*c = (struct chan){.fd = {-1, -1}, .sock = sock, .id = -1};
	return c;
}

static void chan_destroy(struct chan *c)
{
	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	if (c->name[0] != '\0') {
		mq_close(c->q);
		mq_unlink(c->name);
	}
	if (c->id != -1)
		msgctl(c->id, IPC_RMID, NULL);
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

static struct chan *pipe_create(size_t size, char *msg, size_t len)
{
	struct chan *c = chan_new(false, msg, len);
	long max = read_proc_long("/proc/sys/fs/pipe-max-size", 1048576), got;

	(void)size;
	if (c == NULL)
		return NULL;
	if (pipe2(c->fd, O_CLOEXEC) == -1) {
		snprintf(msg, len, "pipe2: %s", strerror(errno));
		chan_destroy(c);
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
	.destroy = chan_destroy,
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
		chan_destroy(c); /* socketpair and pipe2 leave fd as it was (-1) on failure */
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
		.recv = fd_recv, .destroy = chan_destroy,                                        \
		.rpc_how = "one socketpair per client, the server poll()s all and answers "   \
			   "each ready one",                                                   \
		.rpc_per_client = true, .call = sock_call, .accept = sock_accept,              \
		.reply = sock_reply,                                                           \
	}

const struct transport t_unix_seqpacket =
	SOCKET_TRANSPORT("unix-seqpacket", seqpacket_create, NULL);
const struct transport t_unix_stream = SOCKET_TRANSPORT("unix-stream", stream_create, "byte stream");

/* ---- POSIX message queue ---- */

#define MQ_WANT_DEPTH 64 /* what shmbox gets at the least; the limit usually allows less */

static size_t mq_max(void)
{
	return (size_t)read_proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192);
}

static struct chan *mq_create(size_t size, char *msg, size_t len)
{
	static unsigned counter;
	struct chan *c = chan_new(false, msg, len);
	long max = read_proc_long("/proc/sys/fs/mqueue/msg_max", 10);
	struct mq_attr attr = {.mq_maxmsg = max < MQ_WANT_DEPTH ? max : MQ_WANT_DEPTH,
			       .mq_msgsize = (long)size};

	if (c == NULL)
		return NULL;
	snprintf(c->name, sizeof(c->name), "/shmbox-bench.%ld.%u", (long)getpid(), counter++);
	c->q = mq_open(c->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (c->q == (mqd_t)-1) {
		snprintf(msg, len, "mq_open(depth %ld, msgsize %zu): %s", attr.mq_maxmsg, size,
			 strerror(errno));
		free(c);
		return NULL;
	}
	snprintf(msg, len,
		 "mq_open(); mq_maxmsg %ld (fs.mqueue.msg_max %ld; more needs CAP_SYS_RESOURCE), "
		 "mq_msgsize = message size; blocking mq_send/mq_receive, priority 0",
		 attr.mq_maxmsg, max);
	return c;
}

static int mq_send1(struct chan *c, void *msg, size_t len)
{
	return mq_send(c->q, msg, len, 0);
}

static ssize_t mq_recv1(struct chan *c, void *buf, size_t size)
{
	return mq_receive(c->q, buf, size, NULL);
}

const struct transport t_posixmq = {
	.name = "posix-mq",
	.max_msg = mq_max,
	.create = mq_create,
	.send = mq_send1,
	.recv = mq_recv1,
	.destroy = chan_destroy,
};

/* ---- System V message queue ---- */

static size_t msgq_max(void)
{
	long max = read_proc_long("/proc/sys/kernel/msgmax", 8192);
	long mnb = read_proc_long("/proc/sys/kernel/msgmnb", 16384);

	return (size_t)(mnb < max ? mnb : max);
}

static struct chan *msgq_create(size_t size, char *msg, size_t len)
{
	struct chan *c = chan_new(false, msg, len);
	struct msqid_ds ds;

	(void)size;
	if (c == NULL)
		return NULL;
	if ((c->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600)) == -1) {
		snprintf(msg, len, "msgget: %s", strerror(errno));
		chan_destroy(c);
		return NULL;
	}
	if (msgctl(c->id, IPC_STAT, &ds) == -1)
		ds.msg_qbytes = 0;
	snprintf(msg, len,
		 "msgget(IPC_PRIVATE); msg_qbytes %lu (kernel.msgmnb %ld; more needs "
		 "CAP_SYS_RESOURCE), msgmax %ld; mtype 1, msgrcv type 0; blocking",
		 (unsigned long)ds.msg_qbytes, read_proc_long("/proc/sys/kernel/msgmnb", -1),
		 read_proc_long("/proc/sys/kernel/msgmax", -1));
	return c;
}

static int msgq_send(struct chan *c, void *msg, size_t len)
{
	long *mtype = (long *)((char *)msg - sizeof(long));

	*mtype = 1;
	return msgsnd(c->id, mtype, len, 0);
}

static ssize_t msgq_recv(struct chan *c, void *buf, size_t size)
{
	return msgrcv(c->id, (char *)buf - sizeof(long), size, 0, 0);
}

const struct transport t_sysvmsg = {
	.name = "sysv-msgq",
	.max_msg = msgq_max,
	.create = msgq_create,
	.send = msgq_send,
	.recv = msgq_recv,
	.destroy = chan_destroy,
};
