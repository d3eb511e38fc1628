/*
 * shmbox-bench: the workloads.  Each repetition makes fresh channels, forks
 * the processes, starts them together, checks every message, and removes
 * the channels whatever happened.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- one-way: np senders -> nc receivers on one channel ---- */

/* The next message into buf (or in place, *in), checked; released if it
 * was peeked at.  0, or -1 with res->err. */
static int take(struct work *w, unsigned char *buf, unsigned kinds, struct msg_hdr *h,
		struct child_res *res)
{
	const struct transport *t = w->t;
	const void *in = buf;
	ssize_t len = t->peek ? t->peek(w->a, &in) : t->recv(w->a, buf, w->size);

	if (len == -1)
		return child_fail(res, "recv: %s", strerror(errno));
	if (msg_check(&w->m, in, len, kinds, h, res->err, sizeof(res->err)) == -1)
		return -1;
	if (t->release && t->release(w->a) == -1)
		return child_fail(res, "release: %s", strerror(errno));
	return 0;
}

static int sender(struct work *w, int idx, struct child_res *res)
{
	if (w->t->attach && w->t->attach(w->a, END_SEND, res->err, sizeof(res->err)) == -1)
		return -1;
	child_go(res);
	for (uint64_t seq = 0; seq < w->n; seq++)
		if (w->t->send(w->a, msg_make(&w->m, K_DATA, (unsigned)idx, seq), w->size) == -1)
			return child_fail(res, "send: %s", strerror(errno));
	/* Several receivers: each sender ends with one STOP, after all its
	 * data; a receiver stops at the first STOP it takes. */
	if ((w->np > 1 || w->nc > 1) &&
	    w->t->send(w->a, msg_make(&w->m, K_STOP, (unsigned)idx, w->n), w->size) == -1)
		return child_fail(res, "send: %s", strerror(errno));
	return 0;
}

static int receiver(struct work *w, unsigned char *buf, struct child_res *res)
{
	int64_t last[MAX_PRODUCERS];
	struct msg_hdr h;

	for (int p = 0; p < MAX_PRODUCERS; p++)
		last[p] = -1;
	if (w->t->attach && w->t->attach(w->a, END_RECV, res->err, sizeof(res->err)) == -1)
		return -1;
	child_go(res);
	if (w->np == 1 && w->nc == 1) { /* 1 -> 1: exactly 0, 1, 2, ... */
		for (uint64_t i = 0; i < w->n; i++) {
			if (take(w, buf, 1u << K_DATA, &h, res) == -1)
				return -1;
			if (h.seq != i || h.producer != 0)
				return child_fail(res, "expected message %llu, got %llu from %u",
						  (unsigned long long)i, (unsigned long long)h.seq,
						  h.producer);
			res->count[0]++;
			res->sum[0] += h.seq;
		}
		return 0;
	}
	for (;;) {
		if (take(w, buf, 1u << K_DATA | 1u << K_STOP, &h, res) == -1)
			return -1;
		if (h.producer >= w->np)
			return child_fail(res, "message from sender %u of %d", h.producer, w->np);
		if (h.kind == K_STOP)
			return 0;
		/* what one receiver gets from one sender keeps its order */
		if ((int64_t)h.seq <= last[h.producer] || h.seq >= w->n)
			return child_fail(res, "from sender %u: seq %llu after %lld", h.producer,
					  (unsigned long long)h.seq, (long long)last[h.producer]);
		last[h.producer] = (int64_t)h.seq;
		res->count[h.producer]++;
		res->sum[h.producer] += h.seq;
	}
}

static int oneway_child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	unsigned char *buf;

	if (idx < w->np)
		return sender(w, idx, res);
	if ((buf = buf_alloc(w->size)) == NULL)
		return child_fail(res, "out of memory");
	if (receiver(w, buf, res) == -1)
		return -1;
	res->t_end = now_ns();
	buf_free(buf);
	return 0;
}

/* Every message of every sender arrived exactly once: 0, or -1 with err. */
static int all_arrived(const struct work *w, const struct run_result *rr, char *err,
		       size_t errlen)
{
	for (int p = 0; p < w->np; p++) {
		uint64_t count = 0, sum = 0;

		for (int c = w->np; c < w->np + w->nc; c++) {
			count += rr->res[c].count[p];
			sum += rr->res[c].sum[p];
		}
		if (count != w->n || sum != w->n * (w->n - 1) / 2) {
			snprintf(err, errlen, "sender %d: %llu messages received of %llu (or some twice)",
				 p, (unsigned long long)count, (unsigned long long)w->n);
			return -1;
		}
	}
	return 0;
}

