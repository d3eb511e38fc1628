/* A server that stands in for one elsewhere (a bridge): it answers a call
 * with an errno instead of a reply (shmbox_reply_error), and reads how long
 * the caller has left to pass it on (shmbox_ticket_timeout).  Callers are
 * real processes; where a caller must not move on, it is stopped. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corrupt.h"
#include "layout.h"
#include "util.h"

#define SLOT_SIZE 64
#define MAX_CALLS 2

/* What a caller's calls came to, in memory shared with the test. */
struct outcome {
	ssize_t n;
	int err;
	size_t last_len; /* shmbox_last_reply_len() after the call */
	char rep[SLOT_SIZE];
};

/* A caller process making one call per timeout, in order, each with the
 * request "call"; exits 100 if it cannot open the mailbox. */
static pid_t caller(const char *path, const int *timeouts, int ncalls, struct outcome *o)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;
		int i;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		for (i = 0; i < ncalls; i++) {
			errno = 0;
			o[i].n = shmbox_call(mine, "call", 4, o[i].rep, sizeof(o[i].rep),
					     timeouts[i]);
			o[i].err = errno;
			o[i].last_len = shmbox_last_reply_len();
		}
		shmbox_close(mine);
		_exit(0);
	}
	return pid;
}

static struct outcome *outcomes(void)
{
	return tu_shared(MAX_CALLS * sizeof(struct outcome));
}

static void accept_call(shmbox_t *box, shmbox_ticket_t *t)
{
	char buf[SLOT_SIZE];

	ck_assert_int_eq(shmbox_accept(box, buf, sizeof(buf), t, 10000), 4);
	ck_assert_mem_eq(buf, "call", 4);
}

/* Stop a process and wait until it is stopped. */
static void stop(pid_t pid)
{
	int st;

	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(pid, &st, WUNTRACED), pid);
	ck_assert(WIFSTOPPED(st));
}

/* Wait (bounded) until the mailbox has `requests` calls queued. */
static void wait_requests(shmbox_t *box, size_t requests)
{
	struct shmbox_stat st;
	int i;

	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(shmbox_stat(box, &st), 0);
		if (st.requests == requests)
			return;
		tu_pause_ns(1000000);
	}
	ck_abort_msg("%zu requests queued, wanted %zu", st.requests, requests);
}

static void expect_no_calls(shmbox_t *box)
{
	struct shmbox_stat st;

	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.calls, 0);
}

/* The errnos a bridge passes on, and the range's ends. */
static const int passed_errors[] = {ECONNRESET, ETIMEDOUT, EMSGSIZE, EHOSTUNREACH, 1, 4095};

