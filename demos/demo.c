#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

volatile sig_atomic_t demo_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	demo_interrupted = 1;
}

void demo_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void demo_hold(long long ms)
{
	struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (!demo_interrupted && nanosleep(&left, &left) == -1 && errno == EINTR)
		;
}

void demo_touch(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT, 0644);

	if (fd == -1)
		err(1, "%s", path);
	close(fd);
}

void demo_fail(const char *what, const char *path)
{
	errx(1, "%s %s: %s", what, path, shmbox_strerror(errno));
}
