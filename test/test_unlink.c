/* shmbox_getattr, shmbox_unlink, and what shmbox_stat costs. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layout.h"
#include "util.h"

static void expect_attr(const shmbox_attr_t *a, size_t slots, size_t slot_size,
			size_t max_procs, mode_t mode)
{
	ck_assert_uint_eq(a->slots, slots);
	ck_assert_uint_eq(a->slot_size, slot_size);
	ck_assert_uint_eq(a->max_procs, max_procs);
	ck_assert_uint_eq(a->mode, mode);
}

START_TEST(getattr_tells_the_shape_to_creator_opener_and_observer)
{
	shmbox_attr_t attr = {.slots = 5, .slot_size = 100, .mode = 0640, .max_procs = 7}, got;
	const char *path = tu_keyfile();
	shmbox_t *box, *other, *observer;

	ck_assert_int_eq(shmbox_create(path, TU_PROJ, &attr, &box), 0);
	ck_assert_int_eq(shmbox_getattr(box, &got), 0);
	expect_attr(&got, 5, 100, 7, 0640);
	ck_assert_int_eq(shmbox_open(path, TU_PROJ, &other), 0);
	memset(&got, 0xff, sizeof(got));
	ck_assert_int_eq(shmbox_getattr(other, &got), 0);
	expect_attr(&got, 5, 100, 7, 0640);
	ck_assert_int_eq(shmbox_open_flags(path, TU_PROJ, SHMBOX_RDONLY, &observer), 0);
	ck_assert_int_eq(shmbox_getattr(observer, &got), 0);
	expect_attr(&got, 5, 100, 7, 0640);
	tu_expect_fail(shmbox_getattr(NULL, &got), EINVAL);
	tu_expect_fail(shmbox_getattr(box, NULL), EINVAL);
	ck_assert_int_eq(shmbox_close(observer), 0);
	ck_assert_int_eq(shmbox_close(other), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* In seccomp's strict mode any system call but read, write and exit kills
 * the process: a child that lives through shmbox_getattr made none.
 * (Not under valgrind, whose own system calls would be killed.) */
