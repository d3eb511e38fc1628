/*
 * POSIX message queue (mq_open), as deep as the default limits let an
 * unprivileged process make it: fs.mqueue.msg_max messages (10 by
 * default; 64 would need CAP_SYS_RESOURCE) of at most
 * fs.mqueue.msgsize_max bytes (8 KiB by default).  The parent opens it;
 * children use the inherited descriptor.  The parent unlinks it at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define MQ_WANT_DEPTH 64 /* what shmbox gets at the least; the limit usually says less */

struct chan {
	mqd_t q;
	char name[64];
};

static size_t mq_max(void)
{
	return (size_t)read_proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192);
}

static struct chan *mq_create(size_t size, char *msg, size_t len)
{
	static unsigned counter;
	struct chan *c = calloc(1, sizeof(*c));
	long max = read_proc_long("/proc/sys/fs/mqueue/msg_max", 10);
	struct mq_attr attr = {.mq_maxmsg = max < MQ_WANT_DEPTH ? max : MQ_WANT_DEPTH,
			       .mq_msgsize = (long)size};

	if (c == NULL) {
		snprintf(msg, len, "calloc: %s", strerror(errno));
		return NULL;
	}
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
	mq_close(c->q);
	mq_unlink(c->name);
	free(c);
}

const struct transport t_posixmq = {
	.name = "posix-mq",
	.max_msg = mq_max,
	.create = mq_create,
	.send = mq_send1,
	.recv = mq_recv1,
	.destroy = mq_destroy,
};
