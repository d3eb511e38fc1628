/*
 * sender: opens the mailbox and sends each argument as one message, or,
 * with no arguments, each line of standard input.  Ctrl-C ends it.
 *
 *   sender [-f PATH] [-w SECONDS] [MESSAGE...]
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "options.h"

_Noreturn static void usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-f PATH] [-w SECONDS] [MESSAGE...]\n"
		"  -f PATH     the mailbox's key file (default " DEMO_PATH ")\n"
		"  -w SECONDS  wait up to this long for a receiver to create the mailbox\n"
		"  MESSAGE     each is one message; with none, each line of standard input\n",
		getprogname());
	exit(status);
}

/* Open, waiting up to `wait_s` seconds for a receiver to create it. */
static shmbox_t *open_box(const char *path, long long wait_s)
{
	struct timespec tick = {0, 100000000L};
	shmbox_t *box;
	long long i;

	for (i = 0; shmbox_open(path, DEMO_PROJ, &box) == -1; i++) {
		if (errno != ENOENT || i >= wait_s * 10 || demo_interrupted) {
			if (errno == ENOENT)
				errx(1, "open %s: %s: start the receiver first", path,
				     shmbox_strerror(errno));
			demo_fail("open", path);
		}
		nanosleep(&tick, NULL);
	}
	return box;
}

static int send_one(shmbox_t *box, const char *path, const char *msg, size_t len)
{
	int r;

	/* EINTR without Ctrl-C: stopped and continued (see demo.h); put again */
	while ((r = shmbox_put(box, msg, len, -1)) == -1 && errno == EINTR && !demo_interrupted)
		;
	if (r == 0) {
		printf("sent %zu bytes\n", len);
		return 0;
	}
	if (errno != EINTR)
		warnx("put %s: %s", path, shmbox_strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	const char *path = DEMO_PATH, *errstr;
	long long wait_s = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	shmbox_t *box;
	int c, i, status = 0;

	while ((c = demo_getopt(argc, argv, ":hf:w:", usage)) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'w':
			wait_s = strtonum(optarg, 0, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "-w %s: seconds is %s", optarg, errstr);
			break;
		default: usage(2);
		}
	}
	demo_catch_signals();
	box = open_box(path, wait_s);
	if (optind < argc) {
		for (i = optind; i < argc && status == 0; i++)
			status = send_one(box, path, argv[i], strlen(argv[i]));
	} else {
		while (status == 0 && (len = getline(&line, &cap, stdin)) != -1) {
			if (len > 0 && line[len - 1] == '\n')
				len--;
			status = send_one(box, path, line, (size_t)len);
		}
		free(line);
	}
	shmbox_close(box);
	return status == 0 || demo_interrupted ? 0 : 1;
}
