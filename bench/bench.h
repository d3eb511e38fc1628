/*
 * shmbox-bench: what its files share.  Only <shmbox.h> of the project is
 * used, so that the program can be run against another build of the
 * library (LD_LIBRARY_PATH).
 */
#ifndef SHMBOX_BENCH_H
#define SHMBOX_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- transports ----
 * A channel carries messages of one fixed size.  The parent makes it
 * before fork() (create() says how, or why not, in msg) and removes it
 * when every child has gone; a child attaches where the transport needs it
 * (shmbox handles do not cross fork).  Children keep the ends they do not
 * use: when one fails, the parent kills the others.  Children have no
 * signal handlers, so their calls never fail with EINTR.  Every buffer
 * handed to send and recv has BENCH_HEADROOM writable bytes before it, so
 * a prefix (a SysV message's mtype) needs no copy of the message. */
#define BENCH_HEADROOM 64

struct chan;

/* What a process does with a channel, told to attach: a transport that
 * connects (ZeroMQ) binds where messages arrive and connects where they
 * leave.  A process may send on one channel and receive on another. */
enum { ROLE_SEND = 1, ROLE_RECV = 2, ROLE_CALL = 4, ROLE_SERVE = 8 };

struct transport {
	const char *name;
	size_t (*max_msg)(void); /* the largest message; NULL: no limit */
	const char *no_multi;	 /* why senders or receivers cannot share a channel */
	struct chan *(*create)(size_t size, char *msg, size_t len);
	/* in the child, before it starts; optional */
	int (*attach)(struct chan *c, unsigned role, char *err, size_t len);
	int (*send)(struct chan *c, void *msg, size_t len);	     /* 0 / -1 errno */
	ssize_t (*recv)(struct chan *c, void *buf, size_t size); /* len / -1 errno */
	/* optional, zero copy: the next message in place, and letting it go */
	ssize_t (*peek)(struct chan *c, const void **msg);
	int (*release)(struct chan *c);
	void (*destroy)(struct chan *c);
	/* Request/reply of its own, over one channel or one per client (else
	 * RPC_GENERIC, work.c): the server takes the next request from any of
	 * the n channels and answers where `from` says. */
	const char *rpc_how;
	bool rpc_per_client;
	ssize_t (*call)(struct chan *c, void *req, size_t len, void *rep, size_t size);
	ssize_t (*accept)(struct chan *const *c, int n, void *buf, size_t size, uint64_t *from);
	int (*reply)(struct chan *const *c, uint64_t from, void *rep, size_t len);
	/* Round trips only (the other figures n/a), the echoing process using
	 * this transport on the same channels (shmbox-poll1: plain shmbox). */
	const struct transport *echo;
	/* In the child after its work, optional: what it sent is on its way
	 * (ZeroMQ sends from a thread of its own, which _exit would kill). */
	void (*detach)(struct chan *c);
	/* Processes a channel runs itself (the bridges), optional: the CPU
	 * time they have used so far, counted in the figure's; 0, or -1 and
	 * why in err if one of them has died. */
	int (*helpers)(struct chan *c, double *cpu_s, char *err, size_t len);
	/* Without create: why (default NOT_BUILT).  With it, optional: why
	 * the transport cannot run here (NULL: it can); asked once per figure. */
	const char *not_built;
	const char *(*unavailable)(void);
};
#define RPC_GENERIC "one request channel shared by the clients, one reply channel per client"

/* Without Boost (ZeroMQ), bench.c has a t_boostmq (t_zmq, t_zmq_curve)
 * without create, which reads NOT_BUILT (its not_built). */
extern const struct transport t_shmbox, t_shmbox_zc, t_shmbox_poll, t_shmbox_poll1, t_pipe,
	t_unix_seqpacket, t_unix_stream, t_posixmq, t_sysvmsg, t_boostmq, t_zmq, t_zmq_curve,
	t_bridge, t_bridge_curve;
#define NOT_BUILT "not built (libboost-dev not installed)"

/* A mailbox of `slots` slots of `size` bytes on a fresh mkstemp key file
 * (t_shmbox.c; shared with the bridges' mailboxes): the creator's handle,
 * the key file's path in path; NULL and why in msg. */
#include <limits.h>
struct shmbox;
struct shmbox *bench_box_create(size_t slots, size_t size, int proj, char *path,
				char *msg, size_t len);

long read_proc_long(const char *path, long fallback); /* a number from /proc/sys */
/* The depth of a queue in shared memory: as many bytes as the pipe gets,
 * pipe-max-size, and at least 64 messages. */
size_t queue_depth(size_t msg_size);
uint64_t now_ns(void);
int cmp_double(const void *a, const void *b); /* for qsort */

/* ---- processes ---- */
#define MAX_PRODUCERS 8

/* What a child reports to the parent (in shared memory). */
struct child_res {
	uint64_t t_start, t_end; /* CLOCK_MONOTONIC ns; t_end 0: not a finisher */
	uint64_t count[MAX_PRODUCERS], sum[MAX_PRODUCERS];
	double p50_us, p99_us;
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
	char err[640];
};
/* Fork n children running fn, start them together, reap them all: 0, or
 * -1 with rr->err (a child failed, was killed, or timed out). */
int run_children(int n, child_fn fn, void *arg, struct run_result *rr);

/* Where run_children puts its children: anywhere, child i on the i-th
 * allowed CPU, or all on the first; and what runs alongside: nothing, one
 * CPU-bound process per CPU, or one on the first CPU. */
enum { PIN_NONE, PIN_SPREAD, PIN_ONE };
enum { LOAD_NONE, LOAD_PER_CPU, LOAD_ONE_CPU };
extern int g_pin, g_load;
extern volatile sig_atomic_t g_interrupted;
void measure_init(void); /* the children's shared results; SIGINT and the like */

/* ---- one transport in one figure ----
 * Round trips between 2 processes over two channels, np senders -> nc
 * receivers on one channel, or np clients calling one server. */
enum work_kind { W_RTT, W_ONEWAY, W_RPC };
enum fig_status { FIG_NONE = 0, FIG_OK, FIG_NA, FIG_FAIL };
#define MAX_REPS 64

struct work {
	const struct transport *t;
	enum work_kind kind;
	size_t size;
	int np, nc;
	bool timed;		/* W_RPC: each call timed (p50, p99) */
	enum fig_status status; /* FIG_NONE: takes part */
	char note[680];		/* why n/a or failed */
	char config[640];	/* what the last repetition used */
	uint64_t n; /* operations per sender in a repetition: a guess, then calibrated */
	int reps;   /* done so far */
	double rates[MAX_REPS], cpus[MAX_REPS], p50s[MAX_REPS], p99s[MAX_REPS];
	/* medians (operations/s, CPU us per operation), the lowest and highest rate */
	double rate, cpu_us, p50_us, p99_us, rate_min, rate_max;
	struct msgset *m;		    /* its messages (work.c) */
	struct chan *ch[1 + MAX_PRODUCERS]; /* one repetition's channels */
	int nch;
};
/* Its status if its transport cannot carry it, its messages, a first
 * guess at n (work.c). */
void work_init(struct work *w);
/* One repetition of w->n operations per sender: 0, or -1 (work.c). */
int work_rep(struct work *w, struct run_result *rr);

#endif
