/*
 * shmbox-bench: the workloads.  Each repetition makes fresh channels, forks
 * the processes, starts them together, checks every message, and removes
 * the channels whatever happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"

struct work {
	const struct transport *t;
	const struct rpc_ops *rops;
	size_t size;
	int np, nc; /* senders (clients) and receivers (servers) */
	uint64_t n; /* per sender */
	struct msgset m;
	struct chan *a, *b;
	struct rpc *r;
};

/* ---- one-way: np senders -> nc receivers on one channel ---- */

static int oneway_child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	const struct transport *t = w->t;
	int multi = w->np > 1 || w->nc > 1;
	struct msg_hdr h;
	unsigned char *buf;

	if (idx < w->np) { /* sender `idx` */
		if (t->attach(w->a, END_SEND, res->err, sizeof(res->err)) == -1)
			return -1;
		child_go(res);
		for (uint64_t seq = 0; seq < w->n; seq++)
			if (t->send(w->a, msg_make(&w->m, K_DATA, (unsigned)idx, seq), w->size) == -1)
				return child_fail(res, "send: %s", strerror(errno));
		/* Several receivers: each sender ends with one STOP, after all its
		 * data; a receiver stops at the first STOP it takes. */
		if (multi &&
		    t->send(w->a, msg_make(&w->m, K_STOP, (unsigned)idx, w->n), w->size) == -1)
			return child_fail(res, "send: %s", strerror(errno));
		return 0;
	}

	buf = buf_alloc(w->size);
	if (buf == NULL)
		return child_fail(res, "out of memory");
	if (t->attach(w->a, END_RECV, res->err, sizeof(res->err)) == -1)
		return -1;
	child_go(res);
	if (!multi) {
		for (uint64_t i = 0; i < w->n; i++) {
			const void *in = buf;
			ssize_t len = t->peek ? t->peek(w->a, &in) : t->recv(w->a, buf, w->size);

			if (len == -1)
				return child_fail(res, "recv: %s", strerror(errno));
			if (msg_check(&w->m, in, len, 1u << K_DATA, &h, res->err,
				      sizeof(res->err)) == -1)
				return -1;
			if (t->release && t->release(w->a) == -1)
				return child_fail(res, "release: %s", strerror(errno));
			if (h.seq != i || h.producer != 0)
				return child_fail(res, "expected message %llu, got %llu from %u",
						  (unsigned long long)i, (unsigned long long)h.seq,
						  h.producer);
			res->count[0]++;
			res->sum[0] += h.seq;
		}
	} else {
		int64_t last[MAX_PRODUCERS];

		for (int p = 0; p < MAX_PRODUCERS; p++)
			last[p] = -1;
		for (;;) {
			const void *in = buf;
			ssize_t len = t->peek ? t->peek(w->a, &in) : t->recv(w->a, buf, w->size);

			if (len == -1)
				return child_fail(res, "recv: %s", strerror(errno));
			if (msg_check(&w->m, in, len, 1u << K_DATA | 1u << K_STOP, &h, res->err,
				      sizeof(res->err)) == -1)
				return -1;
			if (t->release && t->release(w->a) == -1)
				return child_fail(res, "release: %s", strerror(errno));
			if (h.producer >= w->np)
				return child_fail(res, "message from sender %u of %d", h.producer,
						  w->np);
			if (h.kind == K_STOP)
				break;
			/* what one receiver gets from one sender keeps its order */
			if ((int64_t)h.seq <= last[h.producer] || h.seq >= w->n)
				return child_fail(res, "from sender %u: seq %llu after %lld",
						  h.producer, (unsigned long long)h.seq,
						  (long long)last[h.producer]);
			last[h.producer] = (int64_t)h.seq;
			res->count[h.producer]++;
			res->sum[h.producer] += h.seq;
		}
	}
	res->t_end = now_ns();
	buf_free(buf);
	return 0;
}

