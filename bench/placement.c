/*
 * shmbox-placement: one round-trip ping-pong of 64-byte messages, with the
 * two processes and any CPU-bound ones placed where you say, to see how a
 * transport fares with each placement (README, "On a busy machine").
 *
 *   shmbox-placement [-t SECONDS] [-T shmbox|pipe] PING PONG [HOG...]
 *
 * PING, PONG and each HOG are a CPU number, or "-" for unpinned.  Prints
 * round trips/s (one over the mean), p50, p99 and the longest round trip.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmbox.h"

#define MSG 64
#define MAX_HOGS 16
#define MAX_SAMPLES 4000000

static void die(const char *what)
{
	fprintf(stderr, "shmbox-placement: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* "-": leave it where the scheduler puts it. */
static void place(const char *cpu)
{
	cpu_set_t one;

	if (strcmp(cpu, "-") == 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(atoi(cpu), &one);
	if (sched_setaffinity(0, sizeof(one), &one) == -1)
		die(cpu);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The two channels: two mailboxes, or two pipes. */
struct chans {
	int pipe;
	const char *key;
	shmbox_t *box[2];
	int fd[2][2];
};

static void chan_send(struct chans *c, int i, const char *m)
{
	if (c->pipe ? write(c->fd[i][1], m, MSG) != MSG : shmbox_put(c->box[i], m, MSG, -1) == -1)
		die("send");
}

static void chan_recv(struct chans *c, int i, char *m)
{
	if (c->pipe ? read(c->fd[i][0], m, MSG) != MSG : shmbox_get(c->box[i], m, MSG, -1) != MSG)
		die("receive");
}

static void pong(struct chans *c, const char *cpu)
{
	char m[MSG];

	place(cpu);
	for (int i = 0; i < 2 && !c->pipe; i++) /* a handle of our own */
		if (shmbox_open(c->key, 'a' + i, &c->box[i]) == -1)
			die("shmbox_open");
	for (;;) {
		chan_recv(c, 0, m);
		if (m[0] == 'q')
			_exit(0);
		chan_send(c, 1, m);
	}
}

static pid_t hog(const char *cpu)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		volatile unsigned long spin = 0;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(1);
		place(cpu);
		for (;;)
			spin++;
	}
	if (pid == -1)
		die("fork");
	return pid;
}

int main(int argc, char **argv)
{
	static double lat[MAX_SAMPLES];
	char key[4096], m[MSG] = {0};
	struct chans c = {.key = key};
	shmbox_attr_t attr = {.slots = 64, .slot_size = MSG};
	pid_t hogs[MAX_HOGS], peer;
	double secs = 1, t0, end;
	int opt, nhogs = 0, fd;
	long n = 0;

	while ((opt = getopt(argc, argv, "t:T:")) != -1) {
		if (opt == 't')
			secs = atof(optarg);
		else if (opt == 'T' && (strcmp(optarg, "pipe") == 0 || strcmp(optarg, "shmbox") == 0))
			c.pipe = strcmp(optarg, "pipe") == 0;
		else
			goto usage;
	}
	if (argc - optind < 2 || argc - optind - 2 > MAX_HOGS || secs <= 0)
		goto usage;
	if (c.pipe) {
		if (pipe(c.fd[0]) == -1 || pipe(c.fd[1]) == -1)
			die("pipe");
	} else {
		snprintf(key, sizeof(key), "%s/shmbox-placement.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if ((fd = mkstemp(key)) == -1)
			die("mkstemp");
		close(fd);
		for (int i = 0; i < 2; i++)
			if (shmbox_create(key, 'a' + i, &attr, &c.box[i]) == -1)
				die("shmbox_create");
	}
	for (int i = optind + 2; i < argc; i++)
		hogs[nhogs++] = hog(argv[i]);
	if ((peer = fork()) == 0)
		pong(&c, argv[optind + 1]);
	if (peer == -1)
		die("fork");
	place(argv[optind]);
	for (t0 = now(), end = t0 + secs;;) {
		double s = now();

		if (s > end)
			break;
		chan_send(&c, 0, m);
		chan_recv(&c, 1, m);
		if (n < MAX_SAMPLES)
			lat[n++] = now() - s;
	}
	end = now();
	m[0] = 'q';
	chan_send(&c, 0, m);
	waitpid(peer, NULL, 0);
	for (int i = 0; i < nhogs; i++) {
		kill(hogs[i], SIGKILL);
		waitpid(hogs[i], NULL, 0);
	}
	for (int i = 0; i < 2 && !c.pipe; i++)
		shmbox_destroy(c.box[i]);
	if (!c.pipe)
		unlink(key);
	if (n == 0)
		return 1;
	qsort(lat, (size_t)n, sizeof(lat[0]), cmp);
	printf("%s: %.0f round trips/s, p50 %.2f us, p99 %.1f us, max %.0f us\n",
	       c.pipe ? "pipe" : "shmbox", (double)n / (end - t0), lat[n / 2] * 1e6,
	       lat[n * 99 / 100] * 1e6, lat[n - 1] * 1e6);
	return 0;
usage:
	fprintf(stderr, "usage: shmbox-placement [-t SECONDS] [-T shmbox|pipe] PING PONG [HOG...]\n"
			"  each a CPU number, or - for unpinned\n");
	return 2;
}