START_TEST(the_caller_gets_the_errno_its_server_passed)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	struct outcome *o = outcomes();
	const int forever[] = {-1, -1};
	int err = passed_errors[_i], ms;
	shmbox_ticket_t t;
	pid_t cli = caller(path, forever, 2, o);

	/* A reply first, so that the length the error must clear is not 0. */
	accept_call(box, &t);
	ck_assert_int_eq(shmbox_reply(box, &t, "12345", 5), 0);
	accept_call(box, &t);
	ck_assert_int_eq(shmbox_reply_error(box, &t, err), 0);
	/* Answered: the ticket is spent, whichever way it is used next. */
	tu_expect_fail(shmbox_reply_error(box, &t, err), ECANCELED);
	tu_expect_fail(shmbox_reply(box, &t, "late", 4), ECANCELED);
	tu_expect_fail(shmbox_ticket_timeout(box, &t, &ms), ECANCELED);
	ck_assert_int_eq(tu_reap(cli), 0);
	ck_assert_int_eq(o[0].n, 5);
	ck_assert_mem_eq(o[0].rep, "12345", 5);
	ck_assert_uint_eq(o[0].last_len, 5);
	ck_assert_int_eq(o[1].n, -1);
	ck_assert_int_eq(o[1].err, err);
	ck_assert_uint_eq(o[1].last_len, 0);
	expect_no_calls(box);
	munmap(o, MAX_CALLS * sizeof(*o));
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(bad_arguments_are_refused_and_the_caller_still_waits)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path), *observer;
	struct outcome *o = outcomes();
	const int forever[] = {-1};
	const int bad_errors[] = {0, -1, 4096, INT_MAX, INT_MIN};
	shmbox_ticket_t t, nowhere;
	pid_t cli = caller(path, forever, 1, o);
	size_t i;
	int ms = 12345;

	accept_call(box, &t);
	for (i = 0; i < sizeof(bad_errors) / sizeof(bad_errors[0]); i++)
		tu_expect_fail(shmbox_reply_error(box, &t, bad_errors[i]), EINVAL);
	tu_expect_fail(shmbox_reply_error(NULL, &t, EIO), EINVAL);
	tu_expect_fail(shmbox_reply_error(box, NULL, EIO), EINVAL);
	tu_expect_fail(shmbox_ticket_timeout(NULL, &t, &ms), EINVAL);
	tu_expect_fail(shmbox_ticket_timeout(box, NULL, &ms), EINVAL);
	tu_expect_fail(shmbox_ticket_timeout(box, &t, NULL), EINVAL);
	nowhere = t;
	nowhere.slot = 9999;
	tu_expect_fail(shmbox_reply_error(box, &nowhere, EIO), EINVAL);
	tu_expect_fail(shmbox_ticket_timeout(box, &nowhere, &ms), EINVAL);
	ck_assert_int_eq(ms, 12345); /* untouched by a failure */
	/* An observer may look, not answer. */
	ck_assert_int_eq(shmbox_open_flags(path, TU_PROJ, SHMBOX_RDONLY, &observer), 0);
	tu_expect_fail(shmbox_reply_error(observer, &t, EIO), EBADF);
	tu_expect_fail(shmbox_ticket_timeout(observer, &t, &ms), EBADF);
	ck_assert_int_eq(shmbox_close(observer), 0);
	/* None of that answered the call. */
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_eq(ms, -1); /* the caller waits for ever */
	ck_assert_int_eq(shmbox_reply(box, &t, "ok", 2), 0);
	ck_assert_int_eq(tu_reap(cli), 0);
	ck_assert_int_eq(o[0].n, 2);
	ck_assert_mem_eq(o[0].rep, "ok", 2);
	munmap(o, sizeof(*o) * MAX_CALLS);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

#define T_MS 5000

/* The caller's deadline is at least T_MS after it was forked and at most
 * T_MS after the server accepted; the time left shrinks with the clock.
 * The next call in the same reply slot, without a timeout, shows -1: no
 * deadline is left over from the call before. */
START_TEST(the_time_left_is_the_callers_and_runs_down)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	struct outcome *o = outcomes();
	const int timeouts[] = {T_MS, -1};
	int64_t forked = tu_now_ns(), after;
	shmbox_ticket_t t, next;
	pid_t cli = caller(path, timeouts, 2, o);
	int first, second;

	accept_call(box, &t);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &first), 0);
	after = tu_now_ns();
	ck_assert_int_gt(first, 0);
	ck_assert_int_le(first, T_MS);
	ck_assert_int_ge((int64_t)first * 1000000, forked + (int64_t)T_MS * 1000000 - after);
	while (tu_now_ns() < after + 2000000) /* until the clock has moved 2 ms on */
		tu_pause_ns(500000);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &second), 0);
	ck_assert_int_gt(second, 0);
	ck_assert_int_le(second, first - 2);
	ck_assert_int_eq(shmbox_reply(box, &t, "one", 3), 0);
	accept_call(box, &next);
	ck_assert_uint_eq(next.slot, t.slot);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &next, &second), 0);
	ck_assert_int_eq(second, -1);
	ck_assert_int_eq(shmbox_reply(box, &next, "two", 3), 0);
	ck_assert_int_eq(tu_reap(cli), 0);
	ck_assert_int_eq(o[0].n, 3);
	ck_assert_int_eq(o[1].n, 3);
	munmap(o, sizeof(*o) * MAX_CALLS);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

#define SHORT_MS 300

/* A caller stopped before its call is accepted cannot give up: once its
 * time has passed, the time left is 0 and the call still in progress.  Let
 * go, it gives up, and the ticket is spent. */
START_TEST(the_time_left_is_0_once_the_callers_time_is_up)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	struct outcome *o = outcomes();
	const int timeouts[] = {SHORT_MS};
	shmbox_ticket_t t;
	pid_t cli = caller(path, timeouts, 1, o);
	int64_t accepted;
	int ms;

	wait_requests(box, 1);
	stop(cli);
	accept_call(box, &t);
	accepted = tu_now_ns(); /* its deadline is before SHORT_MS from here */
	while (tu_now_ns() < accepted + (int64_t)SHORT_MS * 1000000)
		tu_pause_ns(10000000);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(kill(cli, SIGCONT), 0);
	ck_assert_int_eq(tu_reap(cli), 0);
	ck_assert_int_eq(o[0].n, -1);
	/* A stopped and continued sleep may end as a signal's does. */
	ck_assert_msg(o[0].err == ETIMEDOUT || o[0].err == EINTR, "errno %d", o[0].err);
	tu_expect_fail(shmbox_ticket_timeout(box, &t, &ms), ECANCELED);
	tu_expect_fail(shmbox_reply_error(box, &t, ECONNRESET), ECANCELED);
	expect_no_calls(box);
	munmap(o, sizeof(*o) * MAX_CALLS);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

