/*
 * shmbox-bench: the messages and the workloads.  Each repetition makes
 * fresh channels, forks the processes, starts them together, checks every
 * message, and removes the channels whatever happened.  Request/reply
 * without a transport's own (t->call) is RPC_GENERIC: the server learns
 * who asked from the request's header.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- messages ----
 * This header, then one of NVAR random payloads, chosen by the sequence
 * number, whose checksum is known in advance.  Three, so that a stale slot
 * (one lap back: no ring size used is a multiple of three) or a message
 * torn between two neighbours never checks out. */
#define NVAR 3
#define MSG_MAGIC 0x53424d42u /* "SBMB" */
enum { K_DATA = 1, K_STOP = 2, K_REQ = 3, K_REP = 4 };

struct msg_hdr {
	uint32_t magic;
	uint16_t kind;
	uint16_t producer; /* sender number (client number for requests and replies) */
	uint32_t len;	   /* whole message */
	uint32_t variant;  /* which payload */
	uint64_t seq;
	uint64_t check; /* checksum of the payload */
};

struct msgset {
	size_t size;
	unsigned char *var[NVAR]; /* whole messages, with headroom */
	uint64_t sum[NVAR];
};

/* The receivers' checksum of every payload.  It runs once per message in
 * every transport's receiver, so its cost is added to every figure alike;
 * a slow check would hide the differences the bench is there to show.  A
 * Fletcher-style sum over 64-bit words in eight lanes (two 32-byte
 * vectors): it sees every byte and where each word is.  The AVX2 build is
 * chosen at load time where the CPU has it; both compute the same value. */
typedef uint64_t v4u64 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static uint64_t payload_sum(const void *p, size_t n)
{
	const unsigned char *s = p;
	v4u64 a0 = {1, 2, 3, 4}, a1 = {5, 6, 7, 8}, b0 = {0, 0, 0, 0}, b1 = {0, 0, 0, 0};
	uint64_t r;
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		v4u64 w0, w1;

		memcpy(&w0, s + i, 32);
		memcpy(&w1, s + i + 32, 32);
		a0 += w0;
		a1 += w1;
		b0 += a0;
		b1 += a1;
	}
	if (i + 32 <= n) { /* a 64 B message has 32 B of payload: keep it short */
		v4u64 w;

		memcpy(&w, s + i, 32);
		a0 += w;
		b0 += a0;
		i += 32;
	}
	/* Lanes folded with distinct small factors: independent multiplies,
	 * not a chain, so a short message's check stays short. */
	r = a0[0] + 3 * a0[1] + 5 * a0[2] + 7 * a0[3] + 9 * a1[0] + 11 * a1[1] + 13 * a1[2] +
	    15 * a1[3];
	r ^= (b0[0] + 17 * b0[1] + 19 * b0[2] + 23 * b0[3] + 29 * b1[0] + 31 * b1[1] +
	      37 * b1[2] + 41 * b1[3]) *
	     0x9e3779b97f4a7c15ull;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		r = (r ^ w) * 0x100000001b3ull;
	}
	for (; i < n; i++)
		r = (r ^ s[i]) * 0x100000001b3ull;
	return r ^ n;
}

/* size bytes on a 64-byte boundary, with BENCH_HEADROOM bytes before them */
static unsigned char *buf_alloc(size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, BENCH_HEADROOM + size) != 0)
		return NULL;
	memset(p, 0, BENCH_HEADROOM + size);
	return (unsigned char *)p + BENCH_HEADROOM;
}

/* The payloads of one size, made once, before any fork; NULL: no memory. */
static struct msgset *msgset_of(size_t size)
{
	static struct msgset sets[8]; /* one per message size the figures use */
	struct msgset *m = NULL;

