/* Zero copy: reserve/commit and peek/release keep every promise of
 * put and get, including when the holder is killed; a cancelled
 * reservation ends as a killed holder's does.
 *
 * The model (test/model/shmbox.pml) has no cancel of its own: its revoke
 * of a dead put's WRITING (W_REVOKE: CAS WRITING(L,o) -> DEAD(L), then wake
 * the getters and ring their side) is the transition shmbox_cancel makes,
 * through the same function (revoke in src/ring.c), but there the holder
 * is dead by then.  A canceller lives on; its later puts are new claims,
 * as another producer's would be.  The tests below hold that to account
 * with processes: nothing received, order kept, sleepers woken at once,
 * pollers rung. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sem.h"
#include "util.h"

START_TEST(reserve_commit_peek_release_round_trip)
{
	shmbox_t *box = tu_create(2, 32, NULL);
	shmbox_zc_t w, r;
	char buf[32];

	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	ck_assert_uint_eq(w.len, 32);
	memcpy(w.data, "in place", 8);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), -1); /* not yet visible */
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(shmbox_commit(box, &w, 8), 0);
	ck_assert_int_eq(shmbox_commit(box, &w, 8), -1); /* once only */
	ck_assert_int_eq(errno, ECANCELED);
	ck_assert_int_eq(shmbox_put(box, "copied", 6, 0), 0);
	ck_assert_int_eq(shmbox_peek(box, &r, 0), 8);
	ck_assert_mem_eq(r.data, "in place", 8);
	ck_assert_int_eq(shmbox_release(box, &r), 0);
	ck_assert_int_eq(shmbox_release(box, &r), -1);
	ck_assert_int_eq(errno, ECANCELED);
	ck_assert_int_eq(shmbox_peek(box, &r, 0), 6);
	ck_assert_mem_eq(r.data, "copied", 6);
	ck_assert_int_eq(shmbox_release(box, &r), 0);
	ck_assert_int_eq(shmbox_peek(box, &r, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(forged_claims_change_nothing)
{
	shmbox_t *box = tu_create(2, 32, NULL);
	shmbox_zc_t w, forged;
	struct shmbox_stat st;

	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	forged = w;
	forged.priv[1] ^= 0x100; /* another owner */
	ck_assert_int_eq(shmbox_commit(box, &forged, 1), -1);
	ck_assert_int_eq(errno, ECANCELED);
	ck_assert_int_eq(shmbox_commit(box, &w, 33), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.writing, 1);
	ck_assert_int_eq(shmbox_commit(box, &w, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_stale_commit_leaves_the_published_message_alone)
{
	shmbox_t *box = tu_create(2, 32, NULL);
	shmbox_zc_t w, stale;
	char buf[32];

	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	stale = w;
	memcpy(w.data, "hello", 5);
	ck_assert_int_eq(shmbox_commit(box, &w, 5), 0);
	ck_assert_int_eq(shmbox_commit(box, &stale, 2), -1);
	ck_assert_int_eq(errno, ECANCELED);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A child takes a claim and dies holding it; the mailbox goes on. */
static void die_holding(const char *path, int reserve)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;
		shmbox_zc_t zc;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		if ((reserve ? shmbox_reserve(mine, &zc, 0) : (int)shmbox_peek(mine, &zc, 0)) < 0)
			_exit(101);
		raise(SIGKILL);
	}
	ck_assert_int_eq(tu_reap(pid), 128 + SIGKILL);
}

START_TEST(a_holder_killed_blocks_nobody)
{
	const char *path;
	shmbox_t *box = tu_create(2, 32, &path);
	char buf[32];
	int i;

	die_holding(path, 1); /* slot 0: reserved, never committed */
	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 5000), 1); /* skips the dead one */
	ck_assert_int_eq(shmbox_put(box, "b", 1, 0), 0);
	die_holding(path, 0); /* peeks "b" and dies: "b" goes with it */
	for (i = 0; i < 2; i++) /* and both slots can be filled again */
		ck_assert_int_eq(shmbox_put(box, "c", 1, 1000), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* --- shmbox_cancel --------------------------------------------------- */

START_TEST(a_cancelled_reservation_is_never_received)
{
	shmbox_t *box = tu_create(4, 32, NULL);
	shmbox_zc_t w;
	struct shmbox_stat st;
	unsigned char states[4];
	char buf[32];

	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	memcpy(w.data, "never", 5);
	ck_assert_int_eq(shmbox_put(box, "b", 1, 0), 0);
	ck_assert_int_eq(shmbox_cancel(box, &w), 0);
	ck_assert_ptr_null(w.data);
	ck_assert_int_eq(shmbox_slot_states(box, states, 4, NULL, NULL), 4);
	ck_assert_int_eq(states[1], SHMBOX_SLOT_DEAD); /* as a killed put leaves it */
	ck_assert_int_eq(shmbox_put(box, "c", 1, 0), 0);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.queued, 3);
	ck_assert_uint_eq(st.writing, 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'a');
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1); /* skips the cancelled slot */
	ck_assert_int_eq(buf[0], 'b');
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'c');
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_reservation_is_cancelled_once_and_then_cannot_be_committed)
{
	shmbox_t *box = tu_create(2, 32, NULL);
	shmbox_zc_t w, stale;
	char buf[32];

	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	stale = w;
	ck_assert_int_eq(shmbox_cancel(box, &w), 0);
	tu_expect_fail(shmbox_cancel(box, &w), ECANCELED);
	tu_expect_fail(shmbox_cancel(box, &stale), ECANCELED);
	tu_expect_fail(shmbox_commit(box, &stale, 1), ECANCELED);
	/* and a committed one cannot be cancelled */
	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	stale = w;
	memcpy(w.data, "kept", 4);
	ck_assert_int_eq(shmbox_commit(box, &w, 4), 0);
	tu_expect_fail(shmbox_cancel(box, &stale), ECANCELED);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 4);
	ck_assert_mem_eq(buf, "kept", 4);
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Only a reservation of this handle's can be cancelled: NULLs, a peek's
 * claim and a forged one fail and change nothing. */
