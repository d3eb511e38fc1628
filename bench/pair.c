/* The C side of the Python binding's per-call overhead (bench/python_bench.py):
 * put+get pairs in one process, on one mailbox, no waiting; prints the
 * nanoseconds per pair.  usage: shmbox-pair KEYFILE SIZE COUNT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmbox.h"

int main(int argc, char **argv)
{
	shmbox_attr_t attr = {.slots = 64};
	struct timespec t0, t1;
	static char msg[65536], buf[65536];
	shmbox_t *box;
	long count;

	if (argc != 4) {
		fprintf(stderr, "usage: shmbox-pair KEYFILE SIZE COUNT\n");
		return 2;
	}
	attr.slot_size = strtoul(argv[2], NULL, 10);
	count = strtol(argv[3], NULL, 10);
	if (attr.slot_size < 1 || attr.slot_size > sizeof msg || count < 1) {
		fprintf(stderr, "shmbox-pair: SIZE is 1 to %zu, COUNT at least 1\n", sizeof msg);
		return 2;
	}
	if (shmbox_create(argv[1], 1, &attr, &box) == -1) {
		fprintf(stderr, "shmbox-pair: %s: %s\n", argv[1], shmbox_strerror(errno));
		return 1;
	}
	memset(msg, 'x', attr.slot_size);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < count; i++)
		if (shmbox_put(box, msg, attr.slot_size, 0) == -1 ||
		    shmbox_get(box, buf, sizeof buf, 0) != (ssize_t)attr.slot_size) {
			fprintf(stderr, "shmbox-pair: %s\n", shmbox_strerror(errno));
			shmbox_destroy(box);
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / count);
	shmbox_destroy(box);
	return 0;
}