static int oneway_rep(void *arg, uint64_t n, struct rep_out *o)
{
	struct work *w = arg;
	struct run_result rr;
	int rc;

	w->n = n;
	w->a = w->t->create(w->size, o->err, sizeof(o->err));
	if (w->a == NULL)
		return -1;
	snprintf(o->config, sizeof(o->config), "%s", w->t->config(w->a));
	rc = run_children(w->np + w->nc, oneway_child, w, &rr);
	w->t->destroy(w->a);
	w->a = NULL;
	if (rc == -1) {
		snprintf(o->err, sizeof(o->err), "%s", rr.err);
		return -1;
	}
	/* every message of every sender arrived exactly once */
	for (int p = 0; p < w->np; p++) {
		uint64_t count = 0, sum = 0;

		for (int c = w->np; c < w->np + w->nc; c++) {
			count += rr.res[c].count[p];
			sum += rr.res[c].sum[p];
		}
		if (count != n || sum != n * (n - 1) / 2) {
			snprintf(o->err, sizeof(o->err),
				 "sender %d: %llu messages received of %llu (or some twice)", p,
				 (unsigned long long)count, (unsigned long long)n);
			return -1;
		}
	}
	o->wall_s = rr.wall_s;
	o->cpu_s = rr.cpu_s;
	o->ops = n * (uint64_t)w->np;
	return 0;
}

/* ---- round trip: ping on channel a, pong on channel b ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int rtt_child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	const struct transport *t = w->t;
	unsigned char *buf = buf_alloc(w->size);
	struct msg_hdr h;

	if (buf == NULL)
		return child_fail(res, "out of memory");
	if (t->attach(w->a, idx == 0 ? END_SEND : END_RECV, res->err, sizeof(res->err)) == -1 ||
	    t->attach(w->b, idx == 0 ? END_RECV : END_SEND, res->err, sizeof(res->err)) == -1)
		return -1;

	if (idx == 1) { /* echo every ping back */
		child_go(res);
		for (uint64_t i = 0; i < w->n; i++) {
			ssize_t len = t->recv(w->a, buf, w->size);

			if (len == -1)
				return child_fail(res, "recv: %s", strerror(errno));
			if (msg_check(&w->m, buf, len, 1u << K_DATA, &h, res->err,
				      sizeof(res->err)) == -1)
				return -1;
			if (h.seq != i)
				return child_fail(res, "ping %llu, expected %llu",
						  (unsigned long long)h.seq, (unsigned long long)i);
			if (t->send(w->b, buf, (size_t)len) == -1)
				return child_fail(res, "send: %s", strerror(errno));
		}
		return 0;
	}

	uint64_t *lat = malloc(sizeof(uint64_t) * w->n);

	if (lat == NULL)
		return child_fail(res, "out of memory");
	child_go(res);
	for (uint64_t i = 0; i < w->n; i++) {
		unsigned char *m = msg_make(&w->m, K_DATA, 0, i);
		uint64_t t0 = now_ns(), t1;
		ssize_t len;

		if (t->send(w->a, m, w->size) == -1)
			return child_fail(res, "send: %s", strerror(errno));
		len = t->recv(w->b, buf, w->size);
		t1 = now_ns();
		if (len == -1)
			return child_fail(res, "recv: %s", strerror(errno));
		if (msg_check(&w->m, buf, len, 1u << K_DATA, &h, res->err, sizeof(res->err)) == -1)
			return -1;
		if (h.seq != i)
			return child_fail(res, "pong %llu, expected %llu", (unsigned long long)h.seq,
					  (unsigned long long)i);
		lat[i] = t1 - t0;
	}
	res->t_end = now_ns();
	qsort(lat, w->n, sizeof(uint64_t), cmp_u64);
	res->p50_us = (double)lat[(w->n - 1) / 2] / 1e3;
	res->p99_us = (double)lat[(w->n * 99 + 99) / 100 - 1] / 1e3; /* ceil(0.99 n)-th */
	free(lat);
	buf_free(buf);
	return 0;
}