#define GIVE_UP_MS 500

/* The server holds a ticket while its caller times out and makes its next
 * call, in the same reply slot: the old ticket can neither answer nor read
 * the new call's time. */
START_TEST(a_ticket_whose_caller_timed_out_is_canceled)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	struct outcome *o = outcomes();
	const int timeouts[] = {GIVE_UP_MS, -1};
	shmbox_ticket_t stale, fresh;
	pid_t cli = caller(path, timeouts, 2, o);
	int ms;

	accept_call(box, &stale);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &stale, &ms), 0);
	ck_assert_int_ge(ms, 0);
	ck_assert_int_le(ms, GIVE_UP_MS);
	accept_call(box, &fresh); /* the second call: the first has timed out */
	ck_assert_uint_eq(fresh.slot, stale.slot);
	ck_assert_uint_ne(fresh.gen, stale.gen);
	tu_expect_fail(shmbox_ticket_timeout(box, &stale, &ms), ECANCELED);
	tu_expect_fail(shmbox_reply_error(box, &stale, ECONNRESET), ECANCELED);
	tu_expect_fail(shmbox_reply(box, &stale, "late", 4), ECANCELED);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &fresh, &ms), 0);
	ck_assert_int_eq(ms, -1);
	ck_assert_int_eq(shmbox_reply(box, &fresh, "fresh", 5), 0);
	ck_assert_int_eq(tu_reap(cli), 0);
	ck_assert_int_eq(o[0].n, -1);
	ck_assert_int_eq(o[0].err, ETIMEDOUT);
	ck_assert_int_eq(o[1].n, 5);
	ck_assert_mem_eq(o[1].rep, "fresh", 5);
	munmap(o, sizeof(*o) * MAX_CALLS);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* The segment's mapping and the reply slot a ticket names in it. */
static unsigned char *map_segment(const char *path, int *id)
{
	unsigned char *seg;

	*id = shmget(ftok(path, TU_PROJ), 0, 0);
	ck_assert_int_ne(*id, -1);
	seg = shmat(*id, NULL, 0);
	ck_assert_ptr_ne(seg, (void *)-1);
	return seg;
}

static struct shmbox__reply *slot_of(unsigned char *seg, const shmbox_ticket_t *t)
{
	const struct shmbox__header *h = (const void *)seg;

	return (struct shmbox__reply *)(seg + h->replies_offset + t->slot * h->reply_stride);
}

/* Results no server writes: an errno outside 1..4095, an errno with a
 * length, a length longer than the slot. */
static const uint64_t bad_results[] = {
	(uint64_t)4096 << 32, (uint64_t)UINT32_MAX << 32, ((uint64_t)ECONNRESET << 32) | 1,
	UINT64_MAX, SLOT_SIZE + 1,
};

START_TEST(a_corrupt_result_in_the_slot_is_EPROTO)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	struct outcome *o = outcomes();
	const int forever[] = {-1};
	shmbox_ticket_t t;
	pid_t cli = caller(path, forever, 1, o);
	unsigned char *seg;
	int id;

	seg = map_segment(path, &id);
	accept_call(box, &t);
	stop(cli); /* it waits for an answer, and cannot read one yet */
	ck_assert_int_eq(shmbox_reply_error(box, &t, ECONNRESET), 0);
	atomic_store(&slot_of(seg, &t)->result, bad_results[_i]);
	ck_assert_int_eq(kill(cli, SIGCONT), 0);
	ck_assert_int_eq(tu_reap(cli), 0);
	ck_assert_int_eq(o[0].n, -1);
	ck_assert_int_eq(o[0].err, EPROTO);
	expect_no_calls(box); /* and the slot is free again */
	ck_assert_int_eq(shmdt(seg), 0);
	munmap(o, sizeof(*o) * MAX_CALLS);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A deadline in the segment may be anything: the time left is still one a
 * timeout_ms takes. */
