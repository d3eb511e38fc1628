/*
 * shmbox: make, use, inspect and remove shmbox mailboxes from the shell.
 *
 *   shmbox command [option ...] [path] [argument ...]
 *
 * One file per subcommand; this one only finds the subcommand.  See
 * shmbox(1).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

static const struct cli_cmd commands[] = {
	{"create", "create [-p proj] [-n slots] [-s slot_size] [-m mode] [-P max_procs] path",
	 cli_create},
	{"rm", "rm [-f] [-p proj] path", cli_rm},
	{"send", "send [-0r] [-p proj] [-t timeout_ms] path [message ...]", cli_send},
	{"recv", "recv [-0r] [-p proj] [-c count] [-t timeout_ms] path", cli_recv},
	{"call", "call [-r] [-p proj] [-t timeout_ms] path request", cli_call},
	{"serve", "serve [-p proj] [-c count] [-t timeout_ms] path [command [argument ...]]",
	 cli_serve},
	{"info", "info [--json] [-p proj] path", cli_info},
	{"ls", "ls [--json]", cli_ls},
	{"watch", "watch [--once] [-i interval_ms] [-p proj] path", cli_watch},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "%s %s %s\n", i == 0 ? "usage:" : "      ", getprogname(),
			commands[i].synopsis);
	fprintf(f, "       %s --help | --version\n", getprogname());
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EX_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		cli_version();
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(&commands[i], argc - 1, argv + 1);
	warnx("%s: no such command", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
