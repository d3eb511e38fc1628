/* A program outside the tree, built after `make install` with
 *   cc app.c $(pkg-config --cflags --libs shmbox)
 * by `make installcheck` (which distcheck runs). */
#include <shmbox.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	char path[] = "/tmp/shmbox-app.XXXXXX", buf[16];
	shmbox_attr_t attr = {.slots = 2, .slot_size = sizeof(buf)};
	shmbox_t *box;
	ssize_t n;
	int fd = mkstemp(path);

	if (fd == -1)
		return 1;
	close(fd);
	if (shmbox_create(path, 1, &attr, &box) == -1) {
		fprintf(stderr, "create: %s\n", shmbox_strerror(errno));
		unlink(path);
		return 1;
	}
	n = shmbox_put(box, "installed", 9, 0) == 0 ? shmbox_get(box, buf, sizeof(buf), 0) : -1;
	shmbox_destroy(box);
	unlink(path);
	printf("app: shmbox %s %s\n", SHMBOX_VERSION_STRING, n == 9 ? "works" : "FAILED");
	return n == 9 ? 0 : 1;
}
