/* shmbox rm: remove a mailbox, for everyone (the key file stays).  -f
 * removes the mailbox at the key even if it was made for another key file
 * (ESTALE: the file was deleted and re-created). */
#include <errno.h>
#include <sysexits.h>

#include "cli.h"

int cli_rm(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	const char *path;
	shmbox_t *box;
	int c, flags = 0, e;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:f", longopts)) != -1) {
		if (c != 'f')
			cli_usage(cmd);
		flags |= SHMBOX_ANY_FILE;
	}
	path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	/* Read-only: removal needs no place among the attached (max_procs). */
	box = cli_open("rm", path, flags | SHMBOX_RDONLY);
	if (shmbox_destroy(box) == -1) { /* EPERM: neither its owner nor its creator */
		e = errno;
		shmbox_close(box);
		errno = e;
		cli_fail("rm", path);
	}
	return EX_OK;
}
