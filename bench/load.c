/*
 * shmbox-bench: other work on the machine, for the "round trip under load"
 * figures.  LOAD_PER_CPU: one CPU-bound process per CPU we may use,
 * unpinned, as a busy host's compilers or batch jobs would be: the
 * transports' processes then share every CPU with one of them, and a
 * process that gives its CPU away (sched_yield, a sleep) may wait a whole
 * time slice to get it back.  LOAD_ONE_CPU: one, pinned to the CPU where
 * PIN_ONE puts the transport's processes, the worst case for a spinning
 * waiter: its peer can run only when it stops, and a yield may hand the
 * CPU to the stranger instead.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "measure.h"

#define LOAD_ALARM_S 600 /* a hog never outlives a run by much */

int load_start(pid_t *pids, int max, int kind)
{
	cpu_set_t allowed;
	pid_t parent = getpid();
	int n = 1;

	if (kind == LOAD_PER_CPU && sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
		n = CPU_COUNT(&allowed);
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			volatile unsigned long spin = 0;

			if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
				_exit(1);
			/* Ctrl-C ends us too (the parent's handlers only set a flag) */
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			alarm(LOAD_ALARM_S);
			if (kind == LOAD_ONE_CPU)
				pin_to(0);
			for (;;)
				spin++;
		}
		if (pids[i] == -1) {
			int e = errno; /* fork's reason, for the caller's message */

			load_stop(pids, i);
			errno = e;
			return -1;
		}
	}
	return n;
}

void load_stop(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		while (pids[i] > 0 && waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
}
