/* Every error a user will see, each caused on purpose. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "sem.h"
#include "util.h"

START_TEST(einval_for_null_pointers_and_bad_geometry)
{
	const char *path = tu_keyfile();
	shmbox_attr_t ok = {.slots = 1, .slot_size = 1};
	shmbox_attr_t no_slots = {.slots = 0, .slot_size = 8};
	shmbox_attr_t no_size = {.slots = 8, .slot_size = 0};
	shmbox_attr_t huge = {.slots = SIZE_MAX / 2, .slot_size = 1 << 20};
	shmbox_attr_t wide = {.slots = 1, .slot_size = SIZE_MAX - 8};
	shmbox_t *box = NULL;
	char c;

	tu_expect_fail(shmbox_create(NULL, TU_PROJ, &ok, &box), EINVAL);
	tu_expect_fail(shmbox_create(path, TU_PROJ, NULL, &box), EINVAL);
	tu_expect_fail(shmbox_create(path, TU_PROJ, &ok, NULL), EINVAL);
	tu_expect_fail(shmbox_create(path, 0, &ok, &box), EINVAL);
	tu_expect_fail(shmbox_create(path, TU_PROJ, &no_slots, &box), EINVAL);
	tu_expect_fail(shmbox_create(path, TU_PROJ, &no_size, &box), EINVAL);
	tu_expect_fail(shmbox_create(path, TU_PROJ, &huge, &box), EINVAL);
	tu_expect_fail(shmbox_create(path, TU_PROJ, &wide, &box), EINVAL);
	tu_expect_fail(shmbox_open(path, TU_PROJ, NULL), EINVAL);
	tu_expect_fail(shmbox_put(NULL, "x", 1, 0), EINVAL);
	tu_expect_fail((int)shmbox_get(NULL, &c, 1, 0), EINVAL);
	tu_expect_fail(shmbox_stat(NULL, NULL), EINVAL);
	tu_expect_fail(shmbox_close(NULL), EINVAL);
	tu_expect_fail(shmbox_destroy(NULL), EINVAL);

	box = tu_create(1, 8, NULL);
	tu_expect_fail(shmbox_put(box, NULL, 1, 0), EINVAL);
	tu_expect_fail((int)shmbox_get(box, NULL, 1, 0), EINVAL);
	tu_expect_fail(shmbox_put(box, "x", 1, -2), EINVAL);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(enoent_for_a_missing_file_or_mailbox)
{
	shmbox_attr_t attr = {.slots = 1, .slot_size = 8};
	shmbox_t *box;

	tu_expect_fail(shmbox_open("/nonexistent/shmbox-key", TU_PROJ, &box), ENOENT);
	tu_expect_fail(shmbox_create("/nonexistent/shmbox-key", TU_PROJ, &attr, &box), ENOENT);
	tu_expect_fail(shmbox_open(tu_keyfile(), TU_PROJ, &box), ENOENT);
}
END_TEST

START_TEST(eexist_for_a_second_create)
{
	shmbox_attr_t attr = {.slots = 1, .slot_size = 8};
	const char *path;
	shmbox_t *box = tu_create(1, 8, &path), *again;

	tu_expect_fail(shmbox_create(path, TU_PROJ, &attr, &again), EEXIST);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(emsgsize_for_put_too_long)
{
	shmbox_t *box = tu_create(2, 8, NULL);
	struct shmbox_stat st;

	tu_expect_fail(shmbox_put(box, "123456789", 9, 0), EMSGSIZE);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(emsgsize_for_get_too_small_keeps_the_message)
{
	shmbox_t *box = tu_create(2, 16, NULL);
	char buf[16];

	ck_assert_int_eq(shmbox_put(box, "0123456789", 10, 0), 0);
	tu_expect_fail((int)shmbox_get(box, buf, 9, 0), EMSGSIZE);
	tu_expect_fail((int)shmbox_get(box, buf, 9, -1), EMSGSIZE);
	ck_assert_int_eq(shmbox_get(box, buf, 10, 0), 10);
	ck_assert_mem_eq(buf, "0123456789", 10);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(eagain_with_timeout_zero)
{
	shmbox_t *box = tu_create(1, 8, NULL);
	char c;

	tu_expect_fail((int)shmbox_get(box, &c, 1, 0), EAGAIN);
	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	tu_expect_fail(shmbox_put(box, "b", 1, 0), EAGAIN);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

START_TEST(etimedout_after_waiting_the_whole_timeout)
{
	shmbox_t *box = tu_create(1, 8, NULL);
	struct timespec t0;
	char c;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	tu_expect_fail((int)shmbox_get(box, &c, 1, 120), ETIMEDOUT);
	ck_assert_double_ge(elapsed_ms(&t0), 120.0);
	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tu_expect_fail(shmbox_put(box, "b", 1, 70), ETIMEDOUT);
	ck_assert_double_ge(elapsed_ms(&t0), 70.0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(eidrm_on_every_call_through_an_older_handle)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path), *old = tu_open(path);
	struct shmbox_stat st;
	char c;

	ck_assert_int_eq(shmbox_destroy(box), 0);
	tu_expect_fail(shmbox_put(old, "a", 1, 0), EIDRM);
	tu_expect_fail(shmbox_put(old, "a", 1, -1), EIDRM);
	tu_expect_fail((int)shmbox_get(old, &c, 1, -1), EIDRM);
	tu_expect_fail(shmbox_stat(old, &st), EIDRM);
	tu_expect_fail(shmbox_open(path, TU_PROJ, &box), ENOENT);
	ck_assert_int_eq(shmbox_close(old), 0);
}
END_TEST

/* A child blocks in get (or put, on a full box); the parent destroys the
 * mailbox under it, or (flag_only) only sets the destroyed flag, the
 * semaphores still there: shmbox_destroy's window, or any process writing
 * the flag.  Either way the child's call fails with EIDRM at its next look,
 * instead of looking again and again until its timeout, at full CPU.  The
 * child's exit status is the errno it got. */
