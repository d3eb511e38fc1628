/* Many producers and consumers, as processes and as threads: every
 * message arrives once, whole, and in its producer's order. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

#define SLOT_SIZE 200
#define MAX_PRODUCERS 8
#define PER_PRODUCER 20000

/* Shared with the children: how often each message was received. */
struct tally {
	_Atomic unsigned char seen[MAX_PRODUCERS][PER_PRODUCER];
	_Atomic unsigned bad;
};

static struct tally *tally_new(void)
{
	struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(t, MAP_FAILED);
	return t;
}

static int produce(shmbox_t *box, unsigned id)
{
	unsigned char buf[SLOT_SIZE];
	unsigned seq;

	for (seq = 0; seq < tu_scale(PER_PRODUCER); seq++)
		if (shmbox_put(box, buf, tu_message(buf, sizeof(buf), id, seq), -1) == -1)
			return -1;
	return 0;
}

/* Until a zero-length message: check each, and each producer's order. */
static int consume(shmbox_t *box, struct tally *t)
{
	unsigned char buf[SLOT_SIZE];
	long last[MAX_PRODUCERS];
	unsigned p, seq;
	ssize_t n;

	for (p = 0; p < MAX_PRODUCERS; p++)
		last[p] = -1;
	while ((n = shmbox_get(box, buf, sizeof(buf), -1)) > 0) {
		if (tu_check_message(buf, (size_t)n, &p, &seq) == -1 || p >= MAX_PRODUCERS ||
		    seq >= PER_PRODUCER || (long)seq <= last[p]) {
			atomic_fetch_add(&t->bad, 1);
			continue;
		}
		last[p] = seq;
		atomic_fetch_add(&t->seen[p][seq], 1);
	}
	return n == 0 ? 0 : -1;
}

static void check_tally(struct tally *t, unsigned producers)
{
	unsigned p, seq;

	ck_assert_uint_eq(atomic_load(&t->bad), 0);
	for (p = 0; p < producers; p++)
		for (seq = 0; seq < tu_scale(PER_PRODUCER); seq++)
			ck_assert_msg(atomic_load(&t->seen[p][seq]) == 1,
				      "producer %u message %u received %u times", p, seq,
				      (unsigned)atomic_load(&t->seen[p][seq]));
	munmap(t, sizeof(*t));
}

/* crowded: every process, and one that only spins, on one CPU. */
static void processes(unsigned producers, unsigned consumers, size_t slots, bool crowded)
{
	const char *path;
	shmbox_t *box = tu_create(slots, SLOT_SIZE, &path);
	struct tally *t = tally_new();
	pid_t pids[2 * MAX_PRODUCERS], hog = crowded ? tu_hog() : 0;
	unsigned i;

	for (i = 0; i < producers + consumers; i++) {
		pids[i] = tu_fork();
		if (pids[i] == 0) {
			shmbox_t *mine;
			int r;

			if (crowded)
				tu_pin_first_cpu();
			if (shmbox_open(path, TU_PROJ, &mine) == -1)
				_exit(100);
			r = i < producers ? produce(mine, i) : consume(mine, t);
			shmbox_close(mine);
			_exit(r == 0 ? 0 : 100 + errno);
		}
	}
	for (i = 0; i < producers; i++)
		ck_assert_int_eq(tu_reap(pids[i]), 0);
	for (i = 0; i < consumers; i++)
		ck_assert_int_eq(shmbox_put(box, NULL, 0, -1), 0);
	for (i = producers; i < producers + consumers; i++)
		ck_assert_int_eq(tu_reap(pids[i]), 0);
	if (crowded)
		tu_kill_hog(hog);
	check_tally(t, producers);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}

START_TEST(one_producer_one_consumer) { processes(1, 1, 8, false); }
END_TEST
START_TEST(four_producers_three_consumers) { processes(4, 3, 8, false); }
END_TEST
START_TEST(eight_producers_two_consumers_one_slot) { processes(8, 2, 1, false); }
END_TEST
/* Waiters whose peers share their CPU with a process that never waits: the
 * path where yields are useless and a waiter sleeps instead (spin.c). */
START_TEST(crowded_on_one_cpu_with_a_hog) { processes(2, 2, 4, true); }
END_TEST

struct worker {
	shmbox_t *box;
	struct tally *t;
	unsigned id;
	int producer, result;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	w->result = w->producer ? produce(w->box, w->id) : consume(w->box, w->t);
	return NULL;
}

START_TEST(threads_sharing_one_handle)
{
	shmbox_t *box = tu_create(4, SLOT_SIZE, NULL);
	struct tally *t = tally_new();
	struct worker w[6];
	pthread_t th[6];
	unsigned i;

	for (i = 0; i < 6; i++) {
		w[i] = (struct worker){.box = box, .t = t, .id = i, .producer = i < 3};
		ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].result, 0);
	}
	for (i = 3; i < 6; i++)
		ck_assert_int_eq(shmbox_put(box, NULL, 0, -1), 0);
	for (i = 3; i < 6; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].result, 0);
	}
	check_tally(t, 3);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A child of fork() that uses its parent's handle gets EBADF: its claims
 * would carry the parent's token, and a child killed mid-claim would hold
 * the slot for as long as the parent lives.  Its close only unmaps: the
 * parent's token and handle are untouched.  A handle of its own works. */
static int child_with_parents_handle(shmbox_t *box, const char *path)
{
	char buf[SLOT_SIZE];
	struct shmbox_stat st;
	shmbox_zc_t zc;
	shmbox_t *own;

	if (shmbox_put(box, "x", 1, 0) != -1 || errno != EBADF)
		return 1;
	if (shmbox_get(box, buf, sizeof(buf), 0) != -1 || errno != EBADF)
		return 2;
	if (shmbox_reserve(box, &zc, 0) != -1 || errno != EBADF)
		return 3;
	if (shmbox_stat(box, &st) != 0 || st.queued != 1) /* looking is fine */
		return 4;
	if (shmbox_close(box) != 0)
		return 5;
	if (shmbox_open(path, TU_PROJ, &own) != 0 || shmbox_put(own, "b", 1, 0) != 0)
		return 6;
	return shmbox_close(own) == 0 ? 0 : 7;
}

START_TEST(parents_handle_in_a_child)
{
	const char *path;
	shmbox_t *box = tu_create(4, SLOT_SIZE, &path);
	struct shmbox_stat st;
	struct shmbox_proc procs[4];
	char buf[SLOT_SIZE];
	pid_t pid;

	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	pid = tu_fork();
	if (pid == 0)
		_exit(child_with_parents_handle(box, path));
	ck_assert_int_eq(tu_reap(pid), 0);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.attached, 1); /* our token was not dropped */
	/* nor our proc-table entry (the token alone would not show it: the
	 * child's undo record was its own, and its exit gave the +1 back) */
	ck_assert_int_eq(shmbox_procs(box, procs, 4), 1);
	ck_assert_int_eq(procs[0].pid, getpid());
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'a');
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'b');
	ck_assert_int_eq(shmbox_put(box, "c", 1, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_procs(void)
{
	Suite *s = suite_create("procs");
	TCase *tc = tcase_create("mpmc");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, one_producer_one_consumer);
	tcase_add_test(tc, four_producers_three_consumers);
	tcase_add_test(tc, eight_producers_two_consumers_one_slot);
	tcase_add_test(tc, crowded_on_one_cpu_with_a_hog);
	tcase_add_test(tc, threads_sharing_one_handle);
	tcase_add_test(tc, parents_handle_in_a_child);
	suite_add_tcase(s, tc);
	return s;
}