/* ---- round trip: ping on channel a, pong on channel b ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int echo(struct work *w, unsigned char *buf, struct child_res *res)
{
	struct msg_hdr h;

	child_go(res);
	for (uint64_t i = 0; i < w->n; i++) {
		ssize_t len = w->t->recv(w->a, buf, w->size);

		if (len == -1)
			return child_fail(res, "recv: %s", strerror(errno));
		if (msg_check(&w->m, buf, len, 1u << K_DATA, &h, res->err, sizeof(res->err)) == -1)
			return -1;
		if (h.seq != i)
			return child_fail(res, "ping %llu, expected %llu", (unsigned long long)h.seq,
					  (unsigned long long)i);
		if (w->t->send(w->b, buf, (size_t)len) == -1)
			return child_fail(res, "send: %s", strerror(errno));
	}
	return 0;
}

/* Time every round trip; their p50 and p99 into res. */
static int ping(struct work *w, unsigned char *buf, uint64_t *lat, struct child_res *res)
{
	struct msg_hdr h;

	child_go(res);
	for (uint64_t i = 0; i < w->n; i++) {
		uint64_t t0 = now_ns();
		ssize_t len;

		if (w->t->send(w->a, msg_make(&w->m, K_DATA, 0, i), w->size) == -1)
			return child_fail(res, "send: %s", strerror(errno));
		len = w->t->recv(w->b, buf, w->size);
		lat[i] = now_ns() - t0;
		if (len == -1)
			return child_fail(res, "recv: %s", strerror(errno));
		if (msg_check(&w->m, buf, len, 1u << K_DATA, &h, res->err, sizeof(res->err)) == -1)
			return -1;
		if (h.seq != i)
			return child_fail(res, "pong %llu, expected %llu", (unsigned long long)h.seq,
					  (unsigned long long)i);
	}
	res->t_end = now_ns();
	qsort(lat, w->n, sizeof(uint64_t), cmp_u64);
	res->p50_us = (double)lat[(w->n - 1) / 2] / 1e3;
	res->p99_us = (double)lat[(w->n * 99 + 99) / 100 - 1] / 1e3; /* ceil(0.99 n)-th */
	return 0;
}

static int rtt_child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	const struct transport *t = w->t;
	unsigned char *buf = buf_alloc(w->size);
	uint64_t *lat = idx == 0 ? malloc(sizeof(uint64_t) * w->n) : NULL;
	int rc;

	if (buf == NULL || (idx == 0 && lat == NULL))
		return child_fail(res, "out of memory");
	if (t->attach && (t->attach(w->a, idx == 0 ? END_SEND : END_RECV, res->err,
				    sizeof(res->err)) == -1 ||
			  t->attach(w->b, idx == 0 ? END_RECV : END_SEND, res->err,
				    sizeof(res->err)) == -1))
		return -1;
	rc = idx == 0 ? ping(w, buf, lat, res) : echo(w, buf, res);
	free(lat);
	buf_free(buf);
	return rc;
}

/* ---- request/reply: np clients, one server ---- */

static int client(struct work *w, int idx, unsigned char *buf, struct child_res *res)
{
	const struct rpc_ops *ops = work_rpc(w->t);
	struct msg_hdr h;

	child_go(res);
	for (uint64_t seq = 0; seq < w->n; seq++) {
		ssize_t len = ops->call(w->rpc, msg_make(&w->m, K_REQ, (unsigned)idx, seq), w->size,
					buf, w->size);

		if (len == -1)
			return child_fail(res, "call: %s", strerror(errno));
		if (msg_check(&w->m, buf, len, 1u << K_REP, &h, res->err, sizeof(res->err)) == -1)
			return -1;
		if (h.producer != idx || h.seq != seq)
			return child_fail(res, "client %d call %llu: reply to client %u call %llu",
					  idx, (unsigned long long)seq, h.producer,
					  (unsigned long long)h.seq);
	}
	return 0;
}