START_TEST(cancel_takes_only_a_reservation)
{
	shmbox_t *box = tu_create(2, 32, NULL);
	shmbox_zc_t w, r, forged;
	struct shmbox_stat st;
	char buf[32];

	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	tu_expect_fail(shmbox_cancel(NULL, &w), EINVAL);
	tu_expect_fail(shmbox_cancel(box, NULL), EINVAL);
	forged = w;
	forged.priv[1] ^= 0x100; /* another owner */
	tu_expect_fail(shmbox_cancel(box, &forged), ECANCELED);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.writing, 1);
	memcpy(w.data, "x", 1);
	ck_assert_int_eq(shmbox_commit(box, &w, 1), 0); /* still ours */
	ck_assert_int_eq(shmbox_peek(box, &r, 0), 1);
	tu_expect_fail(shmbox_cancel(box, &r), ECANCELED); /* a read, not a write */
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.reading, 1);
	ck_assert_int_eq(shmbox_release(box, &r), 0);
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A child with its parent's handle may not end the parent's claim. */
START_TEST(a_child_of_fork_cannot_cancel_its_parents_reservation)
{
	shmbox_t *box = tu_create(2, 32, NULL);
	shmbox_zc_t w;
	char buf[32];
	pid_t pid;

	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	pid = tu_fork();
	if (pid == 0)
		_exit(shmbox_cancel(box, &w) == -1 && errno == EBADF ? 0 : 1);
	ck_assert_int_eq(tu_reap(pid), 0);
	memcpy(w.data, "mine", 4);
	ck_assert_int_eq(shmbox_commit(box, &w, 4), 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 4);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* What stat counts for a slot given back, and for one whose writer was
 * killed holding it: the same.  puts counts slots claimed by a put, so
 * both count there; gets counts the positions the getters have passed, so
 * both count there too once a getter has skipped them.  queued, writing
 * and reading never count them after that. */
static void stat_after_a_slot_given_back(int cancel)
{
	const char *path;
	shmbox_t *box = tu_create(4, 32, &path);
	struct shmbox_stat st;
	shmbox_zc_t w;
	char buf[32];

	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	if (cancel) {
		ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
		ck_assert_int_eq(shmbox_cancel(box, &w), 0);
	} else {
		die_holding(path, 1);
	}
	ck_assert_int_eq(shmbox_put(box, "b", 1, 0), 0);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.puts, 3);
	ck_assert_uint_eq(st.queued, 2);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'a');
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'b');
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.puts, 3);
	ck_assert_uint_eq(st.gets, 3);
	ck_assert_uint_eq(st.queued + st.writing + st.reading, 0);
	ck_assert_uint_eq(st.free, 4);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}

START_TEST(stat_counts_a_cancelled_slot_as_a_killed_writers)
{
	stat_after_a_slot_given_back(1);
	stat_after_a_slot_given_back(0);
}
END_TEST

/* A child that gets one message with timeout -1 and notes when its get
 * returned, and what it got. */
struct got {
	_Atomic int64_t at;
	char msg[8];
	_Atomic long len;
};

static pid_t one_getter(const char *path, struct got *g)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;
		long n;

		alarm(20); /* a get that never returns fails the test */
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		n = (long)shmbox_get(mine, g->msg, sizeof(g->msg), -1);
		atomic_store(&g->at, tu_now_ns());
		atomic_store(&g->len, n);
		shmbox_close(mine);
		_exit(n == -1 ? 101 : 0);
	}
	return pid;
}

/* A getter asleep behind a reserved slot, with the next message already
 * queued behind it; the reservation is cancelled.  Returns how long after
 * the cancel the getter returned, in ns. */
