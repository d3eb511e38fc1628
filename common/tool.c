/* Helpers shared by the shmbox command and the demos: see tool.h. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

long long tool_number(int status, const char *cmd, char opt, const char *arg, const char *what,
		      long long min, long long max)
{
	const char *errstr;
	long long n = strtonum(arg, min, max, &errstr);

	if (errstr != NULL)
		errx(status, "%s%s-%c %s: %s is %s (%lld to %lld)", cmd != NULL ? cmd : "",
		     cmd != NULL ? ": " : "", opt, arg, what, errstr, min, max);
	return n;
}

volatile sig_atomic_t tool_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	tool_interrupted = 1;
}

void tool_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: blocked calls return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