	for (int i = 0; i < 8 && m == NULL; i++)
		if (sets[i].size == size || sets[i].size == 0)
			m = &sets[i];
	if (m == NULL || m->size == size)
		return m;
	for (int v = 0; v < NVAR; v++) {
		uint64_t x = 0x2545f4914f6cdd1dull ^ (size * 0x9e3779b97f4a7c15ull) ^ (uint64_t)v;

		if (m->var[v] == NULL && (m->var[v] = buf_alloc(size)) == NULL)
			return NULL;
		for (size_t i = sizeof(struct msg_hdr); i < size; i++) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			m->var[v][i] = (unsigned char)((x * 0x2545f4914f6cdd1dull) >> 56);
		}
		m->sum[v] = payload_sum(m->var[v] + sizeof(struct msg_hdr),
					size - sizeof(struct msg_hdr));
	}
	m->size = size;
	return m;
}

static unsigned variant_of(unsigned kind, uint64_t seq)
{
	return (unsigned)((seq + (kind == K_REP)) % NVAR); /* a reply never equals its request */
}

/* The payload for (kind, seq) with its header stamped in place. */
static unsigned char *msg_make(struct msgset *m, unsigned kind, unsigned producer, uint64_t seq)
{
	unsigned v = variant_of(kind, seq);
	struct msg_hdr h = {
		.magic = MSG_MAGIC,
		.kind = (uint16_t)kind,
		.producer = (uint16_t)producer,
		.len = (uint32_t)m->size,
		.variant = v,
		.seq = seq,
		.check = m->sum[v],
	};

	memcpy(m->var[v], &h, sizeof(h));
	return m->var[v];
}

/* What `call` returned (a length, or -1 and errno), checked: length, magic,
 * kind (any of kinds, a mask of 1 << kind), variant for the sequence number,
 * checksum.  0 and the header in *h, or -1. */
static int check(const struct work *w, const char *call, const void *buf, ssize_t len,
		 unsigned kinds, struct msg_hdr *h, struct child_res *res)
{
	const struct msgset *m = w->m;

	if (len == -1)
		return child_fail(res, "%s: %s", call, strerror(errno));
	if (len != (ssize_t)m->size)
		return child_fail(res, "received %zd bytes, expected %zu", len, m->size);
	memcpy(h, buf, sizeof(*h));
	if (h->magic != MSG_MAGIC || h->len != m->size || h->kind >= 32 ||
	    !(kinds & (1u << h->kind)))
		return child_fail(res, "bad header (magic %#x kind %u len %u)", h->magic, h->kind,
				  h->len);
	if (h->variant != variant_of(h->kind, h->seq) || h->check != m->sum[h->variant])
		return child_fail(res, "seq %llu: wrong payload variant or checksum in header",
				  (unsigned long long)h->seq);
	if (payload_sum((const unsigned char *)buf + sizeof(*h), m->size - sizeof(*h)) != h->check)
		return child_fail(res, "seq %llu from %u: payload checksum mismatch",
				  (unsigned long long)h->seq, h->producer);
	return 0;
}

