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

#include "transports.h"

struct chan {
	int id;
	char config[320];
};

static size_t msgq_max(char *why, size_t whylen)
{
	long max = read_proc_long("/proc/sys/kernel/msgmax", 8192);
	long mnb = read_proc_long("/proc/sys/kernel/msgmnb", 16384);

	if (mnb < max)
		max = mnb;
	if (max % 1024 == 0)
		snprintf(why, whylen, "n/a (%ld KiB max)", max / 1024);
	else
		snprintf(why, whylen, "n/a (%ld B max)", max);
	return (size_t)max;
}

static struct chan *msgq_create(size_t msg_size, char *err, size_t errlen)
{
	struct chan *c = calloc(1, sizeof(*c));
	struct msqid_ds ds;

	(void)msg_size;
	if (c == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	c->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (c->id == -1) {
		snprintf(err, errlen, "msgget: %s", strerror(errno));
		free(c);
		return NULL;
	}
	if (msgctl(c->id, IPC_STAT, &ds) == -1)
		ds.msg_qbytes = 0;
	snprintf(c->config, sizeof(c->config),
		 "msgget(IPC_PRIVATE); msg_qbytes %lu (kernel.msgmnb %ld; more needs "
		 "CAP_SYS_RESOURCE), msgmax %ld; mtype 1, msgrcv type 0; blocking",
		 (unsigned long)ds.msg_qbytes, read_proc_long("/proc/sys/kernel/msgmnb", -1),
		 read_proc_long("/proc/sys/kernel/msgmax", -1));
	return c;
}

static int msgq_attach(struct chan *c, int ends, char *err, size_t errlen)
{
	(void)c;
	(void)ends;
	(void)err;
	(void)errlen;
	return 0; /* the id is valid in every process */
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
	if (c == NULL)
		return;
	msgctl(c->id, IPC_RMID, NULL);
	free(c);
}

static const char *msgq_config(struct chan *c)
{
	return c->config;
}

static const struct rpc_ops msgq_rpc = RPC_GENERIC_OPS(&t_sysvmsg);

const struct transport t_sysvmsg = {
	.name = "sysv-msgq",
	.max_msg = msgq_max,
	.create = msgq_create,
	.attach = msgq_attach,
	.send = msgq_send,
	.recv = msgq_recv,
	.destroy = msgq_destroy,
	.config = msgq_config,
	.rpc = &msgq_rpc,
};
