/* Zero copy: reserve/commit and peek/release keep every promise of
 * put and get, including when the holder is killed. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

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

Suite *suite_zerocopy(void)
{
	Suite *s = suite_create("zerocopy");
	TCase *tc = tcase_create("in-place");

	tcase_add_test(tc, reserve_commit_peek_release_round_trip);
	tcase_add_test(tc, forged_claims_change_nothing);
	tcase_add_test(tc, a_stale_commit_leaves_the_published_message_alone);
	tcase_add_test(tc, a_holder_killed_blocks_nobody);
	suite_add_tcase(s, tc);
	return s;
}
