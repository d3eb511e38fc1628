/*
 * shmbox-bench: what its files share.  The transports behind one small
 * interface (t_*.c), messages that check themselves, forked processes
 * started together and their CPU time, and repetitions with medians
 * (measure.c); the workloads (work.c).  README.md says what is measured.
 *
 * Only <shmbox.h> of the project is used, so that the program can be run
 * against another build of the library (LD_LIBRARY_PATH).
 */
#ifndef SHMBOX_BENCH_H
#define SHMBOX_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- transports ----
 * A channel carries messages of one fixed size from senders to receivers.
 * The parent makes it before fork(); each child then attaches to it where
 * the transport needs that (a shmbox child opens its own handle: handles do
 * not cross fork); the parent removes it when every child has gone, also
 * on error.  (Children keep the ends they do not use: when one fails, the
 * parent kills the others, so none waits for an end-of-file.)
 *
 * Every buffer handed to send and recv has BENCH_HEADROOM writable bytes
 * before it, so a transport that needs a prefix (the mtype of a SysV
 * message) can put it there instead of copying the message.
 *
 * create() writes the configuration it got into msg, or why it failed. */
#define BENCH_HEADROOM 64

struct chan;

struct transport {
	const char *name;
	size_t (*max_msg)(void); /* the largest message; NULL: no limit */
	/* set: several senders and receivers cannot share a channel, and why */
	const char *no_multi;
	struct chan *(*create)(size_t size, char *msg, size_t len);
	/* child, after fork; NULL: the channel came with fork */
	int (*attach)(struct chan *c, char *err, size_t len);
	int (*send)(struct chan *c, void *msg, size_t len);	     /* 0 / -1 errno */
	ssize_t (*recv)(struct chan *c, void *buf, size_t size); /* len / -1 errno */
	/* optional, zero copy: the next message in place (len / -1 errno), and
	   letting it go once it has been checked */
	ssize_t (*peek)(struct chan *c, const void **msg);
	int (*release)(struct chan *c);
	void (*destroy)(struct chan *c);
	/* Request/reply of its own, how it goes, over one channel or one per
	 * client; without call, RPC_GENERIC (work.c).  A client calls on its
	 * channel; the server takes the next request from any of the n and
	 * answers on the channel `from` says. */
	const char *rpc_how;
	bool rpc_per_client;
	ssize_t (*call)(struct chan *c, void *req, size_t len, void *rep, size_t size);
	ssize_t (*accept)(struct chan *const *c, int n, void *buf, size_t size, uint64_t *from);
	int (*reply)(struct chan *const *c, uint64_t from, void *rep, size_t len);
};
#define RPC_GENERIC "one request channel shared by the clients, one reply channel per client"

/* t_boostmq: Boost.Interprocess's message_queue (t_boostmq.cc, C++) if
 * configure found Boost; else a row that reads NOT_BUILT (create NULL). */
extern const struct transport t_shmbox, t_shmbox_zc, t_pipe, t_unix_seqpacket, t_unix_stream,
	t_posixmq, t_sysvmsg, t_boostmq;
#define NOT_BUILT "not built (libboost-dev not installed)"

/* A number from /proc/sys, or fallback. */
long read_proc_long(const char *path, long fallback);
/* The buffer every queue in shared memory gets: as much as the pipe's,
 * pipe-max-size bytes, and at least 64 messages. */
size_t queue_depth(size_t msg_size);

/* ---- messages ----
 * Every message starts with this header; the rest is one of NVAR random
 * payloads, chosen by the sequence number, whose checksum is known in
 * advance.  The receiver checks the header against what it expects and
 * recomputes the checksum of the whole payload.  Three payloads, so that a
 * stale slot (one lap back: no ring size used is a multiple of three) or a
 * message torn between two neighbours never checks out. */
#define NVAR 3
#define MAX_PRODUCERS 8
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

int msgset_init(struct msgset *m, size_t size); /* in the parent, before fork */
void msgset_free(struct msgset *m);
/* Stamp the header of the payload for (kind, seq) in place; the message. */
unsigned char *msg_make(struct msgset *m, unsigned kind, unsigned producer, uint64_t seq);
/* Check a received message: magic, kind (any of kinds, a bit mask of
 * 1 << kind), length, variant for its sequence number, checksum.  0, or -1
 * with err filled.  *h gets the header. */
