/* Helpers shared by the shmbox command and the demos: see tool.h. */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Only the window from the look at the flag to the sleep is blocked, not
 * the whole program: a read of standard input, a waitpid or a command
 * that serve starts see the signals as before (a child inherits the mask
 * of the moment). */
int tool_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
	sigset_t stop, open;
	int r, e;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &open);
	if (tool_interrupted) {
		r = -1;
		e = EINTR;
	} else {
		/* the mask as it was, while it sleeps; restarted, not ended, by
		 * a stop and continue */
		r = ppoll(fds, n, timeout_ms < 0 ? NULL : &ts, &open);
		e = errno;
	}
	sigprocmask(SIG_SETMASK, &open, NULL);
	errno = e;
	return r;
}

int tool_sleep(long long ms)
{
	long long end = now_ms() + ms, left;

	while ((left = end - now_ms()) > 0) {
		if (tool_poll(NULL, 0, left > 3600000 ? 3600000 : (int)left) == -1 &&
		    tool_interrupted)
			return -1; /* errno is EINTR */
	}
	return 0;
}

ssize_t tool_wait(shmbox_t *box, int what, ssize_t (*op)(void *arg), void *arg, int timeout_ms)
{
	long long end = now_ms() + timeout_ms, left;
	struct pollfd p = {.events = POLLIN};
	ssize_t r;

	for (;;) {
		if (tool_interrupted) {
			errno = EINTR;
			return -1;
		}
		r = op(arg);
		if (r != -1 || errno != EAGAIN || timeout_ms == 0)
			return r;
		left = timeout_ms < 0 ? -1 : end - now_ms();
		if (timeout_ms > 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		p.fd = shmbox_fd(box, what);
		if (p.fd == -1)
			return -1;
		/* EINTR: ours is seen at the top; another handler, or a stop
		 * and continue, and the wait goes on */
		if (tool_poll(&p, 1, (int)left) == -1 && errno != EINTR)
			return -1;
	}
}