START_TEST(a_garbage_deadline_is_clamped)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	const shmbox_ticket_t t = {.slot = 1, .gen = 7}, other = {.slot = 1, .gen = 8};
	unsigned char *seg;
	struct shmbox__reply *rs;
	uint64_t pristine;
	int64_t deadline;
	int id, ms;

	seg = map_segment(path, &id);
	rs = slot_of(seg, &t);
	pristine = atomic_load(&rs->word);
	atomic_store(&rs->word, shmbox__rword(7, 0, SHMBOX__R_ACCEPTED));
	atomic_store(&rs->deadline, INT64_MIN);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_eq(ms, 0);
	atomic_store(&rs->deadline, -1);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_eq(ms, 0);
	atomic_store(&rs->deadline, INT64_MAX);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_eq(ms, INT_MAX);
	atomic_store(&rs->deadline, tu_now_ns() + (int64_t)INT_MAX * 1000000 * 2);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_eq(ms, INT_MAX);
	deadline = tu_now_ns() + 1500000; /* 1.5 ms, rounded up */
	atomic_store(&rs->deadline, deadline);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_ge((int64_t)ms * 1000000, deadline - tu_now_ns());
	ck_assert_int_le(ms, 2);
	atomic_store(&rs->deadline, 0);
	ck_assert_int_eq(shmbox_ticket_timeout(box, &t, &ms), 0);
	ck_assert_int_eq(ms, -1);
	tu_expect_fail(shmbox_ticket_timeout(box, &other, &ms), ECANCELED);
	atomic_store(&rs->word, shmbox__rword(7, 0, SHMBOX__R_FILLING));
	tu_expect_fail(shmbox_ticket_timeout(box, &t, &ms), ECANCELED);
	atomic_store(&rs->word, pristine);
	ck_assert_int_eq(shmdt(seg), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

#define SEEDS 2000

/* As test_hostile.c: a corrupt segment gets a clear error or an answer. */
START_TEST(both_calls_survive_a_corrupt_segment)
{
	const char *path;
	shmbox_t *box = tu_create(4, SLOT_SIZE, &path);
	struct shmid_ds ds;
	unsigned char *seg, *pristine;
	shmbox_ticket_t t;
	unsigned seed;
	int id, ms, r;

	seg = map_segment(path, &id);
	ck_assert_int_eq(shmctl(id, IPC_STAT, &ds), 0);
	pristine = malloc(ds.shm_segsz);
	ck_assert_ptr_nonnull(pristine);
	memcpy(pristine, seg, ds.shm_segsz);
	for (seed = 1; seed <= tu_scale(SEEDS); seed++) {
		memcpy(seg, pristine, ds.shm_segsz);
		corrupt_segment(seg, ds.shm_segsz, seed);
		t.slot = seed % 4;
		t.gen = seed % 3;
		ms = -2;
		errno = 0;
		r = shmbox_ticket_timeout(box, &t, &ms);
		ck_assert_msg(r == 0 ? ms >= -1 : errno == ECANCELED || errno == EIDRM,
			      "seed %u: ticket_timeout -> %d, %d (%s)", seed, r, ms, strerror(errno));
		errno = 0;
		r = shmbox_reply_error(box, &t, ECONNRESET);
		ck_assert_msg(r == 0 || errno == ECANCELED || errno == EIDRM,
			      "seed %u: reply_error -> %d (%s)", seed, r, strerror(errno));
	}
	memcpy(seg, pristine, ds.shm_segsz);
	free(pristine);
	ck_assert_int_eq(shmdt(seg), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_call_remote(void)
{
	Suite *s = suite_create("call-remote");
	TCase *tc = tcase_create("stand-in-server");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, the_caller_gets_the_errno_its_server_passed, 0,
			    (int)(sizeof(passed_errors) / sizeof(passed_errors[0])));
	tcase_add_test(tc, bad_arguments_are_refused_and_the_caller_still_waits);
	tcase_add_test(tc, the_time_left_is_the_callers_and_runs_down);
	tcase_add_test(tc, the_time_left_is_0_once_the_callers_time_is_up);
	tcase_add_test(tc, a_ticket_whose_caller_timed_out_is_canceled);
	tcase_add_loop_test(tc, a_corrupt_result_in_the_slot_is_EPROTO, 0,
			    (int)(sizeof(bad_results) / sizeof(bad_results[0])));
	tcase_add_test(tc, a_garbage_deadline_is_clamped);
	tcase_add_test(tc, both_calls_survive_a_corrupt_segment);
	suite_add_tcase(s, tc);
	return s;
}