START_TEST(getattr_makes_no_system_call)
{
	const char *preload = getenv("LD_PRELOAD");
	shmbox_attr_t got;
	shmbox_t *box = tu_create(3, 32, NULL);
	int fds[2];
	pid_t pid;

	if (preload != NULL && strstr(preload, "vgpreload") != NULL) {
		ck_assert_int_eq(shmbox_destroy(box), 0);
		return;
	}
	ck_assert_int_eq(pipe(fds), 0);
	pid = tu_fork();
	if (pid == 0) {
		int rc;

		close(fds[0]);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
			_exit(2);
		rc = shmbox_getattr(box, &got);
		if (write(fds[1], &got, sizeof(got)) != (ssize_t)sizeof(got))
			rc = 3;
		syscall(SYS_exit, rc == 0 ? 0 : 1); /* exit_group is not allowed */
	}
	close(fds[1]);
	ck_assert_int_eq(tu_reap(pid), 0);
	ck_assert_int_eq(read(fds[0], &got, sizeof(got)), (ssize_t)sizeof(got));
	close(fds[0]);
	expect_attr(&got, 3, 32, SHMBOX_DEFAULT_MAX_PROCS, 0600);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* The library's calls to semctl, counted: this definition comes before
 * libc's in the dynamic linker's search, and hands each call on. */
static unsigned semctl_calls;

int semctl(int semid, int semnum, int cmd, ...)
{
	static int (*next)(int, int, int, ...);
	union {
		int val;
		void *p;
	} arg;
	va_list ap;

	va_start(ap, cmd);
	arg.p = va_arg(ap, void *);
	va_end(ap);
	if (next == NULL)
		*(void **)&next = dlsym(RTLD_NEXT, "semctl");
	semctl_calls++;
	return next(semid, semnum, cmd, arg);
}

static unsigned semctl_calls_of_stat(size_t max_procs)
{
	shmbox_attr_t attr = {.slots = 2, .slot_size = 8, .max_procs = max_procs};
	const char *path = tu_keyfile();
	struct shmbox_stat st;
	struct shmbox_proc procs[4];
	shmbox_t *box;
	unsigned before, calls;

	ck_assert_int_eq(shmbox_create(path, TU_PROJ, &attr, &box), 0);
	before = semctl_calls;
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_int_eq(shmbox_procs(box, procs, 4), 1);
	calls = semctl_calls - before;
	ck_assert_uint_eq(st.attached, 1);
	ck_assert_uint_eq(st.max_procs, max_procs);
	ck_assert_int_eq(shmbox_destroy(box), 0);
	return calls;
}

START_TEST(stat_costs_the_same_system_calls_for_any_max_procs)
{
	unsigned few = semctl_calls_of_stat(1), many = semctl_calls_of_stat(4000);

	ck_assert_uint_gt(few, 0); /* the count sees the library's calls */
	ck_assert_uint_eq(many, few);
}
END_TEST

START_TEST(unlink_removes_a_mailbox_and_its_users_see_eidrm)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path), *other;
	key_t key = ftok(path, TU_PROJ);

	ck_assert_int_eq(shmbox_open(path, TU_PROJ, &other), 0);
	errno = 0;
	ck_assert_int_eq(shmbox_unlink(path, TU_PROJ, 0), 0);
	ck_assert_int_eq(errno, 0); /* a success leaves errno alone */
	tu_expect_fail(shmget(key, 0, 0), ENOENT);
	tu_expect_fail(semget(key, 0, 0), ENOENT);
	tu_expect_fail(shmbox_put(other, "x", 1, 0), EIDRM);
	tu_expect_fail(shmbox_put(box, "x", 1, 0), EIDRM);
	ck_assert_int_eq(shmbox_close(other), 0);
	ck_assert_int_eq(shmbox_close(box), 0);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, 0), ENOENT);
	tu_expect_fail(shmbox_unlink("/nonexistent/key", TU_PROJ, 0), ENOENT);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, 0x80), EINVAL);
	tu_expect_fail(shmbox_unlink(path, 0, 0), EINVAL);
}
END_TEST

/* Remove a mailbox's semaphore set, or set its destroyed word, as
 * `ipcrm -s` or a stray write would: it cannot be opened, and
 * shmbox_unlink clears it so that the key can be used again. */
static void leftover_is_removed(bool remove_set)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path), *again;
	key_t key = ftok(path, TU_PROJ);
	struct shmbox__header *h = shmat(shmget(key, 0, 0), NULL, 0);
	shmbox_attr_t attr = {.slots = 2, .slot_size = 8};

	ck_assert_ptr_ne(h, (void *)-1);
	ck_assert_int_eq(shmbox_close(box), 0);
	if (remove_set)
		ck_assert_int_eq(semctl(semget(key, 0, 0), 0, IPC_RMID), 0);
	else
		atomic_store(&h->destroyed, 1);
	shmdt(h);
	tu_expect_fail(shmbox_open(path, TU_PROJ, &again), EIDRM);
	tu_expect_fail(shmbox_create(path, TU_PROJ, &attr, &again), EEXIST);
	ck_assert_int_eq(shmbox_unlink(path, TU_PROJ, 0), 0);
	tu_expect_fail(shmget(key, 0, 0), ENOENT);
	tu_expect_fail(semget(key, 0, 0), ENOENT);
	ck_assert_int_eq(shmbox_create(path, TU_PROJ, &attr, &again), 0);
	ck_assert_int_eq(shmbox_destroy(again), 0);
}

START_TEST(unlink_removes_a_mailbox_whose_set_is_gone)
{
	leftover_is_removed(true);
}
END_TEST

START_TEST(unlink_removes_a_mailbox_marked_destroyed)
{
	leftover_is_removed(false);
}
END_TEST

