/*
 * shmbox-bench: messages that check themselves, forked children started
 * together, their CPU time, and medians over repetitions.
 */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_CHILDREN 16
#define MAX_PRODUCERS 8

/* ---- messages ----
 * Every message starts with this header; the rest is one of NVAR random
 * payloads, chosen by the sequence number, whose checksum is known in
 * advance.  The receiver checks the header against what it expects and
 * recomputes the checksum of the whole payload.  Three payloads, so that a
 * stale slot (one lap back: no ring size used is a multiple of three) or a
 * message torn between two neighbours never checks out. */
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
	uint64_t check;	   /* checksum of the payload */
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
/* checksum.c: the receivers' check of every payload */
uint64_t payload_sum(const void *p, size_t n);

/* A buffer of size bytes with BENCH_HEADROOM bytes before it. */
unsigned char *buf_alloc(size_t size);
void buf_free(unsigned char *p);

uint64_t now_ns(void);

/* ---- children ---- */
struct child_res {
	uint64_t t_start, t_end; /* CLOCK_MONOTONIC ns; t_end 0: not a finisher */
	uint64_t count[MAX_PRODUCERS], sum[MAX_PRODUCERS];
	double p50_us, p99_us;
	int sync_done;
	char err[300];
};

/* Child body: attach, then child_go(), then work; 0 or -1 (err set). */
typedef int (*child_fn)(int idx, void *arg, struct child_res *res);
/* Tell the parent this child is ready, wait until all are, note the start. */
void child_go(struct child_res *res);
int child_fail(struct child_res *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct run_result {
	double wall_s;	/* first start to last end */
	double cpu_s;	/* user + system of every child (wait4) */
	struct child_res *res; /* per child; valid until the next run */
	char err[400];
};
/* Fork n children running fn, start them together, reap them all: 0, or
 * -1 with rr->err (a child failed, was killed, or timed out). */
int run_children(int n, child_fn fn, void *arg, struct run_result *rr);
/* What run_children runs alongside, fresh for each repetition (load.c):
 * nothing, one CPU-bound process per CPU (a busy machine), or one pinned
 * to the first CPU (where PIN_ONE puts the children). */
enum { LOAD_NONE, LOAD_PER_CPU, LOAD_ONE_CPU };
extern int g_load;

/* load.c: the CPU-bound processes of g_load's kind (how many started, -1
 * if fork failed), and their end. */
int load_start(pid_t *pids, int max, int kind);
void load_stop(const pid_t *pids, int n);
#define LOAD_MAX 256

extern volatile sig_atomic_t g_interrupted;
/* How run_children pins its children: not at all, child i on the i-th
 * allowed CPU (round robin), or every child on the first. */
enum { PIN_NONE, PIN_SPREAD, PIN_ONE };
extern int g_pin;
void pin_to(int i); /* this process on the i-th allowed CPU (round robin) */
/* Has this child exited?  Without reaping it: its pid stays ours to kill and
 * to wait for. */
bool child_exited(pid_t child);
void measure_init(void);

/* ---- repetitions ---- */
struct rep_out {
	double wall_s, cpu_s;
	uint64_t ops;	       /* messages, round trips or calls carried */
	double p50_us, p99_us; /* round trips only */
	char err[400];
	char config[640];
};
/* One repetition with n operations (per sender). */
typedef int (*rep_fn)(void *arg, uint64_t n, struct rep_out *out);

enum fig_status { FIG_NONE = 0, FIG_OK, FIG_NA, FIG_FAIL };
struct figure {
	enum fig_status status;
	char note[480]; /* n/a reason or error */
	int reps;
	uint64_t n;
	double rate, rate_min, rate_max; /* operations/s: median, min, max */
	double cpu_us;			 /* CPU per operation, median */
	double p50_us, p99_us;		 /* medians */
	char config[640];
};
extern int g_reps;
extern double g_target_s;

#define MAX_REPS 64
/* One transport's part in a figure: its repetitions and where they go. */
struct series {
	rep_fn fn;
	void *arg;
	uint64_t n0;	  /* first guess at n */
	struct figure *f; /* status FIG_NONE: takes part; the result */
	int done;	  /* repetitions so far */
	double rate[MAX_REPS], cpu[MAX_REPS], p50[MAX_REPS], p99[MAX_REPS];
};
/* The repetitions of several transports, taking turns: calibrate n for
 * every series whose figure has no status yet (so that one repetition takes
 * about g_target_s), then g_reps rounds of one repetition each, a different
 * group of `group` series (one transport's) first in each round; medians
 * into each figure.  A series that fails stops only itself; an interrupt
 * stops them all. */
void measure_interleaved(struct series *s, int ns, int group);

double median(double *v, int n);

#endif