int msg_check(const struct msgset *m, const void *buf, ssize_t len, unsigned kinds,
	      struct msg_hdr *h, char *err, size_t errlen);
/* A buffer of size bytes with BENCH_HEADROOM bytes before it. */
unsigned char *buf_alloc(size_t size);
void buf_free(unsigned char *p);
uint64_t now_ns(void);

/* ---- processes ---- */
#define MAX_CHILDREN 16

/* What a child reports to the parent (in shared memory). */
struct child_res {
	uint64_t t_start, t_end; /* CLOCK_MONOTONIC ns; t_end 0: not a finisher */
	uint64_t count[MAX_PRODUCERS], sum[MAX_PRODUCERS];
	double p50_us, p99_us;
	int started;
	char err[300];
};
/* Child body: attach, then child_go(), then work; 0 or -1 (err set). */
typedef int (*child_fn)(int idx, void *arg, struct child_res *res);
/* Tell the parent this child is ready, wait until all are, note the start. */
void child_go(struct child_res *res);
int child_fail(struct child_res *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct run_result {
	double wall_s;	       /* first start to last end */
	double cpu_s;	       /* user + system of every child (wait4) */
	struct child_res *res; /* per child; valid until the next run */
	char err[400];
};
/* Fork n children running fn, start them together, reap them all: 0, or
 * -1 with rr->err (a child failed, was killed, or timed out). */
int run_children(int n, child_fn fn, void *arg, struct run_result *rr);

/* Where run_children puts its children: anywhere, child i on the i-th
 * allowed CPU, or all on the first; and what runs alongside, fresh for each
 * repetition: nothing, one CPU-bound process per CPU, or one on the first
 * CPU. */
enum { PIN_NONE, PIN_SPREAD, PIN_ONE };
enum { LOAD_NONE, LOAD_PER_CPU, LOAD_ONE_CPU };
extern int g_pin, g_load;
extern volatile sig_atomic_t g_interrupted;
void measure_init(void); /* the children's shared results; SIGINT and the like */

/* ---- figures and their repetitions ---- */
enum fig_status { FIG_NONE = 0, FIG_OK, FIG_NA, FIG_FAIL };
/* One transport's result in one figure. */
struct result {
	enum fig_status status;
	char note[680]; /* n/a reason or error */
	char config[640];
	int reps;
	uint64_t n;			 /* operations in the last repetition */
	double rate, rate_min, rate_max; /* operations/s: median, min, max */
	double cpu_us;			 /* CPU per operation, median */
	double p50_us, p99_us;		 /* medians */
};

enum work_kind {
	W_RTT,	  /* round trips between 2 processes over two channels */
	W_ONEWAY, /* np senders -> nc receivers on one channel */
	W_RPC,	  /* np clients calling one server */
};
#define MAX_REPS 64
/* One transport's part in one figure: what it runs, and its repetitions. */
struct work {
	const struct transport *t;
	enum work_kind kind;
	size_t size;
	int np, nc;
	struct result *r; /* status FIG_NONE: takes part */
	uint64_t n0;	  /* first guess at n */
	/* one repetition's */
	uint64_t n; /* operations per sender */
	struct msgset m;
	struct chan *ch[1 + MAX_PRODUCERS];
	int nch;
	/* the repetitions so far */
	int done;
	double rate[MAX_REPS], cpu[MAX_REPS], p50[MAX_REPS], p99[MAX_REPS];
};
/* Make w ready to measure into r; or r n/a or failed, saying why (work.c). */
void work_init(struct work *w, struct result *r);
struct rep_out {
	double wall_s, cpu_s;
	uint64_t ops;	       /* messages, round trips or calls carried */
	double p50_us, p99_us; /* round trips only */
	char msg[640];	       /* the configuration used, or why it failed */
};
/* One repetition with n operations per sender: 0, or -1 (work.c). */
int work_rep(struct work *w, uint64_t n, struct rep_out *o);

extern int g_reps;
extern double g_rep_s;
/* The repetitions of several transports, taking turns (measure.c):
 * calibrate n for every one taking part, so that a repetition takes about
 * g_rep_s, then g_reps rounds of one repetition each, a different group of
 * `group` works (one transport's) first in each round; the medians into
 * their results.  One that fails stops only itself; an interrupt stops
 * them all.  Frees the messages. */
void measure_interleaved(struct work *w, int nw, int group);

#endif
