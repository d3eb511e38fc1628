/*
 * Processes killed with SIGKILL inside put and get: in the middle of the
 * copy (a fault handler stops the child there, then it is killed) and
 * while asleep, and servers killed while writing a reply.  Nobody stays
 * stuck, capacity comes back, and nothing committed is lost.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sem.h"
#include "util.h"

#define SLOTS 4
#define SLOT_SIZE 2048
#define MSG 1000

static void stop_here(int sig)
{
	(void)sig;
	raise(SIGSTOP); /* the parent kills us here, mid-copy */
	_exit(99);
}

/* A buffer whose first 100 bytes are mapped and the rest not: a copy into
 * or out of it faults part-way through. */
static unsigned char *trap_buffer(void)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *p = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa = {.sa_handler = stop_here};

	if (p == MAP_FAILED || mprotect(p + page, (size_t)page, PROT_NONE) == -1)
		_exit(100);
	memset(p, 'd', (size_t)page);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	return p + page - 100;
}

/* Fork a child that opens the box and runs `op` with a trap buffer; wait
 * until it stops mid-copy, check it holds a slot, then kill it. */
static void kill_mid_copy(const char *path, shmbox_t *box, int in_put)
{
	struct shmbox_stat st;
	pid_t pid = tu_fork();
	int status;

	if (pid == 0) {
		shmbox_t *mine;
		unsigned char *buf;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		buf = trap_buffer();
		if (in_put)
			shmbox_put(mine, buf, MSG, -1);
		else
			shmbox_get(mine, buf, MSG, -1);
		_exit(101); /* the copy should have faulted */
	}
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "child did not stop mid-copy (status %#x)", status);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(in_put ? st.writing : st.reading, 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(tu_reap(pid), 128 + SIGKILL);
}

/* All slots can be filled again, and give back what went in, in order. */
static void check_full_capacity(shmbox_t *box)
{
	char buf[SLOT_SIZE];
	unsigned i, v;

	for (i = 0; i < SLOTS; i++)
		ck_assert_int_eq(shmbox_put(box, &i, sizeof(i), 0), 0);
	ck_assert_int_eq(shmbox_put(box, "x", 1, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	for (i = 0; i < SLOTS; i++) {
		ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), (ssize_t)sizeof(v));
		memcpy(&v, buf, sizeof(v));
		ck_assert_uint_eq(v, i);
	}
}

START_TEST(killed_mid_put_blocks_nobody)
{
	const char *path;
	shmbox_t *box = tu_create(SLOTS, SLOT_SIZE, &path);
	char buf[SLOT_SIZE];

	kill_mid_copy(path, box, 1);
	/* The dead put is ahead of this one; the get must get past it. */
	ck_assert_int_eq(shmbox_put(box, "after", 5, 0), 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 5000), 5);
	ck_assert_mem_eq(buf, "after", 5);
	check_full_capacity(box);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(killed_mid_get_loses_only_its_own_message)
{
	const char *path;
	shmbox_t *box = tu_create(SLOTS, SLOT_SIZE, &path);
	char big[MSG], buf[SLOT_SIZE];

	memset(big, 'A', sizeof(big));
	ck_assert_int_eq(shmbox_put(box, big, sizeof(big), 0), 0);
	ck_assert_int_eq(shmbox_put(box, "second", 6, 0), 0);
	kill_mid_copy(path, box, 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 6);
	ck_assert_mem_eq(buf, "second", 6);
	/* Refilling the ring takes the dead reader's slot too. */
	check_full_capacity(box);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A child that blocks in put (full box) or get (empty box), with timeout
 * -1; exits 0 once the call succeeds. */
static pid_t blocked_child(const char *path, int in_put)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;
		char c;
		int r;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		r = in_put ? shmbox_put(mine, "c", 1, -1) : (int)shmbox_get(mine, &c, 1, -1);
		_exit(r == -1 ? 101 : 0);
	}
	tu_wait_sleepers(path, in_put ? SHMBOX__SEM_PUTTERS : SHMBOX__SEM_GETTERS, 1);
	return pid;
}

/* A sleeper is killed; the next sleeper must still get the wakeup meant
 * for whoever sleeps there. */