static int server(struct work *w, unsigned char *buf, struct child_res *res)
{
	const struct rpc_ops *ops = work_rpc(w->t);
	uint64_t expect[MAX_PRODUCERS] = {0};
	struct msg_hdr h;

	child_go(res);
	for (uint64_t i = 0; i < w->n * (uint64_t)w->np; i++) {
		uint64_t from;
		ssize_t len = ops->accept(w->rpc, buf, w->size, &from);

		if (len == -1)
			return child_fail(res, "accept: %s", strerror(errno));
		if (msg_check(&w->m, buf, len, 1u << K_REQ, &h, res->err, sizeof(res->err)) == -1)
			return -1;
		if (h.producer >= w->np || h.seq != expect[h.producer])
			return child_fail(res, "request %llu from client %u, out of order",
					  (unsigned long long)h.seq, h.producer);
		expect[h.producer]++;
		if (ops->reply(w->rpc, from, msg_make(&w->m, K_REP, h.producer, h.seq), w->size) ==
		    -1)
			return child_fail(res, "reply: %s", strerror(errno));
	}
	return 0;
}

static int rpc_child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	unsigned char *buf = buf_alloc(w->size);
	int client_idx = idx < w->np ? idx : -1;

	if (buf == NULL)
		return child_fail(res, "out of memory");
	if (work_rpc(w->t)->attach(w->rpc, client_idx, res->err, sizeof(res->err)) == -1)
		return -1;
	if ((client_idx >= 0 ? client(w, idx, buf, res) : server(w, buf, res)) == -1)
		return -1;
	res->t_end = now_ns();
	buf_free(buf);
	return 0;
}

/* ---- request/reply over any transport: one request channel that every
 * client sends on, one reply channel per client; the server learns who
 * asked from the request's header ---- */

#define RPC_MAX_CLIENTS 16

struct rpc {
	const struct transport *t;
	int n, me;
	struct chan *req, *rep[RPC_MAX_CLIENTS];
};

static void generic_destroy(struct rpc *r)
{
	if (r == NULL)
		return;
	r->t->destroy(r->req);
	for (int i = 0; i < r->n; i++)
		r->t->destroy(r->rep[i]);
	free(r);
}

static struct rpc *generic_create(const struct transport *t, int nclients, size_t size, char *msg,
				  size_t len)
{
	struct rpc *r = calloc(1, sizeof(*r));
	char cfg[600];

	if (r == NULL || nclients > RPC_MAX_CLIENTS) {
		snprintf(msg, len, "too many clients or out of memory");
		free(r);
		return NULL;
	}
	r->t = t;
	if ((r->req = t->create(size, cfg, sizeof(cfg))) == NULL) {
		snprintf(msg, len, "%s", cfg);
		free(r);
		return NULL;
	}
	for (; r->n < nclients; r->n++) {
		if ((r->rep[r->n] = t->create(size, msg, len)) == NULL) {
			generic_destroy(r);
			return NULL;
		}
	}
	snprintf(msg, len,
		 "one request channel shared by the clients, one reply channel per client; %s", cfg);
	return r;
}

static int generic_attach(struct rpc *r, int client, char *err, size_t len)
{
	r->me = client;
	if (r->t->attach == NULL)
		return 0;
	if (r->t->attach(r->req, client >= 0 ? END_SEND : END_RECV, err, len) == -1)
		return -1;
	for (int i = 0; i < r->n; i++)
		if (r->t->attach(r->rep[i], client < 0 ? END_SEND : i == client ? END_RECV : 0, err,
				 len) == -1)
			return -1;
	return 0;
}

static ssize_t generic_call(struct rpc *r, void *req, size_t len, void *rep, size_t size)
{
	if (r->t->send(r->req, req, len) == -1)
		return -1;
	return r->t->recv(r->rep[r->me], rep, size);
}

static ssize_t generic_accept(struct rpc *r, void *buf, size_t size, uint64_t *from)
{
	ssize_t n = r->t->recv(r->req, buf, size);
	struct msg_hdr h;

	if (n < (ssize_t)sizeof(h))
		return n < 0 ? -1 : n;
	memcpy(&h, buf, sizeof(h));
	if (h.producer >= r->n) {
		errno = EBADMSG;
		return -1;
	}
	*from = h.producer;
	return n;
}

