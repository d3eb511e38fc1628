/*
 * kvctl: kvd's client, one command per run, for shells and scripts.
 *
 *   kvctl [-k KEYFILE] [-t TIMEOUT_MS] set KEY VALUE | get KEY | del KEY
 *
 * get prints the value and a newline.  Exit status: 0 done (or found),
 * 1 not found (get, del), 2 error: bad usage, no kvd, no answer in time.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "kv.h"
#include "options.h"
#include "shmbox.h"

#define EXIT_OK 0
#define EXIT_NOT_FOUND 1
#define EXIT_TROUBLE 2
#define TIMEOUT_MS 5000 /* -t default */

struct command {
	const char *name;
	char code;
	int nargs;
};

static const struct command commands[] = {
	{"set", KV_SET, 2},
	{"get", KV_GET, 1},
	{"del", KV_DEL, 1},
};

_Noreturn static void usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-k KEYFILE] [-t TIMEOUT_MS] set KEY VALUE | get KEY | del KEY\n"
		"  -k KEYFILE     kvd's key file (default " KV_KEYFILE ")\n"
		"  -t TIMEOUT_MS  give up on kvd's answer after this long (default "
		STR(TIMEOUT_MS) ")\n"
		"exit status: 0 done or found, 1 not found, 2 error\n",
		getprogname());
	exit(status);
}

static const struct command *lookup(int argc, char **argv)
{
	size_t i;

	if (argc < 1)
		usage(EXIT_TROUBLE);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0 && argc == 1 + commands[i].nargs)
			return &commands[i];
	usage(EXIT_TROUBLE);
}

/* The request for the command line (after the options): "C KEY[ VALUE]". */
static size_t request(const struct command *c, char **argv, char *req)
{
	const char *key = argv[1], *val = c->nargs > 1 ? argv[2] : NULL;
	size_t klen = strlen(key), vlen = val != NULL ? strlen(val) : 0;

	if (!kv_key_ok(key, klen))
		errx(EXIT_TROUBLE, "key \"%s\": 1 to %d bytes, no spaces or control characters",
		     key, KV_KEY_MAX);
	if (vlen > KV_VALUE_MAX)
		errx(EXIT_TROUBLE, "value is %zu bytes long; at most %d", vlen, KV_VALUE_MAX);
	req[0] = c->code;
	req[1] = ' ';
	memcpy(req + 2, key, klen);
	if (val == NULL)
		return klen + 2;
	req[klen + 2] = ' ';
	memcpy(req + klen + 3, val, vlen);
	return klen + 3 + vlen;
}

/* kvd holds a lock on its key file while it runs (see kvd.c): without
 * one, say so now rather than wait for an answer that cannot come. */
static bool kvd_running(const char *keyfile)
{
	int fd = open(keyfile, O_RDONLY);
	bool locked;

	if (fd == -1)
		return errno != ENOENT; /* let open_box say what is wrong */
	locked = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return locked;
}

static shmbox_t *open_box(const char *keyfile)
{
	shmbox_t *box;

	if (!kvd_running(keyfile))
		errx(EXIT_TROUBLE, "no kvd running on %s (start kvd)", keyfile);
	if (shmbox_open(keyfile, KV_PROJ, &box) == 0)
		return box;
	if (errno == ENOENT || errno == EIDRM) /* kvd is starting or stopping */
		errx(EXIT_TROUBLE, "no kvd running on %s (start kvd)", keyfile);
	errx(EXIT_TROUBLE, "open %s: %s", keyfile, shmbox_strerror(errno));
}

static size_t call(shmbox_t *box, const char *keyfile, const char *req, size_t len, char *rep,
		   int timeout_ms)
{
	ssize_t n = shmbox_call(box, req, len, rep, KV_SLOT_SIZE, timeout_ms);

	if (n > 0)
		return (size_t)n;
	if (n == 0)
		errx(EXIT_TROUBLE, "empty reply from kvd on %s", keyfile);
	switch (errno) {
	case ETIMEDOUT:
		errx(EXIT_TROUBLE, "kvd on %s did not answer within %d ms", keyfile, timeout_ms);
	case ECONNRESET:
		errx(EXIT_TROUBLE, "kvd's worker died before answering; the request may or "
				   "may not have been carried out");
	case EIDRM:
		errx(EXIT_TROUBLE, "kvd on %s stopped before answering", keyfile);
	default:
		errx(EXIT_TROUBLE, "call %s: %s", keyfile, shmbox_strerror(errno));
	}
}

/* What the reply means for the exit status; prints a value that was got. */
static int outcome(const struct command *c, const char *rep, size_t n)
{
	switch (rep[0]) {
	case KV_OK:
		if (c->code == KV_GET) {
			fwrite(rep + 1, 1, n - 1, stdout);
			putchar('\n');
			if (fflush(stdout) == EOF)
				err(EXIT_TROUBLE, "stdout");
		}
		return EXIT_OK;
	case KV_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case KV_ERROR:
		errx(EXIT_TROUBLE, "kvd: %.*s", (int)(n - 1), rep + 1);
	default:
		errx(EXIT_TROUBLE, "malformed reply from kvd");
	}
}

int main(int argc, char **argv)
{
	const char *keyfile = KV_KEYFILE;
	static char req[KV_SLOT_SIZE], rep[KV_SLOT_SIZE];
	const struct command *c;
	int ch, timeout_ms = TIMEOUT_MS;
	shmbox_t *box;
	size_t len, n;

	/* "+": options end at the command, so a value may start with '-' */
	while ((ch = demo_getopt(argc, argv, "+:hk:t:", usage)) != -1) {
		switch (ch) {
		case 'k': keyfile = optarg; break;
		case 't':
			timeout_ms = (int)demo_number('t', optarg, "the timeout", 1, INT_MAX);
			break;
		default: usage(EXIT_TROUBLE);
		}
	}
	c = lookup(argc - optind, argv + optind);
	len = request(c, argv + optind, req);
	box = open_box(keyfile);
	n = call(box, keyfile, req, len, rep, timeout_ms);
	shmbox_close(box);
	return outcome(c, rep, n);
}
