/*
 * shmbox-bench: what the building blocks cost on this machine, measured in
 * one process: copying, the receivers' checksum, a semop, a system call,
 * reading the clock; and a cache line going from one CPU to the other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "figures.h"

#define MSG 65536
#define RING_SLOTS 64
#define RING_STRIDE (MSG + 64) /* a slot: a small header, then the payload */
#define HANDOFF_ROUNDS 100000
/* 2048 to warm up, then 8192 (512 MiB): 30 ms at 350 k/s, about 180 ms
 * with the warm-up in the host's slow mode (3.7 GB/s) */
#define BARE_RING_WARM 2048
#define BARE_RING_MSGS 8192

struct ref_ctx {
	unsigned char *src, *dst, *ring;
	int semid;
	uint64_t sink;
	int failed;
};

/* Keep the compiler from dropping a copy nobody reads. */
#define TOUCH(p) __asm__ __volatile__("" : : "r"(p) : "memory")

static void op_memcpy(struct ref_ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		memcpy(c->dst, c->src, MSG);
		TOUCH(c->dst);
	}
}

static void op_ring(struct ref_ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		unsigned char *slot = c->ring + (i % RING_SLOTS) * RING_STRIDE + 64;

		memcpy(slot, c->src, MSG);
		TOUCH(slot);
		memcpy(c->dst, slot, MSG);
		TOUCH(c->dst);
	}
}

static void op_checksum(struct ref_ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		c->sink += payload_sum(c->src, MSG);
		TOUCH(c->src);
	}
}

static void op_semop(struct ref_ctx *c, uint64_t n)
{
	struct sembuf up = {.sem_num = 0, .sem_op = 1}, down = {.sem_num = 0, .sem_op = -1};

	for (uint64_t i = 0; i < n; i += 2)
		if (semop(c->semid, &up, 1) == -1 || semop(c->semid, &down, 1) == -1)
			c->failed = 1;
}

static void op_syscall(struct ref_ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		c->sink += (uint64_t)syscall(SYS_getppid);
}

static void op_clock(struct ref_ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		c->sink += now_ns();
}

/* How many operations take about g_target_s / 5. */
static uint64_t calibrate(void (*op)(struct ref_ctx *, uint64_t), struct ref_ctx *c)
{
	uint64_t n = 16, t;

	op(c, n); /* warm up */
	for (;;) {
		t = now_ns();
		op(c, n);
		t = now_ns() - t;
		if (t > 10000000 || n > (1ull << 40))
			break;
		n *= 4;
	}
	n = (uint64_t)((double)n * (g_target_s / 5 * 1e9) / (double)(t ? t : 1));
	return n < 2 ? 2 : n;
}

static double ns_per_op(void (*op)(struct ref_ctx *, uint64_t), struct ref_ctx *c, uint64_t n)
{
	uint64_t t = now_ns();

	op(c, n);
	return (double)(now_ns() - t) / (double)n;
}

static void (*const ops[NREF])(struct ref_ctx *, uint64_t) = {
	op_memcpy, op_ring, op_checksum, op_semop, op_syscall, op_clock,
};

int refs_pass(struct ref_samples *s)
{
	struct ref_ctx c = {0};
	int rc = 0;

	if (s->npass >= MAX_PASSES)
		return 0;
	c.src = buf_alloc(MSG);
	c.dst = buf_alloc(MSG);
	c.ring = buf_alloc((size_t)RING_SLOTS * RING_STRIDE);
	c.semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (c.src == NULL || c.dst == NULL || c.ring == NULL || c.semid == -1) {
		snprintf(s->err, sizeof(s->err), "%s",
			 c.semid == -1 ? "semget failed" : "out of memory");
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < MSG; i++)
		c.src[i] = (unsigned char)(i * 131 + 7);
	for (int k = 0; k < NREF; k++) {
		if (s->n[k] == 0)
			s->n[k] = calibrate(ops[k], &c);
		s->v[k][s->npass] = ns_per_op(ops[k], &c, s->n[k]);
	}
	s->handoff[s->npass] = handoff_ns(HANDOFF_ROUNDS);
	s->bare[s->npass] = bare_ring_gbps(BARE_RING_WARM, BARE_RING_MSGS);
	if (c.failed) {
		snprintf(s->err, sizeof(s->err), "semop failed");
		rc = -1;
		goto out;
	}
	s->npass++;
out:
	if (c.semid != -1)
		semctl(c.semid, 0, IPC_RMID);
	buf_free(c.src);
	buf_free(c.dst);
	buf_free(c.ring);
	return rc;
}

/* The median and range of the passes that measured (two CPUs, and it
 * worked); all 0 if none did. */
static void two_cpu_median(const double *v, int n, double *med, double *min, double *max)
{
	double h[MAX_PASSES];
	int nh = 0;

	for (int i = 0; i < n; i++)
		if (v[i] > 0)
			h[nh++] = v[i];
	if (nh > 0) {
		*med = median(h, nh); /* sorts h */
		*min = h[0];
		*max = h[nh - 1];
	}
}

int refs_result(struct ref_samples *s, struct refs *r)
{
	double m[NREF];

	memset(r, 0, sizeof(*r));
	if (s->npass == 0)
		return -1;
	for (int k = 0; k < NREF; k++)
		m[k] = median(s->v[k], s->npass);
	r->passes = s->npass;
	r->memcpy_gbps = MSG / m[REF_MEMCPY];
	r->ring_gbps = MSG / m[REF_RING];
	r->checksum_gbps = MSG / m[REF_CHECKSUM];
	r->semop_ns = m[REF_SEMOP];
	r->syscall_ns = m[REF_SYSCALL];
	r->clock_ns = m[REF_CLOCK];
	two_cpu_median(s->handoff, s->npass, &r->handoff_ns, &r->handoff_min, &r->handoff_max);
	two_cpu_median(s->bare, s->npass, &r->bare_gbps, &r->bare_min, &r->bare_max);
	return 0;
}
