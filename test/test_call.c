/* Request/reply with real processes: replies reach the caller that asked,
 * late replies reach nobody, and deaths on either side block no one. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define SLOT_SIZE 256

/* The answer to a request: its bytes reversed, then a marker. */
static size_t answer(const unsigned char *req, size_t len, unsigned char *rep)
{
	size_t i;

	for (i = 0; i < len; i++)
		rep[i] = req[len - 1 - i];
	rep[len] = '!';
	return len + 1;
}

/* A server process: answers until a request "quit" or an error. */
static pid_t server(const char *path)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		unsigned char req[SLOT_SIZE], rep[SLOT_SIZE + 1];
		shmbox_ticket_t t;
		shmbox_t *box;
		ssize_t n;

		if (shmbox_open(path, TU_PROJ, &box) == -1)
			_exit(100);
		while ((n = shmbox_accept(box, req, sizeof(req) - 1, &t, -1)) >= 0) {
			if (n == 4 && memcmp(req, "quit", 4) == 0) {
				shmbox_reply(box, &t, "bye", 3);
				break;
			}
			if (shmbox_reply(box, &t, rep, answer(req, (size_t)n, rep)) == -1 &&
			    errno != ECANCELED)
				_exit(101);
		}
		shmbox_close(box);
		_exit(n >= 0 ? 0 : 102);
	}
	return pid;
}

/* One "quit" per server (any server may take any of them), then reap. */
static void stop_servers(shmbox_t *box, const pid_t *pids, int n)
{
	char buf[8];
	int i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(shmbox_call(box, "quit", 4, buf, sizeof(buf), 10000), 3);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(tu_reap(pids[i]), 0);
}

static void stop_server(shmbox_t *box, pid_t pid)
{
	stop_servers(box, &pid, 1);
}

