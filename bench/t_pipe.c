/*
 * pipe(2), made as large as /proc/sys/fs/pipe-max-size allows (or
 * $BENCH_PIPE_SIZE, to compare).  Messages have a fixed size, so a
 * receiver reads exactly that many bytes; writes of at most PIPE_BUF bytes
 * are atomic, so several senders and receivers can share one pipe at 64 B.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transports.h"

struct chan {
	int fd[2];
	size_t msg_size;
	char config[256];
};

static struct chan *pipe_create(size_t msg_size, char *err, size_t errlen)
{
	struct chan *c = calloc(1, sizeof(*c));
	long max = read_proc_long("/proc/sys/fs/pipe-max-size", 1048576);
	long want = max, got;
	const char *env = getenv("BENCH_PIPE_SIZE");

	if (c == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	if (env != NULL && atol(env) > 0)
		want = atol(env);
	c->msg_size = msg_size;
	if (pipe2(c->fd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe2: %s", strerror(errno));
		free(c);
		return NULL;
	}
	got = fcntl(c->fd[1], F_SETPIPE_SZ, (int)want);
	if (got == -1)
		got = fcntl(c->fd[1], F_GETPIPE_SZ);
	snprintf(c->config, sizeof(c->config),
		 "pipe2(); F_SETPIPE_SZ %ld -> %ld bytes (pipe-max-size %ld); blocking; "
		 "fixed-size messages, read until whole",
		 want, got, max);
	return c;
}

static int pipe_attach(struct chan *c, int ends, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (!(ends & END_SEND) && c->fd[1] >= 0) {
		close(c->fd[1]);
		c->fd[1] = -1;
	}
	if (!(ends & END_RECV) && c->fd[0] >= 0) {
		close(c->fd[0]);
		c->fd[0] = -1;
	}
	return 0;
}

static int pipe_send(struct chan *c, void *msg, size_t len)
{
	const char *p = msg;

	while (len > 0) {
		ssize_t n = write(c->fd[1], p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t pipe_recv(struct chan *c, void *buf, size_t size)
{
	char *p = buf;
	size_t want = c->msg_size < size ? c->msg_size : size, got = 0;

	while (got < want) {
		ssize_t n = read(c->fd[0], p + got, want - got);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE; /* every writer closed */
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void pipe_destroy(struct chan *c)
{
	if (c == NULL)
		return;
	if (c->fd[0] >= 0)
		close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
	free(c);
}

static const char *pipe_config(struct chan *c)
{
	return c->config;
}

static const struct rpc_ops pipe_rpc = RPC_GENERIC_OPS(&t_pipe);

const struct transport t_pipe = {
	.name = "pipe",
	.create = pipe_create,
	.attach = pipe_attach,
	.send = pipe_send,
	.recv = pipe_recv,
	.destroy = pipe_destroy,
	.config = pipe_config,
	.rpc = &pipe_rpc,
};
