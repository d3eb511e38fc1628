/*
 * System V message queue (msgget/msgsnd/msgrcv) within the default limits:
 * messages of at most kernel.msgmax bytes (8 KiB), at most kernel.msgmnb
 * bytes queued (16 KiB; raising msg_qbytes above it needs
 * CAP_SYS_RESOURCE).  The mtype goes in the headroom in front of the
 * message, so nothing is copied in user space.  Removed with IPC_RMID.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include "bench.h"

struct chan {
	int id;
};

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

static int msgq_send(struct chan *c, void *msg, size_t len)
{
	long *mtype = (long *)((char *)msg - sizeof(long));
	int r;

	*mtype = 1;
	while ((r = msgsnd(c->id, mtype, len, 0)) == -1 && errno == EINTR)
		;
	return r;
}

static ssize_t msgq_recv(struct chan *c, void *buf, size_t size)
{
	long *mtype = (long *)((char *)buf - sizeof(long));
	ssize_t n;

	while ((n = msgrcv(c->id, mtype, size, 0, 0)) == -1 && errno == EINTR)
		;
	return n;
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
