/*
 * The kernel's two message queues, as deep as the default limits let an
 * unprivileged process make them.
 *
 * POSIX (mq_open): fs.mqueue.msg_max messages (10 by default; 64 would
 * need CAP_SYS_RESOURCE) of at most fs.mqueue.msgsize_max bytes (8 KiB by
 * default).  The parent opens it; children use the inherited descriptor;
 * the parent unlinks it at the end.
 *
 * System V (msgget/msgsnd/msgrcv): messages of at most kernel.msgmax bytes
 * (8 KiB), at most kernel.msgmnb bytes queued (16 KiB; raising msg_qbytes
 * above it needs CAP_SYS_RESOURCE).  The mtype goes in the headroom in
 * front of the message, so nothing is copied in user space.  Removed with
 * IPC_RMID.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include "bench.h"

/* One of the two: a POSIX queue, or a System V one. */
struct chan {
	mqd_t q;
	char name[64];
	int id;
};

/* ---- POSIX ---- */

#define MQ_WANT_DEPTH 64 /* what shmbox gets at the least; the limit usually says less */

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
	return mq_send(c->q, msg, len, 0);
}

static ssize_t mq_recv1(struct chan *c, void *buf, size_t size)
{
	return mq_receive(c->q, buf, size, NULL);
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

/* ---- System V ---- */

static size_t msgq_max(void)
{
	long max = read_proc_long("/proc/sys/kernel/msgmax", 8192);
	long mnb = read_proc_long("/proc/sys/kernel/msgmnb", 16384);

	return (size_t)(mnb < max ? mnb : max);
}

static struct chan *msgq_create(size_t size, char *msg, size_t len)
{
	struct chan *c = calloc(1, sizeof(*c));
	struct msqid_ds ds;

	(void)size;
	if (c == NULL) {
		snprintf(msg, len, "calloc: %s", strerror(errno));
		return NULL;
	}
	if ((c->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600)) == -1) {
		snprintf(msg, len, "msgget: %s", strerror(errno));
		free(c);
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

/* The mtype goes in the headroom in front of the message. */
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

static void msgq_destroy(struct chan *c)
{
	msgctl(c->id, IPC_RMID, NULL);
	free(c);
}

const struct transport t_sysvmsg = {
	.name = "sysv-msgq",
	.max_msg = msgq_max,
	.create = msgq_create,
	.send = msgq_send,
	.recv = msgq_recv,
	.destroy = msgq_destroy,
};
