/*
 * race: the read-while-writing race of the shmget tutorials, made visible.
 *
 * Round 1: several writers and one reader share a raw segment with no
 * synchronisation, as the tutorials do.  Each message carries a checksum;
 * the reader counts the messages it finds torn (half one message, half
 * another).  Round 2: the same writers and reader, the same messages,
 * through a shmbox mailbox.  Both counts are printed side by side.
 *
 *   race [-w WRITERS] [-t MILLISECONDS]
 */
#include <err.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "options.h"
#include "shmbox.h"

#define MSG 256

struct counts {
	_Atomic long messages, torn;
	_Atomic int stop;
};

#define WRITERS 3 /* -w default */
#define MS 1000	  /* -t default */

_Noreturn static void usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-w WRITERS] [-t MILLISECONDS]\n"
		"  -w WRITERS       writer processes, 1 to 64 (default " STR(WRITERS) ")\n"
		"  -t MILLISECONDS  how long each round runs (default " STR(MS) ")\n",
		getprogname());
	exit(status);
}

/* A message: writer id, sequence, checksum, then filler from both. */
static void make(unsigned char *m, uint32_t id, uint32_t seq)
{
	uint32_t sum = 0, i;

	memcpy(m, &id, 4);
	memcpy(m + 4, &seq, 4);
	for (i = 12; i < MSG; i++) {
		m[i] = (unsigned char)(id * 31 + seq + i);
		sum = sum * 31 + m[i];
	}
	sum ^= id * 2654435761u ^ seq;
	memcpy(m + 8, &sum, 4);
}

static int whole(const unsigned char *m)
{
	uint32_t id, seq, sum, want = 0, i;

	memcpy(&id, m, 4);
	memcpy(&seq, m + 4, 4);
	memcpy(&sum, m + 8, 4);
	for (i = 12; i < MSG; i++)
		want = want * 31 + m[i];
	return sum == (want ^ id * 2654435761u ^ seq);
}

/* Round 1: writers copy into the one shared buffer, the reader copies out. */
static void raw_writer(unsigned char *seg, uint32_t id, struct counts *c)
{
	unsigned char m[MSG];
	uint32_t seq;

	for (seq = 0; !atomic_load_explicit(&c->stop, memory_order_relaxed); seq++) {
		make(m, id, seq);
		memcpy(seg, m, MSG); /* no lock, as in the tutorials */
	}
}

static void raw_reader(volatile unsigned char *seg, struct counts *c)
{
	unsigned char m[MSG];
	size_t i;

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		for (i = 0; i < MSG; i++)
			m[i] = seg[i];
		if (m[0] == 0 && m[8] == 0)
			continue; /* nothing written yet */
		atomic_fetch_add(&c->messages, 1);
		if (!whole(m))
			atomic_fetch_add(&c->torn, 1);
	}
}

/* Round 2: the same, through a mailbox. */
static void box_writer(const char *path, uint32_t id, struct counts *c)
{
	unsigned char m[MSG];
	shmbox_t *box;
	uint32_t seq;

	if (shmbox_open(path, 1, &box) == -1)
		errx(1, "open %s: %s", path, shmbox_strerror(errno));
	for (seq = 0; !atomic_load_explicit(&c->stop, memory_order_relaxed); seq++) {
		make(m, id, seq);
		if (shmbox_put(box, m, MSG, 100) == -1 && errno != ETIMEDOUT)
			break;
	}
	shmbox_close(box);
}

static void box_reader(const char *path, struct counts *c)
{
	unsigned char m[MSG];
	shmbox_t *box;

	if (shmbox_open(path, 1, &box) == -1)
		errx(1, "open %s: %s", path, shmbox_strerror(errno));
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		if (shmbox_get(box, m, MSG, 100) != MSG)
			continue;
		atomic_fetch_add(&c->messages, 1);
		if (!whole(m))
			atomic_fetch_add(&c->torn, 1);
	}
	shmbox_close(box);
}

/* Fork the writers and the reader, let them run, stop them. */
static void round_of(int writers, long ms, struct counts *c, unsigned char *seg,
		     const char *path)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	int i;

	for (i = 0; i <= writers; i++) {
		pid_t pid = fork();

		if (pid == -1)
			err(1, "fork");
		if (pid > 0)
			continue;
		if (i == writers)
			seg ? raw_reader(seg, c) : box_reader(path, c);
		else
			seg ? raw_writer(seg, (uint32_t)i + 1, c) : box_writer(path, (uint32_t)i + 1, c);
		_exit(0);
	}
	nanosleep(&t, NULL);
	atomic_store(&c->stop, 1);
	while (wait(NULL) > 0)
		;
}

int main(int argc, char **argv)
{
	long long writers = WRITERS, ms = MS;
	char path[] = "/tmp/shmbox-race.XXXXXX";
	shmbox_attr_t attr = {.slots = 16, .slot_size = MSG};
	struct counts *c;
	shmbox_t *box;
	unsigned char *seg;
	int ch, id, fd;

	while ((ch = demo_getopt(argc, argv, ":hw:t:", usage)) != -1) {
		switch (ch) {
		case 'w': writers = demo_number('w', optarg, "the number of writers", 1, 64); break;
		case 't': ms = demo_number('t', optarg, "milliseconds", 10, 600000); break;
		default: usage(2);
		}
	}
	c = mmap(NULL, 2 * sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		err(1, "mmap");
	printf("%lld writer%s and 1 reader, %lld ms each way, %d-byte messages with a checksum\n",
	       writers, writers == 1 ? "" : "s", ms, MSG);
	fflush(stdout);

	id = shmget(IPC_PRIVATE, MSG, IPC_CREAT | 0600);
	if (id == -1 || (seg = shmat(id, NULL, 0)) == (void *)-1)
		err(1, "shmget");
	shmctl(id, IPC_RMID, NULL); /* gone once we detach, whatever happens */
	memset(seg, 0, MSG);
	round_of((int)writers, ms, &c[0], seg, NULL);
	shmdt(seg);

	if ((fd = mkstemp(path)) == -1)
		err(1, "mkstemp");
	close(fd);
	if (shmbox_create(path, 1, &attr, &box) == -1)
		errx(1, "create %s: %s", path, shmbox_strerror(errno));
	round_of((int)writers, ms, &c[1], NULL, path);
	shmbox_destroy(box);
	unlink(path);

	printf("\n%-28s %12s %12s\n", "", "messages read", "torn");
	printf("%-28s %12ld %12ld  (%.1f%%)\n", "raw segment, no locking", atomic_load(&c[0].messages),
	       atomic_load(&c[0].torn),
	       c[0].messages ? 100.0 * (double)c[0].torn / (double)c[0].messages : 0.0);
	printf("%-28s %12ld %12ld\n", "shmbox", atomic_load(&c[1].messages), atomic_load(&c[1].torn));
	return atomic_load(&c[1].torn) == 0 ? 0 : 1;
}