static int generic_reply(struct rpc *r, uint64_t from, void *rep, size_t len)
{
	return r->t->send(r->rep[from], rep, len);
}

static const struct rpc_ops generic_rpc = {
	.create = generic_create,
	.attach = generic_attach,
	.call = generic_call,
	.accept = generic_accept,
	.reply = generic_reply,
	.destroy = generic_destroy,
};

const struct rpc_ops *work_rpc(const struct transport *t)
{
	return t->rpc ? t->rpc : &generic_rpc;
}

/* ---- repetitions ---- */

/* Fresh channels for one repetition: 0, or -1 with why in o->msg. */
static int open_channels(struct work *w, struct rep_out *o)
{
	const struct transport *t = w->t;
	char cfg[600];

	if (w->kind == W_RPC) {
		w->rpc = work_rpc(t)->create(t, w->np, w->size, o->msg, sizeof(o->msg));
		return w->rpc != NULL ? 0 : -1;
	}
	w->a = t->create(w->size, cfg, sizeof(cfg));
	if (w->a == NULL || w->kind == W_ONEWAY) {
		snprintf(o->msg, sizeof(o->msg), "%s", cfg);
		return w->a != NULL ? 0 : -1;
	}
	if ((w->b = t->create(w->size, o->msg, sizeof(o->msg))) == NULL)
		return -1;
	snprintf(o->msg, sizeof(o->msg), "two channels: %s", cfg);
	return 0;
}

static void close_channels(struct work *w)
{
	if (w->rpc != NULL)
		work_rpc(w->t)->destroy(w->rpc);
	if (w->a != NULL)
		w->t->destroy(w->a);
	if (w->b != NULL)
		w->t->destroy(w->b);
	w->rpc = NULL;
	w->a = w->b = NULL;
}

static int work_rep(void *arg, uint64_t n, struct rep_out *o)
{
	static const child_fn body[] = {[W_RTT] = rtt_child, [W_ONEWAY] = oneway_child,
					[W_RPC] = rpc_child};
	struct work *w = arg;
	struct run_result rr;
	int rc;

	w->n = n;
	if (open_channels(w, o) == -1) {
		close_channels(w);
		return -1;
	}
	rc = run_children(w->kind == W_RPC ? w->np + 1 : w->np + w->nc, body[w->kind], w, &rr);
	close_channels(w);
	if (rc == -1)
		snprintf(o->msg, sizeof(o->msg), "%s", rr.err);
	if (rc == -1 || (w->kind == W_ONEWAY && all_arrived(w, &rr, o->msg, sizeof(o->msg)) == -1))
		return -1;
	o->wall_s = rr.wall_s;
	o->cpu_s = rr.cpu_s;
	o->ops = n * (uint64_t)(w->kind == W_RTT ? 1 : w->np);
	o->p50_us = rr.res[0].p50_us;
	o->p99_us = rr.res[0].p99_us;
	return 0;
}

static void set_na(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_na(struct result *r, const char *fmt, ...)
{
	va_list ap;

	r->status = FIG_NA;
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

int work_init(struct work *w, struct series *s, struct result *r)
{
	size_t max = w->t->max_msg ? w->t->max_msg() : 0;

	memset(r, 0, sizeof(*r));
	*s = (struct series){.fn = work_rep, .arg = w, .r = r};
	/* the first guess at the operations of one repetition */
	s->n0 = w->kind != W_ONEWAY ? 500 : w->size >= 65536 ? 200 : w->size >= 4096 ? 1000 : 2000;
	if (max != 0 && w->size > max) {
		if (max % 1024 == 0)
			set_na(r, "n/a (%zu KiB max)", max / 1024);
		else
			set_na(r, "n/a (%zu B max)", max);
		return -1;
	}
	if (w->kind == W_ONEWAY && (w->np > 1 || w->nc > 1) && w->t->no_multi != NULL) {
		set_na(r, "n/a (%s)", w->t->no_multi);
		return -1;
	}
	if (msgset_init(&w->m, w->size) == -1) {
		r->status = FIG_FAIL;
		snprintf(r->note, sizeof(r->note), "FAILED: out of memory");
		return -1;
	}
	return 0;
}

void work_free(struct work *w)
{
	msgset_free(&w->m);
}
