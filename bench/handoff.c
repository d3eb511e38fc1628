/*
 * shmbox-bench: how long one cache line takes to go from one CPU to the
 * other, measured by two processes pinned to the first two CPUs we may use,
 * bouncing a counter in shared memory.  Every shared-memory transport pays
 * this on every message, and on a virtual machine it changes with where
 * the host runs the virtual CPUs: printed with the references so a run can
 * be read against it (README, Performance).
 */
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "figures.h"

/* The first two CPUs this process may run on: 0, or -1 if it has one. */
static int two_cpus(const cpu_set_t *allowed, int *a, int *b)
{
	int found = 0;

	for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, allowed))
			*(found++ == 0 ? a : b) = c;
	return found == 2 ? 0 : -1;
}

static void pin(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	(void)sched_setaffinity(0, sizeof(one), &one);
}

/* Take turns: this side waits for an even (parent) or odd (child) value
 * and writes the next.  Gives up when the other side is gone. */
static int bounce(_Atomic uint64_t *x, uint64_t first, uint64_t rounds, pid_t child)
{
	for (uint64_t v = first; v < 2 * rounds; v += 2) {
		for (uint64_t spins = 0; atomic_load_explicit(x, memory_order_acquire) != v;)
			if (++spins % (1u << 24) == 0 &&
			    ((child > 0 && child_exited(child)) || g_interrupted))
				return -1;
		atomic_store_explicit(x, v + 1, memory_order_release);
	}
	return 0;
}

double handoff_ns(uint64_t rounds)
{
	cpu_set_t allowed;
	int a = -1, b = -1, st;
	_Atomic uint64_t *x;
	uint64_t t;
	pid_t pid, parent = getpid();
	double ns = -1;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) == -1 ||
	    two_cpus(&allowed, &a, &b) == -1)
		return -1;
	x = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (x == MAP_FAILED)
		return -1;
	atomic_store(x, 0);
	pid = fork();
	if (pid == 0) {
		/* never outlive the parent, nor spin forever */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(1);
		alarm(30);
		pin(b);
		_exit(bounce(x, 1, rounds, 0) == 0 ? 0 : 1);
	}
	if (pid > 0) {
		pin(a);
		t = now_ns();
		if (bounce(x, 0, rounds, pid) == 0)
			ns = (double)(now_ns() - t) / (2.0 * (double)rounds);
		else
			kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		(void)sched_setaffinity(0, sizeof(allowed), &allowed);
	}
	munmap(x, 4096);
	return ns;
}