static int give(struct work *w, struct chan *c, void *msg, struct child_res *res)
{
	return w->t->send(c, msg, w->size) == -1 ? child_fail(res, "send: %s", strerror(errno)) : 0;
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
 * its order, and the parent checks that every message arrived once.  The
 * receivers take messages in place where the transport can (zero copy). */
static int oneway(struct work *w, int idx, unsigned char *buf, struct child_res *res)
{
	const struct transport *t = w->t;
	uint64_t next[MAX_PRODUCERS] = {0}; /* the lowest seq each sender may send next */
	struct msg_hdr h;

	child_go(res);
	if (idx < w->np) {
		for (uint64_t seq = 0; seq < w->n; seq++)
			if (give(w, w->ch[0], msg_make(w->m, K_DATA, (unsigned)idx, seq), res) == -1)
				return -1;
		return give(w, w->ch[0], msg_make(w->m, K_STOP, (unsigned)idx, w->n), res);
	}
	for (;;) {
		const void *in = buf;
		ssize_t len = t->peek ? t->peek(w->ch[0], &in) : t->recv(w->ch[0], buf, w->size);

		if (check(w, "recv", in, len, 1u << K_DATA | 1u << K_STOP, &h, res) == -1)
			return -1;
		if (t->release && t->release(w->ch[0]) == -1)
			return child_fail(res, "release: %s", strerror(errno));
		if (h.producer >= w->np)
			return child_fail(res, "message from sender %u of %d", h.producer, w->np);
		if (h.kind == K_STOP)
			break;
		if (h.seq < next[h.producer] || h.seq >= w->n)
			return child_fail(res, "from sender %u: seq %llu after %lld",
					  h.producer, (unsigned long long)h.seq,
					  (long long)next[h.producer] - 1);
		next[h.producer] = h.seq + 1;
		res->count[h.producer]++;
		res->sum[h.producer] += h.seq;
	}
	res->t_end = now_ns();
	return 0;
}

/* Every message of every sender arrived exactly once: 0, or -1. */
static int all_arrived(const struct work *w, struct run_result *rr)
{
	for (int p = 0; p < w->np; p++) {
		uint64_t count = 0, sum = 0;

		for (int c = w->np; c < w->np + w->nc; c++) {
			count += rr->res[c].count[p];
			sum += rr->res[c].sum[p];
		}
		if (count != w->n || sum != w->n * (w->n - 1) / 2) {
			snprintf(rr->err, sizeof(rr->err),
				 "sender %d: %llu messages received of %llu (or some twice)", p,
				 (unsigned long long)count, (unsigned long long)w->n);
			return -1;
		}
	}
	return 0;
}

/* ---- round trip: ping on channel 0, pong on channel 1 ---- */

/* p50 and p99 of n latencies in ns, into res in us; sorts lat. */
static void percentiles(double *lat, uint64_t n, struct child_res *res)
{
	qsort(lat, n, sizeof(double), cmp_double);
	res->p50_us = lat[(n - 1) / 2] / 1e3;
	res->p99_us = lat[(n * 99 + 99) / 100 - 1] / 1e3; /* ceil(0.99 n)-th */
}


static int echo(struct work *w, unsigned char *buf, struct child_res *res)
{
	struct msg_hdr h;

	child_go(res);
	for (uint64_t i = 0; i < w->n; i++) {
		ssize_t len = w->t->recv(w->ch[0], buf, w->size);

		if (check(w, "recv", buf, len, 1u << K_DATA, &h, res) == -1 ||
		    expect(res, "ping", h.seq, i) == -1 || give(w, w->ch[1], buf, res) == -1)
			return -1;
	}
	return 0;
}

/* Every round trip timed, from the send to the reply's arrival (not its
 * check); their p50 and p99 into res. */
static int ping(struct work *w, unsigned char *buf, struct child_res *res)
{
	double *lat = malloc(sizeof(double) * w->n);
	struct msg_hdr h;

	if (lat == NULL)
		return child_fail(res, "out of memory");
	child_go(res);
	for (uint64_t i = 0; i < w->n; i++) {
		uint64_t t0 = now_ns();
		ssize_t len;

		if (give(w, w->ch[0], msg_make(w->m, K_DATA, 0, i), res) == -1)
			return -1;
		len = w->t->recv(w->ch[1], buf, w->size);
		lat[i] = (double)(now_ns() - t0);
		if (check(w, "recv", buf, len, 1u << K_DATA, &h, res) == -1 ||
		    expect(res, "pong", h.seq, i) == -1)
			return -1;
	}
	res->t_end = now_ns();
	percentiles(lat, w->n, res);
	free(lat);
	return 0;
}

/* ---- request/reply: np clients, one server ---- */

/* A timed figure's client times every call, from the request's send to the
 * reply's arrival (not its check). */
static int client(struct work *w, int idx, unsigned char *buf, struct child_res *res)
{
	const struct transport *t = w->t;
	double *lat = w->timed ? malloc(sizeof(double) * w->n) : NULL;
	struct msg_hdr h;

	if (w->timed && lat == NULL)
		return child_fail(res, "out of memory");
	child_go(res);
	for (uint64_t seq = 0; seq < w->n; seq++) {
		unsigned char *req = msg_make(w->m, K_REQ, (unsigned)idx, seq);
		uint64_t t0 = lat != NULL ? now_ns() : 0;
		ssize_t len;

		if (t->call != NULL)
			len = t->call(w->ch[t->rpc_per_client ? idx : 0], req, w->size, buf, w->size);
		else if (give(w, w->ch[0], req, res) == -1)
			return -1;
		else
			len = t->recv(w->ch[1 + idx], buf, w->size);
		if (lat != NULL)
			lat[seq] = (double)(now_ns() - t0);
		if (check(w, t->call ? "call" : "recv", buf, len, 1u << K_REP, &h, res) == -1)
			return -1;
		if (h.producer != idx || h.seq != seq)
			return child_fail(res, "client %d call %llu: reply to client %u call %llu",
					  idx, (unsigned long long)seq, h.producer,
					  (unsigned long long)h.seq);
	}
	if (lat != NULL) {
		res->t_end = now_ns();
		percentiles(lat, w->n, res);
		free(lat);
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
		ssize_t len = t->call ? t->accept(w->ch, w->nch, buf, w->size, &from)
				      : t->recv(w->ch[0], buf, w->size);
		unsigned char *rep;

		if (check(w, t->call ? "accept" : "recv", buf, len, 1u << K_REQ, &h, res) == -1)
			return -1;
		if (h.producer >= w->np || h.seq != expected[h.producer])
			return child_fail(res, "request %llu from client %u, out of order",
					  (unsigned long long)h.seq, h.producer);
		expected[h.producer]++;
		rep = msg_make(w->m, K_REP, h.producer, h.seq);
		if (t->call == NULL && give(w, w->ch[1 + h.producer], rep, res) == -1)
			return -1;
		if (t->call != NULL && t->reply(w->ch, from, rep, w->size) == -1)
			return child_fail(res, "reply: %s", strerror(errno));
	}
	return 0;
}

/* ---- repetitions ---- */

/* What process idx does with channel j (ROLE_*; 0: nothing). */
static unsigned role_of(const struct work *w, int idx, int j)
{
	const struct transport *t = w->t;
	bool sender = idx < w->np; /* or client */

	switch (w->kind) {
	case W_ONEWAY: return sender ? ROLE_SEND : ROLE_RECV;
	case W_RTT: return (idx == 0) == (j == 0) ? ROLE_SEND : ROLE_RECV;
	case W_RPC: break;
	}
	if (t->call != NULL)
		return !sender ? ROLE_SERVE : !t->rpc_per_client || j == idx ? ROLE_CALL : 0;
	if (j == 0) /* RPC_GENERIC: the requests, then a reply channel per client */
		return sender ? ROLE_SEND : ROLE_RECV;
	return !sender ? ROLE_SEND : j == 1 + idx ? ROLE_RECV : 0;
}

static int work(struct work *w, int idx, unsigned char *buf, struct child_res *res)
{
	if (w->kind == W_ONEWAY)
		return oneway(w, idx, buf, res);
	if (w->kind == W_RTT)
		return idx == 0 ? ping(w, buf, res) : echo(w, buf, res);
	if ((idx < w->np ? client(w, idx, buf, res) : server(w, buf, res)) == -1)
		return -1;
	if (res->t_end == 0)
		res->t_end = now_ns();
	return 0;
}

/* A child's body; it ends with the work, so its buffer is never freed. */
static int child(int idx, void *arg, struct child_res *res)
{
	struct work *w = arg;
	unsigned char *buf = buf_alloc(w->size);

	if (buf == NULL)
		return child_fail(res, "out of memory");
	if (w->kind == W_RTT && idx == 1 && w->t->echo != NULL)
		w->t = w->t->echo; /* this process's copy of w: every child is a fork */
	for (int j = 0; j < w->nch && w->t->attach; j++)
		if (w->t->attach(w->ch[j], role_of(w, idx, j), res->err, sizeof(res->err)) == -1)
			return -1;
	if (work(w, idx, buf, res) == -1)
		return -1;
	for (int j = 0; j < w->nch && w->t->detach; j++)
		w->t->detach(w->ch[j]);
	return 0;
}

/* Fresh channels (nch: those made): 0 and how in cfg, or -1 and why. */
static int open_channels(struct work *w, char *cfg, size_t len)
{
	int n = 1 + w->np; /* request/reply: RPC_GENERIC */

	if (w->kind != W_RPC)
		n = w->kind == W_RTT ? 2 : 1;
	else if (w->t->call != NULL)
		n = w->t->rpc_per_client ? w->np : 1;
	for (w->nch = 0; w->nch < n; w->nch++)
		if ((w->ch[w->nch] = w->t->create(w->size, cfg, len)) == NULL)
			return -1;
	return 0;
}

static void close_channels(struct work *w)
{
	for (int j = 0; j < w->nch; j++)
		w->t->destroy(w->ch[j]);
	w->nch = 0;
}

/* The CPU time of the processes the channels run themselves: 0, or -1
 * and why in err. */
static int helpers_cpu(struct work *w, double *cpu_s, char *err, size_t len)
{
	*cpu_s = 0;
	for (int j = 0; j < w->nch && w->t->helpers; j++) {
		double s;

		if (w->t->helpers(w->ch[j], &s, err, len) == -1)
			return -1;
		*cpu_s += s;
	}
	return 0;
}

int work_rep(struct work *w, struct run_result *rr)
{
	char cfg[480];
	double before = 0, after = 0;
	int rc = open_channels(w, cfg, sizeof(cfg));

	if (rc == 0)
		rc = helpers_cpu(w, &before, cfg, sizeof(cfg));
	if (rc == 0)
		rc = run_children(w->np + w->nc, child, w, rr);
	else
		snprintf(rr->err, sizeof(rr->err), "%s", cfg);
	/* a helper that died explains a run that failed or hung */
	if (w->nch > 0 && helpers_cpu(w, &after, cfg, sizeof(cfg)) == -1) {
		snprintf(rr->err, sizeof(rr->err), "%s", cfg);
		rc = -1;
	}
	close_channels(w);
	if (rc == -1 || (w->kind == W_ONEWAY && all_arrived(w, rr) == -1))
		return -1;
	rr->cpu_s += after - before;
	snprintf(w->config, sizeof(w->config), "%s%s%s",
		 w->kind == W_RTT   ? "two channels"
		 : w->kind == W_RPC ? (w->t->call ? w->t->rpc_how : RPC_GENERIC)
				    : "",
		 w->kind == W_ONEWAY ? "" : "; ", cfg);
	return 0;
}

void work_init(struct work *w)
{
	size_t max = w->t->max_msg ? w->t->max_msg() : 0;
	const char *why = NULL;

	w->n = w->kind != W_ONEWAY ? 500 : w->size >= 65536 ? 200 : w->size >= 4096 ? 1000 : 2000;
	w->status = FIG_NA;
	if (w->t->create == NULL)
		snprintf(w->note, sizeof(w->note), "n/a, %s",
			 w->t->not_built ? w->t->not_built : NOT_BUILT);
	else if (w->t->unavailable != NULL && (why = w->t->unavailable()) != NULL)
		snprintf(w->note, sizeof(w->note), "n/a (%s)", why);
	else if (max != 0 && w->size > max && max % 1024 == 0)
		snprintf(w->note, sizeof(w->note), "n/a (%zu KiB max)", max / 1024);
	else if (max != 0 && w->size > max)
		snprintf(w->note, sizeof(w->note), "n/a (%zu B max)", max);
	else if (w->kind != W_RTT && w->t->echo != NULL)
		snprintf(w->note, sizeof(w->note), "n/a (round trips only)");
	else if (w->kind == W_ONEWAY && w->np > 1 && w->t->no_multi != NULL)
		snprintf(w->note, sizeof(w->note), "n/a (%s)", w->t->no_multi);
	else
		w->status = (w->m = msgset_of(w->size)) != NULL ? FIG_NONE : FIG_FAIL;
	if (w->status == FIG_FAIL)
		snprintf(w->note, sizeof(w->note), "FAILED: out of memory");
}
