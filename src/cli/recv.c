/* shmbox recv: take messages and print them, one per line (-0: each
 * followed by a NUL byte; -r: one message, its bytes exactly). */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sysexits.h>

#include "cli.h"

enum format { LINES, NULS, RAW };

struct getter {
	shmbox_t *box;
	char *buf;
	size_t size;
};

static ssize_t get(void *arg)
{
	struct getter *g = arg;

	return shmbox_get(g->box, g->buf, g->size, 0);
}

static void print(const char *path, const char *msg, size_t len, enum format fmt)
{
	if (len > 0)
		fwrite(msg, 1, len, stdout);
	if (fmt == LINES)
		putchar('\n');
	else if (fmt == NULS)
		putchar('\0');
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EX_IOERR, "recv %s: standard output", path);
}

int cli_recv(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"null", no_argument, NULL, '0'},
		{"raw", no_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	enum format fmt = LINES;
	static struct getter g; /* static: see fail.c */
	shmbox_attr_t attr;
	long long count = 0, n;
	const char *path;
	int c, timeout_ms = -1, status = EX_OK;
	ssize_t len;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:0rc:t:", longopts)) != -1) {
		switch (c) {
		case '0': fmt = NULS; break;
		case 'r': fmt = RAW; break;
		case 'c': count = cli_number('c', optarg, "the count", 1, LLONG_MAX); break;
		case 't': timeout_ms = cli_timeout('t', optarg); break;
		default: cli_usage(cmd);
		}
	}
	path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	if (fmt == RAW) {
		if (count > 1) {
			warnx("recv: -r takes one message: -c must be 1");
			cli_usage(cmd);
		}
		count = 1;
	}
	cli_catch_signals();
	g.box = cli_open("recv", path, 0);
	cli_getattr(g.box, "recv", path, &attr);
	g.size = attr.slot_size;
	g.buf = malloc(g.size);
	if (g.buf == NULL)
		err(EX_OSERR, "recv %s", path);
	for (n = 0; count == 0 || n < count; n++) {
		len = tool_wait(g.box, SHMBOX_FD_GET, get, &g, timeout_ms);
		if (len == -1) {
			status = cli_stopped("recv", path, n, count);
			break;
		}
		print(path, g.buf, (size_t)len, fmt);
	}
	free(g.buf);
	shmbox_close(g.box);
	return status;
}
