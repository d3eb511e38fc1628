/*
 * shmbox-mpmc: P producers and C consumers on one mailbox, 64-byte
 * messages, unpinned or with the producers on CPU 0 and the consumers on
 * CPU 1 (README, "Where the time goes": what two
 * same-side processes running at once cost).
 *
 *   shmbox-mpmc [-n MESSAGES] [-p PRODUCERS] [-c CONSUMERS] [-S SLOTS] [-s]
 *
 * -s: split, producers on CPU 0 and consumers on CPU 1; -S: the ring's
 * slots (default 16384).  Prints M msgs/s.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmbox.h"

#define MSG 64
#define MAX_PROCS 32

static void die(const char *what)
{
	fprintf(stderr, "shmbox-mpmc: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void place(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == -1)
		die("sched_setaffinity");
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One child: open, wait for the start (a pipe closed by the parent), move
 * its share of the messages. */
static void child(const char *key, int producer, long count, int split, int go)
{
	char m[MSG] = {0}, c;
	shmbox_t *box;

	if (split)
		place(producer ? 0 : 1);
	if (shmbox_open(key, 'm', &box) == -1)
		die("shmbox_open");
	if (read(go, &c, 1) == -1)
		die("read");
	for (long k = 0; k < count; k++)
		if (producer ? shmbox_put(box, m, MSG, -1) == -1 : shmbox_get(box, m, MSG, -1) != MSG)
			die(producer ? "shmbox_put" : "shmbox_get");
	shmbox_close(box);
	_exit(0);
}

int main(int argc, char **argv)
{
	char key[4096];
	shmbox_attr_t attr = {.slots = 16384, .slot_size = MSG};
	long n = 8000000;
	int np = 4, nc = 4, split = 0, opt, fd, go[2], status, failed = 0;
	pid_t pids[2 * MAX_PROCS];
	shmbox_t *box;
	double t0;

	while ((opt = getopt(argc, argv, "n:p:c:S:s")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'p': np = atoi(optarg); break;
		case 'c': nc = atoi(optarg); break;
		case 's': split = 1; break;
		case 'S': attr.slots = (size_t)atol(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc || n < 1 || np < 1 || nc < 1 || np > MAX_PROCS || nc > MAX_PROCS || attr.slots < 1 ||
	    n % np != 0 || n % nc != 0)
		goto usage;
	snprintf(key, sizeof(key), "%s/shmbox-mpmc.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if ((fd = mkstemp(key)) == -1)
		die("mkstemp");
	close(fd);
	if (shmbox_create(key, 'm', &attr, &box) == -1 || pipe(go) == -1)
		die("setting up");
	for (int i = 0; i < np + nc; i++) {
		if ((pids[i] = fork()) == -1)
			die("fork");
		if (pids[i] == 0) {
			close(go[1]);
			child(key, i < np, i < np ? n / np : n / nc, split, go[0]);
		}
	}
	close(go[0]);
	usleep(100000); /* let them attach */
	t0 = now();
	close(go[1]);
	for (int i = 0; i < np + nc; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	t0 = now() - t0;
	shmbox_destroy(box);
	unlink(key);
	if (failed)
		return 1;
	printf("%d -> %d%s: %.2f M messages/s\n", np, nc, split ? ", split" : "",
	       (double)n / t0 / 1e6);
	return 0;
usage:
	fprintf(stderr, "usage: shmbox-mpmc [-n MESSAGES] [-p PRODUCERS] [-c CONSUMERS] [-S SLOTS] [-s]\n"
			"  MESSAGES a multiple of both counts, at most %d of each\n",
		MAX_PROCS);
	return 2;
}