START_TEST(unlink_removes_a_set_left_alone_at_the_key)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path);
	key_t key = ftok(path, TU_PROJ);

	ck_assert_int_eq(shmbox_close(box), 0);
	ck_assert_int_eq(shmctl(shmget(key, 0, 0), IPC_RMID, NULL), 0);
	ck_assert_int_ne(semget(key, 0, 0), -1);
	ck_assert_int_eq(shmbox_unlink(path, TU_PROJ, 0), 0);
	tu_expect_fail(semget(key, 0, 0), ENOENT);
}
END_TEST

START_TEST(unlink_leaves_a_segment_that_is_not_a_mailbox)
{
	const char *path = tu_keyfile();
	key_t key = ftok(path, TU_PROJ);
	int id = shmget(key, 8192, IPC_CREAT | 0600);
	uint64_t *p = shmat(id, NULL, 0);

	ck_assert_ptr_ne(p, (void *)-1);
	p[0] = 0x1234; /* somebody else's magic */
	shmdt(p);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, 0), EPROTO);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, SHMBOX_ANY_FILE), EPROTO);
	ck_assert_int_eq(shmget(key, 0, 0), id);
	ck_assert_int_eq(shmctl(id, IPC_RMID, NULL), 0);
}
END_TEST

START_TEST(unlink_a_mailbox_of_another_key_file_needs_any_file)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path);
	key_t key = ftok(path, TU_PROJ);
	unsigned char *p = shmat(shmget(key, 0, 0), NULL, 0);
	uint64_t ino = 12345;

	memcpy(p + offsetof(struct shmbox__header, key_ino), &ino, sizeof(ino));
	shmdt(p);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, 0), ESTALE);
	ck_assert_int_ne(shmget(key, 0, 0), -1);
	ck_assert_int_eq(shmbox_unlink(path, TU_PROJ, SHMBOX_ANY_FILE), 0);
	tu_expect_fail(shmget(key, 0, 0), ENOENT);
	ck_assert_int_eq(shmbox_close(box), 0);
}
END_TEST

/* A segment never made ready is a leftover once its creator is gone, but
 * not while the creator may still be setting it up. */
START_TEST(unlink_leaves_a_half_made_segment_while_its_creator_lives)
{
	const char *path = tu_keyfile();
	int id = shmget(ftok(path, TU_PROJ), 8192, IPC_CREAT | 0600);

	ck_assert_int_ne(id, -1);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, 0), EBUSY); /* we made it, and live */
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, SHMBOX_ANY_FILE), EBUSY);
	ck_assert_int_eq(shmctl(id, IPC_RMID, NULL), 0);
}
END_TEST

/* Another program's segment whose first bytes happen to be zero, made by
 * a process that has exited and used by one that lives: not a half-made
 * mailbox, and not to be written into, even with SHMBOX_ANY_FILE. */
START_TEST(unlink_leaves_a_foreign_segment_that_starts_with_zeros)
{
	const char *path = tu_keyfile();
	key_t key = ftok(path, TU_PROJ);
	int fds[2], id;
	unsigned char *p, copy[4096];
	char c;
	pid_t maker, user;

	ck_assert_int_eq(pipe(fds), 0);
	maker = tu_fork();
	if (maker == 0) {
		id = shmget(key, sizeof(copy), IPC_CREAT | 0600);
		p = shmat(id, NULL, 0);
		memset(p + 8, 0xaa, sizeof(copy) - 8);
		_exit(0);
	}
	ck_assert_int_eq(tu_reap(maker), 0);
	id = shmget(key, 0, 0);
	user = tu_fork();
	if (user == 0) { /* attached until the pipe closes */
		close(fds[1]);
		(void)!shmat(id, NULL, 0);
		(void)!read(fds[0], &c, 1);
		_exit(0);
	}
	close(fds[0]);
	p = shmat(id, NULL, SHM_RDONLY);
	memcpy(copy, p, sizeof(copy));
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, 0), EPROTO);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, SHMBOX_ANY_FILE), EPROTO);
	ck_assert_int_eq(shmget(key, 0, 0), id);
	ck_assert_int_eq(memcmp(copy, p, sizeof(copy)), 0);
	shmdt(p);
	close(fds[1]);
	ck_assert_int_eq(tu_reap(user), 0);
	ck_assert_int_eq(shmctl(id, IPC_RMID, NULL), 0);
}
END_TEST