static int64_t getter_after_cancel(void)
{
	const char *path;
	shmbox_t *box = tu_create(4, 8, &path);
	struct got *g = tu_shared(sizeof(*g));
	shmbox_zc_t w;
	char buf[8];
	int64_t cancel, took;
	pid_t pid;

	/* Under valgrind, code run for the first time is slow: run the get's
	 * paths (a sleep that times out, a take) here, before the fork. */
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 1), ETIMEDOUT);
	ck_assert_int_eq(shmbox_put(box, "w", 1, 0), 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(shmbox_reserve(box, &w, 0), 0);
	ck_assert_int_eq(shmbox_put(box, "next", 4, 0), 0);
	pid = one_getter(path, g);
	tu_wait_sleepers(path, SHMBOX__SEM_GETTERS, 1);
	cancel = tu_now_ns();
	ck_assert_int_eq(shmbox_cancel(box, &w), 0);
	ck_assert_int_eq(tu_reap(pid), 0);
	ck_assert_int_eq(atomic_load(&g->len), 4);
	ck_assert_mem_eq(g->msg, "next", 4);
	took = atomic_load(&g->at) - cancel;
	munmap(g, sizeof(*g));
	ck_assert_int_eq(shmbox_destroy(box), 0);
	return took;
}

static int by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A sleeper behind a slot being written looks again every
 * SHMBOX__RECOVERY_MS; the cancel must wake it, as recovery does, so that
 * it returns at once (well under a millisecond, a few under valgrind).
 * Half a slice tells the two apart; the median of a few rounds keeps one
 * round delayed by a busy machine from failing it (as test_baton.c). */
#define ROUNDS 5
START_TEST(a_getter_asleep_behind_the_slot_is_woken_by_the_cancel)
{
	int64_t ns[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		ns[i] = getter_after_cancel();
	qsort(ns, ROUNDS, sizeof(ns[0]), by_value);
	printf("cancel: the getter returned %.2f .. %.2f ms after the cancel (median %.2f)\n",
	       (double)ns[0] / 1e6, (double)ns[ROUNDS - 1] / 1e6, (double)ns[ROUNDS / 2] / 1e6);
	ck_assert_msg(ns[ROUNDS / 2] < SHMBOX__RECOVERY_MS * 1000000LL / 2,
		      "the getter slept %.1f ms (median of %d) after the cancel, a message queued",
		      (double)ns[ROUNDS / 2] / 1e6, ROUNDS);
}
END_TEST

/* A message waits behind a slot another process reserved: GET is quiet.
 * That process cancels and lives on (so no watch of it fires): GET turns
 * readable, and the get skips the slot. */
START_TEST(a_cancel_by_another_process_makes_get_readable)
{
	const char *path;
	shmbox_t *box = tu_create(4, 32, &path);
	int fd = shmbox_fd(box, SHMBOX_FD_GET);
	int go[2], done[2];
	pid_t parent = getpid(), pid;
	char buf[32], c;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(done), 0);
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;
		shmbox_zc_t zc;

		close(go[1]);
		close(done[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(90);
		alarm(30);
		if (shmbox_open(path, TU_PROJ, &mine) == -1 || shmbox_reserve(mine, &zc, 0) == -1)
			_exit(100);
		if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(101);
		c = shmbox_cancel(mine, &zc) == 0 ? 'c' : 'x';
		if (write(done[1], &c, 1) != 1)
			_exit(102);
		if (read(go[0], &c, 1) == -1) /* stay until the parent is done looking */
			_exit(103);
		_exit(shmbox_close(mine) == 0 ? 0 : 104);
	}
	close(go[0]);
	close(done[1]);
	ck_assert_int_eq(read(done[0], &c, 1), 1); /* slot 0 reserved */
	ck_assert_int_eq(shmbox_put(box, "m", 1, 0), 0);
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN); /* arms */
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(read(done[0], &c, 1), 1);
	ck_assert_int_eq(c, 'c');
	ck_assert_int_eq(tu_readable(fd, 10000), 1);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'm');
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	close(go[1]);
	close(done[0]);
	ck_assert_int_eq(tu_reap(pid), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_zerocopy(void)
{
	Suite *s = suite_create("zerocopy");
	TCase *tc = tcase_create("in-place");

	tcase_add_test(tc, reserve_commit_peek_release_round_trip);
	tcase_add_test(tc, forged_claims_change_nothing);
	tcase_add_test(tc, a_stale_commit_leaves_the_published_message_alone);
	tcase_add_test(tc, a_holder_killed_blocks_nobody);
	suite_add_tcase(s, tc);
	tc = tcase_create("cancel");
	tcase_set_timeout(tc, 60); /* valgrind */
	tcase_add_test(tc, a_cancelled_reservation_is_never_received);
	tcase_add_test(tc, a_reservation_is_cancelled_once_and_then_cannot_be_committed);
	tcase_add_test(tc, cancel_takes_only_a_reservation);
	tcase_add_test(tc, a_child_of_fork_cannot_cancel_its_parents_reservation);
	tcase_add_test(tc, stat_counts_a_cancelled_slot_as_a_killed_writers);
	tcase_add_test(tc, a_getter_asleep_behind_the_slot_is_woken_by_the_cancel);
	tcase_add_test(tc, a_cancel_by_another_process_makes_get_readable);
	suite_add_tcase(s, tc);
	return s;
}
