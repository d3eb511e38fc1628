/* Observers: read-only handles, slot states, the process list, stat. */
#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "util.h"

START_TEST(a_read_only_handle_sees_but_cannot_touch)
{
	const char *path;
	shmbox_t *box = tu_create(4, 16, &path), *ro;
	unsigned char states[4];
	uint64_t head, tail;
	shmbox_ticket_t t = {0, 0};
	shmbox_zc_t zc;
	char buf[16];

	ck_assert_int_eq(shmbox_open_flags(path, TU_PROJ, SHMBOX_RDONLY, &ro), 0);
	ck_assert_int_eq(shmbox_put(box, "a", 1, 0), 0);
	ck_assert_int_eq(shmbox_put(box, "b", 1, 0), 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 1);
	ck_assert_int_eq(shmbox_slot_states(ro, states, 4, &head, &tail), 4);
	ck_assert_uint_eq(head, 1);
	ck_assert_uint_eq(tail, 2);
	ck_assert_int_eq(states[0], SHMBOX_SLOT_FREE);
	ck_assert_int_eq(states[1], SHMBOX_SLOT_FULL);
	ck_assert_int_eq(states[2], SHMBOX_SLOT_FREE);
	ck_assert_int_eq(shmbox_slot_states(ro, states, 3, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(shmbox_put(ro, "c", 1, 0), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(shmbox_get(ro, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(shmbox_call(ro, "c", 1, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(shmbox_accept(ro, buf, sizeof(buf), &t, 0), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(shmbox_reply(ro, &t, "c", 1), -1);
	ck_assert_int_eq(errno, EBADF);
	memset(&zc, 0, sizeof(zc)); /* a forged claim: the mapping is read-only */
	ck_assert_int_eq(shmbox_commit(ro, &zc, 1), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(shmbox_release(ro, &zc), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(shmbox_cancel(ro, &zc), -1);
	ck_assert_int_eq(errno, EBADF);
	/* An observer may remove the mailbox (it needs no token to do so),
	 * and the others learn of it at once. */
	ck_assert_int_eq(shmbox_destroy(ro), 0);
	ck_assert_int_eq(shmbox_put(box, "c", 1, 0), -1);
	ck_assert_int_eq(errno, EIDRM);
	ck_assert_int_eq(shmbox_slot_states(box, states, 4, NULL, NULL), -1);
	ck_assert_int_eq(errno, EIDRM);
	ck_assert_int_eq(shmbox_close(box), 0);
}
END_TEST

START_TEST(attach_by_id_finds_mailboxes_and_refuses_others)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path), *ro;
	struct shmbox_stat st;
	int other = shmget(IPC_PRIVATE, 4096, 0600);

	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_int_eq(shmbox_attach_id(st.shmid, SHMBOX_RDONLY, &ro), 0);
	ck_assert_int_eq(shmbox_close(ro), 0);
	ck_assert_int_ne(other, -1);
	ck_assert_int_eq(shmbox_attach_id(other, SHMBOX_RDONLY, &ro), -1);
	ck_assert_int_eq(errno, EPROTO);
	shmctl(other, IPC_RMID, NULL);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(procs_lists_who_is_attached)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path);
	struct shmbox_proc procs[4];
	int go[2];
	pid_t child;
	char c;

	ck_assert_int_eq(pipe(go), 0);
	child = tu_fork();
	if (child == 0) {
		shmbox_t *mine;

		close(go[1]);
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		shmbox_put(mine, "up", 2, 0);
		_exit(read(go[0], &c, 1) == 0 ? 0 : 101); /* until the parent closes */
	}
	close(go[0]);
	ck_assert_int_eq(shmbox_get(box, &c, 0, 10000), -1); /* waits for the put */
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(shmbox_procs(box, procs, 4), 2);
	ck_assert(procs[0].pid == getpid() || procs[1].pid == getpid());
	ck_assert(procs[0].pid == child || procs[1].pid == child);
	close(go[1]);
	ck_assert_int_eq(tu_reap(child), 0);
	ck_assert_int_eq(shmbox_procs(box, procs, 4), 1);
	ck_assert_int_eq(procs[0].pid, getpid());
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(stat_tells_owner_mode_and_times)
{
	shmbox_t *box = tu_create(2, 8, NULL);
	struct shmbox_stat st;
	char c;

	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_int_eq(st.last_put, 0);
	ck_assert_int_eq(st.mode, 0600);
	ck_assert_int_eq(st.uid, getuid());
	ck_assert_int_eq(shmbox_put(box, "x", 1, 0), 0);
	ck_assert_int_eq(shmbox_get(box, &c, 1, 0), 1);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_int_ge(st.last_put, time(NULL) - 5);
	ck_assert_int_ge(st.last_get, st.last_put);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_observe(void)
{
	Suite *s = suite_create("observe");
	TCase *tc = tcase_create("observers");

	tcase_add_test(tc, a_read_only_handle_sees_but_cannot_touch);
	tcase_add_test(tc, attach_by_id_finds_mailboxes_and_refuses_others);
	tcase_add_test(tc, procs_lists_who_is_attached);
	tcase_add_test(tc, stat_tells_owner_mode_and_times);
	suite_add_tcase(s, tc);
	return s;
}
