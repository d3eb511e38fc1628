/*
 * shmbox-bench: what the building blocks cost on this machine, measured in
 * one process: copying, the receivers' checksum, a semop, a system call,
 * reading the clock.
 */
#include <errno.h>
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

/* Median nanoseconds per operation over g_reps runs of ~g_target_s / 5. */
static double ns_per_op(void (*op)(struct ref_ctx *, uint64_t), struct ref_ctx *c)
{
	double v[64];
	uint64_t n = 16, t;
	int reps = g_reps < 64 ? g_reps : 64;

	op(c, n); /* warm up */
	for (;;) {
		t = now_ns();
		op(c, n);
		t = now_ns() - t;
		if (t > 10000000 || n > (1ull << 40))
			break;
		n *= 4;
	}
	n = (uint64_t)((double)n * (g_target_s / 5 * 1e9) / (double)t);
	if (n < 2)
		n = 2;
	for (int r = 0; r < reps; r++) {
		t = now_ns();
		op(c, n);
		v[r] = (double)(now_ns() - t) / (double)n;
	}
	return median(v, reps);
}

int measure_refs(struct refs *r)
{
	struct ref_ctx c = {0};
	int rc = 0;

	memset(r, 0, sizeof(*r));
	c.src = buf_alloc(MSG);
	c.dst = buf_alloc(MSG);
	c.ring = buf_alloc((size_t)RING_SLOTS * RING_STRIDE);
	if (c.src == NULL || c.dst == NULL || c.ring == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < MSG; i++)
		c.src[i] = (unsigned char)(i * 131 + 7);

	r->memcpy_gbps = MSG / ns_per_op(op_memcpy, &c);
	r->ring_gbps = MSG / ns_per_op(op_ring, &c);
	r->checksum_gbps = MSG / ns_per_op(op_checksum, &c);
	r->syscall_ns = ns_per_op(op_syscall, &c);
	r->clock_ns = ns_per_op(op_clock, &c);

	c.semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (c.semid == -1) {
		snprintf(r->err, sizeof(r->err), "semget: %s", strerror(errno));
		rc = -1;
		goto out;
	}
	r->semop_ns = ns_per_op(op_semop, &c);
	semctl(c.semid, 0, IPC_RMID);
	if (c.failed) {
		snprintf(r->err, sizeof(r->err), "semop failed");
		rc = -1;
	}
out:
	buf_free(c.src);
	buf_free(c.dst);
	buf_free(c.ring);
	return rc;
}
