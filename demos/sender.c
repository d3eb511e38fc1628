/*
 * sender: opens the mailbox and sends each argument as one message, or,
 * with no arguments, each line of standard input.  Ctrl-C ends it.
 *
 *   sender [-f PATH] [-w SECONDS] [-H MS] [MESSAGE...]
 *
 * -H holds each slot claimed for MS milliseconds before publishing it, so
 * that `shmbox watch` shows it being written ([W]), and a kill -9 then
 * lands inside the claim.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "options.h"

_Noreturn static void usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-f PATH] [-w SECONDS] [-H MS] [MESSAGE...]\n"
		"  -f PATH     the mailbox's key file (default " DEMO_PATH ")\n"
		"  -w SECONDS  wait up to this long for a receiver to create the mailbox\n"
		"  -H MS       hold each slot claimed (being written) this long\n"
		"  MESSAGE     each is one message; with none, each line of standard input\n",
		getprogname());
	exit(status);
}

/* Open, waiting up to `wait_s` seconds for a receiver to create it. */
static shmbox_t *open_box(const char *path, long long wait_s)
{
	shmbox_t *box;
	long long i;

	for (i = 0; shmbox_open(path, DEMO_PROJ, &box) == -1; i++) {
		if (errno != ENOENT || i >= wait_s * 10 || tool_interrupted) {
			if (errno == ENOENT)
				errx(1, "open %s: %s: start the receiver first", path,
				     shmbox_strerror(errno));
			demo_fail("open", path);
		}
		tool_sleep(100); /* nothing to poll for a mailbox to come; Ctrl-C ends it */
	}
	return box;
}

static long long hold_ms;  /* -H */
static size_t slot_size; /* the mailbox's */

struct putter {
	shmbox_t *box;
	const char *msg;
	size_t len;
	shmbox_zc_t zc; /* with -H */
};

/* A put, or with -H a reserve, that does not wait: tool_wait does. */
static ssize_t put_now(void *arg)
{
	struct putter *p = arg;

	return hold_ms == 0 ? shmbox_put(p->box, p->msg, p->len, 0) : shmbox_reserve(p->box, &p->zc, 0);
}

/* A put, or with -H the same cut in two with a pause between: reserve the
 * slot, write the message into it, hold, commit. */
static int put(shmbox_t *box, const char *msg, size_t len)
{
	struct putter p = {box, msg, len, {0}};

	if (hold_ms > 0 && len > slot_size) {
		errno = EMSGSIZE;
		return -1;
	}
	if (tool_wait(box, SHMBOX_FD_PUT, put_now, &p, -1) == -1)
		return -1;
	if (hold_ms == 0)
		return 0;
	memcpy(p.zc.data, msg, len);
	demo_hold(hold_ms);
	return shmbox_commit(box, &p.zc, len);
}

static int send_one(shmbox_t *box, const char *path, const char *msg, size_t len)
{
	int r = put(box, msg, len);

	if (r == 0) {
		printf("sent %zu bytes\n", len);
		return 0;
	}
	if (errno != EINTR) /* EINTR: Ctrl-C, the way to stop */
		warnx("put %s: %s", path, shmbox_strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	const char *path = DEMO_PATH;
	long long wait_s = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	shmbox_attr_t attr;
	shmbox_t *box;
	int c, i, status = 0;

	while ((c = demo_getopt(argc, argv, ":hf:w:H:", usage)) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'w': wait_s = demo_number('w', optarg, "seconds", 0, 3600); break;
		case 'H': hold_ms = demo_number('H', optarg, "milliseconds", 0, 3600000); break;
		default: usage(2);
		}
	}
	tool_catch_signals();
	box = open_box(path, wait_s);
	if (shmbox_getattr(box, &attr) == -1) /* the slot size, without a system call */
		demo_fail("getattr", path);
	slot_size = attr.slot_size;
	if (optind < argc) {
		for (i = optind; i < argc && status == 0 && !tool_interrupted; i++)
			status = send_one(box, path, argv[i], strlen(argv[i]));
	} else {
		while (status == 0 && !tool_interrupted && (len = getline(&line, &cap, stdin)) != -1) {
			if (len > 0 && line[len - 1] == '\n')
				len--;
			status = send_one(box, path, line, (size_t)len);
		}
		free(line);
	}
	shmbox_close(box);
	return status == 0 || tool_interrupted ? 0 : 1;
}
