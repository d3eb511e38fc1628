/*
 * shmbox-bench: the transports compared, behind one small interface.
 *
 * A channel carries messages of one fixed size from senders to receivers.
 * The parent makes it before fork(); each child then attaches to the ends
 * it uses (a shmbox child opens its own handle there: handles do not cross
 * fork); the parent removes it when every child has gone, also on error.
 *
 * Every buffer handed to send and recv has BENCH_HEADROOM writable bytes
 * before it, so a transport that needs a prefix (the mtype of a SysV
 * message) can put it there instead of copying the message.
 */
#ifndef BENCH_TRANSPORTS_H
#define BENCH_TRANSPORTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_HEADROOM 64

enum { END_SEND = 1, END_RECV = 2 };

struct chan;

/* Request/reply between several client processes and one server. */
struct rpc;
struct rpc_ops {
	/* parent: the channels for nclients clients and messages of msg_size */
	struct rpc *(*create)(const struct rpc_ops *ops, int nclients, size_t msg_size,
			      char *err, size_t errlen);
	/* child: client number `client`, or the server if client < 0 */
	int (*attach)(struct rpc *r, int client, char *err, size_t errlen);
	/* client: send a request and wait for its reply; reply length or -1 */
	ssize_t (*call)(struct rpc *r, void *req, size_t len, void *rep, size_t size);
	/* server: the next request from anyone; *from says where to answer */
	ssize_t (*accept)(struct rpc *r, void *buf, size_t size, uint64_t *from);
	int (*reply)(struct rpc *r, uint64_t from, void *rep, size_t len);
	void (*destroy)(struct rpc *r);
	/* the configuration used, for the report */
	const char *(*config)(struct rpc *r);
	/* generic implementation: the message transport underneath */
	const struct transport *base;
	const char *unavailable; /* if set, the figure is not measured: why */
};

struct transport {
	const char *name;
	/* largest message it carries (0: no limit), and the note shown instead
	   of a figure for bigger ones; NULL: no limit */
	size_t (*max_msg)(char *why, size_t whylen);
	const char *no_multi;	/* set: cannot share one channel among several
				   senders and receivers, and why */
	/* parent, before fork; NULL with err filled on failure */
	struct chan *(*create)(size_t msg_size, char *err, size_t errlen);
	/* child, after fork: take the ends used (END_SEND | END_RECV) */
	int (*attach)(struct chan *c, int ends, char *err, size_t errlen);
	int (*send)(struct chan *c, void *msg, size_t len);		/* 0 / -1 errno */
	ssize_t (*recv)(struct chan *c, void *buf, size_t size);	/* len / -1 errno */
	/* optional, zero copy: the next message in place (len / -1 errno), and
	   letting it go after it has been checked */
	ssize_t (*peek)(struct chan *c, const void **msg);
	int (*release)(struct chan *c);
	void (*destroy)(struct chan *c); /* parent: remove it, whatever happened */
	const char *(*config)(struct chan *c); /* the configuration used */
	const struct rpc_ops *rpc;	/* request/reply: how, or NULL */
};

extern const struct transport t_shmbox, t_shmbox_zc, t_pipe, t_unix_seqpacket, t_unix_stream, t_posixmq,
	t_sysvmsg;
/* Boost.Interprocess message_queue (t_boostmq.cc, C++): only if HAVE_BOOST_IPC */
extern const struct transport t_boostmq;
/* unix-seqpacket request/reply the generic way, for comparison (--unix-rpc=shared) */
extern const struct rpc_ops rpc_unix_shared;

/* Request/reply over any transport: one request channel that every client
 * sends on, and one reply channel per client (rpc.c). */
struct rpc *rpc_generic_create(const struct rpc_ops *ops, int nclients, size_t msg_size,
			       char *err, size_t errlen);
int rpc_generic_attach(struct rpc *r, int client, char *err, size_t errlen);
ssize_t rpc_generic_call(struct rpc *r, void *req, size_t len, void *rep, size_t size);
ssize_t rpc_generic_accept(struct rpc *r, void *buf, size_t size, uint64_t *from);
int rpc_generic_reply(struct rpc *r, uint64_t from, void *rep, size_t len);
void rpc_generic_destroy(struct rpc *r);
const char *rpc_generic_config(struct rpc *r);
/* every member named, in order: also a C++ initializer (t_boostmq.cc) */
#define RPC_GENERIC_OPS(t)                                                                    \
	{                                                                                     \
		.create = rpc_generic_create, .attach = rpc_generic_attach,                  \
		.call = rpc_generic_call, .accept = rpc_generic_accept,                      \
		.reply = rpc_generic_reply, .destroy = rpc_generic_destroy,                  \
		.config = rpc_generic_config, .base = (t), .unavailable = NULL               \
	}

/* Small helpers the transports share (measure.c). */
long read_proc_long(const char *path, long fallback);
/* A new empty key file for ftok (mkstemp under $TMPDIR or /tmp); path in buf. */
int make_key_file(char *buf, size_t len, char *err, size_t errlen);
/* Remove whatever System V objects are left at ftok(path, proj). */
void sweep_key(const char *path, int proj);

#endif