START_TEST(a_call_gets_its_answer)
{
	const char *path;
	shmbox_t *box = tu_create(4, SLOT_SIZE, &path);
	pid_t srv = server(path);
	unsigned char req[SLOT_SIZE], want[SLOT_SIZE + 1];
	char rep[SLOT_SIZE];
	int i;

	ck_assert_int_eq(shmbox_call(box, "abc", 3, rep, sizeof(rep), 10000), 4);
	ck_assert_mem_eq(rep, "cba!", 4);
	ck_assert_int_eq(shmbox_call(box, NULL, 0, rep, sizeof(rep), 10000), 1);
	ck_assert_int_eq(rep[0], '!');
	/* The longest request the server takes (255 bytes: memcpy) and an
	 * answer of a whole slot (256: the library's own copy loop, src/copy.c,
	 * into the reply slot and out of it). */
	for (i = 0; i < SLOT_SIZE - 1; i++)
		req[i] = (unsigned char)(i * 5 + 1);
	ck_assert_int_eq(shmbox_call(box, req, SLOT_SIZE - 1, rep, sizeof(rep), 10000), SLOT_SIZE);
	ck_assert_uint_eq(answer(req, SLOT_SIZE - 1, want), SLOT_SIZE);
	ck_assert_mem_eq(rep, want, SLOT_SIZE);
	stop_server(box, srv);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(calls_and_plain_messages_travel_apart)
{
	const char *path;
	shmbox_t *box = tu_create(4, SLOT_SIZE, &path);
	struct shmbox_stat st;
	shmbox_ticket_t t;
	char buf[SLOT_SIZE];
	pid_t client;
	int i;

	ck_assert_int_eq(shmbox_put(box, "plain", 5, 0), 0);
	ck_assert_int_eq(shmbox_accept(box, buf, sizeof(buf), &t, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	client = tu_fork();
	if (client == 0) {
		shmbox_t *mine;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		_exit(shmbox_call(mine, "req", 3, buf, sizeof(buf), -1) == 2 ? 0 : 101);
	}
	for (i = 0; i < 10000; i++) { /* until the request is queued */
		ck_assert_int_eq(shmbox_stat(box, &st), 0);
		if (st.requests == 1)
			break;
		usleep(1000);
	}
	ck_assert_uint_eq(st.requests, 1);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 5); /* the plain one only */
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(shmbox_accept(box, buf, sizeof(buf), &t, 0), 3);
	ck_assert_mem_eq(buf, "req", 3);
	ck_assert_int_eq(shmbox_reply(box, &t, "ok", 2), 0);
	ck_assert_int_eq(tu_reap(client), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

#define CLIENTS 8
#define SERVERS 2
#define CALLS 4000

START_TEST(eight_clients_two_servers_each_reply_to_its_caller)
{
	const char *path;
	shmbox_t *box = tu_create(8, SLOT_SIZE, &path);
	pid_t srv[SERVERS], cli[CLIENTS];
	int i;

	for (i = 0; i < SERVERS; i++)
		srv[i] = server(path);
	for (i = 0; i < CLIENTS; i++) {
		cli[i] = tu_fork();
		if (cli[i] == 0) {
			unsigned char req[SLOT_SIZE], rep[SLOT_SIZE], want[SLOT_SIZE + 1];
			shmbox_t *mine;
			unsigned seq;
			ssize_t n;
			size_t len;

			if (shmbox_open(path, TU_PROJ, &mine) == -1)
				_exit(100);
			for (seq = 0; seq < tu_scale(CALLS); seq++) {
				len = tu_message(req, SLOT_SIZE - 1, (unsigned)i, seq);
				n = shmbox_call(mine, req, len, rep, sizeof(rep), 20000);
				if (n != (ssize_t)answer(req, len, want) || memcmp(rep, want, len + 1))
					_exit(101);
			}
			shmbox_close(mine);
			_exit(0);
		}
	}
	for (i = 0; i < CLIENTS; i++)
		ck_assert_int_eq(tu_reap(cli[i]), 0);
	stop_servers(box, srv, SERVERS);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_call_nobody_accepts_times_out_and_leaves_nothing)
{
	shmbox_t *box = tu_create(2, SLOT_SIZE, NULL);
	struct shmbox_stat st;
	shmbox_ticket_t t;
	char buf[SLOT_SIZE];

	ck_assert_int_eq(shmbox_call(box, "x", 1, buf, sizeof(buf), 60), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.calls, 0);
	/* Its request is still queued, but a server skips it. */
	ck_assert_int_eq(shmbox_accept(box, buf, sizeof(buf), &t, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* The server holds the ticket until the caller has timed out; its late
 * reply fails with ECANCELED and never reaches the next call. */
START_TEST(a_late_reply_is_dropped_and_reaches_no_later_call)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	int go[2];
	pid_t srv;
	char buf[SLOT_SIZE];

	ck_assert_int_eq(pipe(go), 0);
	srv = tu_fork();
	if (srv == 0) {
		shmbox_ticket_t t;
		shmbox_t *mine;
		char c;

		if (shmbox_open(path, TU_PROJ, &mine) == -1 ||
		    shmbox_accept(mine, buf, sizeof(buf), &t, -1) != 5 || read(go[0], &c, 1) != 1)
			_exit(100);
		if (shmbox_reply(mine, &t, "late", 4) != -1 || errno != ECANCELED)
			_exit(101);
		if (shmbox_accept(mine, buf, sizeof(buf), &t, -1) != 6 ||
		    shmbox_reply(mine, &t, "fresh", 5) != 0)
			_exit(102);
		_exit(0);
	}
	ck_assert_int_eq(shmbox_call(box, "first", 5, buf, sizeof(buf), 200), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(shmbox_call(box, "second", 6, buf, sizeof(buf), 10000), 5);
	ck_assert_mem_eq(buf, "fresh", 5);
	ck_assert_int_eq(tu_reap(srv), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Wait until `calls` reply slots are in use and `requests` are queued. */
static void wait_calls(shmbox_t *box, size_t calls, size_t requests)
{
	struct shmbox_stat st;
	int i;

	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(shmbox_stat(box, &st), 0);
		if (st.calls == calls && st.requests == requests)
			return;
		usleep(1000);
	}
	ck_abort_msg("calls %zu requests %zu, wanted %zu %zu", st.calls, st.requests, calls,
		     requests);
}

static pid_t caller(const char *path, const char *req)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		char buf[SLOT_SIZE];
		shmbox_t *mine;
		ssize_t n;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		n = shmbox_call(mine, req, strlen(req), buf, sizeof(buf), -1);
		_exit(n == (ssize_t)strlen(req) + 1 ? 0 : n == -1 ? errno : 101);
	}
	return pid;
}

START_TEST(a_client_killed_while_waiting_leaks_no_capacity)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path); /* two reply slots */
	pid_t dead, b, c, srv;

	dead = caller(path, "dead");
	wait_calls(box, 1, 1);
	kill(dead, SIGKILL);
	ck_assert_int_eq(tu_reap(dead), 128 + SIGKILL);
	b = caller(path, "bb");
	c = caller(path, "cc"); /* needs the dead client's reply slot */
	srv = server(path);
	ck_assert_int_eq(tu_reap(b), 0);
	ck_assert_int_eq(tu_reap(c), 0);
	stop_server(box, srv);
	wait_calls(box, 0, 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_server_killed_holding_a_ticket_releases_its_caller)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	pid_t cli, srv;
	char buf[SLOT_SIZE];

	srv = tu_fork();
	if (srv == 0) {
		shmbox_ticket_t t;
		shmbox_t *mine;

		if (shmbox_open(path, TU_PROJ, &mine) == -1 ||
		    shmbox_accept(mine, buf, sizeof(buf), &t, -1) == -1)
			_exit(100);
		pause(); /* holds the ticket until killed */
		_exit(101);
	}
	cli = caller(path, "hello");
	wait_calls(box, 1, 0); /* accepted, not answered */
	kill(srv, SIGKILL);
	ck_assert_int_eq(tu_reap(srv), 128 + SIGKILL);
	ck_assert_int_eq(tu_reap(cli), ECONNRESET);
	srv = server(path); /* and the next server serves */
	ck_assert_int_eq(shmbox_call(box, "ab", 2, buf, sizeof(buf), 10000), 3);
	ck_assert_mem_eq(buf, "ba!", 3);
	stop_server(box, srv);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(sizes_that_do_not_fit)
{
	const char *path;
	shmbox_t *box = tu_create(2, 16, &path);
	char big[17] = "0123456789abcdef", buf[16];
	shmbox_ticket_t t;
	pid_t cli;

	ck_assert_int_eq(shmbox_call(box, big, 17, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	cli = tu_fork();
	if (cli == 0) {
		shmbox_t *mine;
		ssize_t n;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		n = shmbox_call(mine, "q", 1, buf, 4, -1); /* the reply has 10 bytes */
		_exit(n == -1 && errno == EMSGSIZE && shmbox_last_reply_len() == 10 ? 0 : 101);
	}
	ck_assert_int_eq(shmbox_accept(box, buf, sizeof(buf), &t, 10000), 1);
	ck_assert_int_eq(shmbox_reply(box, &t, big, 17), -1); /* too long: nothing sent */
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(shmbox_reply(box, &t, big, 10), 0);
	ck_assert_int_eq(shmbox_reply(box, &t, big, 10), -1); /* answered already */
	ck_assert_int_eq(errno, ECANCELED);
	ck_assert_int_eq(tu_reap(cli), 0);
	t.slot = 999;
	ck_assert_int_eq(shmbox_reply(box, &t, big, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_call(void)
{
	Suite *s = suite_create("call");
	TCase *tc = tcase_create("request-reply");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_call_gets_its_answer);
	tcase_add_test(tc, calls_and_plain_messages_travel_apart);
	tcase_add_test(tc, eight_clients_two_servers_each_reply_to_its_caller);
	tcase_add_test(tc, a_call_nobody_accepts_times_out_and_leaves_nothing);
	tcase_add_test(tc, a_late_reply_is_dropped_and_reaches_no_later_call);
	tcase_add_test(tc, a_client_killed_while_waiting_leaks_no_capacity);
	tcase_add_test(tc, a_server_killed_holding_a_ticket_releases_its_caller);
	tcase_add_test(tc, sizes_that_do_not_fit);
	suite_add_tcase(s, tc);
	return s;
}
