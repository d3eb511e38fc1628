/*
 * Waiting only in poll(): a consumer, a server and a producer that never
 * block in the library, against forked processes that put, call and get
 * in bursts with random pauses.  A poll with a long timeout that times
 * out while there is work is a lost wake-up; every message and call is
 * checked to arrive exactly once and in order; wake-ups that found
 * nothing are counted and printed (they are allowed), and once all is
 * done the descriptor goes quiet.  Then the deaths: a holder killed in
 * the middle of its claim makes the descriptor behind it readable.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util.h"

#define SLOT_SIZE 64
#define LONG_MS 10000 /* a poll that waits this long has missed a wake-up */
#define QUIET_MS 100  /* nothing changes: a poll this long must time out */
#define MAX_BURST 16
#define MAX_PAUSE_NS 2000000L

struct wakeups {
	unsigned polls, empty;
};

/* Poll for readable, failing the test on a timeout: what was waiting then
 * is in the message. */
static void wait_readable(shmbox_t *box, int fd, const char *what)
{
	struct shmbox_stat st;

	if (tu_readable(fd, LONG_MS) == 1)
		return;
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_abort_msg("%s: poll timed out after %d ms with %zu queued, %zu requests, %zu free",
		     what, LONG_MS, st.queued, st.requests, st.free);
}

static void print_wakeups(const char *what, const struct wakeups *w)
{
	printf("fd %s: %u wake-ups, %u found nothing\n", what, w->polls, w->empty);
}

/* A forked process that opens the box and runs fn; fn's 0 is exit 0. */
static pid_t spawn(const char *path, int (*fn)(shmbox_t *, unsigned, void *), unsigned id,
		   void *arg)
{
	pid_t parent = getpid(), pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;
		int r;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(90);
		alarm(60);
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		r = fn(mine, id, arg);
		shmbox_close(mine);
		_exit(r == 0 ? 0 : 101);
	}
	return pid;
}

/* --- GET: a consumer in poll, producers in bursts -------------------- */

#define PRODUCERS 3
#define PER_PRODUCER 2000

static int put_bursts(shmbox_t *box, unsigned id, void *arg)
{
	uint64_t rng = 0x2545f4914f6cdd1dULL * (id + 1);
	unsigned char buf[SLOT_SIZE];
	unsigned seq = 0, n = tu_scale(PER_PRODUCER);

	(void)arg;
	while (seq < n) {
		unsigned burst = 1 + tu_rand(&rng, MAX_BURST);

		for (; burst > 0 && seq < n; burst--, seq++)
			if (shmbox_put(box, buf, tu_message(buf, sizeof(buf), id, seq), -1) == -1)
				return -1;
		tu_pause_ns((long)tu_rand(&rng, MAX_PAUSE_NS));
	}
	return 0;
}

/* The consumer, waiting only in poll.  Either it drains (gets until
 * EAGAIN after each wake-up), or it takes one message per wake-up, which
 * relies on the descriptor staying readable while messages wait (level-
 * triggered), also after a get that found one only on its second look. */
static void consume_polling(int one_per_wakeup)
{
	const char *path;
	shmbox_t *box = tu_create(8, SLOT_SIZE, &path);
	unsigned char buf[SLOT_SIZE];
	unsigned next[PRODUCERS] = {0}, total = PRODUCERS * tu_scale(PER_PRODUCER), got = 0;
	struct wakeups w = {0, 0};
	int fd = shmbox_fd(box, SHMBOX_FD_GET);
	pid_t pids[PRODUCERS];
	unsigned i, p, seq;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < PRODUCERS; i++)
		pids[i] = spawn(path, put_bursts, i, NULL);
	while (got < total) {
		unsigned before = got;

		wait_readable(box, fd, "get");
		w.polls++;
		while ((n = shmbox_get(box, buf, sizeof(buf), 0)) >= 0) {
			ck_assert_int_eq(tu_check_message(buf, (size_t)n, &p, &seq), 0);
			ck_assert_uint_lt(p, PRODUCERS);
			ck_assert_msg(seq == next[p], "producer %u: message %u, expected %u", p, seq,
				      next[p]);
			next[p]++;
			got++;
			if (one_per_wakeup)
				break;
		}
		if (n < 0)
			tu_expect_fail(n, EAGAIN);
		w.empty += got == before;
	}
	for (i = 0; i < PRODUCERS; i++)
		ck_assert_int_eq(tu_reap(pids[i]), 0);
	print_wakeups(one_per_wakeup ? "get, one per wake-up" : "get", &w);
	/* the producers are gone: one more EAGAIN, and nothing changes */
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, QUIET_MS), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}

