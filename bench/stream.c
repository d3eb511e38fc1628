/*
 * shmbox-bench: what a ring with no protocol moves in the same run.
 * 64 KiB messages go through a bare ring of 64 slots between two processes
 * pinned to the first two CPUs we may use: the writer copies each message
 * in, the reader copies it out and checksums its copy, as the receivers of
 * the plain put/get rows do.  They agree through two counters and nothing
 * else: no claims, no wakes, no checks of the other side.  The copies are
 * the library's own (src/copy.c, built in here: it is not exported).  What
 * else separates shmbox's plain 64 KiB row from this: that row is not
 * pinned, its senders take turns with three buffers, and its receivers
 * check each message's header.  Printed with the references, with its
 * range over the run, because on a virtual machine it swings with where
 * the host runs the two vCPUs (README, Performance).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "figures.h"
#include "copy.h"

#define MSG 65536
#define SLOTS 64
/* A slot as shmbox lays it out: a line for its header, then the payload. */
#define STRIDE (MSG + 64)

struct bare_ring {
	_Alignas(64) _Atomic uint64_t tail; /* messages written */
	_Alignas(64) _Atomic uint64_t head; /* messages read */
	_Atomic uint64_t ready;		    /* the reader is pinned and waiting */
	_Alignas(64) unsigned char slot[SLOTS][STRIDE];
};

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Wait until *x >= want, with *seen the last value read: the other side's
 * line is read only when what was seen last time is not enough.  -1 if the
 * other side is gone (after one last look) or we are stopped. */
static int wait_for(_Atomic uint64_t *x, uint64_t *seen, uint64_t want, pid_t child)
{
	for (uint64_t spins = 0; *seen < want;) {
		*seen = atomic_load_explicit(x, memory_order_acquire);
		if (*seen >= want)
			break;
		relax();
		if (++spins % (1u << 22) == 0 && (g_interrupted || (child > 0 && child_exited(child)))) {
			*seen = atomic_load_explicit(x, memory_order_acquire);
			return *seen >= want && !g_interrupted ? 0 : -1;
		}
	}
	return 0;
}

static int reader(struct bare_ring *r, uint64_t msgs)
{
	unsigned char *dst = buf_alloc(MSG);
	uint64_t sum = 0, written = 0;

	if (dst == NULL)
		return -1;
	memset(dst, 0, MSG);
	atomic_store_explicit(&r->ready, 1, memory_order_release);
	for (uint64_t i = 0; i < msgs; i++) {
		if (wait_for(&r->tail, &written, i + 1, 0) == -1)
			return -1;
		shmbox__copy(dst, r->slot[i % SLOTS] + 64, MSG);
		atomic_store_explicit(&r->head, i + 1, memory_order_release);
		sum += payload_sum(dst, MSG);
	}
	__asm__ __volatile__("" : : "r"(sum));
	buf_free(dst);
	return 0;
}

/* The clock starts after `warm` messages have been read (the first
 * thousands run slower), and stops when the reader has read the rest. */
static int writer(struct bare_ring *r, uint64_t warm, uint64_t msgs, pid_t child, uint64_t *t0)
{
	unsigned char *src = buf_alloc(MSG);
	uint64_t read = 0;

	if (src == NULL)
		return -1;
	for (size_t i = 0; i < MSG; i++)
		src[i] = (unsigned char)(i * 131 + 7);
	for (uint64_t i = 0; i < warm + msgs; i++) {
		if (i == warm) {
			if (wait_for(&r->head, &read, warm, child) == -1) {
				buf_free(src);
				return -1;
			}
			*t0 = now_ns();
		}
		if (i >= SLOTS && wait_for(&r->head, &read, i - SLOTS + 1, child) == -1) {
			buf_free(src);
			return -1;
		}
		src[0] = (unsigned char)i;
		shmbox__copy(r->slot[i % SLOTS] + 64, src, MSG);
		atomic_store_explicit(&r->tail, i + 1, memory_order_release);
	}
	buf_free(src);
	return wait_for(&r->head, &read, warm + msgs, child);
}

double bare_ring_gbps(uint64_t warm, uint64_t msgs)
{
	cpu_set_t allowed;
	struct bare_ring *r;
	pid_t pid, w, parent = getpid();
	uint64_t t = 0, ready = 0;
	double gbps = -1;
	int st = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) == -1 || CPU_COUNT(&allowed) < 2)
		return -1;
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return -1;
	memset(r, 0, sizeof(*r)); /* no page faults in the timed part */
	pid = fork();
	if (pid == 0) {
		/* never outlive the parent, nor spin forever */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(1);
		alarm(30);
		pin_to(1);
		_exit(reader(r, warm + msgs) == 0 ? 0 : 1);
	}
	if (pid > 0) {
		pin_to(0);
		if (wait_for(&r->ready, &ready, 1, pid) == 0 && writer(r, warm, msgs, pid, &t) == 0)
			gbps = (double)msgs * MSG / (double)(now_ns() - t);
		else
			kill(pid, SIGKILL);
		while ((w = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
			;
		if (w != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			gbps = -1;
		(void)sched_setaffinity(0, sizeof(allowed), &allowed);
	}
	munmap(r, sizeof(*r));
	return gbps;
}
