/* shmbox create: a new mailbox, and its key file if there is none. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

/* ftok needs a file that exists; its contents do not matter, and it need
 * not be readable.  True if this call made it (a failed create then
 * removes it again). */
static bool touch(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL, 0644);
	struct stat st;

	if (fd != -1) {
		close(fd);
		return true;
	}
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		errno = EISDIR; /* a directory is no key file */
	/* Any reason, permission too: sysexits(3) keeps EX_NOPERM for
	 * permissions above the file system. */
	if (errno != EEXIST)
		err(EX_CANTCREAT, "create %s", path);
	return false;
}

/* The mode is octal, as chmod takes it: 600, 0660. */
static mode_t mode(const char *arg)
{
	char *end;
	long m;

	errno = 0;
	m = strtol(arg, &end, 8);
	if (end == arg || *end != '\0' || errno != 0 || m < 1 || m > 0777)
		errx(EX_USAGE, "create: -m %s: the mode is invalid (octal, 1 to 777)", arg);
	return (mode_t)m;
}

int cli_create(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"slots", required_argument, NULL, 'n'},
		{"slot-size", required_argument, NULL, 's'},
		{"mode", required_argument, NULL, 'm'},
		{"max-procs", required_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	shmbox_attr_t attr = {.slots = CLI_SLOTS, .slot_size = CLI_SLOT_SIZE};
	const char *path;
	shmbox_t *box;
	bool made;
	int c;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:n:s:m:P:", longopts)) != -1) {
		switch (c) {
		case 'n':
			attr.slots = (size_t)cli_number('n', optarg, "the number of slots", 1,
							 UINT32_MAX);
			break;
		case 's':
			attr.slot_size = (size_t)cli_number('s', optarg, "the slot size", 1,
							     UINT32_MAX);
			break;
		case 'm': attr.mode = mode(optarg); break;
		case 'P':
			attr.max_procs = (size_t)cli_number('P', optarg, "the number of processes",
							     1, 65535);
			break;
		default: cli_usage(cmd);
		}
	}
	path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	made = touch(path);
	if (shmbox_create(path, cli_proj, &attr, &box) == -1) {
		int e = errno;

		/* -n and -s were checked one by one: EINVAL is the two together */
		if (e == EINVAL)
			warnx("create %s: %zu slots of %zu bytes are more than one segment can hold",
			      path, attr.slots, attr.slot_size);
		else
			cli_warn("create", path); /* before the unlink: its hint needs the key */
		/* Not after EEXIST: another create may have made its mailbox on
		 * our file since.  (After other errors, a create racing ours on
		 * the same new file may still find it gone.) */
		if (made && e != EEXIST)
			(void)unlink(path);
		exit(e == EINVAL ? EX_USAGE : cli_exit_code(e));
	}
	shmbox_close(box);
	return EX_OK;
}