START_TEST(a_consumer_in_poll_gets_every_message_once_in_order) { consume_polling(0); }
END_TEST
START_TEST(a_consumer_taking_one_message_per_poll_misses_none) { consume_polling(1); }
END_TEST

/* --- ACCEPT: a server in poll, several callers ----------------------- */

#define CALLERS 4
#define CALLS_EACH 400

/* The reply to a request: the request with every byte complemented. */
static size_t answer(const unsigned char *req, size_t len, unsigned char *rep)
{
	size_t i;

	for (i = 0; i < len; i++)
		rep[i] = (unsigned char)~req[i];
	return len;
}

static int call_bursts(shmbox_t *box, unsigned id, void *arg)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL * (id + 7);
	unsigned char req[SLOT_SIZE], rep[SLOT_SIZE], want[SLOT_SIZE];
	unsigned seq = 0, n = tu_scale(CALLS_EACH);

	(void)arg;
	while (seq < n) {
		unsigned burst = 1 + tu_rand(&rng, MAX_BURST / 4);

		for (; burst > 0 && seq < n; burst--, seq++) {
			size_t len = tu_message(req, sizeof(req), id, seq);
			ssize_t r = shmbox_call(box, req, len, rep, sizeof(rep), LONG_MS);

			if (r != (ssize_t)answer(req, len, want) || memcmp(rep, want, len) != 0)
				return -1;
		}
		tu_pause_ns((long)tu_rand(&rng, MAX_PAUSE_NS));
	}
	return 0;
}

