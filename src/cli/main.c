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

#define PROJ_HELP "  -p proj         ftok project number, 1 to 255 (default " STR(CLI_PROJ) ")\n"
#define WAIT_HELP(what)                                                                    \
	"  -t timeout_ms   wait at most this long " what ";\n"                             \
	"                  0 never waits, -1 (the default) waits for ever\n"

/* --help: what it does, then its options; shmbox(1) has the rest. */
static const struct cli_cmd commands[] = {
	{"create", "create [-p proj] [-n slots] [-s slot_size] [-m mode] [-P max_procs] path",
	 cli_create,
	 "Make a new mailbox, and the key file path if there is none.\n"
	 "  -n slots        message slots (default " STR(CLI_SLOTS) ")\n"
	 "  -s slot_size    largest message, in bytes (default " STR(CLI_SLOT_SIZE) ")\n"
	 "  -m mode         permissions, octal as for chmod (default 600)\n"
	 "  -P max_procs    processes that may have it open at once (default "
	 STR(SHMBOX_DEFAULT_MAX_PROCS) ")\n" PROJ_HELP},
	{"rm", "rm [-f] [-p proj] path", cli_rm,
	 "Remove the mailbox for every process that uses it; the key file stays.\n"
	 "  -f              whatever shmbox left at the key: also a mailbox made for\n"
	 "                  another key file, or a broken leftover (its semaphore set\n"
	 "                  or segment gone, or marked removed)\n" PROJ_HELP},
	{"send", "send [-0r] [-p proj] [-t timeout_ms] path [message ...]", cli_send,
	 "Put each message; without any, each line of standard input is one.\n"
	 "  -0              standard input holds NUL-ended messages\n"
	 "  -r              all of standard input is one message\n" WAIT_HELP("for room") PROJ_HELP},
	{"recv", "recv [-0r] [-p proj] [-c count] [-t timeout_ms] path", cli_recv,
	 "Take messages, oldest first, and print each followed by a newline.\n"
	 "  -0              end each with a NUL byte instead\n"
	 "  -r              take one message and write its bytes only\n"
	 "  -c count        stop after count messages (default: until Ctrl-C)\n"
	 WAIT_HELP("for each message") PROJ_HELP},
	{"call", "call [-r] [-p proj] [-t timeout_ms] path request", cli_call,
	 "Send a request, wait for a server's reply (shmbox serve), and print it.\n"
	 "  -r              write the reply's bytes only, no newline\n"
	 WAIT_HELP("for the whole call") PROJ_HELP},
	{"serve", "serve [-p proj] [-c count] [-t timeout_ms] path [command [argument ...]]",
	 cli_serve,
	 "Answer calls: with the request itself, or with what command prints\n"
	 "when given the request on its standard input (one run per request;\n"
	 "a command that cannot be started ends serve at once).\n"
	 "  -c count        stop after count requests\n" WAIT_HELP("for each request") PROJ_HELP},
	{"info", "info [--json] [-p proj] path", cli_info,
	 "Describe one mailbox: geometry, queue, sleepers, owner, attached processes.\n"
	 "  --json          one mailbox object, with its processes, instead\n" PROJ_HELP},
	{"ls", "ls [--json]", cli_ls,
	 "List every mailbox on the host, and the broken leftovers that rm -f removes.\n"
	 "  --json          an array of mailbox objects (no path, no processes) instead\n"},
	{"watch", "watch [--once] [-i interval_ms] [-p proj] path", cli_watch,
	 "Show the ring's slots as they change, read-only, until q or Ctrl-C;\n"
	 "on a terminal it follows the window's size, elsewhere it prints frames.\n"
	 "  -i interval_ms  time between frames (default " STR(CLI_WATCH_INTERVAL) ")\n"
	 "  --once          print one frame as plain text and exit\n" PROJ_HELP},
	{"bridge",
	 "bridge (--connect | --listen) endpoint [-d] [-p proj] [--keys dir] [--window n]\n"
	 "                [--calls n] [--insecure] [--stats] path",
	 cli_bridge,
	 "Join this mailbox to one on another host, over ZeroMQ (shmbox(1), BRIDGE).\n"
	 "  --connect ep    take messages and calls from path and carry them to the\n"
	 "                  listener at ep (tcp://host:port, ipc:///file); replies\n"
	 "                  come back to their callers\n"
	 "  --listen ep     put what connecting bridges carry into path, and make\n"
	 "                  their calls on it (tcp://*:port; port * takes any)\n"
	 "  --keys dir      encrypt and authenticate with CURVE: dir/key is this\n"
	 "                  host's (shmbox keygen), dir/peers/ the other side's keys\n"
	 "  --window n      connect: messages sent and not yet acknowledged, at most\n"
	 "                  (default " STR(BRIDGE_WINDOW) "; a killed bridge loses up to this many)\n"
	 "  --calls n       listen: calls made at once, at most (default " STR(BRIDGE_CALLS) ")\n"
	 "  --insecure      listen without --keys on an endpoint that is not loopback\n"
	 "  --stats         print what was carried when it ends (SIGUSR1: at any time)\n"
	 "  -d              run as a daemon: log to syslog, write a pid file in /run\n"
	 PROJ_HELP},
	{"keygen", "keygen dir", cli_keygen,
	 "Make this host's CURVE key pair for shmbox bridge --keys dir: dir/key\n"
	 "(secret, mode 600) and dir/key.pub; copy key.pub into the other host's\n"
	 "dir/peers/, and its key.pub into this one's.\n"},
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
