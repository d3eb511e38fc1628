#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "demo.h"

void demo_hold(long long ms)
{
	tool_sleep(ms);
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
