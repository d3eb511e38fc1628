/*
 * shmbox-bench: the workloads.  Each repetition makes fresh channels, forks
 * the processes, starts them together, checks every message, and removes
 * the channels whatever happened.
 *
 * Request/reply, unless the transport has a way of its own (t->call): one
 * request channel that every client sends on, and one reply channel per
 * client; the server learns who asked from the request's header.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int attach(struct work *w, struct child_res *res)
{
	const struct transport *t = w->t;

	for (int j = 0; j < w->nch && t->attach; j++)
		if (t->attach(w->ch[j], res->err, sizeof(res->err)) == -1)
			return -1;
	return 0;
}

static int give(struct work *w, struct chan *c, void *msg, struct child_res *res)
{
	return w->t->send(c, msg, w->size) == -1 ? child_fail(res, "send: %s", strerror(errno)) : 0;
}

/* The next message on c, checked: into buf, or in place if the transport
 * can and `in_place` (then let go of).  0, or -1 with res->err. */
static int take(struct work *w, struct chan *c, bool in_place, unsigned char *buf,
		unsigned kinds, struct msg_hdr *h, struct child_res *res)
{
	const struct transport *t = w->t;
	const void *in = buf;
	ssize_t len = in_place && t->peek ? t->peek(c, &in) : t->recv(c, buf, w->size);

	if (len == -1)
		return child_fail(res, "recv: %s", strerror(errno));
	if (msg_check(&w->m, in, len, kinds, h, res->err, sizeof(res->err)) == -1)
		return -1;
	if (in_place && t->release && t->release(c) == -1)
		return child_fail(res, "release: %s", strerror(errno));
	return 0;
}

static int expect(struct child_res *res, const char *what, uint64_t got, uint64_t want)
{
	return got == want ? 0
			   : child_fail(res, "%s %llu, expected %llu", what, (unsigned long long)got,
					(unsigned long long)want);
}

/* ---- one-way: np senders -> nc receivers on one channel ---- */

/* Each sender ends with one STOP, after all its data; a receiver stops at
 * the first STOP it takes.  What a receiver gets from one sender must keep
 * its order, and the parent checks that every message arrived once. */