START_TEST(a_server_in_poll_answers_every_caller)
{
	const char *path;
	shmbox_t *box = tu_create(8, SLOT_SIZE, &path);
	unsigned char req[SLOT_SIZE], rep[SLOT_SIZE];
	unsigned next[CALLERS] = {0}, total = CALLERS * tu_scale(CALLS_EACH), done = 0;
	struct wakeups w = {0, 0};
	int fd = shmbox_fd(box, SHMBOX_FD_ACCEPT);
	shmbox_ticket_t t;
	pid_t pids[CALLERS];
	unsigned i, c, seq;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < CALLERS; i++)
		pids[i] = spawn(path, call_bursts, i, NULL);
	while (done < total) {
		unsigned before = done;

		wait_readable(box, fd, "accept");
		w.polls++;
		while ((n = shmbox_accept(box, req, sizeof(req), &t, 0)) >= 0) {
			ck_assert_int_eq(tu_check_message(req, (size_t)n, &c, &seq), 0);
			ck_assert_uint_lt(c, CALLERS);
			ck_assert_msg(seq == next[c], "caller %u: call %u, expected %u", c, seq,
				      next[c]);
			next[c]++;
			ck_assert_int_eq(shmbox_reply(box, &t, rep, answer(req, (size_t)n, rep)), 0);
			done++;
		}
		tu_expect_fail(n, EAGAIN);
		w.empty += done == before;
	}
	for (i = 0; i < CALLERS; i++)
		ck_assert_int_eq(tu_reap(pids[i]), 0); /* each had every answer right */
	print_wakeups("accept", &w);
	/* a caller may ring once more after our last EAGAIN (spurious): now that
	 * all are gone, one more EAGAIN and nothing changes any more */
	tu_expect_fail(shmbox_accept(box, req, sizeof(req), &t, 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, QUIET_MS), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* --- PUT: a producer in poll on a full box, consumers in bursts ------ */

#define CONSUMERS 2
#define PUTS 4000

struct tally {
	_Atomic unsigned char seen[PUTS];
	_Atomic unsigned bad;
};

/* Gets until a zero-length message, pausing now and then, so that the
 * producer finds the box full again and again. */
static int get_bursts(shmbox_t *box, unsigned id, void *arg)
{
	uint64_t rng = 0xd1b54a32d192ed03ULL * (id + 3);
	struct tally *t = arg;
	unsigned char buf[SLOT_SIZE];
	unsigned p, seq;
	long last = -1;
	ssize_t n;

	while ((n = shmbox_get(box, buf, sizeof(buf), -1)) > 0) {
		if (tu_check_message(buf, (size_t)n, &p, &seq) == -1 || p != 0 || seq >= PUTS ||
		    (long)seq <= last)
			atomic_fetch_add(&t->bad, 1);
		else
			atomic_fetch_add(&t->seen[seq], 1);
		last = (long)seq;
		if (tu_rand(&rng, MAX_BURST) == 0)
			tu_pause_ns((long)tu_rand(&rng, MAX_PAUSE_NS));
	}
	return n == 0 ? 0 : -1;
}

/* Put one message, waiting only in poll: how many polls it took. */
static unsigned put_polling(shmbox_t *box, int fd, const void *msg, size_t len,
			    struct wakeups *w)
{
	unsigned polls = 0;
	int r;

	while ((r = shmbox_put(box, msg, len, 0)) == -1) {
		ck_assert_msg(errno == EAGAIN, "put: %s", shmbox_strerror(errno));
		if (polls > 0)
			w->empty++; /* the last wake-up found no room */
		wait_readable(box, fd, "put");
		w->polls++;
		polls++;
	}
	return polls;
}

START_TEST(a_producer_in_poll_fills_a_box_that_consumers_empty)
{
	const char *path;
	shmbox_t *box = tu_create(4, SLOT_SIZE, &path);
	struct tally *t = tu_shared(sizeof(*t));
	unsigned char buf[SLOT_SIZE];
	struct wakeups w = {0, 0};
	int fd = shmbox_fd(box, SHMBOX_FD_PUT);
	pid_t pids[CONSUMERS];
	unsigned i, seq;

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < CONSUMERS; i++)
		pids[i] = spawn(path, get_bursts, i, t);
	for (seq = 0; seq < tu_scale(PUTS); seq++)
		put_polling(box, fd, buf, tu_message(buf, sizeof(buf), 0, seq), &w);
	for (i = 0; i < CONSUMERS; i++)
		put_polling(box, fd, NULL, 0, &w);
	for (i = 0; i < CONSUMERS; i++)
		ck_assert_int_eq(tu_reap(pids[i]), 0);
	ck_assert_uint_eq(atomic_load(&t->bad), 0);
	for (seq = 0; seq < tu_scale(PUTS); seq++)
		ck_assert_msg(atomic_load(&t->seen[seq]) == 1, "message %u received %u times", seq,
			      (unsigned)atomic_load(&t->seen[seq]));
	print_wakeups("put", &w);
	/* full again, nobody getting: quiet */
	while (shmbox_put(box, "f", 1, 0) == 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(tu_readable(fd, QUIET_MS), 0);
	munmap(t, sizeof(*t));
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

static int put_one(shmbox_t *box, unsigned id, void *arg)
{
	(void)id;
	(void)arg;
	return shmbox_put(box, "t", 1, 0);
}

/* --- a holder killed in the middle of its claim ---------------------- */

/* A child that takes a claim (reserve: a slot being written; else peek:
 * a message being read), says so, and waits to be killed. */
static pid_t holding_a_claim(const char *path, int reserve)
{
	pid_t parent = getpid(), pid;
	int ready[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;
		shmbox_zc_t zc;

		close(ready[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(90);
		alarm(30);
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		if ((reserve ? shmbox_reserve(mine, &zc, 0) : (int)shmbox_peek(mine, &zc, 0)) < 0)
			_exit(101);
		if (write(ready[1], "r", 1) != 1)
			_exit(102);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

/* The box is full behind a message a live reader holds: PUT is quiet.
 * The reader is killed: PUT turns readable, and the put takes its slot. */
START_TEST(a_reader_killed_holding_a_slot_makes_put_readable)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	int fd = shmbox_fd(box, SHMBOX_FD_PUT);
	char buf[SLOT_SIZE];
	pid_t reader;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	ck_assert_int_eq(shmbox_put(box, "b", 1, 0), 0);
	reader = holding_a_claim(path, 0); /* reads "a" */
	tu_expect_fail(shmbox_put(box, "c", 1, 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	kill(reader, SIGKILL);
	ck_assert_int_eq(tu_readable(fd, LONG_MS), 1);
	ck_assert_int_eq(tu_reap(reader), 128 + SIGKILL);
	ck_assert_int_eq(shmbox_put(box, "c", 1, 0), 0);
	tu_expect_fail(shmbox_put(box, "d", 1, 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'b');
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'c');
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A message waits behind a slot a live writer holds: GET is quiet.  The
 * writer is killed: GET turns readable, and the get skips its slot. */
START_TEST(a_writer_killed_holding_a_slot_makes_get_readable)
{
	const char *path;
	shmbox_t *box = tu_create(4, SLOT_SIZE, &path);
	int fd = shmbox_fd(box, SHMBOX_FD_GET);
	char buf[SLOT_SIZE];
	pid_t writer;

	ck_assert_int_ge(fd, 0);
	writer = holding_a_claim(path, 1); /* slot 0, being written */
	ck_assert_int_eq(shmbox_put(box, "m", 1, 0), 0);
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	kill(writer, SIGKILL);
	ck_assert_int_eq(tu_readable(fd, LONG_MS), 1);
	ck_assert_int_eq(tu_reap(writer), 128 + SIGKILL);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(buf[0], 'm');
	tu_expect_fail(shmbox_get(box, buf, sizeof(buf), 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* The box is full of messages nobody holds: PUT is quiet, with nothing
 * to watch.  Then a reader claims the first message and is killed: from
 * that moment a put with timeout 0 succeeds (it frees the dead reader's
 * slot), so PUT must turn readable, and stay so until a put finds no
 * room.  A third process's put that frees the slot first rings it too. */
static void reader_killed_after_put_found_the_box_full(int third_put)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	int fd = shmbox_fd(box, SHMBOX_FD_PUT);
	pid_t reader;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	ck_assert_int_eq(shmbox_put(box, "b", 1, 0), 0);
	tu_expect_fail(shmbox_put(box, "c", 1, 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	reader = holding_a_claim(path, 0); /* reads "a" */
	kill(reader, SIGKILL);
	ck_assert_int_eq(tu_reap(reader), 128 + SIGKILL);
	if (third_put) {
		pid_t pid = spawn(path, put_one, 0, NULL);

		ck_assert_int_eq(tu_reap(pid), 0); /* it took the freed slot */
	}
	ck_assert_int_eq(tu_readable(fd, LONG_MS), 1);
	if (!third_put)
		ck_assert_int_eq(shmbox_put(box, "c", 1, 0), 0);
	tu_expect_fail(shmbox_put(box, "d", 1, 0), EAGAIN);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}

START_TEST(a_reader_killed_after_put_found_the_box_full_makes_put_readable)
{
	reader_killed_after_put_found_the_box_full(0);
}
END_TEST
START_TEST(a_slot_freed_by_a_third_process_recovery_makes_put_readable)
{
	reader_killed_after_put_found_the_box_full(1);
}
END_TEST

Suite *suite_fd_poll(void)
{
	Suite *s = suite_create("fd_poll");
	TCase *flow = tcase_create("poll only"), *death = tcase_create("holder killed");

	tcase_set_timeout(flow, 120);
	tcase_add_test(flow, a_consumer_in_poll_gets_every_message_once_in_order);
	tcase_add_test(flow, a_consumer_taking_one_message_per_poll_misses_none);
	tcase_add_test(flow, a_server_in_poll_answers_every_caller);
	tcase_add_test(flow, a_producer_in_poll_fills_a_box_that_consumers_empty);
	suite_add_tcase(s, flow);
	tcase_set_timeout(death, 30);
	tcase_add_test(death, a_reader_killed_holding_a_slot_makes_put_readable);
	tcase_add_test(death, a_writer_killed_holding_a_slot_makes_get_readable);
	tcase_add_test(death, a_reader_killed_after_put_found_the_box_full_makes_put_readable);
	tcase_add_test(death, a_slot_freed_by_a_third_process_recovery_makes_put_readable);
	suite_add_tcase(s, death);
	return s;
}
