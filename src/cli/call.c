/* shmbox call: send a request, wait for its reply, print the reply. */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

int cli_call(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"raw", no_argument, NULL, 'r'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	shmbox_attr_t attr;
	const char *path, *req;
	shmbox_t *box;
	int c, timeout_ms = -1, raw = 0, e;
	ssize_t len;
	static char *rep; /* static: see fail.c */

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:rt:", longopts)) != -1) {
		switch (c) {
		case 'r': raw = 1; break;
		case 't': timeout_ms = cli_timeout('t', optarg); break;
		default: cli_usage(cmd);
		}
	}
	path = cli_path(cmd, argc, argv);
	if (optind == argc) {
		warnx("call: a request is needed");
		cli_usage(cmd);
	}
	req = argv[optind++];
	cli_no_more(cmd, argc, argv);
	cli_catch_signals();
	box = cli_open("call", path, 0);
	cli_getattr(box, "call", path, &attr);
	if (strlen(req) > attr.slot_size)
		errx(EX_DATAERR, "call %s: the request is %zu bytes; the slot size is %zu", path,
		     strlen(req), attr.slot_size);
	rep = malloc(attr.slot_size);
	if (rep == NULL)
		err(EX_OSERR, "call %s", path);
	len = shmbox_call(box, req, strlen(req), rep, attr.slot_size, timeout_ms);
	if (len == -1) {
		e = errno;
		shmbox_close(box);
		errno = e;
		cli_fail("call", path);
	}
	fwrite(rep, 1, (size_t)len, stdout);
	if (!raw)
		putchar('\n');
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "call %s: standard output", path);
	free(rep);
	shmbox_close(box);
	return EX_OK;
}
