/* shmbox bridge and keygen, in a shmbox built without ZeroMQ. */
#include <err.h>
#include <sysexits.h>

#include "cli.h"

static int missing(const struct cli_cmd *cmd)
{
	errx(EX_UNAVAILABLE, "%s: this shmbox was built without ZeroMQ; install libzmq3-dev "
			     "(Debian) and run ./configure again",
	     cmd->name);
}

int cli_bridge(const struct cli_cmd *cmd, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return missing(cmd);
}

int cli_keygen(const struct cli_cmd *cmd, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return missing(cmd);
}
