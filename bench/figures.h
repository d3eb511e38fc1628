/* shmbox-bench: the figures measured for each transport (figures.c). */
#ifndef BENCH_FIGURES_H
#define BENCH_FIGURES_H

#include "measure.h"
#include "transports.h"

enum fig_kind {
	FK_RTT,	   /* round trips of size-byte messages between 2 processes, two channels */
	FK_ONEWAY, /* np senders -> nc receivers on one channel: messages/s */
	FK_RPC,	   /* np clients calling one server: calls/s */
};
/* One transport's part in a figure. */
struct fig_entry {
	const struct transport *t;
	const struct rpc_ops *rpc; /* request/reply: how (NULL: n/a) */
	struct figure *f;	   /* the result */
};
#define FIG_MAX_ENTRIES 16
/* What a figure measures. */
struct fig_spec {
	enum fig_kind kind;
	size_t size;
	int np, nc;
};
/* nspec figures (at most FIG_MAX_TOGETHER) for ne transports (at most
 * FIG_MAX_ENTRIES), measured together; e[k * ne + i] is transport i's part
 * in figure k.  The transports that can carry a figure take part, the others
 * are n/a; the repetitions of all are interleaved (measure_interleaved),
 * each transport's series in the figures one after the other.  Figures that
 * a target compares with each other are measured together. */
#define FIG_MAX_TOGETHER 2
void fig_run(const struct fig_spec *spec, int nspec, struct fig_entry *e, int ne);

/* References measured in this process (refs.c).  One pass measures each
 * once; passes are spread over the run, and each figure is the median of
 * all passes, so that a busy moment does not decide it. */
enum { REF_MEMCPY, REF_RING, REF_CHECKSUM, REF_SEMOP, REF_SYSCALL, REF_CLOCK, NREF };
/* handoff.c: ns for a cache line to go from one CPU to the other (-1: fewer
 * than two CPUs, or it failed) */
double handoff_ns(uint64_t rounds);
/* stream.c: GB/s of 64 KiB messages through a bare ring between two pinned
 * processes, copied in, copied out and checked, timed after `warm` of them
 * (-1: fewer than two CPUs, or it failed) */
double bare_ring_gbps(uint64_t warm, uint64_t msgs);
#define MAX_PASSES 32
struct ref_samples {
	double v[NREF][MAX_PASSES]; /* ns per operation */
	double handoff[MAX_PASSES]; /* handoff_ns() of each pass */
	double bare[MAX_PASSES];    /* bare_ring_gbps() of each pass */
	uint64_t n[NREF];	    /* operations per pass, calibrated once */
	int npass;
	char err[200];
};
struct refs {
	double memcpy_gbps;   /* memcpy of 64 KiB, hot buffers */
	double ring_gbps;     /* 64 KiB into and out of a 64-slot ring */
	double checksum_gbps; /* the receivers' check of a 64 KiB payload */
	double semop_ns;      /* one uncontended semop */
	double syscall_ns;    /* an empty system call (getppid) */
	double clock_ns;      /* clock_gettime(CLOCK_MONOTONIC) */
	double handoff_ns, handoff_min, handoff_max; /* a cache line, CPU to CPU (0: n/a) */
	double bare_gbps, bare_min, bare_max; /* 64 KiB, two processes, bare ring (0: n/a) */
	int passes;
};
int refs_pass(struct ref_samples *s); /* 0, or -1 with s->err */
int refs_result(struct ref_samples *s, struct refs *r);

#endif
