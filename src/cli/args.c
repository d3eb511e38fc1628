/* Command-line parsing shared by the subcommands: --help, --version, -p,
 * numbers (strtonum, and a bad one names its option), usage. */
#include <err.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

void cli_usage(const struct cli_cmd *cmd)
{
	fprintf(stderr, "usage: %s %s\n", getprogname(), cmd->synopsis);
	exit(EX_USAGE);
}

static void __attribute__((noreturn)) help(const struct cli_cmd *cmd)
{
	printf("usage: %s %s\n%s", getprogname(), cmd->synopsis, cmd->help);
	printf("See shmbox(1) for more.\n");
	exit(EX_OK);
}

void cli_version(void)
{
	printf("%s %s (library %s)\n", getprogname(), PACKAGE_VERSION, SHMBOX_VERSION_STRING);
	exit(EX_OK);
}

/* The subcommand whose options are being read, for messages that name it
 * as the option parser's own do. */
static const char *cmd_name;

long long cli_number(char opt, const char *arg, const char *what, long long min, long long max)
{
	return tool_number(EX_USAGE, cmd_name, opt, arg, what, min, max);
}

int cli_timeout(char opt, const char *arg)
{
	return (int)cli_number(opt, arg, "the timeout in milliseconds", -1, INT_MAX);
}

/* ftok uses the low 8 bits of proj_id, and 0 there is refused. */
static int proj(const char *arg)
{
	return (int)cli_number('p', arg, "the project number", 1, 255);
}

int cli_proj = CLI_PROJ;

int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv, const char *optstring,
	       const struct option *longopts)
{
	int c;

	opterr = 0; /* our messages name the subcommand */
	cmd_name = cmd->name;
	for (;;) {
		c = getopt_long(argc, argv, optstring, longopts, NULL);
		switch (c) {
		case 'h': help(cmd);
		case 'V': cli_version();
		case 'p':
			cli_proj = proj(optarg);
			continue;
		case ':':
			warnx("%s: %s needs an argument", cmd->name, argv[optind - 1]);
			cli_usage(cmd);
		case '?':
			if (optopt != 0)
				warnx("%s: unknown option -%c", cmd->name, optopt);
			else
				warnx("%s: unknown option %s", cmd->name, argv[optind - 1]);
			cli_usage(cmd);
		default:
			return c;
		}
	}
}

const char *cli_path(const struct cli_cmd *cmd, int argc, char **argv)
{
	if (optind >= argc) {
		warnx("%s: a mailbox path is needed", cmd->name);
		cli_usage(cmd);
	}
	if (argv[optind][0] == '\0') {
		warnx("%s: the mailbox path is empty", cmd->name);
		cli_usage(cmd);
	}
	return argv[optind++];
}

void cli_no_more(const struct cli_cmd *cmd, int argc, char **argv)
{
	if (optind < argc) {
		warnx("%s: unexpected argument: %s", cmd->name, argv[optind]);
		cli_usage(cmd);
	}
}