static void eidrm_while_blocked(int in_put, int flag_only)
{
	const char *path;
	shmbox_t *box = tu_create(1, 8, &path);
	int timeout = flag_only ? 10000 : -1; /* ETIMEDOUT, not a hang, if it fails */
	struct shmbox__header *h;
	pid_t pid;

	if (in_put)
		ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;
		char c;
		int r;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		r = in_put ? shmbox_put(mine, "b", 1, timeout)
			   : (int)shmbox_get(mine, &c, 1, timeout);
		_exit(r == -1 ? errno : 101);
	}
	tu_wait_sleepers(path, in_put ? SHMBOX__SEM_PUTTERS : SHMBOX__SEM_GETTERS, 1);
	if (flag_only) {
		h = shmat(shmget(ftok(path, TU_PROJ), 0, 0), NULL, 0);
		ck_assert_ptr_ne(h, (void *)-1);
		atomic_store(&h->destroyed, 1);
		shmdt(h);
		ck_assert_int_eq(tu_reap(pid), EIDRM);
		ck_assert_int_eq(shmbox_destroy(box), 0);
	} else {
		ck_assert_int_eq(shmbox_destroy(box), 0);
		ck_assert_int_eq(tu_reap(pid), EIDRM);
	}
}

START_TEST(eidrm_for_a_get_blocked_when_destroyed) { eidrm_while_blocked(0, 0); }
END_TEST
START_TEST(eidrm_for_a_get_asleep_when_the_flag_is_set) { eidrm_while_blocked(0, 1); }
END_TEST
START_TEST(eidrm_for_a_put_blocked_when_destroyed) { eidrm_while_blocked(1, 0); }
END_TEST

static void on_signal(int sig) { (void)sig; }

/* The child blocks; the parent signals it.  With or without SA_RESTART,
 * the call returns EINTR, and the child then checks nothing was taken or
 * added.  Exit 0: all held. */
static void eintr_while_blocked(int in_put, int restart)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path);
	struct shmbox_stat st;
	pid_t pid;

	if (in_put) {
		ck_assert_int_eq(shmbox_put(box, "p1", 2, 0), 0);
		ck_assert_int_eq(shmbox_put(box, "p2", 2, 0), 0);
	}
	pid = tu_fork();
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_signal, .sa_flags = restart ? SA_RESTART : 0};
		shmbox_t *mine;
		char c;
		int r;

		sigaction(SIGUSR1, &sa, NULL);
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		r = in_put ? shmbox_put(mine, "c", 1, -1) : (int)shmbox_get(mine, &c, 1, -1);
		if (r != -1 || errno != EINTR)
			_exit(101);
		shmbox_close(mine);
		_exit(0);
	}
	tu_wait_sleepers(path, in_put ? SHMBOX__SEM_PUTTERS : SHMBOX__SEM_GETTERS, 1);
	ck_assert_int_eq(tu_signal_until_exit(pid, SIGUSR1), 0);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.queued, in_put ? 2 : 0);
	if (!in_put) { /* and a message put now is still there for us */
		char buf[8];

		ck_assert_int_eq(shmbox_put(box, "n", 1, 0), 0);
		ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	}
	ck_assert_int_eq(shmbox_destroy(box), 0);
}

START_TEST(eintr_for_a_blocked_get) { eintr_while_blocked(0, 0); }
END_TEST
START_TEST(eintr_for_a_blocked_get_even_with_sa_restart) { eintr_while_blocked(0, 1); }
END_TEST
START_TEST(eintr_for_a_blocked_put) { eintr_while_blocked(1, 0); }
END_TEST