/* A dead creator that wrote nothing into its segment left nothing that
 * says it was a mailbox: only SHMBOX_ANY_FILE removes it. */
START_TEST(unlink_removes_a_blank_segment_of_a_dead_creator_only_with_any_file)
{
	const char *path = tu_keyfile();
	key_t key = ftok(path, TU_PROJ);
	pid_t pid = tu_fork();

	if (pid == 0)
		_exit(shmget(key, 8192, IPC_CREAT | 0600) == -1);
	ck_assert_int_eq(tu_reap(pid), 0);
	tu_expect_fail(shmbox_unlink(path, TU_PROJ, 0), EPROTO);
	ck_assert_int_ne(shmget(key, 0, 0), -1);
	ck_assert_int_eq(shmbox_unlink(path, TU_PROJ, SHMBOX_ANY_FILE), 0);
	tu_expect_fail(shmget(key, 0, 0), ENOENT);
}
END_TEST

/* A creator killed after writing the header, before the magic number:
 * its layout and key file say whose it was, and it goes with its set. */
START_TEST(unlink_removes_a_mailbox_whose_creator_died_before_it_was_ready)
{
	shmbox_attr_t attr = {.slots = 2, .slot_size = 8};
	const char *path = tu_keyfile();
	key_t key = ftok(path, TU_PROJ);
	struct shmbox__header *h;
	shmbox_t *box;
	pid_t pid = tu_fork();

	if (pid == 0)
		_exit(shmbox_create(path, TU_PROJ, &attr, &box) == -1);
	ck_assert_int_eq(tu_reap(pid), 0);
	h = shmat(shmget(key, 0, 0), NULL, 0);
	ck_assert_ptr_ne(h, (void *)-1);
	atomic_store(&h->magic, 0);
	shmdt(h);
	ck_assert_int_eq(shmbox_unlink(path, TU_PROJ, 0), 0);
	tu_expect_fail(shmget(key, 0, 0), ENOENT);
	tu_expect_fail(semget(key, 0, 0), ENOENT);
}
END_TEST

Suite *suite_unlink(void)
{
	Suite *s = suite_create("unlink");
	TCase *tc = tcase_create("getattr, unlink, stat");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, getattr_tells_the_shape_to_creator_opener_and_observer);
	tcase_add_test(tc, getattr_makes_no_system_call);
	tcase_add_test(tc, stat_costs_the_same_system_calls_for_any_max_procs);
	tcase_add_test(tc, unlink_removes_a_mailbox_and_its_users_see_eidrm);
	tcase_add_test(tc, unlink_removes_a_mailbox_whose_set_is_gone);
	tcase_add_test(tc, unlink_removes_a_mailbox_marked_destroyed);
	tcase_add_test(tc, unlink_removes_a_set_left_alone_at_the_key);
	tcase_add_test(tc, unlink_leaves_a_segment_that_is_not_a_mailbox);
	tcase_add_test(tc, unlink_a_mailbox_of_another_key_file_needs_any_file);
	tcase_add_test(tc, unlink_leaves_a_half_made_segment_while_its_creator_lives);
	tcase_add_test(tc, unlink_leaves_a_foreign_segment_that_starts_with_zeros);
	tcase_add_test(tc, unlink_removes_a_blank_segment_of_a_dead_creator_only_with_any_file);
	tcase_add_test(tc, unlink_removes_a_mailbox_whose_creator_died_before_it_was_ready);
	suite_add_tcase(s, tc);
	return s;
}