static void killed_while_asleep(int in_put)
{
	const char *path;
	shmbox_t *box = tu_create(1, 8, &path);
	pid_t dead, live;
	char c;

	if (in_put)
		ck_assert_int_eq(shmbox_put(box, "f", 1, 0), 0);
	dead = blocked_child(path, in_put);
	kill(dead, SIGKILL);
	ck_assert_int_eq(tu_reap(dead), 128 + SIGKILL);
	live = blocked_child(path, in_put);
	if (in_put)
		ck_assert_int_eq(shmbox_get(box, &c, 1, 0), 1);
	else
		ck_assert_int_eq(shmbox_put(box, "m", 1, 0), 0);
	ck_assert_int_eq(tu_reap(live), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}

START_TEST(killed_asleep_in_get_takes_no_wakeup_with_it) { killed_while_asleep(0); }
END_TEST
START_TEST(killed_asleep_in_put_takes_no_wakeup_with_it) { killed_while_asleep(1); }
END_TEST

START_TEST(a_dead_process_token_is_released_by_the_kernel)
{
	const char *path;
	shmbox_t *box = tu_create(1, 8, &path);
	struct shmbox_stat st;
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		raise(SIGKILL);
	}
	ck_assert_int_eq(tu_reap(pid), 128 + SIGKILL);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.attached, 1);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A server that stops in the middle of writing its reply (the reply
 * slot is FILLING), to be killed there.  Exits 101 if it never gets to. */
static pid_t server_stopped_mid_reply(const char *path)
{
	pid_t pid = tu_fork();
	int status;

	if (pid == 0) {
		shmbox_t *mine;
		shmbox_ticket_t t;
		char req[8];

		if (shmbox_open(path, TU_PROJ, &mine) == -1 ||
		    shmbox_accept(mine, req, sizeof(req), &t, 10000) == -1)
			_exit(100);
		shmbox_reply(mine, &t, trap_buffer(), MSG);
		_exit(101);
	}
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(status), "server did not stop mid-reply (status %#x)", status);
	return pid;
}

/* A caller with timeout -1; exits 0 if the call fails with ECONNRESET. */
static pid_t caller(const char *path)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;
		char rep[SLOT_SIZE];

		alarm(10); /* a caller that never returns fails the test */
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		if (shmbox_call(mine, "q", 1, rep, sizeof(rep), -1) != -1)
			_exit(101);
		_exit(errno == ECONNRESET ? 0 : 102);
	}
	return pid;
}

/* Answer one call, in a child. */
static pid_t one_answer(const char *path)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;
		shmbox_ticket_t t;
		char req[8];

		if (shmbox_open(path, TU_PROJ, &mine) == -1 ||
		    shmbox_accept(mine, req, sizeof(req), &t, 10000) == -1 ||
		    shmbox_reply(mine, &t, "a", 1) == -1)
			_exit(100);
		_exit(0);
	}
	return pid;
}

START_TEST(server_killed_mid_reply_fails_the_call_and_frees_its_slot)
{
	const char *path;
	shmbox_t *box = tu_create(SLOTS, SLOT_SIZE, &path);
	struct shmbox_stat st;
	pid_t client = caller(path), server = server_stopped_mid_reply(path);

	kill(server, SIGKILL);
	ck_assert_int_eq(tu_reap(server), 128 + SIGKILL);
	ck_assert_int_eq(tu_reap(client), 0); /* ECONNRESET, not a hang */
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.calls, 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Both ends die while the reply is half written: the slot must not be
 * lost.  With one reply slot, the next call needs it back. */
START_TEST(caller_and_server_killed_mid_reply_lose_no_reply_slot)
{
	const char *path;
	shmbox_t *box = tu_create(1, SLOT_SIZE, &path);
	pid_t client = caller(path), server = server_stopped_mid_reply(path), answer;
	char rep[8];

	kill(client, SIGKILL);
	ck_assert_int_eq(tu_reap(client), 128 + SIGKILL);
	kill(server, SIGKILL);
	ck_assert_int_eq(tu_reap(server), 128 + SIGKILL);
	answer = one_answer(path);
	ck_assert_int_eq(shmbox_call(box, "q", 1, rep, sizeof(rep), 5000), 1);
	ck_assert_int_eq(tu_reap(answer), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_crash(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("kill -9");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, killed_mid_put_blocks_nobody);
	tcase_add_test(tc, killed_mid_get_loses_only_its_own_message);
	tcase_add_test(tc, killed_asleep_in_get_takes_no_wakeup_with_it);
	tcase_add_test(tc, killed_asleep_in_put_takes_no_wakeup_with_it);
	tcase_add_test(tc, a_dead_process_token_is_released_by_the_kernel);
	tcase_add_test(tc, server_killed_mid_reply_fails_the_call_and_frees_its_slot);
	tcase_add_test(tc, caller_and_server_killed_mid_reply_lose_no_reply_slot);
	suite_add_tcase(s, tc);
	return s;
}
