/* Option parsing for the demo programs: -h and --help print the usage on
 * standard output and exit 0; a bad option is reported under the program's
 * own name (in the build tree getopt's message would name libtool's
 * .libs/ path), then the usage goes to standard error with status 2. */
#ifndef DEMO_OPTIONS_H
#define DEMO_OPTIONS_H

#include <err.h>
#include <getopt.h>
#include <stdlib.h>

/* STR and the number parser, shared with the shmbox command */
#include "../common/tool.h"

/* usage(0): to standard output, exit 0; usage(2): to standard error. */
typedef void (*demo_usage_fn)(int status);

/* The number in option -opt's argument, min to max, or exit with status 2
 * and "-opt ARG: WHAT is too large (MIN to MAX)" (strtonum, libbsd). */
static inline long long demo_number(char opt, const char *arg, const char *what, long long min,
				    long long max)
{
	return tool_number(2, NULL, opt, arg, what, min, max);
}

/* getopt for optstring, which must start with ':' (after a '+', if any)
 * and list 'h'. */
static inline int demo_getopt(int argc, char **argv, const char *optstring, demo_usage_fn usage)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, optstring, longopts, NULL);
	if (c == 'h')
		usage(0);
	if (c == ':' || c == '?') {
		if (c == ':')
			warnx("-%c needs a value", optopt);
		else if (optopt == 'h') /* -h is known: this was --help=... */
			warnx("--help takes no value");
		else if (optopt != 0)
			warnx("-%c: no such option", optopt);
		else /* an unknown long option */
			warnx("%s: no such option", argv[optind - 1]);
		usage(2);
	}
	return c;
}

#endif
