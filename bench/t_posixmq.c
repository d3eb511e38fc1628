/*
 * POSIX message queue (mq_open), as deep as the default limits let an
 * unprivileged process make it: fs.mqueue.msg_max messages (10 by
 * default) of at most fs.mqueue.msgsize_max bytes (8 KiB by default).
 * The parent opens it; children use the inherited descriptor.  The queue
 * is unlinked by the parent when the measurement ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transports.h"

#define MQ_WANT_DEPTH 64 /* what shmbox gets; the limit usually says less */

struct chan {
	mqd_t q;
	char name[64];
	char config[320];
};

static size_t mq_max(char *why, size_t whylen)
{
	long max = read_proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192);

	if (max % 1024 == 0)
		snprintf(why, whylen, "n/a (%ld KiB max)", max / 1024);
	else
		snprintf(why, whylen, "n/a (%ld B max)", max);
	return (size_t)max;
}

static struct chan *mq_create(size_t msg_size, char *err, size_t errlen)
{
	static unsigned counter;
	struct chan *c = calloc(1, sizeof(*c));
	long depth = read_proc_long("/proc/sys/fs/mqueue/msg_max", 10);
	struct mq_attr attr = {0};

	if (c == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	if (depth > MQ_WANT_DEPTH)
		depth = MQ_WANT_DEPTH;
	attr.mq_maxmsg = depth;
	attr.mq_msgsize = (long)msg_size;
	snprintf(c->name, sizeof(c->name), "/shmbox-bench.%ld.%u", (long)getpid(), counter++);
	c->q = mq_open(c->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (c->q == (mqd_t)-1) {
		snprintf(err, errlen, "mq_open(depth %ld, msgsize %zu): %s", depth, msg_size,
			 strerror(errno));
		free(c);
		return NULL;
	}
	snprintf(c->config, sizeof(c->config),
		 "mq_open(); mq_maxmsg %ld (fs.mqueue.msg_max %ld; more needs CAP_SYS_RESOURCE), "
		 "mq_msgsize = message size; blocking mq_send/mq_receive, priority 0",
		 depth, read_proc_long("/proc/sys/fs/mqueue/msg_max", -1));
	return c;
}

static int mq_attach(struct chan *c, int ends, char *err, size_t errlen)
{
	(void)c;
	(void)ends;
	(void)err;
	(void)errlen;
	return 0; /* the descriptor came with fork() */
}

static int mq_send1(struct chan *c, void *msg, size_t len)
{
	int r;

	while ((r = mq_send(c->q, msg, len, 0)) == -1 && errno == EINTR)
		;
	return r;
}

static ssize_t mq_recv1(struct chan *c, void *buf, size_t size)
{
	ssize_t n;

	while ((n = mq_receive(c->q, buf, size, NULL)) == -1 && errno == EINTR)
		;
	return n;
}

static void mq_destroy(struct chan *c)
{
	if (c == NULL)
		return;
	mq_close(c->q);
	mq_unlink(c->name);
	free(c);
}

static const char *mq_config(struct chan *c)
{
	return c->config;
}

static const struct rpc_ops mq_rpc = RPC_GENERIC_OPS(&t_posixmq);

const struct transport t_posixmq = {
	.name = "posix-mq",
	.max_msg = mq_max,
	.create = mq_create,
	.attach = mq_attach,
	.send = mq_send1,
	.recv = mq_recv1,
	.destroy = mq_destroy,
	.config = mq_config,
	.rpc = &mq_rpc,
};
