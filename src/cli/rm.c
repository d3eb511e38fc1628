/* shmbox rm: remove a mailbox, for everyone (the key file stays).  -f
 * removes whatever shmbox left at the key (shmbox_unlink): a mailbox made
 * for another key file (ESTALE: the file was deleted and re-created), and
 * the broken leftovers the library will not open: a segment whose
 * semaphore set is gone or that is marked removed, one whose creator died
 * before it was ready, a semaphore set without its segment. */
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
	int c, force = 0, e;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:f", longopts)) != -1) {
		if (c != 'f')
			cli_usage(cmd);
		force = 1;
	}
	path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	if (force) {
		if (shmbox_unlink(path, cli_proj, SHMBOX_ANY_FILE) == -1)
			cli_fail("rm -f", path);
		return EX_OK;
	}
	/* Read-only: removal needs no place among the attached (max_procs). */
	box = cli_open("rm", path, SHMBOX_RDONLY);
	if (shmbox_destroy(box) == -1) { /* EPERM: neither its owner nor its creator */
		e = errno;
		shmbox_close(box);
		errno = e;
		cli_fail("rm", path);
	}
	return EX_OK;
}