static int oneway(struct work *w, int idx, unsigned char *buf, struct child_res *res)
{
	int64_t last[MAX_PRODUCERS];
	struct msg_hdr h;

	child_go(res);
	if (idx < w->np) {
		for (uint64_t seq = 0; seq < w->n; seq++)
			if (give(w, w->ch[0], msg_make(&w->m, K_DATA, (unsigned)idx, seq), res) == -1)
				return -1;
		return give(w, w->ch[0], msg_make(&w->m, K_STOP, (unsigned)idx, w->n), res);
	}
	for (int p = 0; p < MAX_PRODUCERS; p++)
		last[p] = -1;
	for (;;) {
		if (take(w, w->ch[0], true, buf, 1u << K_DATA | 1u << K_STOP, &h, res) == -1)
			return -1;
		if (h.producer >= w->np)
			return child_fail(res, "message from sender %u of %d", h.producer, w->np);
		if (h.kind == K_STOP)
			break;
		if ((int64_t)h.seq <= last[h.producer] || h.seq >= w->n)
			return child_fail(res, "from sender %u: seq %llu after %lld", h.producer,
					  (unsigned long long)h.seq, (long long)last[h.producer]);
		last[h.producer] = (int64_t)h.seq;
		res->count[h.producer]++;
		res->sum[h.producer] += h.seq;
	}
	res->t_end = now_ns();
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

/* ---- round trip: ping on channel 0, pong on channel 1 ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int echo(struct work *w, unsigned char *buf, struct child_res *res)
{
	struct msg_hdr h;

	child_go(res);
	for (uint64_t i = 0; i < w->n; i++)
		if (take(w, w->ch[0], false, buf, 1u << K_DATA, &h, res) == -1 ||
		    expect(res, "ping", h.seq, i) == -1 || give(w, w->ch[1], buf, res) == -1)
			return -1;
	return 0;
}

/* Every round trip timed, from the send to the reply's arrival; their p50
 * and p99 into res. */
static int ping(struct work *w, unsigned char *buf, struct child_res *res)
{
	uint64_t *lat = malloc(sizeof(uint64_t) * w->n);
	struct msg_hdr h;

	if (lat == NULL)
		return child_fail(res, "out of memory");
	child_go(res);
	for (uint64_t i = 0; i < w->n; i++) {
		uint64_t t0 = now_ns();
		ssize_t len;

		if (give(w, w->ch[0], msg_make(&w->m, K_DATA, 0, i), res) == -1)
			return -1;
		len = w->t->recv(w->ch[1], buf, w->size);
		lat[i] = now_ns() - t0;
		if (len == -1)
			return child_fail(res, "recv: %s", strerror(errno));
		if (msg_check(&w->m, buf, len, 1u << K_DATA, &h, res->err, sizeof(res->err)) == -1 ||
		    expect(res, "pong", h.seq, i) == -1)
			return -1;
	}
	res->t_end = now_ns();
	qsort(lat, w->n, sizeof(uint64_t), cmp_u64);
	res->p50_us = (double)lat[(w->n - 1) / 2] / 1e3;
	res->p99_us = (double)lat[(w->n * 99 + 99) / 100 - 1] / 1e3; /* ceil(0.99 n)-th */
	free(lat);
	return 0;
}

/* ---- request/reply: np clients, one server ---- */

static int client(struct work *w, int idx, unsigned char *buf, struct child_res *res)
{
	const struct transport *t = w->t;
	struct msg_hdr h;

	child_go(res);
	for (uint64_t seq = 0; seq < w->n; seq++) {
		unsigned char *req = msg_make(&w->m, K_REQ, (unsigned)idx, seq);
		ssize_t len;

		if (t->call == NULL) {
			if (give(w, w->ch[0], req, res) == -1 ||
			    take(w, w->ch[1 + idx], false, buf, 1u << K_REP, &h, res) == -1)
				return -1;
		} else if ((len = t->call(w->ch[t->rpc_per_client ? idx : 0], req, w->size, buf,
					  w->size)) == -1) {
			return child_fail(res, "call: %s", strerror(errno));
		} else if (msg_check(&w->m, buf, len, 1u << K_REP, &h, res->err,
				     sizeof(res->err)) == -1) {
			return -1;
		}
		if (h.producer != idx || h.seq != seq)
			return child_fail(res, "client %d call %llu: reply to client %u call %llu",
					  idx, (unsigned long long)seq, h.producer,
					  (unsigned long long)h.seq);
	}
	return 0;
}

static int server(struct work *w, unsigned char *buf, struct child_res *res)
{
	const struct transport *t = w->t;
	uint64_t expected[MAX_PRODUCERS] = {0}, from = 0;
	struct msg_hdr h;

	child_go(res);
	for (uint64_t i = 0; i < w->n * (uint64_t)w->np; i++) {
		ssize_t len;
		unsigned char *rep;

		if (t->call == NULL) {
			if (take(w, w->ch[0], false, buf, 1u << K_REQ, &h, res) == -1)
				return -1;
		} else if ((len = t->accept(w->ch, w->nch, buf, w->size, &from)) == -1) {
			return child_fail(res, "accept: %s", strerror(errno));
		} else if (msg_check(&w->m, buf, len, 1u << K_REQ, &h, res->err,
				     sizeof(res->err)) == -1) {
			return -1;
		}
		if (h.producer >= w->np || h.seq != expected[h.producer])
			return child_fail(res, "request %llu from client %u, out of order",
					  (unsigned long long)h.seq, h.producer);
		expected[h.producer]++;
		rep = msg_make(&w->m, K_REP, h.producer, h.seq);
		if (t->call == NULL && give(w, w->ch[1 + h.producer], rep, res) == -1)
			return -1;
		if (t->call != NULL && t->reply(w->ch, from, rep, w->size) == -1)
			return child_fail(res, "reply: %s", strerror(errno));
	}
	return 0;
}

/* ---- repetitions ---- */

static int child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	unsigned char *buf = buf_alloc(w->size);
	int rc = -1;

	if (buf == NULL)
		return child_fail(res, "out of memory");
	if (attach(w, res) == 0) {
		if (w->kind == W_ONEWAY)
			rc = oneway(w, idx, buf, res);
		else if (w->kind == W_RTT)
			rc = idx == 0 ? ping(w, buf, res) : echo(w, buf, res);
		else if ((rc = idx < w->np ? client(w, idx, buf, res) : server(w, buf, res)) == 0)
			res->t_end = now_ns();
	}
	buf_free(buf);
	return rc;
}