START_TEST(eacces_for_another_user)
{
	const char *path;
	shmbox_t *box = tu_create(1, 8, &path);
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;

		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(100);
		_exit(shmbox_open(path, TU_PROJ, &mine) == -1 ? errno : 0);
	}
	ck_assert_int_eq(tu_reap(pid), EACCES);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(eproto_for_a_segment_that_is_not_a_mailbox)
{
	const char *path = tu_keyfile();
	int id = shmget(ftok(path, TU_PROJ), 8192, IPC_CREAT | IPC_EXCL | 0600);
	shmbox_t *box;
	unsigned char *p;

	ck_assert_int_ne(id, -1);
	p = shmat(id, NULL, 0);
	ck_assert_ptr_ne(p, (void *)-1);
	memset(p, 0xa5, 8192);
	tu_expect_fail(shmbox_open(path, TU_PROJ, &box), EPROTO);
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}
END_TEST

START_TEST(eproto_for_a_creator_that_died_half_way)
{
	const char *path = tu_keyfile();
	pid_t pid = tu_fork();
	shmbox_t *box;
	int id;

	if (pid == 0) /* a segment of the right size, never initialised */
		_exit(shmget(ftok(path, TU_PROJ), 8192, IPC_CREAT | 0600) == -1);
	ck_assert_int_eq(tu_reap(pid), 0);
	tu_expect_fail(shmbox_open(path, TU_PROJ, &box), EPROTO);
	id = shmget(ftok(path, TU_PROJ), 0, 0);
	shmctl(id, IPC_RMID, NULL);
}
END_TEST

/* Change one header field of a real mailbox, then open it. */
static void open_with_header_changed(size_t offset, uint64_t value, int err)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path), *other;
	int id = shmget(ftok(path, TU_PROJ), 0, 0);
	unsigned char *p = shmat(id, NULL, 0);

	ck_assert_ptr_ne(p, (void *)-1);
	memcpy(p + offset, &value, sizeof(value));
	tu_expect_fail(shmbox_open(path, TU_PROJ, &other), err);
	shmdt(p);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}

START_TEST(eproto_for_another_layout_version)
{
	uint32_t v = SHMBOX__LAYOUT + 1;
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path), *other;
	unsigned char *p = shmat(shmget(ftok(path, TU_PROJ), 0, 0), NULL, 0);

	memcpy(p + offsetof(struct shmbox__header, layout), &v, sizeof(v));
	tu_expect_fail(shmbox_open(path, TU_PROJ, &other), EPROTO);
	shmdt(p);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(eproto_for_a_geometry_larger_than_the_segment)
{
	open_with_header_changed(offsetof(struct shmbox__header, slots), 1u << 20, EPROTO);
}
END_TEST

START_TEST(estale_for_a_mailbox_of_another_key_file)
{
	open_with_header_changed(offsetof(struct shmbox__header, key_ino), 12345, ESTALE);
}
END_TEST

Suite *suite_errors(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("errno");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, einval_for_null_pointers_and_bad_geometry);
	tcase_add_test(tc, enoent_for_a_missing_file_or_mailbox);
	tcase_add_test(tc, eexist_for_a_second_create);
	tcase_add_test(tc, emsgsize_for_put_too_long);
	tcase_add_test(tc, emsgsize_for_get_too_small_keeps_the_message);
	tcase_add_test(tc, eagain_with_timeout_zero);
	tcase_add_test(tc, etimedout_after_waiting_the_whole_timeout);
	tcase_add_test(tc, eidrm_on_every_call_through_an_older_handle);
	tcase_add_test(tc, eidrm_for_a_get_blocked_when_destroyed);
	tcase_add_test(tc, eidrm_for_a_get_asleep_when_the_flag_is_set);
	tcase_add_test(tc, eidrm_for_a_put_blocked_when_destroyed);
	tcase_add_test(tc, eintr_for_a_blocked_get);
	tcase_add_test(tc, eintr_for_a_blocked_get_even_with_sa_restart);
	tcase_add_test(tc, eintr_for_a_blocked_put);
	tcase_add_test(tc, eacces_for_another_user);
	tcase_add_test(tc, eproto_for_a_segment_that_is_not_a_mailbox);
	tcase_add_test(tc, eproto_for_a_creator_that_died_half_way);
	tcase_add_test(tc, eproto_for_another_layout_version);
	tcase_add_test(tc, eproto_for_a_geometry_larger_than_the_segment);
	tcase_add_test(tc, estale_for_a_mailbox_of_another_key_file);
	suite_add_tcase(s, tc);
	return s;
}
