/* What a long-lived mailbox meets: removal under load, other users, long
 * runs, a creator that died, a key file re-created. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sem.h"
#include "util.h"

enum { IN_PUT, IN_GET, IN_CALL, IN_ACCEPT };

static pid_t blocked(const char *path, int where)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		char buf[16];
		shmbox_ticket_t t;
		shmbox_t *mine;
		long r = 0;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		switch (where) {
		case IN_PUT: r = shmbox_put(mine, "p", 1, -1); break;
		case IN_GET: r = shmbox_get(mine, buf, sizeof(buf), -1); break;
		case IN_CALL: r = shmbox_call(mine, "c", 1, buf, sizeof(buf), -1); break;
		case IN_ACCEPT: r = shmbox_accept(mine, buf, sizeof(buf), &t, -1); break;
		}
		_exit(r == -1 ? errno : 101);
	}
	return pid;
}

/* Two mailboxes: one full (puts block, and a call waits for an answer from
 * nobody), one empty (gets and accepts block).  Destroy both under them. */
START_TEST(destroy_under_load_gives_everyone_eidrm)
{
	const char *path;
	shmbox_t *full = tu_create(1, 8, &path);
	char full_path[4200], empty_path[4200]; /* tu_keyfile reuses its buffer */
	shmbox_t *empty;

	strcpy(full_path, path);
	empty = tu_create(1, 8, &path);
	strcpy(empty_path, path);
	pid_t pids[8];
	struct shmbox_stat st;
	int i, n = 0;

	ck_assert_int_eq(shmbox_put(full, "x", 1, 0), 0);
	pids[n++] = blocked(full_path, IN_PUT);
	pids[n++] = blocked(full_path, IN_PUT);
	pids[n++] = blocked(full_path, IN_CALL);
	pids[n++] = blocked(empty_path, IN_GET);
	pids[n++] = blocked(empty_path, IN_GET);
	pids[n++] = blocked(empty_path, IN_ACCEPT);
	tu_wait_sleepers(full_path, SHMBOX__SEM_PUTTERS, 2);
	tu_wait_sleepers(empty_path, SHMBOX__SEM_GETTERS, 2);
	tu_wait_sleepers(empty_path, SHMBOX__SEM_SERVERS, 1);
	for (i = 0; i < 10000; i++) { /* the call's request is queued */
		ck_assert_int_eq(shmbox_stat(full, &st), 0);
		if (st.requests == 1)
			break;
		usleep(1000);
	}
	ck_assert_int_eq(shmbox_destroy(full), 0);
	ck_assert_int_eq(shmbox_destroy(empty), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(tu_reap(pids[i]), EIDRM);
}
END_TEST

START_TEST(mode_0660_lets_the_group_in)
{
	shmbox_attr_t attr = {.slots = 1, .slot_size = 8, .mode = 0660};
	const char *path = tu_keyfile();
	shmbox_t *box;
	pid_t pid;

	ck_assert_int_eq(shmbox_create(path, TU_PROJ, &attr, &box), 0);
	pid = tu_fork();
	if (pid == 0) { /* another user, in our group */
		shmbox_t *mine;

		if (setgroups(0, NULL) == -1 || setgid(getgid()) == -1 || setuid(65534) == -1)
			_exit(100);
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(errno);
		_exit(shmbox_put(mine, "g", 1, 0) == 0 ? 0 : 101);
	}
	ck_assert_int_eq(tu_reap(pid), 0);
	ck_assert_int_eq(shmbox_get(box, (char[8]){0}, 8, 0), 1);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Each attach holds +1 with SEM_UNDO and close gives it back: were it
 * unbalanced, the adjustment would pass 32767 and semop fail (ERANGE). */
START_TEST(forty_thousand_attaches_leave_no_adjustment)
{
	const char *path;
	shmbox_t *box = tu_create(1, 8, &path), *again;
	int i;

	for (i = 0; i < 40000; i++) {
		ck_assert_msg(shmbox_open(path, TU_PROJ, &again) == 0, "open %d: %s", i,
			      strerror(errno));
		ck_assert_int_eq(shmbox_close(again), 0);
	}
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A million messages through a small ring, so that producer and consumer
 * often sleep and wake each other; afterwards every semaphore is back
 * where it started. */
START_TEST(a_million_messages_leave_the_semaphores_as_they_were)
{
	const char *path;
	shmbox_t *box = tu_create(4, 8, &path);
	int semid = semget(ftok(path, TU_PROJ), 0, 0), i;
	pid_t pid = tu_fork();
	unsigned v;

	if (pid == 0) {
		shmbox_t *mine;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		for (v = 0; v < tu_scale(1000000); v++)
			if (shmbox_put(mine, &v, sizeof(v), -1) == -1)
				_exit(errno);
		shmbox_close(mine);
		_exit(0);
	}
	for (i = 0; i < (int)tu_scale(1000000); i++) {
		ck_assert_int_eq(shmbox_get(box, &v, sizeof(v), -1), (ssize_t)sizeof(v));
		ck_assert_uint_eq(v, (unsigned)i);
	}
	ck_assert_int_eq(tu_reap(pid), 0);
	/* A post can outlive the sleeper it was for (a race the sleeper
	 * cannot always undo); it only makes a later sleeper look again.
	 * They must not pile up toward SEMVMX (32767). */
	ck_assert_int_le(semctl(semid, SHMBOX__SEM_GETTERS, GETVAL), 8);
	ck_assert_int_le(semctl(semid, SHMBOX__SEM_PUTTERS, GETVAL), 8);
	for (i = 0; i < SHMBOX_DEFAULT_MAX_PROCS; i++) /* only our own token is held */
		ck_assert_int_eq(semctl(semid, SHMBOX__SEM_TOKENS + i, GETVAL), i == 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_mailbox_whose_creator_died_works_on)
{
	const char *path = tu_keyfile();
	struct shmbox_stat st;
	shmbox_t *box;
	char buf[8];
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_attr_t attr = {.slots = 2, .slot_size = 8};
		shmbox_t *mine;

		if (shmbox_create(path, TU_PROJ, &attr, &mine) == -1 ||
		    shmbox_put(mine, "left", 4, 0) == -1)
			_exit(100);
		raise(SIGKILL);
	}
	ck_assert_int_eq(tu_reap(pid), 128 + SIGKILL);
	box = tu_open(path);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_int_eq(st.creator, pid);
	ck_assert_uint_eq(st.attached, 1);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 4);
	ck_assert_int_eq(shmbox_put(box, "more", 4, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_re_created_key_file_is_not_silently_the_old_mailbox)
{
	const char *p;
	shmbox_t *box = tu_create(1, 8, &p), *again;
	char path[4200];
	int fd;

	strcpy(path, p);
	ck_assert_int_eq(unlink(path), 0);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644); /* often the same inode */
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(shmbox_open(path, TU_PROJ, &again), -1);
	ck_assert_msg(errno == ESTALE || errno == ENOENT, "errno %s", strerror(errno));
	if (errno == ESTALE) { /* same key: the stale mailbox can still be removed */
		ck_assert_int_eq(shmbox_open_flags(path, TU_PROJ, SHMBOX_ANY_FILE, &again), 0);
		ck_assert_int_eq(shmbox_destroy(again), 0);
		ck_assert_int_eq(shmbox_close(box), 0);
	} else {
		ck_assert_int_eq(shmbox_destroy(box), 0);
	}
}
END_TEST

Suite *suite_survive(void)
{
	Suite *s = suite_create("survive");
	TCase *tc = tcase_create("long-lived");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, destroy_under_load_gives_everyone_eidrm);
	tcase_add_test(tc, mode_0660_lets_the_group_in);
	tcase_add_test(tc, forty_thousand_attaches_leave_no_adjustment);
	tcase_add_test(tc, a_million_messages_leave_the_semaphores_as_they_were);
	tcase_add_test(tc, a_mailbox_whose_creator_died_works_on);
	tcase_add_test(tc, a_re_created_key_file_is_not_silently_the_old_mailbox);
	suite_add_tcase(s, tc);
	return s;
}