/* How many channels a repetition of w uses. */
static int channels(const struct work *w)
{
	if (w->kind != W_RPC)
		return w->kind == W_RTT ? 2 : 1;
	if (w->t->call != NULL)
		return w->t->rpc_per_client ? w->np : 1;
	return 1 + w->np;
}

/* Fresh channels for one repetition: 0, or -1 with why in o->msg. */
static int open_channels(struct work *w, struct rep_out *o)
{
	const struct transport *t = w->t;
	char cfg[480];

	w->nch = channels(w);
	for (int j = 0; j < w->nch; j++)
		if ((w->ch[j] = t->create(w->size, cfg, sizeof(cfg))) == NULL)
			return snprintf(o->msg, sizeof(o->msg), "%s", cfg), -1;
	snprintf(o->msg, sizeof(o->msg), "%s%s%s",
		 w->kind == W_RTT   ? "two channels"
		 : w->kind == W_RPC ? (t->call ? t->rpc_how : RPC_GENERIC)
				    : "",
		 w->kind == W_ONEWAY ? "" : "; ", cfg);
	return 0;
}

static void close_channels(struct work *w)
{
	for (int j = 0; j < w->nch; j++)
		if (w->ch[j] != NULL)
			w->t->destroy(w->ch[j]);
	memset(w->ch, 0, sizeof(w->ch));
	w->nch = 0;
}

int work_rep(struct work *w, uint64_t n, struct rep_out *o)
{
	struct run_result rr;
	int rc;

	w->n = n;
	if (open_channels(w, o) == -1) {
		close_channels(w);
		return -1;
	}
	rc = run_children(w->np + w->nc, child, w, &rr);
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

/* Why w's transport cannot carry w, in buf; or NULL. */
static const char *not_applicable(const struct work *w, char *buf, size_t len)
{
	size_t max = w->t->max_msg ? w->t->max_msg() : 0;

	if (w->t->create == NULL)
		snprintf(buf, len, "n/a, %s", NOT_BUILT);
	else if (max != 0 && w->size > max && max % 1024 == 0)
		snprintf(buf, len, "n/a (%zu KiB max)", max / 1024);
	else if (max != 0 && w->size > max)
		snprintf(buf, len, "n/a (%zu B max)", max);
	else if (w->kind == W_ONEWAY && w->np > 1 && w->t->no_multi != NULL)
		snprintf(buf, len, "n/a (%s)", w->t->no_multi);
	else
		return NULL;
	return buf;
}

void work_init(struct work *w, struct result *r)
{
	memset(r, 0, sizeof(*r));
	w->r = r;
	/* the first guess at the operations of one repetition */
	w->n0 = w->kind != W_ONEWAY ? 500 : w->size >= 65536 ? 200 : w->size >= 4096 ? 1000 : 2000;
	if (not_applicable(w, r->note, sizeof(r->note)) != NULL) {
		r->status = FIG_NA;
		return;
	}
	if (msgset_init(&w->m, w->size) == -1) {
		r->status = FIG_FAIL;
		snprintf(r->note, sizeof(r->note), "FAILED: out of memory");
	}
}
