/*
 * receiver: creates the mailbox (or opens it if it exists) and prints every
 * message with its length.  Ctrl-C ends it; a mailbox it created, it
 * removes.
 *
 *   receiver [-f PATH] [-c COUNT] [-H MS]
 *
 * -H holds each message's slot claimed for MS milliseconds before freeing
 * it, so that `shmbox watch` shows it being read ([R]), and a kill -9 then
 * lands inside the claim.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "demo.h"
#include "options.h"

#define SLOTS 16
#define SLOT_SIZE 4096

_Noreturn static void usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-f PATH] [-c COUNT] [-H MS]\n"
		"  -f PATH   the mailbox's key file (default " DEMO_PATH ")\n"
		"  -c COUNT  stop after COUNT messages (default: until Ctrl-C)\n"
		"  -H MS     hold each message's slot claimed (being read) this long\n",
		getprogname());
	exit(status);
}

static shmbox_t *create_or_open(const char *path, int *created)
{
	shmbox_attr_t attr = {.slots = SLOTS, .slot_size = SLOT_SIZE};
	shmbox_t *box;

	demo_touch(path);
	*created = shmbox_create(path, DEMO_PROJ, &attr, &box) == 0;
	if (!*created && (errno != EEXIST || shmbox_open(path, DEMO_PROJ, &box) == -1))
		demo_fail(errno == EEXIST ? "create" : "open", path);
	return box;
}

static long long hold_ms; /* -H */

struct taker {
	shmbox_t *box;
	char *buf;
	size_t size;
	shmbox_zc_t zc; /* with -H */
};

/* A get, or with -H a peek, that does not wait: tool_wait does. */
static ssize_t take_now(void *arg)
{
	struct taker *t = arg;

	return hold_ms == 0 ? shmbox_get(t->box, t->buf, t->size, 0) : shmbox_peek(t->box, &t->zc, 0);
}

/* A get that prints the message, or with -H the same cut in two with a
 * pause between: peek (the message is read in its slot), hold, release. */
static ssize_t take(struct taker *t)
{
	ssize_t len;

	len = tool_wait(t->box, SHMBOX_FD_GET, take_now, t, -1);
	if (len == -1)
		return -1;
	printf("received %zd bytes: %.*s\n", len, (int)len,
	       hold_ms == 0 ? t->buf : (char *)t->zc.data);
	fflush(stdout);
	if (hold_ms > 0) {
		demo_hold(hold_ms);
		if (shmbox_release(t->box, &t->zc) == -1)
			return -1;
	}
	return len;
}

int main(int argc, char **argv)
{
	const char *path = DEMO_PATH;
	long long count = 0, n = 0;
	static struct taker t; /* its buf, a slot's worth: still reachable if errx() ends us (LSan) */
	shmbox_attr_t attr;
	shmbox_t *box;
	int c, created;
	ssize_t len = 0;

	while ((c = demo_getopt(argc, argv, ":hf:c:H:", usage)) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'c':
			count = demo_number('c', optarg, "the count", 1, LLONG_MAX);
			break;
		case 'H': hold_ms = demo_number('H', optarg, "milliseconds", 0, 3600000); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	tool_catch_signals();
	box = create_or_open(path, &created);
	if (count > 0)
		printf("receiver: %s mailbox %s; waiting for messages (%lld, then it stops)\n",
		       created ? "created" : "opened", path, count);
	else
		printf("receiver: %s mailbox %s; waiting for messages (Ctrl-C to stop)\n",
		       created ? "created" : "opened", path);
	fflush(stdout);
	/* shmbox_getattr: the slot size, without a system call */
	if (shmbox_getattr(box, &attr) == -1 || (t.buf = malloc(attr.slot_size)) == NULL)
		demo_fail("getattr", path);
	t.box = box;
	t.size = attr.slot_size;
	while ((count == 0 || n < count) && !tool_interrupted) {
		len = take(&t);
		if (len == -1) {
			if (errno != EINTR) /* EINTR: Ctrl-C, the way to stop */
				warnx("get %s: %s", path, shmbox_strerror(errno));
			break;
		}
		n++;
	}
	free(t.buf);
	if (created) {
		if (shmbox_destroy(box) == 0)
			printf("receiver: removed mailbox %s\n", path);
	} else {
		shmbox_close(box);
	}
	return len == -1 && !tool_interrupted ? 1 : 0;
}