static int rtt_rep(void *arg, uint64_t n, struct rep_out *o)
{
	struct work *w = arg;
	struct run_result rr;
	int rc;

	w->n = n;
	w->a = w->t->create(w->size, o->err, sizeof(o->err));
	if (w->a == NULL)
		return -1;
	w->b = w->t->create(w->size, o->err, sizeof(o->err));
	if (w->b == NULL) {
		w->t->destroy(w->a);
		return -1;
	}
	snprintf(o->config, sizeof(o->config), "two channels: %s", w->t->config(w->a));
	rc = run_children(2, rtt_child, w, &rr);
	w->t->destroy(w->a);
	w->t->destroy(w->b);
	w->a = w->b = NULL;
	if (rc == -1) {
		snprintf(o->err, sizeof(o->err), "%s", rr.err);
		return -1;
	}
	o->wall_s = rr.wall_s;
	o->cpu_s = rr.cpu_s;
	o->ops = n;
	o->p50_us = rr.res[0].p50_us;
	o->p99_us = rr.res[0].p99_us;
	return 0;
}

/* ---- request/reply: np clients, one server ---- */

static int rpc_child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	const struct rpc_ops *ops = w->rops;
	unsigned char *buf = buf_alloc(w->size);
	struct msg_hdr h;

	if (buf == NULL)
		return child_fail(res, "out of memory");
	if (idx < w->np) { /* client `idx` */
		if (ops->attach(w->r, idx, res->err, sizeof(res->err)) == -1)
			return -1;
		child_go(res);
		for (uint64_t seq = 0; seq < w->n; seq++) {
			unsigned char *m = msg_make(&w->m, K_REQ, (unsigned)idx, seq);
			ssize_t len = ops->call(w->r, m, w->size, buf, w->size);

			if (len == -1)
				return child_fail(res, "call: %s", strerror(errno));
			if (msg_check(&w->m, buf, len, 1u << K_REP, &h, res->err,
				      sizeof(res->err)) == -1)
				return -1;
			if (h.producer != idx || h.seq != seq)
				return child_fail(res,
						  "client %d call %llu: reply to client %u call %llu",
						  idx, (unsigned long long)seq, h.producer,
						  (unsigned long long)h.seq);
		}
		res->t_end = now_ns();
		buf_free(buf);
		return 0;
	}

	uint64_t expect[MAX_PRODUCERS] = {0}, total = w->n * (uint64_t)w->np;

	if (ops->attach(w->r, -1, res->err, sizeof(res->err)) == -1)
		return -1;
	child_go(res);
	for (uint64_t i = 0; i < total; i++) {
		uint64_t from;
		ssize_t len = ops->accept(w->r, buf, w->size, &from);

		if (len == -1)
			return child_fail(res, "accept: %s", strerror(errno));
		if (msg_check(&w->m, buf, len, 1u << K_REQ, &h, res->err, sizeof(res->err)) == -1)
			return -1;
		if (h.producer >= w->np || h.seq != expect[h.producer])
			return child_fail(res, "request %llu from client %u, expected %llu",
					  (unsigned long long)h.seq, h.producer,
					  h.producer < w->np
						  ? (unsigned long long)expect[h.producer]
						  : 0ull);
		expect[h.producer]++;
		if (ops->reply(w->r, from, msg_make(&w->m, K_REP, h.producer, h.seq), w->size) ==
		    -1)
			return child_fail(res, "reply: %s", strerror(errno));
	}
	res->t_end = now_ns();
	buf_free(buf);
	return 0;
}

