/*
 * Request/reply over any message transport: one request channel that every
 * client sends on and the server receives from, and one reply channel per
 * client.  The server learns who asked from the request's header.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "transports.h"

#define RPC_MAX_CLIENTS 16

struct rpc {
	const struct rpc_ops *ops;
	const struct transport *t;
	int n, me;
	struct chan *req, *rep[RPC_MAX_CLIENTS];
	char config[640];
};

struct rpc *rpc_generic_create(const struct rpc_ops *ops, int nclients, size_t msg_size,
			       char *err, size_t errlen)
{
	struct rpc *r = calloc(1, sizeof(*r));

	if (r == NULL || nclients > RPC_MAX_CLIENTS) {
		snprintf(err, errlen, "too many clients or out of memory");
		free(r);
		return NULL;
	}
	r->ops = ops;
	r->t = ops->base;
	r->req = r->t->create(msg_size, err, errlen);
	if (r->req == NULL) {
		free(r);
		return NULL;
	}
	for (int i = 0; i < nclients; i++) {
		r->rep[i] = r->t->create(msg_size, err, errlen);
		if (r->rep[i] == NULL) {
			rpc_generic_destroy(r);
			return NULL;
		}
		r->n = i + 1;
	}
	snprintf(r->config, sizeof(r->config),
		 "one request channel shared by the clients, one reply channel per client; %s",
		 r->t->config(r->req));
	return r;
}

int rpc_generic_attach(struct rpc *r, int client, char *err, size_t errlen)
{
	r->me = client;
	if (r->t->attach(r->req, client >= 0 ? END_SEND : END_RECV, err, errlen) == -1)
		return -1;
	for (int i = 0; i < r->n; i++) {
		int ends = client < 0 ? END_SEND : i == client ? END_RECV : 0;

		if (r->t->attach(r->rep[i], ends, err, errlen) == -1)
			return -1;
	}
	return 0;
}

ssize_t rpc_generic_call(struct rpc *r, void *req, size_t len, void *rep, size_t size)
{
	if (r->t->send(r->req, req, len) == -1)
		return -1;
	return r->t->recv(r->rep[r->me], rep, size);
}

ssize_t rpc_generic_accept(struct rpc *r, void *buf, size_t size, uint64_t *from)
{
	ssize_t n = r->t->recv(r->req, buf, size);
	struct msg_hdr h;

	if (n < (ssize_t)sizeof(h))
		return n < 0 ? -1 : n;
	memcpy(&h, buf, sizeof(h));
	*from = h.producer;
	if (h.producer >= r->n) {
		errno = EBADMSG;
		return -1;
	}
	return n;
}

int rpc_generic_reply(struct rpc *r, uint64_t from, void *rep, size_t len)
{
	return r->t->send(r->rep[from], rep, len);
}

void rpc_generic_destroy(struct rpc *r)
{
	if (r == NULL)
		return;
	r->t->destroy(r->req);
	for (int i = 0; i < r->n; i++)
		r->t->destroy(r->rep[i]);
	free(r);
}

const char *rpc_generic_config(struct rpc *r)
{
	return r->config;
}