static int rpc_rep(void *arg, uint64_t n, struct rep_out *o)
{
	struct work *w = arg;
	struct run_result rr;
	int rc;

	w->n = n;
	w->r = w->rops->create(w->rops, w->np, w->size, o->err, sizeof(o->err));
	if (w->r == NULL)
		return -1;
	snprintf(o->config, sizeof(o->config), "%s", w->rops->config(w->r));
	rc = run_children(w->np + 1, rpc_child, w, &rr);
	w->rops->destroy(w->r);
	w->r = NULL;
	if (rc == -1) {
		snprintf(o->err, sizeof(o->err), "%s", rr.err);
		return -1;
	}
	o->wall_s = rr.wall_s;
	o->cpu_s = rr.cpu_s;
	o->ops = n * (uint64_t)w->np;
	return 0;
}

/* ---- the figures ---- */

static void set_na(struct figure *f, const char *fmt, const char *why)
{
	f->status = FIG_NA;
	snprintf(f->note, sizeof(f->note), fmt, why);
}

/* 1 (and the figure n/a, saying why) if e's transport cannot carry it. */
static int not_applicable(const struct fig_entry *e, enum fig_kind kind, size_t size, int multi)
{
	const struct transport *t = e->t;
	char why[100];

	if (kind == FK_RPC && (e->rpc == NULL || e->rpc->unavailable != NULL)) {
		set_na(e->f, "%s", e->rpc ? e->rpc->unavailable : "n/a");
		return 1;
	}
	if (t->max_msg != NULL && size > t->max_msg(why, sizeof(why))) {
		set_na(e->f, "%s", why);
		return 1;
	}
	if (kind == FK_ONEWAY && multi && t->no_multi != NULL) {
		set_na(e->f, "n/a (%s)", t->no_multi);
		return 1;
	}
	return 0;
}

/* The first guess at the operations of one repetition. */
static uint64_t first_n(enum fig_kind kind, size_t size)
{
	if (kind != FK_ONEWAY)
		return 500;
	return size >= 65536 ? 200 : size >= 4096 ? 1000 : 2000;
}

static const rep_fn rep_of[] = {
	[FK_RTT] = rtt_rep,
	[FK_ONEWAY] = oneway_rep,
	[FK_RPC] = rpc_rep,
};

/* e's work and series for the figure; its messages made if it takes part
 * (else the figure says n/a or FAILED). */
static void prepare(const struct fig_entry *e, enum fig_kind kind, size_t size, int np, int nc,
		    struct work *w, struct series *s)
{
	memset(e->f, 0, sizeof(*e->f));
	*w = (struct work){.t = e->t, .rops = e->rpc, .size = size, .np = np, .nc = nc};
	*s = (struct series){.fn = rep_of[kind], .arg = w, .n0 = first_n(kind, size), .f = e->f};
	if (not_applicable(e, kind, size, np > 1 || nc > 1))
		return;
	if (msgset_init(&w->m, size) == -1) {
		e->f->status = FIG_FAIL;
		snprintf(e->f->note, sizeof(e->f->note), "FAILED: out of memory");
	}
}

void fig_run(const struct fig_spec *spec, int nspec, struct fig_entry *e, int ne)
{
	struct work w[FIG_MAX_TOGETHER * FIG_MAX_ENTRIES];
	struct series s[FIG_MAX_TOGETHER * FIG_MAX_ENTRIES];
	int ns = 0, n = ne < FIG_MAX_ENTRIES ? ne : FIG_MAX_ENTRIES;

	if (nspec > FIG_MAX_TOGETHER)
		nspec = FIG_MAX_TOGETHER;
	/* Transport by transport: a transport's series in the figures form a
	 * group, which measure_interleaved runs one after the other. */
	for (int i = 0; i < n; i++)
		for (int k = 0; k < nspec; k++, ns++)
			prepare(&e[k * ne + i], spec[k].kind, spec[k].size, spec[k].np, spec[k].nc,
				&w[ns], &s[ns]);
	measure_interleaved(s, ns, nspec);
	for (int i = 0; i < ns; i++)
		msgset_free(&w[i].m); /* nothing to free if it did not take part */
}
